"""Segments in the REST API: managers and admins define them, everyone with a key reads;
an invalid tree is a 422 naming where; members now or on a past day; an account's
segments; static members; recompute."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.api.tests.conftest import ApiClient
from kizuna.core.models import Role
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.models import Segment, SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least, member_of

pytestmark = pytest.mark.django_db

BASE = "/api/v1/segments"


@pytest.fixture
def manager_api(make_token) -> ApiClient:
    return ApiClient(make_token(Role.MANAGER))


def test_a_manager_creates_a_dynamic_segment(manager_api: ApiClient) -> None:
    response = manager_api.post(
        BASE, {"name": "大口顧客", "conditions": employees_at_least(100), "description": "x"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "大口顧客"
    assert body["kind"] == "dynamic"
    assert body["version"] == 1
    assert body["is_calculating"] is True
    assert Segment.objects.get().created_by_id is not None


def test_an_invalid_tree_is_a_422_naming_where(manager_api: ApiClient) -> None:
    tree = {"and": [employees_at_least(1), {**employees_at_least(1), "value": "many"}]}

    response = manager_api.post(BASE, {"name": "大口顧客", "conditions": tree})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == ["conditions.and[1].value"]
    assert error["fields"]["conditions.and[1].value"] == ["Expected a number."]
    assert not Segment.objects.exists()


def test_a_circle_is_a_422(manager_api: ApiClient) -> None:
    first = services.create_segment(None, name="A", conditions=employees_at_least(1))
    services.create_segment(None, name="B", conditions=member_of(first))
    second = Segment.objects.get(name="B")

    response = manager_api.patch(f"{BASE}/{first.pk}", {"conditions": member_of(second)})

    assert response.status_code == 422
    assert "«A» → «B» → «A»" in response.json()["error"]["fields"]["conditions"][0]


def test_a_taken_name_is_a_409(manager_api: ApiClient) -> None:
    SegmentFactory.create(name="大口顧客")

    response = manager_api.post(BASE, {"name": "大口顧客", "kind": "static"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_unknown_fields_are_refused(manager_api: ApiClient) -> None:
    response = manager_api.post(BASE, {"name": "A", "kind": "static", "colour": "red"})

    assert response.status_code == 422


@pytest.mark.parametrize("role", [Role.CSM, Role.VIEWER])
def test_csms_and_viewers_read_but_cannot_write(make_token, role: str) -> None:
    client = ApiClient(make_token(role))
    segment = SegmentFactory.create()

    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}/{segment.pk}").status_code == 200
    assert client.post(BASE, {"name": "A", "kind": "static"}).status_code == 403
    assert client.patch(f"{BASE}/{segment.pk}", {"name": "B"}).status_code == 403
    assert client.delete(f"{BASE}/{segment.pk}").status_code == 403
    assert client.post(f"{BASE}/{segment.pk}/recompute", {}).status_code == 403


def test_list_filters_and_pages(api: ApiClient) -> None:
    SegmentFactory.create(name="B", kind="static", conditions={})
    SegmentFactory.create(name="A")

    everything = api.get(BASE).json()
    static = api.get(BASE, kind="static").json()

    assert [row["name"] for row in everything["results"]] == ["A", "B"]
    assert everything["count"] == 2
    assert [row["name"] for row in static["results"]] == ["B"]


def test_update_raises_the_version(api: ApiClient) -> None:
    segment = services.create_segment(None, name="A", conditions=employees_at_least(1))

    response = api.patch(f"{BASE}/{segment.pk}", {"conditions": employees_at_least(5)})

    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_delete(api: ApiClient) -> None:
    segment = SegmentFactory.create()

    assert api.delete(f"{BASE}/{segment.pk}").status_code == 204
    assert api.get(f"{BASE}/{segment.pk}").status_code == 404


def test_a_missing_segment_is_a_404(api: ApiClient) -> None:
    response = api.get(f"{BASE}/999")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No segment has this id."


def test_recompute_and_list_members(api: ApiClient) -> None:
    big = AccountFactory.create(employees=500, external_id="SF-1")
    AccountFactory.create(employees=1)
    segment = SegmentFactory.create(conditions=employees_at_least(100))

    recomputed = api.post(f"{BASE}/{segment.pk}/recompute", {})
    members = api.get(f"{BASE}/{segment.pk}/members").json()

    assert recomputed.json()["member_count"] == 1
    assert members["count"] == 1
    [row] = members["results"]
    assert row["account"] == {"id": big.pk, "name": big.name, "external_id": "SF-1"}
    assert row["segment"]["id"] == segment.pk
    assert row["exited_at"] is None


def test_members_as_of_a_past_day(api: ApiClient) -> None:
    account = AccountFactory.create()
    segment = SegmentFactory.create(kind="static", conditions={})
    services.add_members(None, segment, [account.pk])
    services.remove_members(None, segment, [account.pk])
    SegmentMembership.objects.update(
        entered_at=timezone.now() - datetime.timedelta(days=10),
        exited_at=timezone.now() - datetime.timedelta(days=3),
    )
    week_ago = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()

    then = api.get(f"{BASE}/{segment.pk}/members", as_of=week_ago).json()
    now = api.get(f"{BASE}/{segment.pk}/members").json()

    assert then["count"] == 1
    assert now["count"] == 0


def test_static_members_are_added_and_removed(api: ApiClient) -> None:
    first = AccountFactory.create(external_id="SF-1")
    second = AccountFactory.create()
    segment = SegmentFactory.create(kind="static", conditions={})

    by_external = api.post(f"{BASE}/{segment.pk}/members", {"external_ids": ["SF-1"]})
    by_id = api.post(f"{BASE}/{segment.pk}/members", {"account_ids": [first.pk, second.pk]})
    removed = api.delete(f"{BASE}/{segment.pk}/members/{second.pk}")
    again = api.delete(f"{BASE}/{segment.pk}/members/{second.pk}")

    assert by_external.json() == {"added": 1, "removed": 0, "already": 0}
    assert by_id.json() == {"added": 1, "removed": 0, "already": 1}
    assert removed.status_code == 204
    assert again.status_code == 404


def test_unknown_external_ids_add_nobody(api: ApiClient) -> None:
    AccountFactory.create(external_id="SF-1")
    segment = SegmentFactory.create(kind="static", conditions={})

    response = api.post(f"{BASE}/{segment.pk}/members", {"external_ids": ["SF-1", "SF-404"]})

    assert response.status_code == 422
    assert "SF-404" in response.json()["error"]["fields"]["external_ids"][0]
    assert not SegmentMembership.objects.exists()


def test_members_of_a_dynamic_segment_cannot_be_added(api: ApiClient) -> None:
    account = AccountFactory.create()
    segment = SegmentFactory.create()

    response = api.post(f"{BASE}/{segment.pk}/members", {"account_ids": [account.pk]})

    assert response.status_code == 409


def test_an_accounts_segments(api: ApiClient) -> None:
    account = AccountFactory.create()
    current = SegmentFactory.create(name="今", kind="static", conditions={})
    former = SegmentFactory.create(name="前", kind="static", conditions={})
    services.add_members(None, former, [account.pk])
    services.remove_members(None, former, [account.pk])
    services.add_members(None, current, [account.pk])

    now = api.get(f"/api/v1/accounts/{account.pk}/segments").json()
    everything = api.get(f"/api/v1/accounts/{account.pk}/segments", include_past="true").json()
    missing = api.get("/api/v1/accounts/999999/segments")

    assert [row["segment"]["name"] for row in now["results"]] == ["今"]
    assert [row["segment"]["name"] for row in everything["results"]] == ["今", "前"]
    assert missing.status_code == 404


def test_the_schema_documents_the_segment_operations(api: ApiClient) -> None:
    schema = api.get("/api/v1/openapi.json").json()

    operations = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert {
        "list_segments",
        "create_segment",
        "get_segment",
        "update_segment",
        "delete_segment",
        "recompute_segment",
        "list_segment_members",
        "add_segment_members",
        "remove_segment_member",
        "list_account_segments",
    } <= operations


def test_a_day_out_of_range_is_a_422(api: ApiClient) -> None:
    segment = SegmentFactory.create()

    response = api.get(f"{BASE}/{segment.pk}/members", as_of="9999-12-31")

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["as_of"]
