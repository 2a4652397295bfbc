"""Opens and clicks: the pixel and tracked links count on the message and leave events; a
link this server did not sign records nothing, and a click only ever redirects to a link the
email contained."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import tracking
from kizuna.engagement.models import EmailEvent, EmailMessage
from kizuna.engagement.tests.factories import sent_email
from kizuna.engagement.tracking_links import click_url, open_url

pytestmark = pytest.mark.django_db

LINKS = [
    {"url": "https://example.jp/guide", "text": "ガイド"},
    {"url": "javascript:alert(1)", "text": "bad"},
]


def _path(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def message() -> EmailMessage:
    return sent_email(ContactFactory.create(), links=LINKS)


def test_the_first_open_sets_the_time_and_every_open_counts(message):
    tracking.record_open(message.token)
    first = EmailMessage.objects.get(pk=message.pk).opened_at
    tracking.record_open(message.token)
    message.refresh_from_db()
    assert message.opened_at == first is not None
    assert message.open_count == 2
    assert EmailEvent.objects.filter(message=message, kind="opened").count() == 2


def test_an_open_takes_three_statements(message):
    with CaptureQueriesContext(connection) as queries:
        tracking.record_open(message.token)
    statements = [
        q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) == 3


def test_an_unsent_message_is_not_counted():
    message = sent_email(ContactFactory.create(), status="queued", sent_at=None)
    assert tracking.record_open(message.token) is None
    assert EmailMessage.objects.get(pk=message.pk).open_count == 0


def test_the_pixel_is_a_transparent_gif_that_is_never_cached(client, message):
    response = client.get(_path(open_url(message.token)))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert len(response.content) == 43
    assert "no-store" in response["Cache-Control"]
    assert EmailMessage.objects.get(pk=message.pk).open_count == 1


def test_a_pixel_with_a_wrong_signature_is_a_gif_but_records_nothing(client, message):
    response = client.get(f"/e/o/{message.token}/AAAAAAAAAAAAAAAA.gif")
    assert response.status_code == 200
    assert response.content.startswith(b"GIF89a")
    assert EmailMessage.objects.get(pk=message.pk).open_count == 0
    assert not EmailEvent.objects.exists()


def test_a_click_redirects_to_the_link_and_is_recorded(client, message):
    response = client.get(_path(click_url(message.token, 0)))
    assert response.status_code == 302
    assert response["Location"] == "https://example.jp/guide"
    message.refresh_from_db()
    assert message.clicked_at is not None
    assert message.click_count == 1
    event = EmailEvent.objects.get(message=message, kind="clicked")
    assert (event.url, event.link_index) == ("https://example.jp/guide", 0)


def test_a_click_counts_as_an_open_when_the_email_was_not_opened(message):
    tracking.record_click(message.token, 0)
    message.refresh_from_db()
    assert message.opened_at is not None
    assert message.open_count == 1
    assert EmailEvent.objects.filter(message=message, kind="opened").count() == 1


def test_a_click_after_an_open_does_not_count_another_open(message):
    tracking.record_open(message.token)
    tracking.record_click(message.token, 0)
    tracking.record_click(message.token, 0)
    message.refresh_from_db()
    assert (message.open_count, message.click_count) == (1, 2)


def test_a_click_with_a_wrong_signature_is_not_found_and_records_nothing(client, message):
    response = client.get(f"/e/c/{message.token}/0/AAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert "Location" not in response
    assert EmailMessage.objects.get(pk=message.pk).click_count == 0


def test_a_signed_link_index_the_email_does_not_have_is_not_found(client, message):
    response = client.get(_path(click_url(message.token, 7)))
    assert response.status_code == 404
    assert EmailMessage.objects.get(pk=message.pk).click_count == 0


def test_a_link_that_is_not_a_web_address_is_never_redirected_to(client, message):
    response = client.get(_path(click_url(message.token, 1)))
    assert response.status_code == 404
    assert "Location" not in response


def test_the_not_found_page_shows_nothing_of_kizuna(client, message):
    response = client.get(f"/e/c/{message.token}/0/AAAAAAAAAAAAAAAA")
    body = response.content.decode()
    assert "Kizuna" not in body
    assert "/accounts" not in body
