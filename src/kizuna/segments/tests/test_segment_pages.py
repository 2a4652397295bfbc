"""The segment pages: everyone reads, managers and admins define segments and pick
members; the definition reads in words; a bad tree is refused on the form with where."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.models import Segment, SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_accounts() -> Segment:
    segment = SegmentFactory.create(
        name="大口顧客",
        conditions={"and": [employees_at_least(100), {"not": {"or": []}}]},
    )
    AccountFactory.create(name="株式会社オオキ", employees=500)
    AccountFactory.create(name="株式会社チイサ", employees=5)
    services.recompute(segment)
    return segment


def test_the_list_shows_members_and_errors_to_everyone(viewer_client: Client, big_accounts) -> None:
    SegmentFactory.create(name="壊れた", last_error="Invalid conditions at and[0]: nope")

    response = viewer_client.get(reverse("segments:list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "大口顧客" in html
    assert "Invalid conditions at and[0]: nope" in html
    assert 'href="/segments/"' in html  # in the sidebar
    assert reverse("segments:new") not in html


def test_the_detail_describes_the_conditions_and_lists_members(
    viewer_client: Client, big_accounts
) -> None:
    response = viewer_client.get(reverse("segments:detail", args=[big_accounts.pk]))

    html = response.content.decode()
    assert "Employees is at least 100" in html
    assert "All of:" in html
    assert "株式会社オオキ" in html
    assert "株式会社チイサ" not in html
    assert reverse("segments:edit", args=[big_accounts.pk]) not in html


def test_the_detail_page_costs_a_fixed_number_of_queries(
    viewer_client: Client, django_assert_num_queries
) -> None:
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    AccountFactory.create_batch(30, employees=500)
    services.recompute(segment)
    # session, user, segment, member count, member page, entries and exits per day (2),
    # recent changes, segments referring to it
    with django_assert_num_queries(9):
        response = viewer_client.get(reverse("segments:detail", args=[segment.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["new", "edit", "delete", "recalculate", "member_import"])
def test_viewers_and_csms_cannot_change_segments(
    viewer_client: Client, csm_client: Client, big_accounts, name: str
) -> None:
    url = reverse(f"segments:{name}", args=[] if name == "new" else [big_accounts.pk])
    for client in (viewer_client, csm_client):
        assert client.post(url, {"name": "x"}).status_code == 403


def test_a_manager_creates_a_dynamic_segment_and_its_members_are_computed(
    manager_client: Client, django_capture_on_commit_callbacks
) -> None:
    big = AccountFactory.create(employees=500)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("segments:new"),
            {
                "name": "大口顧客",
                "kind": "dynamic",
                "description": "",
                "conditions": json.dumps(employees_at_least(100)),
                "is_active": "on",
            },
        )

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == segment.get_absolute_url()
    assert list(
        SegmentMembership.objects.filter(segment=segment).values_list("account_id", flat=True)
    ) == [big.pk]


def test_an_invalid_tree_is_refused_on_the_form_with_where(manager_client: Client) -> None:
    tree = {"and": [{**employees_at_least(1), "op": "contains"}]}

    response = manager_client.post(
        reverse("segments:new"),
        {"name": "大口顧客", "kind": "dynamic", "conditions": json.dumps(tree), "is_active": "on"},
    )

    assert response.status_code == 400
    assert "at and[0].op:" in response.content.decode()
    assert not Segment.objects.exists()


def test_a_circle_is_refused_on_the_form(manager_client: Client) -> None:
    first = services.create_segment(None, name="A", conditions=employees_at_least(1))
    second = services.create_segment(
        None,
        name="B",
        conditions={"metric": "segment.member", "params": {"segment": first.pk}, "op": "is_true"},
    )
    loop = {"metric": "segment.member", "params": {"segment": second.pk}, "op": "is_true"}

    response = manager_client.post(
        reverse("segments:edit", args=[first.pk]),
        {"name": "A", "conditions": json.dumps(loop), "is_active": "on"},
    )

    assert response.status_code == 400
    assert "«A» → «B» → «A»" in response.content.decode()
    first.refresh_from_db()
    assert first.conditions == employees_at_least(1)


def test_recalculate_now(manager_client: Client) -> None:
    segment = SegmentFactory.create(conditions=employees_at_least(100))
    AccountFactory.create(employees=500)

    response = manager_client.post(reverse("segments:recalculate", args=[segment.pk]))

    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.member_count == 1


def test_a_manager_picks_and_removes_members_of_a_static_segment(manager_client: Client) -> None:
    segment = SegmentFactory.create(kind="static", conditions={})
    account = AccountFactory.create(name="株式会社サクラ", name_kana="サクラ")

    found = manager_client.get(reverse("segments:candidates", args=[segment.pk]), {"q": "さくら"})
    manager_client.post(reverse("segments:member_add", args=[segment.pk]), {"account": account.pk})
    again = manager_client.get(reverse("segments:candidates", args=[segment.pk]), {"q": "さくら"})

    assert "株式会社サクラ" in found.content.decode()
    assert "株式会社サクラ" not in again.content.decode()
    assert SegmentMembership.objects.filter(exited_at__isnull=True).count() == 1

    manager_client.post(reverse("segments:member_remove", args=[segment.pk, account.pk]))

    assert not SegmentMembership.objects.filter(exited_at__isnull=True).exists()


def test_importing_pasted_ids(manager_client: Client) -> None:
    segment = SegmentFactory.create(kind="static", conditions={})
    AccountFactory.create(external_id="SF-1")

    response = manager_client.post(
        reverse("segments:member_import", args=[segment.pk]), {"ids": "SF-1"}
    )

    assert response.status_code == 302
    assert SegmentMembership.objects.count() == 1


def test_an_import_with_unknown_ids_shows_them_and_imports_nothing(
    manager_client: Client,
) -> None:
    segment = SegmentFactory.create(kind="static", conditions={})
    AccountFactory.create(external_id="SF-1")

    response = manager_client.post(
        reverse("segments:member_import", args=[segment.pk]), {"ids": "SF-1\nSF-404"}
    )

    assert response.status_code == 400
    assert "SF-404" in response.content.decode()
    assert not SegmentMembership.objects.exists()


def test_members_export_as_csv(viewer_client: Client, big_accounts) -> None:
    response = viewer_client.get(reverse("segments:export", args=[big_accounts.pk]))

    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    lines = body.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("account_id,external_id,name")
    assert len(lines) == 2
    assert "株式会社オオキ" in lines[1]


def test_the_account_panel_shows_current_and_past_segments(viewer_client: Client) -> None:
    account = AccountFactory.create()
    current = SegmentFactory.create(name="今のセグメント", kind="static", conditions={})
    former = SegmentFactory.create(name="前のセグメント", kind="static", conditions={})
    services.add_members(None, current, [account.pk])
    services.add_members(None, former, [account.pk])
    services.remove_members(None, former, [account.pk])

    response = viewer_client.get(reverse("segments:account_panel", args=[account.pk]))

    html = response.content.decode()
    assert 'id="segments-panel"' in html
    current_part, _sep, past_part = html.partition('id="segments-past"')
    assert "今のセグメント" in current_part
    assert "前のセグメント" in past_part
    assert "1 past membership" in html


def test_the_account_page_loads_the_panel(viewer_client: Client) -> None:
    account = AccountFactory.create()

    response = viewer_client.get(reverse("customers:account", args=[account.pk]))

    assert reverse("segments:account_panel", args=[account.pk]) in response.content.decode()


def test_entries_and_exits_are_on_the_account_timeline(viewer_client: Client) -> None:
    account = AccountFactory.create()
    segment = SegmentFactory.create(name="解約リスク", kind="static", conditions={})
    services.add_members(None, segment, [account.pk])
    SegmentMembership.objects.update(entered_at=timezone.now() - datetime.timedelta(days=2))
    services.remove_members(None, segment, [account.pk])

    response = viewer_client.get(
        reverse("customers:account_timeline", args=[account.pk]), {"source": "segments"}
    )

    html = response.content.decode()
    assert html.count("解約リスク") == 2
    assert html.index("Left segment") < html.index("Entered segment")
