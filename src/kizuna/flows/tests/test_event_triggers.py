"""Events received by the tracking API enrol accounts in the flows they trigger."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.flows import engine
from kizuna.flows.models import Enrolment
from kizuna.flows.tests.factories import cta_step, make_flow
from kizuna.playbooks.models import Cta
from kizuna.usage.tests.helpers import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    account = AccountFactory.create(name="株式会社サクラ物流")
    ContactFactory.create(account=account, product_user_id="u1")
    ContactFactory.create(account=account, product_user_id="u2")
    return account


def login(user_id: str = "u1", event: str = "Logged In", **properties) -> None:
    message = {
        "type": "track",
        "userId": user_id,
        "event": event,
        "timestamp": timezone.now().isoformat(),
        "properties": properties,
    }
    store(messages=[message])


def second_login_flow():
    return make_flow(
        {"type": "event", "event": "$login", "occurrence": 2},
        [cta_step(reason="Second login: offer the tutorial")],
    )


def test_the_second_login_creates_the_cta_with_its_reason(user):
    second_login_flow()
    login()
    login()
    engine.run_due()
    cta = Cta.objects.get(account=user)
    assert cta.reason == "Second login: offer the tutorial"
    assert cta.source == "flow"


def test_the_first_login_does_not_fire_a_second_login_flow(user):
    second_login_flow()
    login()
    engine.run_due()
    assert not Enrolment.objects.exists()


def test_logins_are_counted_per_account_across_users(user):
    second_login_flow()
    login("u1")
    login("u2")
    assert Enrolment.objects.filter(account=user).count() == 1


def test_two_logins_in_one_chunk_enrol_once(user):
    second_login_flow()
    now = timezone.now().isoformat()
    store(
        messages=[
            {"type": "track", "userId": "u1", "event": "Logged In", "timestamp": now}
            for _ in range(3)
        ]
    )
    enrolment = Enrolment.objects.get(account=user)
    assert enrolment.trigger["occurrence"] == 2


def test_counting_per_contact_waits_for_the_same_user(user):
    make_flow(
        {"type": "event", "event": "$login", "occurrence": 2, "per": "contact"},
        [cta_step()],
    )
    login("u1")
    login("u2")
    assert not Enrolment.objects.exists()
    login("u2")
    contact = Enrolment.objects.get(account=user).contact
    assert contact is not None
    assert contact.product_user_id == "u2"


def test_property_filters_decide_which_events_fire(user):
    make_flow(
        {
            "type": "event",
            "event": "Settings Saved",
            "properties": [{"key": "complete", "op": "eq", "value": False}],
        },
        [cta_step()],
    )
    login(event="Settings Saved", complete=True)
    assert not Enrolment.objects.exists()
    login(event="Settings Saved", complete=False)
    assert Enrolment.objects.get(account=user).trigger["properties"] == {"complete": False}


def test_a_paused_flow_enrols_nobody(user):
    flow = second_login_flow()
    flow.status = "paused"
    flow.save()
    login()
    login()
    assert not Enrolment.objects.exists()


def test_the_trigger_records_what_it_saw(user):
    second_login_flow()
    login()
    login()
    trigger = Enrolment.objects.get(account=user).trigger
    assert trigger["event"] == "Logged In"
    assert trigger["occurrence"] == 2
    assert trigger["event_id"]


def test_numbers_compare_as_numbers_and_yes_no_only_as_yes_no(user):
    from kizuna.flows.definition import PropertyFilter
    from kizuna.flows.triggers import _passes

    thirty = [PropertyFilter(key="seconds", op="eq", value=30)]
    assert _passes(thirty, {"seconds": 30.0})
    complete = [PropertyFilter(key="complete", op="eq", value=True)]
    assert not _passes(complete, {"complete": "true"})
    assert _passes(complete, {"complete": True})
