"""Seed 004's first-login flow in a real browser: after the programme email is opened and
the customer signs in a second time, the flow shows the shipped tutorial tour to the
tech-touch account, and the demo customer app draws it."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from kizuna.core.tests.browser import new_page
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import inapp, seed, sending, tracking
from kizuna.engagement.models import EmailMessage, InAppAssignment, InAppMessage
from kizuna.engagement.tests.factories import SenderFactory
from kizuna.flows import engine, services, templates_seed
from kizuna.usage import services as usage
from kizuna.usage.tests.helpers import store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(user_id: str) -> None:
    now = timezone.now().isoformat()
    store(messages=[{"type": "track", "userId": user_id, "event": "Logged In", "timestamp": now}])
    engine.run_due()


def test_the_flow_shows_the_tutorial_in_the_customer_app(browser, live_server, smtp_sink):
    seed.install()  # the shipped content (a transactional test may have flushed it)
    SenderFactory.create(is_default=True)
    InAppMessage.objects.filter(key="tutorial").update(status="live")
    inapp.forget_cached_messages()
    flow = templates_seed.create_from_template(None, "first-login")
    definition = engine.definition_of(flow.versions.get())
    services.save_version(None, flow, definition.model_copy(update={"holdout_percent": 0}).dump())
    services.set_status(None, flow, "live")
    unique = uuid.uuid4().hex[:8]
    account = AccountFactory.create(tier="tech", external_id=f"SF-{unique}")
    user_id = f"u-{unique}"
    ContactFactory.create(account=account, product_user_id=user_id)

    login(user_id)
    sending.send_due()
    assert len(smtp_sink.messages) == 1
    tracking.record_open(EmailMessage.objects.get().token)
    engine.run_due()
    login(user_id)
    assert InAppAssignment.objects.filter(account=account, message__key="tutorial").exists()

    query = {
        "writeKey": usage.create_source(None, "Demo app").write_key,
        "userId": user_id,
        "groupId": account.external_id,
    }
    with new_page(browser, "ja") as page:
        page.goto(f"{live_server.url}{reverse('usage:demo_app')}?{urlencode(query)}")
        tour = page.get_by_role("dialog")
        expect(tour).to_contain_text("レポートを作成")
        tour.get_by_role("button", name="次へ").click()
        expect(tour).to_contain_text("メニュー")
        tour.get_by_role("button", name="完了").click()
        expect(tour).to_have_count(0)
