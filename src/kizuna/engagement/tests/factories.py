from __future__ import annotations

import datetime
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from kizuna.customers.models import Contact
from kizuna.engagement.choices import CategoryKind, InAppKind, InAppStatus
from kizuna.engagement.models import (
    EmailMessage,
    EmailTemplate,
    EmailTemplateVersion,
    InAppMessage,
    MessageCategory,
    SenderIdentity,
)
from kizuna.engagement.templates_service import content_hash


class CategoryFactory(DjangoModelFactory[MessageCategory]):
    class Meta:
        model = MessageCategory
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"category-{n}")
    name_ja = factory.Sequence(lambda n: f"お知らせ{n}")
    name_en = factory.Sequence(lambda n: f"News {n}")
    kind = CategoryKind.MARKETING


class SenderFactory(DjangoModelFactory[SenderIdentity]):
    class Meta:
        model = SenderIdentity

    name = factory.Sequence(lambda n: f"CS team {n}")
    from_name = "空色レポート カスタマーサクセス"
    from_email = factory.Sequence(lambda n: f"cs{n}@sorairo.example.jp")
    organisation = "株式会社空色"
    postal_address = "〒100-0001 東京都千代田区千代田1-1"
    inquiries = "support@sorairo.example.jp"
    is_default = False


CONTENT_FIELDS = ("subject_ja", "html_ja", "text_ja", "subject_en", "html_en", "text_en")


class EmailTemplateFactory(DjangoModelFactory[EmailTemplate]):
    """A template with one version (`current`). Content comes from the `subject_ja`, `html_ja`,
    `text_ja` (and `_en`) keyword arguments, with plain Japanese defaults."""

    class Meta:
        model = EmailTemplate

    key = factory.Sequence(lambda n: f"template-{n}")
    name = factory.Sequence(lambda n: f"テンプレート{n}")
    category = factory.SubFactory(CategoryFactory)
    sender = factory.SubFactory(SenderFactory)
    subject_ja = "{{ account.name }} 様へのご案内"
    html_ja = (
        '<p>{{ contact.name|default:"ご担当者" }} 様</p>'
        '<p><a href="https://example.jp/guide">ガイドを見る</a></p>'
    )
    text_ja = '{{ contact.name|default:"ご担当者" }} 様\nガイド: https://example.jp/guide'
    subject_en = ""
    html_en = ""
    text_en = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        fields = {name: kwargs.pop(name) for name in CONTENT_FIELDS}
        template = super()._create(model_class, *args, **kwargs)
        digest = content_hash(fields)
        template.current = EmailTemplateVersion.objects.create(
            template=template, number=1, content_hash=digest, **fields
        )
        template.save(update_fields=["current"])
        return template


class InAppMessageFactory(DjangoModelFactory[InAppMessage]):
    class Meta:
        model = InAppMessage

    key = factory.Sequence(lambda n: f"message-{n}")
    name = factory.Sequence(lambda n: f"お知らせ{n}")
    kind = InAppKind.BANNER
    status = InAppStatus.LIVE
    title_ja = "新しいレポート機能"
    body_ja = "月次レポートを自動で作成できるようになりました。"
    button_ja = "試してみる"
    title_en = "New reports"
    body_en = "Monthly reports can now be created automatically."
    button_en = "Try it"


def sent_email(
    contact: Contact,
    *,
    days_ago: float = 1,
    opened: bool = False,
    clicked: bool = False,
    template: EmailTemplate | None = None,
    **fields: Any,
) -> EmailMessage:
    """An email as the worker leaves it once sent (and, if asked, opened or clicked)."""
    template = template or EmailTemplateFactory.create()
    assert template.current is not None
    at = timezone.now() - datetime.timedelta(days=days_ago)
    values: dict[str, Any] = {
        "contact": contact,
        "account": contact.account,
        "to_email": contact.email,
        "template": template,
        "version": template.current,
        "category": template.category,
        "sender": template.sender,
        "content_type": template.content_type,
        "content_hash": template.current.content_hash,
        "source": "campaign",
        "status": "sent",
        "queued_at": at,
        "sent_at": at,
        "opened_at": at if opened or clicked else None,
        "clicked_at": at if clicked else None,
    }
    values.update(fields)
    return EmailMessage.objects.create(**values)
