"""The Segment-compatible tracking endpoints: what they accept, how they answer bad input,
and that nothing is ever stored twice."""

from __future__ import annotations

import datetime
import gzip
import json
import uuid

import pytest
from django.test import Client

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage import services
from kizuna.usage.models import Event
from kizuna.usage.segment import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES
from kizuna.usage.tests.helpers import post, track

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


def test_track_is_stored_for_the_users_contact_and_the_context_account(client, write_key):
    home = AccountFactory.create(external_id="SF-HOME")
    workspace = AccountFactory.create(external_id="SF-WORKSPACE")
    contact = ContactFactory.create(account=home, product_user_id="user-1")

    response = post(
        client,
        "/v1/track",
        track("user-1", "Report Exported", context={"groupId": "SF-WORKSPACE"}),
        key=write_key,
    )

    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.type, event.event, event.contact_id, event.account_id) == (
        "track",
        "Report Exported",
        contact.pk,
        workspace.pk,
    )


def test_track_without_group_belongs_to_the_contacts_account(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1")

    post(client, "/v1/track", track("user-1", "Report Exported"), key=write_key)

    assert Event.objects.get().account_id == contact.account_id


def test_unknown_group_falls_back_to_the_contacts_account(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1")

    post(
        client,
        "/v1/track",
        track("user-1", "Report Exported", context={"groupId": "nobody"}),
        key=write_key,
    )

    assert Event.objects.get().account_id == contact.account_id


def test_write_key_in_the_body_authenticates(client, write_key):
    response = post(client, "/v1/track", {**track("user-1", "Clicked"), "writeKey": write_key})

    assert response.status_code == 200
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "message", "stored_type"),
    [
        ("/v1/t", {"event": "Clicked"}, "track"),
        ("/v1/p", {"name": "Home"}, "page"),
        ("/v1/s", {"name": "Home"}, "screen"),
        ("/v1/i", {"traits": {"name": "山田"}}, "identify"),
        ("/v1/g", {"groupId": "G-1"}, "group"),
        ("/v1/a", {"previousId": "anon-1"}, "alias"),
    ],
)
def test_one_letter_paths_of_analytics_js(client, write_key, path, message, stored_type):
    payload = {"userId": "user-1", "messageId": str(uuid.uuid4()), "writeKey": write_key}

    response = post(client, path, {**payload, **message}, content_type="text/plain")

    assert response.status_code == 200
    assert Event.objects.get().type == stored_type


def test_analytics_js_batch_path_with_text_plain(client, write_key):
    body = {"writeKey": write_key, "batch": [track("u", "A"), track("u", "B")], "sentAt": None}

    response = post(client, "/v1/b", body, content_type="text/plain")

    assert response.json()["stored"] == 2


def test_trailing_slash_and_import_path(client, write_key):
    response = post(client, "/v1/import/", {"batch": [track("u", "A")]}, key=write_key)

    assert response.status_code == 200


def test_gzip_body(client, write_key):
    response = post(client, "/v1/batch", {"batch": [track("u", "A")]}, key=write_key, compress=True)

    assert response.status_code == 200
    assert Event.objects.count() == 1


def test_typed_endpoint_ignores_the_type_in_the_body(client, write_key):
    post(client, "/v1/page", {**track("u", "A"), "type": "track", "name": "Home"}, key=write_key)

    assert Event.objects.get().type == "page"


def test_bad_gzip_is_a_400_and_stores_nothing(client, write_key):
    response = post(
        client,
        "/v1/batch",
        None,
        raw=b"not gzip at all",
        key=write_key,
        HTTP_CONTENT_ENCODING="gzip",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_gzip"
    assert not Event.objects.exists()


def test_body_that_is_not_json_is_a_400(client, write_key):
    response = post(client, "/v1/batch", None, raw=b"userId=1&event=x", key=write_key)

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "code": "invalid_json",
        "message": "The request body is not valid JSON.",
    }


def test_nan_is_not_json(client, write_key):
    response = post(
        client, "/v1/track", None, raw=b'{"userId": "u", "event": "x", "n": NaN}', key=write_key
    )

    assert response.status_code == 400


def test_numbers_too_large_for_json_storage_are_a_400(client, write_key):
    response = post(
        client, "/v1/track", None, raw=b'{"userId": "u", "event": "x", "n": 1e999}', key=write_key
    )

    assert response.status_code == 400
    assert not Event.objects.exists()


def test_absurdly_nested_body_is_a_400(client, write_key):
    nested = b"[" * 100_000 + b"]" * 100_000
    raw = b'{"batch": [{"userId": "u", "event": "x", "properties": {"p": ' + nested + b"}}]}"

    response = post(client, "/v1/batch", None, raw=raw, key=write_key)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")


def test_empty_body_is_a_400(client, write_key):
    response = post(client, "/v1/track", None, raw=b"", key=write_key)

    assert response.json()["code"] == "empty_body"


def test_batch_without_a_batch_list_is_a_400(client, write_key):
    response = post(client, "/v1/batch", {"events": []}, key=write_key)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_batch")


def test_unsupported_encoding_is_a_415(client, write_key):
    response = post(client, "/v1/track", track("u", "A"), key=write_key, HTTP_CONTENT_ENCODING="br")

    assert response.status_code == 415


def test_missing_write_key_is_a_401(client, write_key):
    response = post(client, "/v1/track", track("u", "A"))

    assert (response.status_code, response.json()["code"]) == (401, "missing_write_key")


def test_wrong_write_key_is_a_401(client, write_key):
    response = post(client, "/v1/track", track("u", "A"), key=write_key + "x")

    assert (response.status_code, response.json()["code"]) == (401, "invalid_write_key")
    assert not Event.objects.exists()


def test_disabled_source_is_a_403(client):
    issued = services.create_source(None, "Old app")
    services.set_enabled(None, issued.source, False)

    response = post(client, "/v1/track", track("u", "A"), key=issued.write_key)

    assert response.status_code == 403
    assert not Event.objects.exists()


def test_unknown_endpoint_is_a_404_in_json(client, write_key):
    response = post(client, "/v1/purchase", track("u", "A"), key=write_key)

    assert (response.status_code, response.json()["code"]) == (404, "unknown_endpoint")


def test_get_is_a_405(client):
    response = client.get("/v1/track")

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


def test_partial_batch_stores_the_good_messages_and_lists_the_bad(client, write_key):
    batch = [
        track("u", "Good 1"),
        {"type": "purchase", "userId": "u", "messageId": "m-unknown"},
        track("u", "Good 2"),
        {"type": "track", "userId": "u", "messageId": "m-no-event"},
        {"type": "track", "event": "No one", "messageId": "m-no-id"},
    ]

    response = post(client, "/v1/batch", {"batch": batch}, key=write_key)

    body = response.json()
    assert response.status_code == 200
    assert (body["received"], body["stored"]) == (5, 2)
    assert [(item["index"], item["code"]) for item in body["rejected"]] == [
        (1, "unknown_type"),
        (3, "missing_event"),
        (4, "missing_id"),
    ]
    assert set(Event.objects.values_list("event", flat=True)) == {"Good 1", "Good 2"}


def test_batch_of_only_bad_messages_is_a_400(client, write_key):
    response = post(client, "/v1/batch", {"batch": [{"type": "track"}]}, key=write_key)

    assert response.status_code == 400
    assert response.json()["rejected"][0]["code"] == "missing_id"


def test_invalid_single_call_is_a_400_with_its_reason(client, write_key):
    response = post(client, "/v1/track", {"userId": "u", "messageId": "m"}, key=write_key)

    assert response.status_code == 400
    assert response.json()["message"] == "A track call needs an event name."


def test_retried_batch_is_stored_once(client, write_key):
    body = {"batch": [track("u", "A"), track("u", "B")]}
    post(client, "/v1/batch", body, key=write_key)

    response = post(client, "/v1/batch", body, key=write_key)

    assert (response.json()["stored"], response.json()["duplicates"]) == (0, 2)
    assert Event.objects.count() == 2


def test_same_message_twice_in_one_batch_is_stored_once(client, write_key):
    message = track("u", "A")

    response = post(client, "/v1/batch", {"batch": [message, message]}, key=write_key)

    assert response.json()["stored"] == 1
    assert Event.objects.count() == 1


def test_single_call_over_32_kb_is_a_413(client, write_key):
    big = track("u", "A", properties={"text": "x" * MAX_MESSAGE_BYTES})

    response = post(client, "/v1/track", big, key=write_key)

    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
    assert not Event.objects.exists()


def test_batch_over_500_kb_is_a_413(client, write_key):
    batch = [track("u", "A", properties={"text": "x" * 20_000}) for _ in range(30)]

    response = post(client, "/v1/batch", {"batch": batch}, key=write_key)

    assert response.status_code == 413
    assert not Event.objects.exists()


def test_gzip_that_inflates_past_the_limit_is_a_413(client, write_key):
    bomb = gzip.compress(b'{"batch": ["' + b"0" * (MAX_BATCH_BYTES * 2) + b'"]}')

    response = post(
        client, "/v1/batch", None, raw=bomb, key=write_key, HTTP_CONTENT_ENCODING="gzip"
    )

    assert response.status_code == 413


def test_message_over_32_kb_in_a_batch_is_rejected_alone(client, write_key):
    batch = [track("u", "Small"), track("u", "Big", properties={"text": "あ" * 12_000})]

    response = post(client, "/v1/batch", {"batch": batch}, key=write_key)

    assert response.json()["rejected"][0]["code"] == "message_too_large"
    assert list(Event.objects.values_list("event", flat=True)) == ["Small"]


def test_null_fields_are_the_same_as_missing(client, write_key):
    message = {
        "type": "track",
        "event": "Clicked",
        "userId": None,
        "anonymousId": "anon-1",
        "properties": None,
        "context": None,
        "timestamp": None,
        "messageId": "m-1",
    }

    response = post(client, "/v1/track", message, key=write_key)

    assert response.status_code == 200
    assert Event.objects.get().anonymous_id == "anon-1"


def test_numeric_ids_are_kept_as_text(client, write_key):
    ContactFactory.create(product_user_id="42")

    post(client, "/v1/track", {"event": "A", "userId": 42, "messageId": 7}, key=write_key)

    event = Event.objects.get()
    assert (event.user_id, event.message_id, event.contact_id is not None) == ("42", "7", True)


def test_message_without_message_id_gets_one(client, write_key):
    post(client, "/v1/track", {"event": "A", "userId": "u"}, key=write_key)

    assert Event.objects.get().message_id.startswith("kizuna-")


def test_original_timestamp_is_the_event_time(client, write_key):
    post(
        client,
        "/v1/track",
        {**track("u", "A"), "originalTimestamp": "2025-03-01T10:00:00.000Z"},
        key=write_key,
    )

    event = Event.objects.get()
    assert event.timestamp == datetime.datetime(2025, 3, 1, 10, tzinfo=datetime.UTC)
    assert event.day == datetime.date(2025, 3, 1)  # 19:00 in Tokyo


def test_event_day_is_the_local_date(client, write_key):
    post(client, "/v1/track", track("u", "A", timestamp="2025-03-01T16:00:00Z"), key=write_key)

    assert Event.objects.get().day == datetime.date(2025, 3, 2)  # 01:00 in Tokyo


def test_clock_skew_of_the_sender_is_corrected(client, write_key):
    # The sender's clock is a day fast: it says it sent now + 1 day an event of 10 s before.
    sent = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    happened = sent - datetime.timedelta(seconds=10)

    post(
        client,
        "/v1/batch",
        {"batch": [track("u", "A", timestamp=happened.isoformat())], "sentAt": sent.isoformat()},
        key=write_key,
    )

    age = datetime.datetime.now(datetime.UTC) - Event.objects.get().timestamp
    assert datetime.timedelta(seconds=9) < age < datetime.timedelta(seconds=60)


def test_invalid_timestamp_is_rejected(client, write_key):
    response = post(client, "/v1/track", track("u", "A", timestamp="yesterday"), key=write_key)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_timestamp")


def test_page_details_come_from_properties_or_context(client, write_key):
    post(
        client,
        "/v1/page",
        {
            "userId": "u",
            "name": "Reports",
            "properties": {"title": "月次レポート"},
            "context": {"page": {"url": "https://app.example/reports?m=1", "path": "/reports"}},
        },
        key=write_key,
    )

    event = Event.objects.get()
    assert (event.event, event.page_url, event.page_path, event.page_title) == (
        "Reports",
        "https://app.example/reports?m=1",
        "/reports",
        "月次レポート",
    )


def test_context_is_trimmed(client, write_key):
    context = {"ip": "10.0.0.1", "traits": {"email": "a@example.jp"}, "custom": {"x": 1}}

    post(client, "/v1/track", track("u", "A", context=context), key=write_key)

    assert Event.objects.get().context == {"ip": "10.0.0.1"}


def test_nul_characters_and_lone_surrogates_are_replaced(client, write_key):
    raw = b'{"userId": "u", "event": "A\\u0000B", "properties": {"k": "\\ud800"}}'

    response = post(client, "/v1/track", None, raw=raw, key=write_key)

    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.event, event.properties) == ("A\ufffdB", {"k": "?"})


def test_japanese_text_is_kept(client, write_key):
    post(
        client, "/v1/track", track("u", "レポート出力", properties={"形式": "Excel"}), key=write_key
    )

    event = Event.objects.get()
    assert (event.event, event.properties) == ("レポート出力", {"形式": "Excel"})


def test_cors_preflight_allows_any_origin_without_credentials(client):
    response = client.options(
        "/v1/batch",
        HTTP_ORIGIN="https://app.customer.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, authorization",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://app.customer.example"
    assert response["Access-Control-Allow-Headers"] == "content-type, authorization"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_answers_carry_the_cors_origin(client, write_key):
    response = post(
        client, "/v1/track", track("u", "A"), key=write_key, HTTP_ORIGIN="https://app.example"
    )

    assert response["Access-Control-Allow-Origin"] == "https://app.example"


def test_errors_carry_segment_code_and_message(client):
    body = post(client, "/v1/track", track("u", "A"), key="nope").json()

    assert set(body) >= {"code", "message"}


def test_tracking_needs_no_csrf_token_or_session(write_key):
    client = Client(enforce_csrf_checks=True)

    response = post(client, "/v1/track", track("u", "A"), key=write_key)

    assert response.status_code == 200


def test_anonymous_calls_are_attributed_after_an_identify_links_them(client, write_key):
    contact = ContactFactory.create(product_user_id="user-1")
    identify = {"type": "identify", "userId": "user-1", "anonymousId": "anon-9", "traits": {}}
    post(client, "/v1/batch", {"batch": [identify]}, key=write_key)

    post(client, "/v1/track", {"anonymousId": "anon-9", "event": "Clicked"}, key=write_key)

    assert Event.objects.get(type="track").contact_id == contact.pk


def test_invalid_json_body_shape_for_single_call(client, write_key):
    response = post(client, "/v1/track", ["not", "an", "object"], key=write_key)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_message")


def test_response_lists_counts(client, write_key):
    response = post(client, "/v1/batch", {"batch": [track("u", "A")]}, key=write_key)

    assert json.loads(response.content) == {
        "success": True,
        "received": 1,
        "stored": 1,
        "duplicates": 0,
        "rejected": [],
    }
