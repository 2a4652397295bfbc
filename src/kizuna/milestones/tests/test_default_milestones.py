"""The default milestones (seed 004): valid, installed once, never overwriting edits."""

from __future__ import annotations

import pytest

from kizuna.core.conditions import Context
from kizuna.customers.tests.factories import AccountFactory
from kizuna.milestones import demo, services
from kizuna.milestones.models import Milestone

pytestmark = pytest.mark.django_db


def test_the_defaults_cover_onboarding_adoption_and_renewal() -> None:
    created = services.install_defaults()

    assert created == len(services.default_milestones())
    stages = set(Milestone.objects.values_list("stage", flat=True))
    assert stages == {"onboarding", "adoption", "renewal"}
    assert {"first_login", "settings_completed", "colleagues_invited", "core_feature_used"} <= set(
        Milestone.objects.values_list("key", flat=True)
    )


def test_every_default_condition_is_valid() -> None:
    services.install_defaults()

    for milestone in Milestone.objects.all():
        services.check_condition(milestone.condition)


def test_installing_again_creates_nothing_and_keeps_edits() -> None:
    services.install_defaults()
    first_login = Milestone.objects.get(key="first_login")
    services.update_milestone(None, first_login, name="初回ログイン（編集済み）", target_days=3)

    assert demo.install() == 0

    first_login.refresh_from_db()
    assert (first_login.name, first_login.target_days) == ("初回ログイン（編集済み）", 3)


def test_a_deleted_default_comes_back_when_installed_again() -> None:
    services.install_defaults()
    Milestone.objects.filter(key="first_login").delete()

    assert services.install_defaults() == 1


def test_the_defaults_compute_without_errors() -> None:
    services.install_defaults()
    for stage in ("onboarding", "adoption", "renewal"):
        AccountFactory.create(stage=stage)

    services.recompute_milestones(None, Context.now())

    assert list(Milestone.objects.exclude(last_error="").values_list("key", "last_error")) == []
