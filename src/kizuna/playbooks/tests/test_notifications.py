"""In-app notifications: the owner hears about a new CTA, once per source key."""

from __future__ import annotations

import pytest

from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.models import Notification

pytestmark = pytest.mark.django_db


def test_notify_is_idempotent_on_the_source_key() -> None:
    user = UserFactory.create()
    first = services.notify(user_id=user.pk, account_id=None, text="Hi", source_key="flow:1")

    again = services.notify(user_id=user.pk, account_id=None, text="Hi again", source_key="flow:1")

    assert again.pk == first.pk
    assert Notification.objects.count() == 1


def test_without_a_key_each_call_notifies() -> None:
    user = UserFactory.create()
    services.notify(user_id=user.pk, account_id=None, text="a")
    services.notify(user_id=user.pk, account_id=None, text="b")

    assert Notification.objects.count() == 2


def test_the_owner_of_a_new_cta_is_notified_unless_they_made_it() -> None:
    owner = UserFactory.create()
    account = AccountFactory.create(owner=owner)

    services.open_cta(account_id=account.pk, type="risk", reason="by a flow")
    services.open_cta(account_id=account.pk, type="risk", reason="by hand", actor=owner)

    assert list(Notification.objects.values_list("user_id", flat=True)) == [owner.pk]
    assert "by a flow" in Notification.objects.get().text


def test_mark_read_only_touches_the_users_own() -> None:
    me, other = UserFactory.create_batch(2)
    mine = services.notify(user_id=me.pk, account_id=None, text="a")
    theirs = services.notify(user_id=other.pk, account_id=None, text="b")

    assert services.mark_read(me, [mine.pk, theirs.pk]) == 1

    theirs.refresh_from_db()
    assert theirs.read_at is None
