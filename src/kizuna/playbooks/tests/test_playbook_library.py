"""The shipped playbook library installs idempotently and respects edits."""

from __future__ import annotations

import pytest

from kizuna.core import audit
from kizuna.playbooks import services
from kizuna.playbooks.models import Playbook

pytestmark = pytest.mark.django_db

SHIPPED = {
    "onboarding-kickoff",
    "no-login-14-days",
    "usage-drop",
    "renewal-90",
    "renewal-60",
    "renewal-30",
    "expansion-seats",
    "detractor-follow-up",
}


def test_installs_every_shipped_playbook_once() -> None:
    services.install_library()

    assert services.install_library() == 0
    assert set(Playbook.objects.values_list("key", flat=True)) >= SHIPPED
    assert all(playbook.steps for playbook in Playbook.objects.filter(shipped=True))


def test_an_edited_shipped_playbook_is_not_overwritten() -> None:
    services.install_library()
    playbook = Playbook.objects.get(key="usage-drop")
    before = audit.snapshot(playbook)
    playbook.name = "Our usage drop play"
    services.save_playbook(None, playbook, before)

    services.install_library()

    playbook.refresh_from_db()
    assert playbook.name == "Our usage drop play"
    assert playbook.customized


def test_an_untouched_shipped_playbook_gets_the_current_text() -> None:
    services.install_library()
    Playbook.objects.filter(key="usage-drop").update(name="old name")

    services.install_library()

    assert Playbook.objects.get(key="usage-drop").name != "old name"


def test_a_shipped_playbook_cannot_be_deleted() -> None:
    services.install_library()

    with pytest.raises(services.InvalidPlaybook):
        services.delete_playbook(None, Playbook.objects.get(key="usage-drop"))


def test_invalid_steps_are_named() -> None:
    playbook = Playbook(
        key="bad", name="Bad", steps=[{"title": "ok"}, {"title": "", "due_offset_days": -2}]
    )

    with pytest.raises(services.InvalidPlaybook) as refused:
        services.save_playbook(None, playbook, None)

    assert set(refused.value.errors) == {"steps[2].title", "steps[2].due_offset_days"}
    assert not Playbook.objects.filter(key="bad").exists()
