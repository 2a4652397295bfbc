"""Only managers and admins change flows; the hot pages keep a fixed number of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.models import SuccessFlow
from kizuna.flows.tests.factories import cta_step, make_flow

pytestmark = pytest.mark.django_db

LOGIN = {"type": "event", "event": "$login", "occurrence": 1}


def _writes(flow: SuccessFlow) -> list[tuple[str, str]]:
    return [
        ("get", reverse("flows:new")),
        ("post", reverse("flows:new")),
        ("post", reverse("flows:gallery_use", args=["first-login"])),
        ("get", reverse("flows:step_edit", args=[flow.pk, "a"])),
        ("post", reverse("flows:step_edit", args=[flow.pk, "a"])),
        ("post", reverse("flows:step_add", args=[flow.pk])),
        ("post", reverse("flows:step_delete", args=[flow.pk, "a"])),
        ("post", reverse("flows:settings", args=[flow.pk])),
        ("post", reverse("flows:status", args=[flow.pk])),
        ("post", reverse("flows:delete", args=[flow.pk])),
    ]


@pytest.mark.parametrize("role", ["viewer_client", "csm_client"])
def test_viewers_and_csms_get_403_on_every_write(request, role: str) -> None:
    client: Client = request.getfixturevalue(role)
    flow = make_flow(LOGIN, [cta_step("a")], live=False)
    for method, url in _writes(flow):
        assert getattr(client, method)(url).status_code == 403, url
    flow.refresh_from_db()
    assert flow.versions.count() == 1
    assert SuccessFlow.objects.count() == 1


def test_the_flow_list_queries_do_not_grow_with_flows(
    manager_client: Client, django_assert_num_queries
) -> None:
    for n in range(3):
        make_flow(LOGIN, [cta_step("a")], live=False, name=f"Flow {n}")
    # session, user, flows with versions, enrolment counts (one GROUP BY)
    with django_assert_num_queries(4):
        manager_client.get(reverse("flows:list"))
    for n in range(3, 8):
        make_flow(LOGIN, [cta_step("a")], live=False, name=f"Flow {n}")
    with django_assert_num_queries(4):
        manager_client.get(reverse("flows:list"))


def test_the_flow_page_queries_are_pinned(
    manager_client: Client, django_assert_num_queries
) -> None:
    AccountFactory.create_batch(3)
    flow = make_flow(LOGIN, [cta_step("a", next="b"), cta_step("b")], live=False)
    # session, user, flow + version, step counts, versions, accounts for the dry run
    with django_assert_num_queries(6):
        response = manager_client.get(reverse("flows:detail", args=[flow.pk]))
    assert response.status_code == 200


def test_the_account_panel_queries_are_pinned(
    csm_client: Client, django_assert_num_queries
) -> None:
    account = AccountFactory.create()
    for n in range(3):
        flow = make_flow(LOGIN, [cta_step("a")], name=f"Flow {n}")
        engine.enrol(flow, [engine.Candidate(account.pk, None, {"type": "event"})])
    engine.run_due()
    # session, user, account, enrolments with flow and version, their runs
    with django_assert_num_queries(5):
        response = csm_client.get(reverse("flows:account_panel", args=[account.pk]))
    assert response.content.decode().count('class="flow-run"') == 3
