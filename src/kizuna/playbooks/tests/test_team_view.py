"""The team view: per CSM open/overdue CTAs, weekly activity, and their book by tier."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.core.models import AuditEntry, Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.choices import Tier
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory, TouchpointFactory
from kizuna.playbooks import queries
from kizuna.playbooks.choices import CtaStatus
from kizuna.playbooks.models import Cta
from kizuna.playbooks.tests.factories import CtaFactory

pytestmark = pytest.mark.django_db

URL = reverse("playbooks:team")


def _row(team: queries.Team, user) -> queries.CsmRow:
    return next(row for row in team.rows if row.user is not None and row.user.pk == user.pk)


def test_figures_per_csm() -> None:
    today = timezone.localdate()
    now = timezone.now()
    aiko = UserFactory.create()
    account = AccountFactory.create(owner=aiko, tier=Tier.HIGH_TOUCH, arr=Decimal(3_000_000))
    AccountFactory.create(owner=aiko, tier=Tier.TECH_TOUCH, arr=Decimal(100_000))
    CtaFactory.create(owner=aiko, account=account)
    CtaFactory.create(owner=aiko, account=account, due_on=today - datetime.timedelta(days=1))
    CtaFactory.create(owner=aiko, account=account, status=CtaStatus.DONE, closed_at=now)
    CtaFactory.create(
        owner=aiko,
        account=account,
        status=CtaStatus.DONE,
        closed_at=now - datetime.timedelta(weeks=1),
    )
    CtaFactory.create(
        owner=aiko,
        account=account,
        status=CtaStatus.DONE,
        closed_at=now - datetime.timedelta(weeks=20),
    )
    TouchpointFactory.create(account=account, author=aiko, occurred_at=now)

    row = _row(queries.team(), aiko)

    assert (row.open, row.overdue) == (2, 1)
    assert row.closed[-1] == 1 and row.closed[-2] == 1 and row.closed_total == 2
    assert row.touchpoints[-1] == 1
    assert row.tiers[Tier.HIGH_TOUCH].accounts == 1
    assert row.tiers[Tier.HIGH_TOUCH].arr == Decimal(3_000_000)
    assert row.accounts == 2


def test_query_count_is_pinned(manager_client: Client, django_assert_num_queries) -> None:
    for _ in range(5):
        user = UserFactory.create()
        CtaFactory.create_batch(2, owner=user)
        AccountFactory.create(owner=user)

    # session, user, users, open/overdue, closed per week, touchpoints per week, accounts
    # by tier, and the two hand-over forms' user lists (four selects)
    with django_assert_num_queries(11):
        response = manager_client.get(URL)

    assert response.status_code == 200


def test_a_csm_cannot_see_the_team_view(csm_client: Client) -> None:
    assert csm_client.get(URL).status_code == 403


def test_handing_over_accounts_goes_through_the_audited_service(manager_client: Client) -> None:
    leaving, taking = UserFactory.create_batch(2, role=Role.CSM)
    account = AccountFactory.create(owner=leaving)
    cta = CtaFactory.create(owner=leaving, account=account)

    manager_client.post(
        reverse("playbooks:team_move_accounts"),
        {"from_user": leaving.pk, "to_user": taking.pk, "move_ctas": "on"},
    )

    assert Account.objects.get(pk=account.pk).owner_id == taking.pk
    assert Cta.objects.get(pk=cta.pk).owner_id == taking.pk
    assert AuditEntry.objects.filter(object_type="customers.account", account=account).exists()
