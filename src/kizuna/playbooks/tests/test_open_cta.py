"""open_cta creates a CTA with its playbook's checklist, owned by the right person."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core.models import AuditEntry, Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.choices import CtaStatus, Priority
from kizuna.playbooks.tests.factories import PlaybookFactory

pytestmark = pytest.mark.django_db


def test_copies_the_playbook_steps_as_tasks_with_due_dates() -> None:
    owner = UserFactory.create()
    account = AccountFactory.create(owner=owner)
    playbook = PlaybookFactory.create(key="churn-risk")
    today = timezone.localdate()

    cta, created = services.open_cta(
        account_id=account.pk, type="risk", reason="No login", playbook_key="churn-risk"
    )

    assert created
    assert cta.owner_id == owner.pk
    assert cta.playbook_id == playbook.pk
    assert cta.priority == Priority.HIGH  # the playbook's
    assert cta.due_on == today + datetime.timedelta(days=7)  # the last step's
    assert [(task.title, task.due_on) for task in cta.tasks.all()] == [
        ("Call the champion", today + datetime.timedelta(days=2)),
        ("Agree a plan", today + datetime.timedelta(days=7)),
    ]


def test_without_playbook_is_due_in_a_week_with_medium_priority() -> None:
    cta, _ = services.open_cta(account_id=AccountFactory.create().pk, type="other", reason="x")

    assert cta.priority == Priority.MEDIUM
    assert cta.due_on == timezone.localdate() + datetime.timedelta(days=7)
    assert cta.status == CtaStatus.OPEN


def test_an_explicit_owner_wins_over_the_account_owner() -> None:
    account = AccountFactory.create(owner=UserFactory.create())
    other = UserFactory.create()

    cta, _ = services.open_cta(account_id=account.pk, type="risk", reason="x", owner_id=other.pk)

    assert cta.owner_id == other.pk


def test_is_audited() -> None:
    cta, _ = services.open_cta(account_id=AccountFactory.create().pk, type="risk", reason="x")

    entry = AuditEntry.objects.get(object_type="playbooks.cta", object_id=str(cta.pk))
    assert entry.account_id == cta.account_id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 201}, "reason"),
        ({"type": "nonsense"}, "type"),
        ({"priority": "urgent"}, "priority"),
        ({"due_in_days": -1}, "due_in_days"),
        ({"playbook_key": "missing"}, "playbook_key"),
    ],
)
def test_bad_input_is_refused_and_saves_nothing(changes: dict, field: str) -> None:
    account = AccountFactory.create()
    arguments = {"account_id": account.pk, "type": "risk", "reason": "x", **changes}

    with pytest.raises(services.InvalidCta) as refused:
        services.open_cta(**arguments)

    assert refused.value.field == field
    assert not account.ctas.exists()


def test_a_viewer_cannot_own_a_cta() -> None:
    viewer = UserFactory.create(role=Role.VIEWER)

    with pytest.raises(services.InvalidCta) as refused:
        services.open_cta(
            account_id=AccountFactory.create().pk, type="risk", reason="x", owner_id=viewer.pk
        )

    assert refused.value.field == "owner_id"
