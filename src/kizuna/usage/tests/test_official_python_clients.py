"""Segment's and RudderStack's official Python libraries, unchanged, pointed at Kizuna."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator

import pytest
from rudderstack.analytics import Client as RudderClient
from rudderstack.analytics import request as rudder_request
from segment.analytics import Client as SegmentClient
from segment.analytics import request as segment_request
from segment.analytics.request import APIError

from kizuna.customers.models import Account, Contact
from kizuna.usage.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_library_connections() -> Iterator[None]:
    # The libraries keep a module-wide keep-alive HTTP session; closing it after each test
    # lets the live server's request threads end with the test.
    yield
    segment_request._session.close()
    rudder_request._session.close()


def _calls(client, user_id: str, group_id: str) -> None:
    client.identify(user_id, {"name": "山田 太郎", "email": "taro@example.jp"})
    client.group(user_id, group_id, {"name": "株式会社サクラ物流", "employees": 120})
    client.track(user_id, "Report Exported", {"format": "xlsx"}, context={"groupId": group_id})
    client.page(user_id, name="Dashboard", properties={"path": "/dashboard"})


def _assert_delivered(user_id: str, group_id: str) -> None:
    contact = Contact.objects.get(product_user_id=user_id)
    account = Account.objects.get(external_id=group_id)
    assert (contact.name, contact.email, contact.account_id) == (
        "山田 太郎",
        "taro@example.jp",
        account.pk,
    )
    assert (account.name, account.employees) == ("株式会社サクラ物流", 120)
    usage = Event.objects.filter(user_id=user_id, type__in=["track", "page"]).order_by("type")
    assert [(e.type, e.event, e.contact_id, e.account_id) for e in usage] == [
        ("page", "Dashboard", contact.pk, account.pk),
        ("track", "Report Exported", contact.pk, account.pk),
    ]


@pytest.mark.parametrize("gzip", [False, True])
def test_segment_python_library_delivers(live_server, write_key, gzip):
    user_id, group_id = f"seg-{uuid.uuid4().hex[:8]}", f"SF-{uuid.uuid4().hex[:6]}"
    client = SegmentClient(write_key, host=live_server.url, sync_mode=True, gzip=gzip)

    _calls(client, user_id, group_id)

    _assert_delivered(user_id, group_id)


def test_segment_python_library_batches_in_the_background(live_server, write_key):
    user_id, group_id = f"seg-{uuid.uuid4().hex[:8]}", f"SF-{uuid.uuid4().hex[:6]}"
    client = SegmentClient(write_key, host=live_server.url, upload_interval=0.05)

    _calls(client, user_id, group_id)
    client.flush()
    client.join()

    _assert_delivered(user_id, group_id)


def test_segment_python_library_is_told_about_a_wrong_key(live_server, write_key):
    client = SegmentClient("wrong-key", host=live_server.url, sync_mode=True)

    with pytest.raises(APIError) as raised:
        client.track("u", "Clicked")

    assert (raised.value.status, raised.value.code) == (401, "invalid_write_key")


def test_segment_explicit_timestamp_is_kept(live_server, write_key):
    client = SegmentClient(write_key, host=live_server.url, sync_mode=True)
    moment = datetime.datetime(2025, 6, 30, 9, 15, tzinfo=datetime.UTC)

    client.track("u", "Imported", timestamp=moment)

    assert Event.objects.get().timestamp == moment


def test_rudderstack_python_library_delivers(live_server, write_key):
    user_id, group_id = f"rud-{uuid.uuid4().hex[:8]}", f"SF-{uuid.uuid4().hex[:6]}"
    client = RudderClient(write_key, host=live_server.url, sync_mode=True)  # gzip by default

    _calls(client, user_id, group_id)

    _assert_delivered(user_id, group_id)
