"""The rollup worker: exact daily counts and distinct users, never counted twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage import rollups, services
from kizuna.usage.models import (
    AccountActivity,
    AccountDailyUsage,
    ContactActivity,
    ContactDailyUsage,
    Feature,
    RollupState,
    UsageSettings,
)
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    account = AccountFactory.create(external_id="SF-1")
    return account, [
        ContactFactory.create(account=account, product_user_id=f"u{i}") for i in range(3)
    ]


def daily(account, day_ago=0):
    return {
        (row.type, row.event): (row.count, row.users)
        for row in AccountDailyUsage.objects.filter(account=account, day=at(day_ago).date())
    }


def test_counts_and_distinct_users_per_day_and_event(people):
    account, _contacts = people

    store(
        [
            ("u0", "Logged In", at()),
            ("u0", "Logged In", at(hour=15)),
            ("u1", "Logged In", at()),
            ("u1", "Report Exported", at()),
        ]
    )

    assert daily(account) == {
        ("track", "Logged In"): (3, 2),
        ("track", "Report Exported"): (1, 1),
        ("", ""): (4, 2),
    }


def test_users_are_not_counted_again_in_a_later_chunk(people):
    account, _contacts = people
    store([("u0", "Logged In", at()), ("u1", "Logged In", at())])

    store([("u0", "Logged In", at(hour=18)), ("u2", "Logged In", at(hour=18))])

    assert daily(account)[("track", "Logged In")] == (4, 3)
    assert daily(account)[("", "")] == (4, 3)


def test_running_again_counts_nothing_twice(people):
    account, _contacts = people
    store([("u0", "Logged In", at())])

    processed = rollups.rollup_new_events()

    assert processed == 0
    assert daily(account)[("track", "Logged In")] == (1, 1)


def test_tiny_chunks_give_the_same_rollups(people):
    events = [(f"u{i % 3}", name, at(i % 4)) for i in range(30) for name in ("A", "B")]
    store(events)
    expected = sorted(
        AccountDailyUsage.objects.values_list("day", "type", "event", "count", "users")
    )
    AccountDailyUsage.objects.all().delete()
    ContactDailyUsage.objects.all().delete()
    RollupState.objects.update(last_event_id=0)

    rollups.rollup_new_events(chunk=7)

    assert (
        sorted(AccountDailyUsage.objects.values_list("day", "type", "event", "count", "users"))
        == expected
    )


def test_per_contact_rows(people):
    _account, contacts = people

    store([("u0", "A", at()), ("u0", "A", at(hour=9)), ("u0", "B", at(1))])

    rows = ContactDailyUsage.objects.filter(contact=contacts[0]).values_list(
        "type", "event", "count"
    )
    assert sorted(rows) == [("", "", 1), ("", "", 2), ("track", "A", 2), ("track", "B", 1)]


def test_page_views_are_rolled_up_by_page_name(people):
    account, _contacts = people

    store(
        messages=[
            {"type": "page", "userId": "u0", "name": "Reports"},
            {"type": "page", "userId": "u1"},
        ]
    )

    assert daily(account)[("page", "Reports")] == (1, 1)
    assert daily(account)[("page", "")] == (1, 1)


def test_identify_and_group_calls_are_not_usage(people):

    store(messages=[{"type": "identify", "userId": "u0", "traits": {"title": "部長"}}])

    assert not AccountDailyUsage.objects.exists()


def test_events_of_unknown_people_count_for_the_account_but_not_as_users(people):
    account, _contacts = people

    store(
        messages=[
            {"type": "track", "userId": "stranger", "event": "A", "context": {"groupId": "SF-1"}}
        ]
    )

    assert daily(account)[("track", "A")] == (1, 0)


def test_events_of_a_deleted_contact_count_for_the_account_only(people):
    account, contacts = people
    store([("u0", "A", at())], roll_up=False)
    services.forget_cached_people()
    # A contact deleted after the event arrived but before it was rolled up.
    ContactDailyUsage.objects.all().delete()
    from kizuna.usage.models import Event

    Event.objects.update(contact_id=contacts[0].pk + 1000)

    rollups.rollup_new_events()

    assert daily(account)[("track", "A")] == (1, 0)


def test_last_seen_and_30_day_figures(people):
    account, _contacts = people

    store(
        [("u0", "Logged In", at(40)), ("u1", "Logged In", at(3)), ("u1", "Export", at(0, hour=10))]
    )

    activity = AccountActivity.objects.get(account=account)
    assert (activity.logins_30d, activity.active_users_30d) == (1, 1)
    assert activity.last_seen_at == at(0, hour=10)
    assert ContactActivity.objects.get(contact__product_user_id="u0").last_seen_at == at(40)


def test_changing_the_login_events_recomputes_logins(people):
    account, _contacts = people
    store([("u0", "Session Started", at()), ("u1", "Logged In", at())])
    usage_settings = UsageSettings.current()
    from kizuna.core import audit

    before = audit.snapshot(usage_settings)
    usage_settings.login_events = ["Session Started"]

    services.update_settings(None, usage_settings, before)

    assert AccountActivity.objects.get(account=account).logins_30d == 1


def test_the_window_moves_with_the_date(people, settings):
    account, _contacts = people
    store([("u0", "Logged In", at(29))])
    assert AccountActivity.objects.get(account=account).logins_30d == 1

    # A day later the login is 30 days old.
    from unittest import mock

    from django.utils import timezone

    tomorrow = timezone.localdate() + __import__("datetime").timedelta(days=1)
    with mock.patch.object(timezone, "localdate", return_value=tomorrow):
        rollups.refresh_windows()

    assert AccountActivity.objects.get(account=account).logins_30d == 0


def test_features_catalogue(people):
    store(
        [
            ("u0", "Report Exported", at(5)),
            ("u1", "Report Exported", at(1)),
            ("u1", "Logged In", at()),
        ]
    )

    assert dict(Feature.objects.values_list("name", "last_seen_on")) == {
        "Report Exported": at(1).date(),
        "Logged In": at().date(),
    }


def test_rebuild_gives_the_incremental_result(people):
    store([(f"u{i % 3}", name, at(i % 3, hour=8 + i)) for i in range(9) for name in ("A", "B")])
    expected = sorted(
        AccountDailyUsage.objects.values_list("day", "type", "event", "count", "users")
    )
    AccountDailyUsage.objects.update(count=999, users=999)

    counted = rollups.rebuild(at(2).date(), at(0).date())

    assert counted == 18
    assert (
        sorted(AccountDailyUsage.objects.values_list("day", "type", "event", "count", "users"))
        == expected
    )


def test_rebuild_leaves_events_after_the_watermark_to_the_worker(people):
    account, _contacts = people
    store([("u0", "A", at())])
    store([("u1", "A", at())], roll_up=False)

    rollups.rebuild(at().date(), at().date())
    rollups.rollup_new_events()

    assert daily(account)[("track", "A")] == (2, 2)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_count_everything_once():
    account = AccountFactory.create(external_id="SF-R")
    for i in range(5):
        ContactFactory.create(account=account, product_user_id=f"r{i}")
    store([(f"r{i % 5}", "Logged In", at()) for i in range(400)], roll_up=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            rollups.rollup_new_events(chunk=25)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert daily(account)[("track", "Logged In")] == (400, 5)
