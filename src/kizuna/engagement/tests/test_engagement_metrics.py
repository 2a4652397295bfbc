"""Email click and open rates and in-app completion are metrics, usable in segments and
health scorecards: the query over all accounts and one account's evaluation agree."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.conditions import Context, evaluate, matching, parse
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement.models import InAppState
from kizuna.engagement.tests.factories import (
    EmailTemplateFactory,
    InAppMessageFactory,
)
from kizuna.engagement.tests.factories import sent_email as sent

pytestmark = pytest.mark.django_db


def value(tree: dict, account: Account) -> object:
    return evaluate(parse(tree), account.pk).leaves[0].value


def match(tree: dict) -> set[int]:
    return set(matching(parse(tree), Account.objects.all()).values_list("pk", flat=True))


CLICK_RATE = {"metric": "email.click_rate", "params": {"days": 30}, "op": "not_empty"}


def test_the_click_rate_is_the_share_of_delivered_emails_clicked() -> None:
    contact = ContactFactory.create()
    template = EmailTemplateFactory.create()
    sent(contact, clicked=True, template=template)
    sent(contact, template=template)
    sent(contact, template=template, opened=True)
    sent(contact, template=template, clicked=True, days_ago=40)  # outside the window
    assert value(CLICK_RATE, contact.account) == pytest.approx(100 / 3)
    assert value(
        {"metric": "email.open_rate", "params": {"days": 30}, "op": "not_empty"}, contact.account
    ) == (pytest.approx(200 / 3))


def test_test_sends_bounces_and_transactional_mail_do_not_count() -> None:
    contact = ContactFactory.create()
    template = EmailTemplateFactory.create()
    sent(contact, template=template, clicked=True)
    sent(contact, template=template, source="test")
    sent(contact, template=template, status="bounced")
    sent(contact, template=template, transactional=True)
    assert value(CLICK_RATE, contact.account) == pytest.approx(100.0)
    assert (
        value(
            {"metric": "email.delivered", "params": {"days": 30}, "op": "gte", "value": 0},
            contact.account,
        )
        == 1
    )


def test_an_account_with_no_email_has_no_click_rate() -> None:
    account = AccountFactory.create()
    assert value(CLICK_RATE, account) is None


def test_a_segment_of_accounts_that_ignore_email() -> None:
    keen, cold = ContactFactory.create(), ContactFactory.create()
    template = EmailTemplateFactory.create()
    sent(keen, template=template, clicked=True)
    sent(cold, template=template)
    assert match({"and": [{**CLICK_RATE, "op": "lt", "value": 10}]}) == {cold.account_id}


def test_as_of_a_past_day_later_clicks_do_not_count() -> None:
    contact = ContactFactory.create()
    message = sent(contact, days_ago=10)
    message.clicked_at = timezone.now() - datetime.timedelta(days=2)
    message.save()
    past = Context(today=timezone.localdate() - datetime.timedelta(days=5))
    tree = parse(CLICK_RATE)
    assert evaluate(tree, contact.account_id, past).leaves[0].value == 0.0


def test_inapp_completion_rate() -> None:
    contact = ContactFactory.create()
    now = timezone.now()
    for n, done in enumerate([True, False, False, True]):
        InAppState.objects.create(
            message=InAppMessageFactory.create(),
            visitor=f"user-{n}",
            contact=contact,
            account=contact.account,
            shown_count=1,
            first_shown_at=now,
            last_shown_at=now,
            completed_at=now if done else None,
        )
    tree = {"metric": "inapp.completion_rate", "params": {"days": 30}, "op": "not_empty"}
    assert value(tree, contact.account) == pytest.approx(50.0)
