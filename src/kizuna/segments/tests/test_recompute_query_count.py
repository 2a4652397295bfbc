"""Recomputing a segment costs the same few queries for ten accounts or a thousand."""

from __future__ import annotations

import pytest

from kizuna.api.tests.factories import WebhookEndpointFactory
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least

pytestmark = pytest.mark.django_db

# savepoint, lock, UPDATE exits, INSERT … SELECT entries, load the changed stays, the
# webhook endpoints, the stays' accounts for the payloads, the deliveries, recount, update
# the segment, release; then success flows: the live flows these changes trigger
WITH_CHANGES = 12
# … and entries also answer flow decisions waiting for them: the waiting runs
WITH_ENTRIES = WITH_CHANGES + 1
# savepoint, lock, UPDATE exits, INSERT … SELECT entries, recount, update, release
WITHOUT_CHANGES = 7


@pytest.fixture(autouse=True)
def _subscriber() -> None:
    WebhookEndpointFactory.create(event_types=["segment.entered", "segment.exited"])


@pytest.mark.parametrize("accounts", [10, 300])
def test_a_full_recompute_costs_a_fixed_number_of_queries(
    accounts: int, django_assert_num_queries
) -> None:
    AccountFactory.create_batch(accounts, employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))

    with django_assert_num_queries(WITH_ENTRIES):
        result = services.recompute(segment)

    assert result.entered == accounts


@pytest.mark.parametrize("accounts", [10, 300])
def test_exits_cost_a_fixed_number_of_queries(accounts: int, django_assert_num_queries) -> None:
    AccountFactory.create_batch(accounts, employees=500)
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)
    Account.objects.update(employees=1)

    with django_assert_num_queries(WITH_CHANGES):
        result = services.recompute(segment)

    assert result.exited == accounts


@pytest.mark.parametrize("accounts", [10, 300])
def test_an_incremental_recompute_costs_a_fixed_number_of_queries(
    accounts: int, django_assert_num_queries
) -> None:
    ids = [account.pk for account in AccountFactory.create_batch(accounts, employees=500)]
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    services.recompute(segment)

    with django_assert_num_queries(WITHOUT_CHANGES):
        services.recompute(segment, account_ids=ids)
