"""The demo seeds realistic CTAs across the demo owners' accounts."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from kizuna.core.tests.factories import UserFactory
from kizuna.customers.choices import LifecycleStage, Tier
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import demo
from kizuna.playbooks.models import Cta

pytestmark = pytest.mark.django_db


def test_seed_creates_open_and_closed_ctas_and_is_repeatable() -> None:
    owners = UserFactory.create_batch(3)
    for index in range(40):
        AccountFactory.create(
            owner=owners[index % 3],
            tier=Tier.HIGH_TOUCH,
            stage=LifecycleStage.ONBOARDING,
            arr=Decimal(2_000_000),
        )

    created = demo.seed(random.Random(1))

    assert created == Cta.objects.count() > 0
    assert Cta.objects.filter(status="open").exists()
    assert set(Cta.objects.values_list("owner_id", flat=True)) <= {owner.pk for owner in owners}
    assert demo.seed(random.Random(1)) == 0
