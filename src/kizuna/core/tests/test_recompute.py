"""Accounts whose data changed are marked in the same transaction and recomputed by the
registered steps; a failing step never stops the others."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from kizuna.core import recompute
from kizuna.core.conditions import Context
from kizuna.core.models import DirtyAccount
from kizuna.customers import services
from kizuna.customers.forms import TouchpointForm
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage.tests.helpers import at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen() -> Iterator[list[Sequence[int] | None]]:
    calls: list[Sequence[int] | None] = []
    saved = dict(recompute._STEPS)
    recompute._STEPS.clear()
    recompute.register_step("test.record", 50, lambda ids, ctx: calls.append(ids))
    yield calls
    recompute._STEPS.clear()
    recompute._STEPS.update(saved)


def test_marked_accounts_are_recomputed_and_unmarked(seen):
    recompute.mark([3, 5, 5])

    assert recompute.run_pending() == 2
    assert [sorted(ids or []) for ids in seen] == [[3, 5]]
    assert not DirtyAccount.objects.exists()


def test_nothing_pending_runs_no_step(seen):
    assert recompute.run_pending() == 0
    assert seen == []


def test_a_touchpoint_logged_marks_its_account(csm):
    account = AccountFactory.create()
    form = TouchpointForm(
        data={
            "kind": "call",
            "occurred_at": "2026-11-01T10:00",
            "subject": "定例",
            "rating": "poor",
        },
        account=account,
    )
    assert form.is_valid(), form.errors

    services.save_form(csm, form, None)

    assert DirtyAccount.objects.filter(account_id=account.pk).exists()


def test_rolled_up_usage_marks_the_accounts_it_moved():
    active = AccountFactory.create()
    idle = AccountFactory.create()
    ContactFactory.create(account=active, product_user_id="u1")
    DirtyAccount.objects.all().delete()

    store([("u1", "Logged In", at(0))])

    assert set(DirtyAccount.objects.values_list("account_id", flat=True)) == {active.pk}
    assert idle.pk not in set(DirtyAccount.objects.values_list("account_id", flat=True))


def test_a_failing_step_is_reported_and_the_next_still_runs(seen):
    def broken(ids: Sequence[int] | None, ctx: Context) -> None:
        raise RuntimeError("division by zero in a measure")

    recompute.register_step("test.broken", 10, broken)

    report = recompute.recompute([1])

    assert report.errors == {"test.broken": "RuntimeError: division by zero in a measure"}
    assert seen == [[1]]


def test_a_full_recompute_clears_what_was_marked_before_it(seen):
    recompute.mark([7, 8])

    recompute.recompute()

    assert not DirtyAccount.objects.exists()
