"""The preference centre: in the contact's language, one switch per marketing category,
unsubscribe from everything and back, and the RFC 8058 one-click unsubscribe."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement.choices import CategoryKind
from kizuna.engagement.models import EmailEvent, EmailMessage, Preference, Suppression
from kizuna.engagement.tests.factories import CategoryFactory, EmailTemplateFactory, sent_email
from kizuna.engagement.tracking_links import unsubscribe_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def webinars():
    return CategoryFactory.create(
        key="webinars", name_ja="ウェビナーのご案内", name_en="Webinar invitations", position=1
    )


@pytest.fixture
def tips():
    return CategoryFactory.create(key="tips", name_ja="活用のヒント", name_en="Tips", position=2)


@pytest.fixture
def login_mail():
    return CategoryFactory.create(
        key="login",
        name_ja="ログイン情報",
        name_en="Login details",
        kind=CategoryKind.TRANSACTIONAL,
    )


def _message(category, language: str = "", **contact) -> EmailMessage:
    person = ContactFactory.create(language=language, email="misaki@example.jp", **contact)
    return sent_email(person, template=EmailTemplateFactory.create(category=category))


def _path(message: EmailMessage) -> str:
    return urlsplit(unsubscribe_url(message.token)).path


def test_the_page_is_in_japanese_for_a_contact_without_a_language(client, webinars, tips):
    response = client.get(_path(_message(webinars)))
    body = response.content.decode()
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja">' in body
    assert "ウェビナーのご案内" in body
    assert "Webinar invitations" not in body


def test_the_page_is_in_english_for_an_english_contact(client, webinars, tips):
    response = client.get(_path(_message(webinars, "en")))
    body = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "Webinar invitations" in body
    assert "Unsubscribe from everything" in body


def test_the_language_can_be_switched(client, webinars):
    body = client.get(_path(_message(webinars)) + "?lang=en").content.decode()
    assert "Webinar invitations" in body


def test_the_page_names_the_sender_and_says_transactional_mail_still_arrives(client, webinars):
    message = _message(webinars, "en")
    body = client.get(_path(message)).content.decode()
    assert message.sender.organisation in body
    assert "login details" in body


def test_transactional_categories_are_not_offered(client, webinars, login_mail):
    body = client.get(_path(_message(webinars, "en"))).content.decode()
    assert "Login details" not in body


def test_a_wrong_signature_is_not_found(client, webinars):
    message = _message(webinars)
    response = client.get(f"/e/u/{message.token}/AAAAAAAAAAAAAAAA/")
    assert response.status_code == 404


def test_unticking_a_category_unsubscribes_from_it(client, webinars, tips):
    message = _message(webinars, "en")
    response = client.post(_path(message), {"action": "save", "category": [str(tips.pk)]})
    assert response.status_code == 302
    assert "done=saved" in response["Location"]
    assert Preference.objects.get(contact=message.contact, category=webinars).subscribed is False
    assert not Preference.objects.filter(category=tips).exists()
    events = EmailEvent.objects.filter(message=message, kind="unsubscribed")
    assert [
        e.detail["category"] for e in events if e.detail["category"] in ("webinars", "tips")
    ] == ["webinars"]
    assert EmailMessage.objects.get(pk=message.pk).unsubscribed_at is not None


def test_ticking_a_category_again_subscribes_to_it(client, webinars):
    message = _message(webinars)
    client.post(_path(message), {"action": "save"})
    client.post(_path(message), {"action": "save", "category": [str(webinars.pk)]})
    assert Preference.objects.get(category=webinars).subscribed is True


def test_the_saved_page_confirms_and_shows_the_choice(client, webinars):
    message = _message(webinars, "en")
    client.post(_path(message), {"action": "save"})
    body = client.get(_path(message) + "?lang=en&done=saved").content.decode()
    assert "Your preferences are saved." in body
    assert 'id="category-webinars"' in body
    assert f'value="{webinars.pk}" id="category-webinars" checked' not in body


def test_unsubscribing_from_everything_suppresses_the_address(client, webinars):
    message = _message(webinars)
    client.post(_path(message), {"action": "unsubscribe_all"})
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("misaki@example.jp", "unsubscribed")
    assert suppression.message_id == message.pk


def test_the_contact_can_resubscribe_after_unsubscribing_from_everything(client, webinars):
    message = _message(webinars)
    client.post(_path(message), {"action": "unsubscribe_all"})
    response = client.post(_path(message), {"action": "resubscribe"})
    assert "done=resubscribed" in response["Location"]
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("reason", ["hard_bounce", "complaint", "manual"])
def test_resubscribing_never_removes_a_suppression_the_contact_did_not_make(
    client, webinars, reason
):
    message = _message(webinars)
    Suppression.objects.create(email="misaki@example.jp", reason=reason)
    response = client.post(_path(message), {"action": "resubscribe"})
    assert "done=blocked" in response["Location"]
    assert Suppression.objects.get().reason == reason


def test_a_bounced_address_is_told_to_contact_the_sender(client, webinars):
    message = _message(webinars, "en")
    Suppression.objects.create(email="misaki@example.jp", reason="hard_bounce")
    body = client.get(_path(message)).content.decode()
    assert "Email to this address is stopped" in body
    assert message.sender.inquiries in body
    assert 'id="preferences-form"' not in body


def test_the_form_is_protected_against_cross_site_posts(webinars):
    message = _message(webinars)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_path(message), {"action": "unsubscribe_all"})
    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_one_click_unsubscribes_from_the_messages_category_without_a_csrf_token(webinars, tips):
    message = _message(webinars)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        _path(message),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Preference.objects.get(contact=message.contact, category=webinars).subscribed is False
    assert not Preference.objects.filter(category=tips).exists()
    assert EmailEvent.objects.get(message=message, kind="unsubscribed").detail["source"] == (
        "one_click"
    )


def test_one_click_as_multipart_form_data_works_too(client, webinars):
    message = _message(webinars)
    response = client.post(_path(message), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Preference.objects.get(category=webinars).subscribed is False


def test_one_click_with_a_wrong_signature_changes_nothing(client, webinars):
    message = _message(webinars)
    response = client.post(
        f"/e/u/{message.token}/AAAAAAAAAAAAAAAA/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    assert not Preference.objects.exists()


def test_one_click_on_a_transactional_message_changes_nothing(client, login_mail):
    message = _message(login_mail)
    response = client.post(_path(message), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert not Preference.objects.exists()
    assert not Suppression.objects.exists()
