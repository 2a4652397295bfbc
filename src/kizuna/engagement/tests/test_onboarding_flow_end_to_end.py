"""Seed 004's first-login flow end to end, with real email: the first login sends the
onboarding programme through a real SMTP server; opening it (the pixel in what the server
received) answers "opened within 2 days?"; the second login shows the tutorial to a
tech-touch account. The tutorial in a real browser: test_inapp_browser.py."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import seed, sending
from kizuna.engagement.models import EmailMessage, InAppAssignment
from kizuna.engagement.tests.factories import SenderFactory
from kizuna.flows import engine, services, templates_seed
from kizuna.flows.models import StepRun
from kizuna.playbooks.models import Cta
from kizuna.usage.tests.helpers import store

pytestmark = pytest.mark.django_db


def login(user_id: str) -> None:
    now = timezone.now().isoformat()
    store(messages=[{"type": "track", "userId": user_id, "event": "Logged In", "timestamp": now}])
    engine.run_due()


@pytest.fixture
def first_login_flow():
    seed.install()  # the shipped content (a transactional test may have flushed it)
    SenderFactory.create(is_default=True)
    flow = templates_seed.create_from_template(None, "first-login")
    definition = engine.definition_of(flow.versions.get())
    services.save_version(None, flow, definition.model_copy(update={"holdout_percent": 0}).dump())
    services.set_status(None, flow, "live")
    return flow


def test_the_first_login_sends_the_programme_and_an_open_skips_the_phone_call(
    first_login_flow, smtp_sink, django_capture_on_commit_callbacks
) -> None:
    account = AccountFactory.create(tier="tech", name="株式会社そらいろ")
    ContactFactory.create(account=account, product_user_id="u1", name="青木 花子")

    login("u1")
    sending.send_due()
    (received,) = smtp_sink.messages
    assert received["Subject"] == "株式会社そらいろ 様:最初の2週間で使いこなすためのプログラム"
    html = received.get_body(("html",)).get_content()
    assert "青木 花子 様" in html
    found = re.search(r'<img[^>]+src="https?://[^/"]+(/e/o/[^"]+)"', html)
    assert found is not None
    pixel = found.group(1)
    with django_capture_on_commit_callbacks(execute=True):
        assert Client().get(pixel).status_code == 200

    engine.run_due()
    assert StepRun.objects.get(step_id="opened").outcome == "yes"
    assert not Cta.objects.filter(account=account).exists()

    login("u1")
    assert StepRun.objects.get(step_id="second-login").outcome == "yes"
    assert StepRun.objects.get(step_id="tutorial").outcome == "done"
    assignment = InAppAssignment.objects.get(account=account)
    assert assignment.message.key == "tutorial"


def test_an_unopened_programme_makes_the_phone_follow_up(first_login_flow, smtp_sink) -> None:
    account = AccountFactory.create(tier="tech")
    ContactFactory.create(account=account, product_user_id="u2")
    login("u2")
    sending.send_due()
    assert EmailMessage.objects.get().status == "sent"

    later = timezone.now() + datetime.timedelta(days=2, minutes=1)
    engine.run_due(now=later)
    assert StepRun.objects.get(step_id="opened").outcome == "no"
    assert Cta.objects.get(account=account).reason == (
        "Onboarding email not opened: follow up by phone"
    )
