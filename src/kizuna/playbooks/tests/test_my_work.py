"""My work lists my CTAs by priority then due date, filters them, and acts on many at once."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.core.models import User
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.choices import CtaStatus, Priority
from kizuna.playbooks.models import Cta
from kizuna.playbooks.tests.factories import CtaFactory

pytestmark = pytest.mark.django_db

URL = reverse("playbooks:work")


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def _reasons(response) -> list[str]:
    return [cta.reason for cta in response.context["page"].object_list]


def test_sorted_by_priority_then_due_date(csm_client: Client, csm: User) -> None:
    CtaFactory.create(owner=csm, reason="low soon", priority=Priority.LOW, due_on=_days(1))
    CtaFactory.create(owner=csm, reason="high later", priority=Priority.HIGH, due_on=_days(9))
    CtaFactory.create(owner=csm, reason="high soon", priority=Priority.HIGH, due_on=_days(2))
    CtaFactory.create(owner=UserFactory.create(), reason="not mine")

    response = csm_client.get(URL)

    assert _reasons(response) == ["high soon", "high later", "low soon"]


def test_filters_overdue_and_account_search(csm_client: Client, csm: User) -> None:
    sakura = AccountFactory.create(name="さくら商事", name_kana="サクラショウジ")
    CtaFactory.create(owner=csm, account=sakura, reason="late", due_on=_days(-2))
    CtaFactory.create(owner=csm, reason="on time", due_on=_days(2))

    assert _reasons(csm_client.get(URL, {"overdue": "1"})) == ["late"]
    assert _reasons(csm_client.get(URL, {"q": "さくら"})) == ["late"]


def test_snoozed_ctas_leave_the_open_list(csm_client: Client, csm: User) -> None:
    CtaFactory.create(owner=csm, reason="later", status=CtaStatus.SNOOZED, snoozed_until=_days(3))

    assert _reasons(csm_client.get(URL)) == []
    assert _reasons(csm_client.get(URL, {"status": "snoozed"})) == ["later"]


def test_query_count_is_pinned(csm_client: Client, csm: User, django_assert_num_queries) -> None:
    for n in range(15):
        CtaFactory.create(owner=csm, reason=f"r{n}")
    services.notify(user_id=csm.pk, account_id=None, text="hello")

    # session, user, count, page of CTAs, counts, notifications
    with django_assert_num_queries(6):
        response = csm_client.get(URL)

    assert response.status_code == 200


def test_bulk_done_and_snooze(csm_client: Client, csm: User) -> None:
    one, two, three = (CtaFactory.create(owner=csm) for _ in range(3))

    csm_client.post(
        reverse("playbooks:bulk"),
        {"action": "done", "ids": [one.pk, two.pk], "outcome": "resolved"},
    )
    csm_client.post(reverse("playbooks:bulk"), {"action": "snooze", "ids": [three.pk], "days": "3"})

    statuses = dict(Cta.objects.values_list("pk", "status"))
    assert statuses == {one.pk: "done", two.pk: "done", three.pk: "snoozed"}


def test_a_csm_cannot_bulk_close_someone_elses_cta(csm_client: Client) -> None:
    theirs = CtaFactory.create(owner=UserFactory.create())

    csm_client.post(reverse("playbooks:bulk"), {"action": "done", "ids": [theirs.pk]})

    theirs.refresh_from_db()
    assert theirs.status == CtaStatus.OPEN


def test_a_csm_cannot_bulk_reassign(csm_client: Client, csm: User) -> None:
    mine = CtaFactory.create(owner=csm)
    other = UserFactory.create()

    csm_client.post(
        reverse("playbooks:bulk"), {"action": "reassign", "ids": [mine.pk], "owner": other.pk}
    )

    mine.refresh_from_db()
    assert mine.owner_id == csm.pk


def test_a_manager_bulk_reassigns(manager_client: Client) -> None:
    cta = CtaFactory.create(owner=UserFactory.create())
    other = UserFactory.create()

    manager_client.post(
        reverse("playbooks:bulk"), {"action": "reassign", "ids": [cta.pk], "owner": other.pk}
    )

    cta.refresh_from_db()
    assert cta.owner_id == other.pk


def test_a_viewer_reads_but_cannot_act(viewer_client: Client) -> None:
    cta = CtaFactory.create()

    assert viewer_client.get(URL).status_code == 200
    assert (
        viewer_client.post(
            reverse("playbooks:bulk"), {"action": "done", "ids": [cta.pk]}
        ).status_code
        == 403
    )
    assert (
        viewer_client.post(
            reverse("playbooks:cta_close", args=[cta.pk]), {"outcome": "resolved", "status": "done"}
        ).status_code
        == 403
    )
