"""A static segment's members are picked by hand or imported from a list of CRM ids; a
list with an unknown id changes nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from kizuna.core.models import DirtyAccount
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory
from kizuna.segments import services
from kizuna.segments.choices import MembershipSource
from kizuna.segments.models import Segment, SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory, employees_at_least

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment() -> Segment:
    return SegmentFactory.create(kind="static", conditions={})


def _members(segment: Segment) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "account_id", flat=True
        )
    )


def test_accounts_added_by_hand_are_members_with_who_added_them(segment) -> None:
    manager = UserFactory.create(role="manager")
    first, second = AccountFactory.create_batch(2)

    change = services.add_members(manager, segment, [first.pk, second.pk, first.pk])

    assert change.added == 2
    assert _members(segment) == {first.pk, second.pk}
    stay = SegmentMembership.objects.get(segment=segment, account=first)
    assert stay.source == MembershipSource.MANUAL
    assert stay.added_by == manager
    segment.refresh_from_db()
    assert segment.member_count == 2


def test_adding_a_member_again_changes_nothing(segment) -> None:
    account = AccountFactory.create()
    services.add_members(None, segment, [account.pk])

    change = services.add_members(None, segment, [account.pk])

    assert (change.added, change.already) == (0, 1)
    assert SegmentMembership.objects.count() == 1


def test_an_unknown_account_id_adds_nobody(segment) -> None:
    account = AccountFactory.create()

    with pytest.raises(services.InvalidSegment) as refused:
        services.add_members(None, segment, [account.pk, 987654])

    assert "987654" in refused.value.message
    assert not SegmentMembership.objects.exists()


def test_removing_closes_the_stay(segment) -> None:
    account = AccountFactory.create()
    services.add_members(None, segment, [account.pk])

    change = services.remove_members(None, segment, [account.pk])

    assert change.removed == 1
    [stay] = SegmentMembership.objects.all()
    assert stay.exited_at is not None
    segment.refresh_from_db()
    assert segment.member_count == 0


def test_hand_made_changes_mark_the_accounts_for_recomputing(segment) -> None:
    account = AccountFactory.create()
    DirtyAccount.objects.all().delete()

    services.add_members(None, segment, [account.pk])

    assert DirtyAccount.objects.filter(account_id=account.pk).exists()


def test_members_of_a_dynamic_segment_cannot_be_picked() -> None:
    dynamic = SegmentFactory.create(conditions=employees_at_least(1))
    account = AccountFactory.create()

    with pytest.raises(services.InvalidSegment) as refused:
        services.add_members(None, dynamic, [account.pk])

    assert refused.value.code == "conflict"


def test_a_list_of_crm_ids_is_imported(segment) -> None:
    first = AccountFactory.create(external_id="SF-1")
    second = AccountFactory.create(external_id="SF-2")

    change = services.import_members(None, segment, services.parse_id_list("SF-1\nSF-2, SF-1\n"))

    assert change.added == 2
    assert _members(segment) == {first.pk, second.pk}
    assert set(SegmentMembership.objects.values_list("source", flat=True)) == {"import"}


def test_a_list_with_unknown_ids_imports_nothing_and_names_them(segment) -> None:
    AccountFactory.create(external_id="SF-1")

    with pytest.raises(services.InvalidSegment) as refused:
        services.import_members(None, segment, ["SF-1", "SF-404", "SF-405"])

    assert "SF-404, SF-405" in refused.value.message
    assert not SegmentMembership.objects.exists()


def test_replacing_removes_the_members_not_in_the_list(segment) -> None:
    kept = AccountFactory.create(external_id="SF-1")
    dropped = AccountFactory.create(external_id="SF-2")
    services.add_members(None, segment, [kept.pk, dropped.pk])

    change = services.import_members(None, segment, ["SF-1"], replace=True)

    assert (change.added, change.already, change.removed) == (0, 1, 1)
    assert _members(segment) == {kept.pk}


def test_a_csv_file_with_an_external_id_column_is_read() -> None:
    content = "name,external_id\n株式会社A,SF-1\n株式会社B,SF-2\n".encode()

    assert services.read_id_file(content) == ["SF-1", "SF-2"]


def test_a_shift_jis_csv_without_a_header_is_read_from_its_first_column() -> None:
    content = "SF-1\r\nSF-2\r\n株式会社\r\n".encode("cp932")

    assert services.read_id_file(content) == ["SF-1", "SF-2", "株式会社"]


def test_an_excel_file_is_read() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["CRM ID", "name"])
    sheet.append(["SF-1", "A"])
    sheet.append([12345, "B"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    assert services.read_id_file(buffer.getvalue()) == ["SF-1", "12345"]


def test_an_unreadable_file_is_refused() -> None:
    with pytest.raises(services.InvalidSegment) as refused:
        services.read_id_file(b"")

    assert refused.value.field == "file"
