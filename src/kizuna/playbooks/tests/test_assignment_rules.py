"""Assignment rules choose the owner of a new CTA when the caller names nobody."""

from __future__ import annotations

import pytest

from kizuna.core.models import Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.choices import Tier
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.choices import AssignmentStrategy
from kizuna.playbooks.models import AssignmentRule

pytestmark = pytest.mark.django_db


def _round_robin(tier: str, users: list) -> AssignmentRule:
    rule = AssignmentRule(
        name="Tech touch pool", tier=tier, strategy=AssignmentStrategy.ROUND_ROBIN
    )
    return services.save_assignment_rule(None, rule, None, users)


def test_round_robin_within_a_tier_takes_turns() -> None:
    first, second, third = UserFactory.create_batch(3)
    _round_robin(Tier.TECH_TOUCH, [first, second, third])
    accounts = AccountFactory.create_batch(4, tier=Tier.TECH_TOUCH)

    owners = [
        services.open_cta(account_id=account.pk, type="risk", reason="x")[0].owner_id
        for account in accounts
    ]

    assert owners == [first.pk, second.pk, third.pk, first.pk]


def test_round_robin_of_another_tier_leaves_the_account_owner() -> None:
    pool = UserFactory.create()
    _round_robin(Tier.TECH_TOUCH, [pool])
    owner = UserFactory.create()
    account = AccountFactory.create(tier=Tier.HIGH_TOUCH, owner=owner)

    cta, _ = services.open_cta(account_id=account.pk, type="risk", reason="x")

    assert cta.owner_id == owner.pk


def test_the_first_matching_rule_decides() -> None:
    specialist = UserFactory.create()
    services.save_assignment_rule(
        None,
        AssignmentRule(
            name="Renewals desk",
            cta_type="renewal",
            strategy=AssignmentStrategy.SPECIFIC_USER,
            user=specialist,
        ),
        None,
    )
    _round_robin("", [UserFactory.create()])
    account = AccountFactory.create(owner=UserFactory.create())

    cta, _ = services.open_cta(account_id=account.pk, type="renewal", reason="Renewal in 90 days")

    assert cta.owner_id == specialist.pk


def test_inactive_and_viewer_users_are_skipped_in_the_rotation() -> None:
    active = UserFactory.create()
    gone = UserFactory.create(is_active=False)
    viewer = UserFactory.create(role=Role.VIEWER)
    _round_robin("", [gone, viewer, active])

    owners = {
        services.open_cta(account_id=account.pk, type="risk", reason="x")[0].owner_id
        for account in AccountFactory.create_batch(3)
    }

    assert owners == {active.pk}


def test_the_turn_is_stored_so_the_next_cta_continues_the_rotation() -> None:
    first, second = UserFactory.create_batch(2)
    rule = _round_robin("", [first, second])
    services.open_cta(account_id=AccountFactory.create().pk, type="risk", reason="x")

    rule.refresh_from_db()

    assert rule.cursor == 1
