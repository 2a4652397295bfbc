"""What Kizuna ships for tech touch: the message categories of the preference centre, and the
emails and in-app messages seed 004's onboarding flows refer to by key (login-details,
onboarding-programme, settings-support, operations-support; tutorial, support-site).

`install()` is idempotent: it creates what is missing and leaves alone what exists, so an
edited template is never overwritten. The texts are starting points for the customer's own
wording; the links point at example.jp until someone edits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from kizuna.engagement.choices import (
    CategoryKind,
    ContentType,
    Frequency,
    InAppAudience,
    InAppKind,
    InAppStatus,
)

# (key, Japanese, English, kind, description ja, description en)
CATEGORIES = [
    (
        "account",
        "アカウントに関する重要なお知らせ",
        "Important account notices",
        CategoryKind.TRANSACTIONAL,
        "ログイン情報やご契約に関するお知らせです。配信停止はできません。",
        "Login details and contract notices. These cannot be turned off.",
    ),
    (
        "onboarding",
        "導入・活用のご案内",
        "Getting started and tips",
        CategoryKind.MARKETING,
        "導入時のご案内、設定や活用のヒントをお送りします。",
        "Guidance while you get started, and tips on settings and use.",
    ),
    (
        "product-news",
        "製品アップデート",
        "Product updates",
        CategoryKind.MARKETING,
        "新機能や改善のお知らせです。",
        "New features and improvements.",
    ),
    (
        "events",
        "セミナー・ウェビナーのご案内",
        "Seminars and webinars",
        CategoryKind.MARKETING,
        "ユーザー向けセミナーやウェビナーへのご招待です。",
        "Invitations to user seminars and webinars.",
    ),
]

GREETING_JA = '{{ contact.name|default:"ご担当者" }} 様'
GREETING_EN = 'Dear {{ contact.name|default:"customer" }},'
SIGNATURE_JA = "{{ sender.from_name }}"
SIGNATURE_EN = "{{ sender.from_name }}"


@dataclass(frozen=True)
class SeedEmail:
    key: str
    name: str
    category: str
    content_type: str
    description: str
    content: dict[str, str] = field(default_factory=dict)


def _html(*paragraphs: str) -> str:
    return "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


def _text(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


EMAILS = [
    SeedEmail(
        "login-details",
        "ログイン情報のお知らせ",
        "account",
        ContentType.ANNOUNCEMENT,
        "サービス環境の準備ができたら送る、ログイン情報のお知らせ(seed 004)。",
        {
            "subject_ja": "【{{ account.name }}】ご利用環境の準備が整いました",
            "html_ja": _html(
                GREETING_JA,
                "{{ account.name }} 様のご利用環境の準備が整いました。"
                "下記のページからログインしてください。",
                '<a href="https://example.jp/login">ログインページを開く</a>',
                "ご不明な点は担当の "
                '{{ csm.name|default:"サポート窓口" }} までお問い合わせください。',
                SIGNATURE_JA,
            ),
            "text_ja": _text(
                GREETING_JA,
                "{{ account.name }} 様のご利用環境の準備が整いました。"
                "下記のページからログインしてください。",
                "ログインページ: https://example.jp/login",
                "ご不明な点は担当の "
                '{{ csm.name|default:"サポート窓口" }} までお問い合わせください。',
                SIGNATURE_JA,
            ),
            "subject_en": "[{{ account.name }}] Your environment is ready",
            "html_en": _html(
                GREETING_EN,
                "The environment for {{ account.name }} is ready. Sign in from the page below.",
                '<a href="https://example.jp/login">Open the sign-in page</a>',
                'Questions? Ask {{ csm.name|default:"our support team" }}.',
                SIGNATURE_EN,
            ),
            "text_en": _text(
                GREETING_EN,
                "The environment for {{ account.name }} is ready. Sign in from the page below.",
                "Sign-in page: https://example.jp/login",
                'Questions? Ask {{ csm.name|default:"our support team" }}.',
                SIGNATURE_EN,
            ),
        },
    ),
    SeedEmail(
        "onboarding-programme",
        "オンボーディングプログラムのご案内",
        "onboarding",
        ContentType.TUTORIAL,
        "初回ログインの後に送る、オンボーディングプログラムの案内(seed 004 の②)。"
        "開封されなければ電話フォローのタスクが作られます。",
        {
            "subject_ja": "{{ account.name }} 様:最初の2週間で使いこなすためのプログラム",
            "html_ja": _html(
                GREETING_JA,
                "初回ログインありがとうございます。最初の2週間で成果を出していただくための"
                "オンボーディングプログラムをご用意しました。",
                '<a href="https://example.jp/onboarding/video">3分でわかる紹介動画を見る</a>',
                '<a href="https://example.jp/onboarding/webinar">初心者向けウェビナーに申し込む</a>',
                SIGNATURE_JA,
            ),
            "text_ja": _text(
                GREETING_JA,
                "初回ログインありがとうございます。最初の2週間で成果を出していただくための"
                "オンボーディングプログラムをご用意しました。",
                "紹介動画: https://example.jp/onboarding/video",
                "初心者向けウェビナー: https://example.jp/onboarding/webinar",
                SIGNATURE_JA,
            ),
            "subject_en": "{{ account.name }}: a programme for your first two weeks",
            "html_en": _html(
                GREETING_EN,
                "Thank you for signing in. Here is an onboarding programme to get results "
                "in your first two weeks.",
                '<a href="https://example.jp/onboarding/video">Watch the 3-minute video</a>',
                '<a href="https://example.jp/onboarding/webinar">Join the beginners\' webinar</a>',
                SIGNATURE_EN,
            ),
            "text_en": _text(
                GREETING_EN,
                "Thank you for signing in. Here is an onboarding programme to get results "
                "in your first two weeks.",
                "Video: https://example.jp/onboarding/video",
                "Beginners' webinar: https://example.jp/onboarding/webinar",
                SIGNATURE_EN,
            ),
        },
    ),
    SeedEmail(
        "settings-support",
        "設定サポートのご案内",
        "onboarding",
        ContentType.SUPPORT,
        "設定が完了していないお客様に送る、設定サポートの案内(seed 004 の⑥)。",
        {
            "subject_ja": "まだ完了していない設定があります",
            "html_ja": _html(
                GREETING_JA,
                "{{ account.name }} 様のご利用環境に、まだ完了していない設定があります。"
                "手順をまとめたガイドをご覧ください。",
                '<a href="https://example.jp/help/settings">設定ガイドを開く</a>',
                SIGNATURE_JA,
            ),
            "text_ja": _text(
                GREETING_JA,
                "{{ account.name }} 様のご利用環境に、まだ完了していない設定があります。"
                "手順をまとめたガイドをご覧ください。",
                "設定ガイド: https://example.jp/help/settings",
                SIGNATURE_JA,
            ),
            "subject_en": "Some settings are not finished yet",
            "html_en": _html(
                GREETING_EN,
                "Some settings of {{ account.name }} are not finished yet. "
                "This guide walks you through them.",
                '<a href="https://example.jp/help/settings">Open the settings guide</a>',
                SIGNATURE_EN,
            ),
            "text_en": _text(
                GREETING_EN,
                "Some settings of {{ account.name }} are not finished yet. "
                "This guide walks you through them.",
                "Settings guide: https://example.jp/help/settings",
                SIGNATURE_EN,
            ),
        },
    ),
    SeedEmail(
        "operations-support",
        "運用サポートのご案内",
        "onboarding",
        ContentType.ARTICLE,
        "設定が完了したお客様に送る、運用のヒント(seed 004 の⑨)。",
        {
            "subject_ja": "設定完了ありがとうございます:運用を軌道に乗せるヒント",
            "html_ja": _html(
                GREETING_JA,
                "設定が完了しました。日々の運用に役立つ記事をまとめました。",
                '<a href="https://example.jp/blog/operations">運用のヒントを読む</a>',
                SIGNATURE_JA,
            ),
            "text_ja": _text(
                GREETING_JA,
                "設定が完了しました。日々の運用に役立つ記事をまとめました。",
                "運用のヒント: https://example.jp/blog/operations",
                SIGNATURE_JA,
            ),
            "subject_en": "Settings done: tips for day-to-day use",
            "html_en": _html(
                GREETING_EN,
                "Your settings are complete. Here are articles for day-to-day use.",
                '<a href="https://example.jp/blog/operations">Read the tips</a>',
                SIGNATURE_EN,
            ),
            "text_en": _text(
                GREETING_EN,
                "Your settings are complete. Here are articles for day-to-day use.",
                "Tips: https://example.jp/blog/operations",
                SIGNATURE_EN,
            ),
        },
    ),
]

# The tutorial tour points at elements of the customer's product; these selectors are the
# demo customer app's (usage/templates/usage/demo_app.html), to be edited for a real product.
IN_APP: list[dict[str, Any]] = [
    {
        "key": "tutorial",
        "name": "チュートリアル(2回目のログイン)",
        "kind": InAppKind.TOUR,
        "content_type": ContentType.TUTORIAL,
        "audience": InAppAudience.FLOW,
        "frequency": Frequency.UNTIL_DISMISSED,
        "title_ja": "使い方をご案内します",
        "body_ja": "主な画面を順番にご紹介します。",
        "title_en": "A quick tour",
        "body_en": "Let us show you the main screens.",
        "steps": [
            {
                "selector": "#create-report",
                "title_ja": "レポートを作成",
                "body_ja": "ここから月次レポートを作成できます。",
                "title_en": "Create a report",
                "body_en": "Create your monthly reports here.",
            },
            {
                "selector": "#app-nav",
                "title_ja": "メニュー",
                "body_ja": "レポートや設定の画面はここから開きます。",
                "title_en": "Menu",
                "body_en": "Open the reports and settings screens from here.",
            },
        ],
    },
    {
        "key": "support-site",
        "name": "サポートサイトのご案内(設定画面に30秒)",
        "kind": InAppKind.POPUP,
        "content_type": ContentType.SUPPORT,
        "audience": InAppAudience.EVERYONE,
        "url_pattern": "*/settings*",
        "dwell_seconds": 30,
        "frequency": Frequency.EVERY_N_DAYS,
        "every_days": 7,
        "title_ja": "お困りですか?",
        "body_ja": "設定の手順はサポートサイトで詳しくご案内しています。",
        "button_ja": "サポートサイトを開く",
        "title_en": "Need a hand?",
        "body_en": "The support site explains every setting step by step.",
        "button_en": "Open the support site",
        "button_url": "https://example.jp/help",
    },
]


def install(models: dict[str, Any] | None = None) -> None:
    """Create the shipped categories, email templates and in-app messages that are missing.

    `models` maps model names to classes: the data migration passes its historical models.
    The shipped texts are checked by the tests (`test_shipped_content.py`), not here, so the
    migration does not depend on the template validator of the day."""
    from kizuna.engagement import models as current
    from kizuna.engagement.templates_service import content_hash

    def model(name: str) -> Any:
        return (models or {}).get(name) or getattr(current, name)

    category_model = model("MessageCategory")
    template_model = model("EmailTemplate")
    version_model = model("EmailTemplateVersion")
    inapp_model = model("InAppMessage")
    with transaction.atomic():
        categories = {}
        for position, (key, name_ja, name_en, kind, desc_ja, desc_en) in enumerate(CATEGORIES):
            categories[key], _created = category_model.objects.get_or_create(
                key=key,
                defaults={
                    "name_ja": name_ja,
                    "name_en": name_en,
                    "kind": kind,
                    "description_ja": desc_ja,
                    "description_en": desc_en,
                    "position": position,
                },
            )
        existing = set(template_model.objects.values_list("key", flat=True))
        for email in EMAILS:
            if email.key in existing:
                continue
            template = template_model.objects.create(
                key=email.key,
                name=email.name,
                category=categories[email.category],
                content_type=email.content_type,
                description=email.description,
                shipped=True,
            )
            template.current = version_model.objects.create(
                template=template,
                number=1,
                content_hash=content_hash(email.content),
                **email.content,
            )
            template.save(update_fields=["current"])
        existing = set(inapp_model.objects.values_list("key", flat=True))
        for message in IN_APP:
            if message["key"] not in existing:
                # Drafts: their links and selectors are examples until someone adapts them.
                inapp_model.objects.create(status=InAppStatus.DRAFT, shipped=True, **message)
