"""Helpers of the sending tests: templates with distinct content, a message's story."""

from __future__ import annotations

from kizuna.engagement.choices import CategoryKind
from kizuna.engagement.models import EmailEvent, EmailMessage, EmailTemplate
from kizuna.engagement.tests.factories import CategoryFactory, EmailTemplateFactory


def template(
    label: str = "A", *, team: str = "", transactional: bool = False, **content: str
) -> EmailTemplate:
    """A template whose content differs from every other label's (so de-duplication does
    not mix them up)."""
    category = (
        CategoryFactory.create(key="account-notices", kind=CategoryKind.TRANSACTIONAL)
        if transactional
        else CategoryFactory.create(key="news")
    )
    content.setdefault("subject_ja", f"ご案内 {label}")
    content.setdefault("html_ja", f"<p>{{{{ contact.name }}}} 様 — 内容 {label}</p>")
    content.setdefault("text_ja", f"{{{{ contact.name }}}} 様 — 内容 {label}")
    return EmailTemplateFactory.create(
        name=f"テンプレート{label}", team=team, category=category, **content
    )


def event_kinds(message: EmailMessage) -> list[str]:
    return list(EmailEvent.objects.filter(message=message).values_list("kind", flat=True))
