"""The usage facade other apps read from: figures per account and per contact."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.usage import queries
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_accounts():
    busy = AccountFactory.create(external_id="SF-BUSY")
    quiet = AccountFactory.create(external_id="SF-QUIET")
    for i in range(4):
        ContactFactory.create(account=busy, product_user_id=f"b{i}")
    ContactFactory.create(account=quiet, product_user_id="q0")
    store(
        [
            ("b0", "Logged In", at(1)),
            ("b1", "Logged In", at(2)),
            ("b1", "Logged In", at(45)),
            ("b2", "Report Exported", at(3)),
            ("b2", "Report Exported", at(4)),
            ("b3", "Comment Added", at(70)),
            ("q0", "Logged In", at(60)),
            ("q0", "Invoice Created", at(60)),
        ]
    )
    return busy, quiet


def test_logins_in_the_last_30_days(two_accounts):
    busy, quiet = two_accounts

    assert queries.logins([busy.pk, quiet.pk]) == {busy.pk: 2}
    assert queries.logins([busy.pk, quiet.pk], days=90) == {busy.pk: 3, quiet.pk: 1}


def test_active_users_in_a_window(two_accounts):
    busy, quiet = two_accounts

    assert queries.active_users([busy.pk, quiet.pk], days=30) == {busy.pk: 3}


def test_events_of_a_type_in_a_window(two_accounts):
    busy, _quiet = two_accounts

    assert queries.event_counts([busy.pk], "Report Exported", days=30) == {busy.pk: 2}


def test_last_seen(two_accounts):
    busy, quiet = two_accounts

    assert queries.last_seen([busy.pk, quiet.pk]) == {busy.pk: at(1), quiet.pk: at(60)}


def test_login_rate_is_active_users_per_live_seat(two_accounts):
    busy, _quiet = two_accounts
    SubscriptionFactory.create(account=busy, seats=10)
    SubscriptionFactory.create(account=busy, seats=10, status="churned")

    usage = queries.account_usage(busy.pk)

    assert (usage.active_users, usage.seats, usage.login_rate) == (3, 10, 0.3)


def test_login_rate_without_seats_is_unknown(two_accounts):
    busy, _quiet = two_accounts

    assert queries.account_usage(busy.pk).login_rate is None


def test_top_features_leave_out_logins(two_accounts):
    busy, _quiet = two_accounts

    features = queries.top_features(busy.pk, days=30)

    assert [(f.name, f.events, f.users) for f in features] == [("Report Exported", 2, 1)]


def test_features_never_used(two_accounts):
    busy, quiet = two_accounts

    assert queries.unused_features(quiet.pk, days=90) == ["Comment Added", "Report Exported"]
    assert queries.unused_features(busy.pk, days=90) == ["Invoice Created"]


def test_daily_series_has_every_day(two_accounts):
    busy, _quiet = two_accounts

    series = queries.daily_usage(busy.pk, days=7)

    assert [day.day for day in series] == [at(6 - i).date() for i in range(7)]
    assert [(day.events, day.users) for day in series][-5:] == [
        (1, 1),
        (1, 1),
        (1, 1),
        (1, 1),
        (0, 0),
    ]


def test_weekly_trend(two_accounts):
    busy, _quiet = two_accounts
    today = timezone.localdate()

    weeks = queries.weekly_trend(busy.pk, weeks=13)

    assert len(weeks) == 13
    assert weeks[-1].week_start == today - datetime.timedelta(days=today.weekday())
    assert sum(week.events for week in weeks) == 6  # the 70-day-old comment is older
    assert sum(week.logins for week in weeks) == 3


def test_account_usage_panel_figures(two_accounts):
    busy, _quiet = two_accounts

    usage = queries.account_usage(busy.pk)

    assert (usage.logins, usage.events, usage.has_data) == (2, 4, True)
    assert len(usage.daily) == 90


def test_contact_usage(two_accounts):
    busy, _quiet = two_accounts
    contact = busy.contacts.get(product_user_id="b2")

    usage = queries.contact_usage(contact.pk)

    assert (usage.active_days, usage.events, usage.features) == (2, 2, [("Report Exported", 2)])
    assert [event.name for event in usage.recent] == ["Report Exported", "Report Exported"]


def test_day_summaries_newest_first(two_accounts):
    busy, _quiet = two_accounts

    summaries = queries.day_summaries(busy.pk, timezone.localdate(), limit=2)

    assert [(s.day, s.events, s.users) for s in summaries] == [
        (at(1).date(), 1, 1),
        (at(2).date(), 1, 1),
    ]
    assert summaries[0].parts == [("track", "Logged In", 1)]


def test_accounts_annotated_with_logins_sort_by_them(two_accounts):
    busy, quiet = two_accounts
    never = AccountFactory.create()

    rows = queries.with_logins_30d(Account.objects.all()).order_by(*queries.LOGINS_SORT)

    assert list(rows.values_list("pk", "logins_30d")) == [  # type: ignore[misc]
        (busy.pk, 2),
        (quiet.pk, 0),
        (never.pk, 0),
    ]


def test_events_newest_first_page_by_page(two_accounts):
    busy, _quiet = two_accounts

    first = queries.events(account_id=busy.pk, limit=4)
    rest = queries.events(account_id=busy.pk, before=(first[-1].timestamp, first[-1].id))

    assert [e.timestamp for e in first + rest] == sorted(
        (e.timestamp for e in first + rest), reverse=True
    )
    assert len(first) == 4 and len(rest) == 2


def test_events_in_a_time_range(two_accounts):
    busy, _quiet = two_accounts

    recent = queries.events(account_id=busy.pk, since=at(3, hour=0))

    assert [e.event for e in recent] == ["Logged In", "Logged In", "Report Exported"]


def test_accounts_by_logins_pages_across_those_without_logins(two_accounts):
    busy, quiet = two_accounts
    never = AccountFactory.create()
    also_busy = AccountFactory.create(external_id="SF-ALSO")
    ContactFactory.create(account=also_busy, product_user_id="a0")
    store([("a0", "Logged In", at()) for _ in range(5)])

    ordered = queries.AccountsByLogins(Account.objects.all())

    expected = [also_busy.pk, busy.pk, *sorted([quiet.pk, never.pk])]
    assert ordered.count() == 4
    assert [a.pk for a in ordered[0:4]] == expected
    assert [a.pk for a in ordered[1:3]] == expected[1:3]
    assert [a.pk for a in ordered[3:10]] == expected[3:]
    assert [a.logins_30d for a in ordered[0:4]] == [5, 2, 0, 0]  # type: ignore[attr-defined]
