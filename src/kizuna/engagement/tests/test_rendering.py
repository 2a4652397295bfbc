"""Rendering a template version for a contact: values, escaping, defaults, missing values,
dates per language, and loading every contact's values in a fixed number of queries."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.engagement import rendering
from kizuna.engagement.models import EmailTemplateVersion
from kizuna.engagement.tests.factories import EmailTemplateFactory, SenderFactory


def version(**fields: str) -> EmailTemplateVersion:
    content = {
        "subject_ja": "件名",
        "html_ja": "<p>本文</p>",
        "text_ja": "本文",
        "subject_en": "",
        "html_en": "",
        "text_en": "",
        **fields,
    }
    return EmailTemplateVersion(number=1, content_hash="", **content)


def test_values_are_inserted_and_escaped_in_html_only() -> None:
    rendered = rendering.render(
        version(
            subject_ja="{{ account.name }}",
            html_ja="<p>{{ account.name }}</p>",
            text_ja="{{account.name}}",
        ),
        "ja",
        {"account.name": "A&B <株式会社>"},
    )
    assert rendered.subject == "A&B <株式会社>"
    assert rendered.html == "<p>A&amp;B &lt;株式会社&gt;</p>"
    assert rendered.text == "A&B <株式会社>"


def test_a_value_that_looks_like_a_variable_prints_literally() -> None:
    rendered = rendering.render(
        version(text_ja="{{ contact.name }} 様", html_ja="<p>{{ contact.name }}</p>"),
        "ja",
        {"contact.name": "{{ account.name }}", "account.name": "秘密"},
    )
    assert rendered.text == "{{ account.name }} 様"
    assert rendered.html == "<p>{{ account.name }}</p>"


def test_default_used_when_the_value_is_empty_in_either_quote_style() -> None:
    rendered = rendering.render(
        version(
            text_ja="{{ contact.name|default:\"ご担当者\" }}/{{contact.title | default : 'なし'}}"
        ),
        "ja",
        {"contact.name": "", "contact.title": None},
    )
    assert rendered.text == "ご担当者/なし"
    assert rendered.missing == ()


def test_values_without_default_are_reported_missing() -> None:
    rendered = rendering.render(
        version(subject_ja="{{ account.name }}", text_ja="{{ csm.name }}{{ csm.name }}"),
        "ja",
        {"account.name": None},
    )
    assert rendered.missing == ("account.name", "csm.name")


def test_dates_are_written_per_language() -> None:
    text = "{{ subscription.renewal_date }}"
    both = version(text_ja=text, subject_en="s", html_en="<p>h</p>", text_en=text)
    context = {"subscription.renewal_date": "2026-12-01"}
    assert rendering.render(both, "ja", context).text == "2026年12月1日"
    assert rendering.render(both, "en", context).text == "1 December 2026"


def test_english_falls_back_to_japanese_when_the_version_has_none() -> None:
    only_ja = version(text_ja="日本語")
    assert rendering.language_for("en", only_ja) == "ja"
    assert rendering.render(only_ja, "en", {}).text == "日本語"


def test_language_for_an_english_contact_with_an_english_version() -> None:
    both = version(subject_en="s", html_en="<p>h</p>", text_en="t")
    assert rendering.language_for("en", both) == "en"
    assert rendering.language_for("", both) == "ja"


def test_subject_override_and_links_are_used() -> None:
    rendered = rendering.render(
        version(text_ja="{{ unsubscribe_url }}"),
        "ja",
        {"account.name": "みどり"},
        subject_override="{{ account.name }} 様 特別なご案内",
        links={"unsubscribe_url": "https://k.example/e/u/x/y/"},
    )
    assert rendered.subject == "みどり 様 特別なご案内"
    assert rendered.text == "https://k.example/e/u/x/y/"


@pytest.mark.django_db
def test_compiled_version_is_cached_per_version() -> None:
    template = EmailTemplateFactory.create()
    assert template.current is not None
    assert rendering.compiled(template.current) is rendering.compiled(template.current)


@pytest.mark.django_db
def test_load_contexts_reads_contact_account_csm_subscription_and_sender() -> None:
    owner = UserFactory.create(display_name="田中 結衣", email="yui@example.jp")
    account = AccountFactory.create(name="みどり商事", domain="midori.jp", owner=owner)
    SubscriptionFactory.create(account=account, product="旧", end_date=datetime.date(2025, 1, 1))
    SubscriptionFactory.create(
        account=account,
        product="空色",
        plan="ビジネス",
        seats=30,
        end_date=datetime.date(2026, 12, 1),
    )
    contact = ContactFactory.create(account=account, name="佐藤", email="s@midori.jp", title="部長")
    sender = SenderFactory.create(organisation="株式会社空色")
    context = rendering.load_contexts([contact.pk], sender)[contact.pk]
    assert context == {
        "contact.name": "佐藤",
        "contact.email": "s@midori.jp",
        "contact.title": "部長",
        "account.name": "みどり商事",
        "account.domain": "midori.jp",
        "subscription.product": "空色",
        "subscription.plan": "ビジネス",
        "subscription.seats": "30",
        "subscription.renewal_date": "2026-12-01",
        "csm.name": "田中 結衣",
        "csm.email": "yui@example.jp",
        "sender.organisation": "株式会社空色",
        "sender.from_name": sender.from_name,
    }


@pytest.mark.django_db
def test_load_contexts_leaves_absent_values_empty() -> None:
    contact = ContactFactory.create(account=AccountFactory.create(owner=None), title="")
    context = rendering.load_contexts([contact.pk], SenderFactory.create())[contact.pk]
    assert context["csm.name"] is None
    assert context["subscription.product"] is None


@pytest.mark.django_db
def test_load_contexts_uses_a_fixed_number_of_queries() -> None:
    sender = SenderFactory.create()
    few = [ContactFactory.create().pk for _ in range(2)]
    many = []
    for _ in range(15):
        account = AccountFactory.create(owner=UserFactory.create())
        SubscriptionFactory.create(account=account)
        many.append(ContactFactory.create(account=account).pk)
    with CaptureQueriesContext(connection) as small:
        rendering.load_contexts(few, sender)
    with CaptureQueriesContext(connection) as large:
        rendering.load_contexts(many, sender)
    assert len(small) == len(large) == 2


def test_rendering_is_fast() -> None:
    body = (
        '<p>{{ contact.name|default:"ご担当者" }} 様</p>'
        + "<p>本文です。{{ account.name }}</p>" * 20
    )
    compiled = rendering.compile_version(
        version(subject_ja="{{ account.name }} 様へ", html_ja=body, text_ja=body)
    )
    context = {"contact.name": "佐藤 <美咲>", "account.name": "みどり & 商事"}
    start = time.perf_counter()
    for _ in range(2000):
        rendering.render(compiled, "ja", context)
    per_render = (time.perf_counter() - start) / 2000
    assert per_render < 0.0003
