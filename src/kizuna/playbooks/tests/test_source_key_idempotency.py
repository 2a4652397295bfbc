"""A retried flow step (same source_key) never creates a second CTA."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.models import Cta

pytestmark = pytest.mark.django_db


def test_the_same_key_returns_the_first_cta_even_with_other_arguments() -> None:
    account = AccountFactory.create()
    first, created = services.open_cta(
        account_id=account.pk,
        type="risk",
        reason="Usage drop",
        source="flow",
        source_key="run:7:step:2",
    )

    again, created_again = services.open_cta(
        account_id=account.pk,
        type="risk",
        reason="Usage drop (retry)",
        source="flow",
        source_key="run:7:step:2",
    )

    assert created and not created_again
    assert again.pk == first.pk
    assert Cta.objects.count() == 1


def test_the_key_holds_after_the_cta_was_closed() -> None:
    account = AccountFactory.create()
    first, _ = services.open_cta(account_id=account.pk, type="risk", reason="x", source_key="k1")
    services.close_cta(None, first, outcome="resolved")

    again, created = services.open_cta(
        account_id=account.pk, type="risk", reason="x", source_key="k1"
    )

    assert not created and again.pk == first.pk


def test_different_keys_for_different_accounts_create_two() -> None:
    one, two = AccountFactory.create_batch(2)
    services.open_cta(account_id=one.pk, type="risk", reason="x", source_key="a")
    services.open_cta(account_id=two.pk, type="risk", reason="x", source_key="b")

    assert Cta.objects.count() == 2
