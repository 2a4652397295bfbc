"""The execution log, on the flow page and on the account page: which flow and version,
which step, what the condition saw, what happened."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.segments.tests.factories import employees_at_least

pytestmark = pytest.mark.django_db


def _ran_for(account_name: str) -> tuple[int, int]:
    account = AccountFactory.create(name=account_name, employees=800)
    flow = make_flow(
        {"type": "event", "event": "$login", "occurrence": 1},
        [
            {
                "id": "big",
                "type": "condition",
                "label": "Large company?",
                "condition": {"and": [employees_at_least(500)]},
                "yes": "call",
            },
            cta_step("call", reason="Offer a kickoff call", label="Kickoff call"),
        ],
        name="First login",
    )
    engine.enrol(flow, [engine.Candidate(account.pk, None, {"type": "event", "event": "$login"})])
    engine.run_due()
    return flow.pk, account.pk


def test_the_account_panel_says_why_each_step_happened(csm_client: Client) -> None:
    _flow_id, account_id = _ran_for("株式会社オオキ商事")
    page = csm_client.get(reverse("flows:account_panel", args=[account_id])).content.decode()
    assert "First login" in page
    assert "version 1" in page
    assert "Large company?" in page
    assert "Kickoff call" in page
    assert "800" in page  # the value the condition saw
    assert "$login" in page  # what made it enter


def test_the_flow_log_lists_enrolments_with_their_runs(viewer_client: Client) -> None:
    flow_id, _account_id = _ran_for("株式会社オオキ商事")
    page = viewer_client.get(reverse("flows:log", args=[flow_id])).content.decode()
    assert "株式会社オオキ商事" in page
    assert page.count('class="flow-run"') == 2
