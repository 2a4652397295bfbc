"""The template and sender pages: who may change what, errors shown at their place with the
input kept, preview with a real contact, test send, version history, pinned queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement.models import EmailTemplate, SenderIdentity
from kizuna.engagement.tests.factories import CategoryFactory, EmailTemplateFactory, SenderFactory

pytestmark = pytest.mark.django_db


def form_data(**changes: Any) -> dict[str, Any]:
    return {
        "key": "renewal-notice",
        "name": "更新のご案内",
        "category": CategoryFactory.create().pk,
        "content_type": "announcement",
        "team": "CS",
        "description": "",
        "subject_ja": "{{ account.name }} 様 更新のご案内",
        "html_ja": "<p>{{ contact.name|default:'ご担当者' }} 様</p>",
        "text_ja": "{{ contact.name|default:'ご担当者' }} 様",
        "subject_en": "",
        "html_en": "",
        "text_en": "",
        **changes,
    }


def test_viewers_cannot_create_or_edit_templates(viewer_client: Client) -> None:
    template = EmailTemplateFactory.create()
    assert viewer_client.get(reverse("engagement:template_new")).status_code == 403
    assert viewer_client.post(reverse("engagement:template_new"), form_data()).status_code == 403
    edit = reverse("engagement:template_edit", args=[template.pk])
    assert viewer_client.post(edit, form_data()).status_code == 403
    test_send = reverse("engagement:template_test_send", args=[template.pk])
    assert viewer_client.post(test_send, {}).status_code == 403
    assert not EmailTemplate.objects.filter(key="renewal-notice").exists()


def test_csms_cannot_change_senders(csm_client: Client) -> None:
    sender = SenderFactory.create()
    assert csm_client.get(reverse("engagement:sender_new")).status_code == 403
    assert (
        csm_client.post(reverse("engagement:sender_edit", args=[sender.pk]), {}).status_code == 403
    )


def test_a_csm_creates_a_template(csm_client: Client) -> None:
    response = csm_client.post(reverse("engagement:template_new"), form_data())
    template = EmailTemplate.objects.get(key="renewal-notice")
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:template", args=[template.pk])
    assert template.current is not None and template.current.number == 1


def test_unknown_variable_is_shown_at_its_field_and_the_input_is_kept(csm_client: Client) -> None:
    typed = "こんにちは\n{{ contact.nme }} 様"
    response = csm_client.post(reverse("engagement:template_new"), form_data(text_ja=typed))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["text_ja"] == ["Line 2, column 1: unknown variable contact.nme"]
    assert typed in response.content.decode()
    assert not EmailTemplate.objects.filter(key="renewal-notice").exists()


def test_editing_saves_a_new_version(csm_client: Client) -> None:
    template = EmailTemplateFactory.create()
    data = form_data(key=template.key, text_ja="新しい本文")
    response = csm_client.post(reverse("engagement:template_edit", args=[template.pk]), data)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.current is not None
    assert (template.current.number, template.current.text_ja) == (2, "新しい本文")
    assert template.name == "更新のご案内"


def test_refused_edit_changes_neither_settings_nor_content(csm_client: Client) -> None:
    template = EmailTemplateFactory.create(name="元の名前")
    data = form_data(key=template.key, name="変えた名前", html_ja="<div>閉じていない")
    response = csm_client.post(reverse("engagement:template_edit", args=[template.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors["html_ja"] == ["Line 1, column 1: <div> is never closed"]
    template.refresh_from_db()
    assert template.name == "元の名前"
    assert template.current is not None and template.current.number == 1


def test_preview_renders_for_a_contact_and_names_missing_values(csm_client: Client) -> None:
    template = EmailTemplateFactory.create(
        subject_ja="{{ account.name }} 様", html_ja="<p>{{ csm.name }}</p>"
    )
    contact = ContactFactory.create(account=AccountFactory.create(name="みどり商事", owner=None))
    response = csm_client.get(
        reverse("engagement:template_preview", args=[template.pk]), {"contact": contact.pk}
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["subject"] == "みどり商事 様"
    assert [item["name"] for item in preview["missing"]] == ["csm.name"]
    assert "送信者:" in preview["html"]
    assert 'sandbox=""' in response.content.decode()


def test_preview_in_the_chosen_language(csm_client: Client) -> None:
    template = EmailTemplateFactory.create(
        subject_en="Hello {{ account.name }}", html_en="<p>Hi</p>", text_en="Hi"
    )
    contact = ContactFactory.create(account=AccountFactory.create(name="Midori"))
    url = reverse("engagement:template_preview", args=[template.pk])
    response = csm_client.get(url, {"contact": str(contact.pk), "language": "en"})
    assert response.context["preview"]["subject"] == "Hello Midori"


def test_contact_search_is_limited(csm_client: Client) -> None:
    account = AccountFactory.create()
    for n in range(55):
        ContactFactory.create(account=account, name=f"検索 {n}")
    response = csm_client.get(reverse("engagement:template_contacts"), {"q": "検索"})
    assert len(response.context["contacts"]) == 50


def test_test_send_shows_the_senders_error(csm_client: Client, monkeypatch) -> None:
    from kizuna.engagement import sending

    def refuse(*args: Any) -> None:
        raise RuntimeError("SMTP is not configured")

    monkeypatch.setattr(sending, "send_test", refuse)
    template = EmailTemplateFactory.create()
    contact = ContactFactory.create()
    response = csm_client.post(
        reverse("engagement:template_test_send", args=[template.pk]),
        {"contact": contact.pk, "to_email": "me@example.jp"},
    )
    assert response.status_code == 400
    assert "SMTP is not configured" in response.content.decode()


def test_test_send_calls_the_sender(csm_client: Client, monkeypatch) -> None:
    from kizuna.engagement import sending

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(sending, "send_test", lambda *args: calls.append(args))
    template = EmailTemplateFactory.create()
    contact = ContactFactory.create()
    response = csm_client.post(
        reverse("engagement:template_test_send", args=[template.pk]),
        {"contact": contact.pk, "to_email": "me@example.jp"},
    )
    assert response.status_code == 200
    assert calls[0][:3] == (template.current, contact, "me@example.jp")


def test_an_old_version_opens_read_only(csm_client: Client) -> None:
    template = EmailTemplateFactory.create(text_ja="最初の本文")
    csm_client.post(
        reverse("engagement:template_edit", args=[template.pk]),
        form_data(key=template.key, text_ja="二番目の本文"),
    )
    response = csm_client.get(reverse("engagement:template_version", args=[template.pk, 1]))
    assert response.status_code == 200
    assert "最初の本文" in response.content.decode()
    assert "<textarea" not in response.content.decode()


def test_pages_render(csm_client: Client) -> None:
    template = EmailTemplateFactory.create()
    for url in (
        reverse("engagement:templates"),
        reverse("engagement:template", args=[template.pk]),
        reverse("engagement:template_new"),
        reverse("engagement:template_edit", args=[template.pk]),
        reverse("engagement:senders"),
    ):
        assert csm_client.get(url).status_code == 200, url


def test_the_template_list_queries_do_not_grow(
    csm_client: Client, django_assert_num_queries
) -> None:
    EmailTemplateFactory.create()
    csm_client.get(reverse("engagement:templates"))
    # session, user, templates with category and current version
    with django_assert_num_queries(3):
        csm_client.get(reverse("engagement:templates"))
    EmailTemplateFactory.create_batch(5)
    with django_assert_num_queries(3):
        csm_client.get(reverse("engagement:templates"))


def test_a_manager_adds_a_sender_that_becomes_the_default(manager_client: Client) -> None:
    SenderIdentity.objects.update(is_default=False)
    old = SenderFactory.create(is_default=True)
    response = manager_client.post(
        reverse("engagement:sender_new"),
        {
            "name": "マーケティング",
            "from_name": "空色 マーケティング",
            "from_email": "mk@sorairo.example.jp",
            "organisation": "株式会社空色",
            "postal_address": "東京都千代田区",
            "inquiries": "support@sorairo.example.jp",
            "is_default": "on",
        },
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert not old.is_default
    assert SenderIdentity.objects.get(is_default=True).name == "マーケティング"


def test_a_sender_form_error_is_shown_and_nothing_saved(manager_client: Client) -> None:
    count = SenderIdentity.objects.count()
    response = manager_client.post(reverse("engagement:sender_new"), {"name": "x"})
    assert response.status_code == 400
    assert "from_email" in response.context["form"].errors
    assert SenderIdentity.objects.count() == count
