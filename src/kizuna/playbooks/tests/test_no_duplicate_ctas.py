"""An open CTA for the same account, type and reason is never created twice — the partial
unique index is the guarantee, also when two calls race."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, connections

from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.choices import CtaStatus
from kizuna.playbooks.models import Cta
from kizuna.playbooks.tests.factories import CtaFactory

pytestmark = pytest.mark.django_db


def test_an_open_duplicate_returns_the_existing_cta() -> None:
    account = AccountFactory.create()
    first, created = services.open_cta(account_id=account.pk, type="risk", reason="No login")

    second, created_again = services.open_cta(account_id=account.pk, type="risk", reason="No login")

    assert created and not created_again
    assert second.pk == first.pk
    assert Cta.objects.count() == 1


def test_a_snoozed_cta_also_blocks_a_duplicate() -> None:
    cta = CtaFactory.create(reason="No login", status=CtaStatus.SNOOZED)

    found, created = services.open_cta(account_id=cta.account_id, type="risk", reason="No login")

    assert not created and found.pk == cta.pk


def test_after_closing_the_same_cta_can_be_opened_again() -> None:
    cta = CtaFactory.create(reason="No login", status=CtaStatus.DONE)

    _new, created = services.open_cta(account_id=cta.account_id, type="risk", reason="No login")

    assert created


def test_the_database_refuses_a_second_open_cta() -> None:
    cta = CtaFactory.create(reason="No login")

    with pytest.raises(IntegrityError):
        CtaFactory.create(account=cta.account, reason="No login")


def test_losing_the_race_returns_the_winner(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check before the insert saw nothing (another request inserted in between): the
    index refuses the insert and the winner is returned."""
    winner = CtaFactory.create(reason="No login")
    real = services._existing
    calls: list[int] = []

    def blind_first(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(services, "_existing", blind_first)

    found, created = services.open_cta(account_id=winner.account_id, type="risk", reason="No login")

    assert not created and found.pk == winner.pk
    assert Cta.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_create_one_cta() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's concurrency.")
    account = AccountFactory.create()
    barrier = threading.Barrier(4)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            barrier.wait()
            cta, created = services.open_cta(account_id=account.pk, type="risk", reason="Race")
            results.append((cta.pk, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert Cta.objects.filter(account=account).count() == 1
