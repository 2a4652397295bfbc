"""A success flow waiting for its email to be opened (or clicked) takes its yes path when the
recipient opens (or clicks) it."""

from __future__ import annotations

from typing import Any

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import tracking
from kizuna.engagement.actions import SendEmail
from kizuna.engagement.models import EmailMessage, EmailTemplate
from kizuna.engagement.tests.factories import EmailTemplateFactory, sent_email
from kizuna.flows import engine
from kizuna.flows.actions import Outcome
from kizuna.flows.engine import Candidate
from kizuna.flows.models import StepRun
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.playbooks.models import Cta

pytestmark = pytest.mark.django_db

TRIGGER = {"type": "segment_entered", "segment": 1}
LINKS = [{"url": "https://example.jp/guide", "text": "guide"}]


@pytest.fixture
def delivered(monkeypatch) -> list[EmailMessage]:
    """The flow's email step makes its message directly, as the worker leaves it once sent
    (sending itself is tested with the sending service)."""
    made: list[EmailMessage] = []

    def execute(cls: Any, params: Any, run: Any) -> Outcome:
        contact = run.account.contacts.order_by("pk").first()
        made.append(
            sent_email(
                contact,
                template=EmailTemplate.objects.get(key=params.template),
                source="flow",
                flow_enrolment_id=run.enrolment_id,
                flow_step=run.step_id,
                links=LINKS,
            )
        )
        return Outcome("sent")

    monkeypatch.setattr(SendEmail, "execute", classmethod(execute))
    return made


def _flow(kind: str) -> Any:
    EmailTemplateFactory.create(key="welcome")
    return make_flow(
        TRIGGER,
        [
            {
                "id": "mail",
                "type": "action",
                "action": "email.send",
                "params": {"template": "welcome"},
                "next": "awaited",
            },
            {
                "id": "awaited",
                "type": "decision",
                "wait_for": {"kind": kind, "step": "mail"},
                "within": {"days": 2},
                "yes": "thanks",
                "no": "call",
            },
            cta_step("thanks", reason="Read the welcome email"),
            cta_step("call", reason="Call: welcome email not read"),
        ],
    )


def _enrol_and_send(flow: Any) -> None:
    contact = ContactFactory.create()
    engine.enrol(flow, [Candidate(contact.account_id)])
    engine.run_due()
    assert StepRun.objects.get(step_id="awaited").status == "waiting"


def test_opening_the_email_takes_the_decisions_yes_path(
    delivered, django_capture_on_commit_callbacks
):
    _enrol_and_send(_flow("email_opened"))
    with django_capture_on_commit_callbacks(execute=True):
        tracking.record_open(delivered[0].token)
    assert StepRun.objects.get(step_id="awaited").outcome == "yes"
    engine.run_due()
    assert Cta.objects.get().reason == "Read the welcome email"


def test_clicking_answers_a_decision_waiting_for_an_open(
    delivered, django_capture_on_commit_callbacks
):
    _enrol_and_send(_flow("email_opened"))
    with django_capture_on_commit_callbacks(execute=True):
        tracking.record_click(delivered[0].token, 0)
    assert StepRun.objects.get(step_id="awaited").outcome == "yes"


def test_clicking_answers_a_decision_waiting_for_a_click(
    delivered, django_capture_on_commit_callbacks
):
    _enrol_and_send(_flow("email_clicked"))
    with django_capture_on_commit_callbacks(execute=True):
        tracking.record_open(delivered[0].token)
    assert StepRun.objects.get(step_id="awaited").status == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        tracking.record_click(delivered[0].token, 0)
    assert StepRun.objects.get(step_id="awaited").outcome == "yes"


def test_the_flow_is_answered_only_once_the_open_is_committed(
    delivered, django_capture_on_commit_callbacks
):
    _enrol_and_send(_flow("email_opened"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tracking.record_open(delivered[0].token)
    assert StepRun.objects.get(step_id="awaited").status == "waiting"
    assert len(callbacks) == 1
