"""The seed's flows ship as templates; the first-login one runs end to end (with real
emails and popups in kizuna.engagement's tests: test_onboarding_flow_end_to_end.py)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import seed
from kizuna.engagement.tests.factories import SenderFactory
from kizuna.flows import engine, services, templates_seed
from kizuna.flows.models import StepRun
from kizuna.playbooks.models import Cta
from kizuna.segments.models import SegmentMembership
from kizuna.usage.tests.helpers import store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", [template.key for template in templates_seed.TEMPLATES])
def test_every_template_makes_a_valid_draft(key):
    flow = templates_seed.create_from_template(None, key)
    assert flow.status == "draft"
    assert flow.template_key == key


def test_a_template_used_twice_gets_a_numbered_name():
    first = templates_seed.create_from_template(None, "first-login")
    second = templates_seed.create_from_template(None, "first-login")
    assert second.name == f"{first.name} (2)"


def login(user_id: str) -> None:
    now = timezone.now().isoformat()
    store(messages=[{"type": "track", "userId": user_id, "event": "Logged In", "timestamp": now}])
    engine.run_due()


def test_first_login_flow_end_to_end():
    flow = templates_seed.create_from_template(None, "first-login")
    definition = engine.definition_of(flow.versions.get())
    flow_def = definition.model_copy(update={"holdout_percent": 0})
    services.save_version(None, flow, flow_def.dump())
    services.set_status(None, flow, "live")
    seed.install()  # the shipped templates (a transactional test may have flushed them)
    SenderFactory.create(is_default=True)
    account = AccountFactory.create(tier="high")
    # No address: the programme email is skipped, so "opened within 2 days?" is "no" at once.
    ContactFactory.create(account=account, product_user_id="u1", email="")

    login("u1")
    assert SegmentMembership.objects.filter(account=account, exited_at__isnull=True).count() == 1
    programme = StepRun.objects.get(step_id="programme")
    assert programme.outcome == "done"
    assert programme.detail["skipped"] == 1
    phone = Cta.objects.get(account=account)
    assert phone.reason == "Onboarding email not opened: follow up by phone"

    login("u1")
    assert StepRun.objects.get(step_id="second-login").outcome == "yes"
    offered = Cta.objects.exclude(pk=phone.pk).get(account=account)
    assert offered.reason == "Second login: offer a guided tutorial session"
    assert offered.source_label.startswith(flow.name)


def test_no_template_in_the_gallery_needs_a_missing_capability():
    welcome = templates_seed.get("first-login")
    assert not templates_seed.needs_tech_touch(welcome)
