"""Tech touch in the demo: a sender, the shipped emails and in-app messages live, two more
teams' templates, and a few weeks of campaigns really sent — rendered, cap-checked and handed
to the demo's local mail catcher — then dated back, with opens and clicks recorded through
the tracking code:

- an A/B test of two webinar-invitation subjects to the tech-touch accounts, decided on the
  open rate, with the winner sent to the rest;
- a three-minute feature video to every active account;
- the marketing team's copy of the webinar invitation, held back as a duplicate and by the
  frequency cap (the cap log has entries);
- a campaign scheduled for next week.

Tech-touch accounts click the video more, high-touch ones the webinar invitation, so "What
each segment prefers" has something to say. `prepare` runs before the success flows are
seeded (their email steps need a sender); `seed` after.
"""

from __future__ import annotations

import datetime
import os
import random
import socket
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db.models import Q
from django.utils import timezone

from kizuna.customers.choices import LifecycleStage, Tier
from kizuna.customers.models import Account
from kizuna.engagement import campaigns, mailbox, seed, sending, templates_service, tracking
from kizuna.engagement.choices import (
    ContentType,
    InAppStatus,
    MessageStatus,
    RecipientPhase,
)
from kizuna.engagement.models import (
    Campaign,
    EmailMessage,
    EngagementSettings,
    InAppEvent,
    InAppMessage,
    InAppState,
    MessageCategory,
    SenderIdentity,
)
from kizuna.segments import services as segments
from kizuna.segments.choices import SegmentKind
from kizuna.segments.models import Segment

Say = Callable[[str], None]

WEBINAR = {
    "subject_ja": "【ご招待】レポート活用ウェビナー(12月10日 15:00〜)",
    "html_ja": (
        '<p>{{ contact.name|default:"ご担当者" }} 様</p>'
        "<p>{{ account.name }} 様のレポート活用をさらに進めるためのウェビナーを開催します。"
        "現場の事例を交えて45分でご紹介します。</p>"
        '<p><a href="https://example.jp/webinar/2026-12">参加を申し込む</a></p>'
        "<p>{{ sender.from_name }}</p>"
    ),
    "text_ja": (
        '{{ contact.name|default:"ご担当者" }} 様\n\n'
        "{{ account.name }} 様のレポート活用をさらに進めるためのウェビナーを開催します。"
        "現場の事例を交えて45分でご紹介します。\n\n"
        "お申し込み: https://example.jp/webinar/2026-12\n\n{{ sender.from_name }}"
    ),
    "subject_en": "[Invitation] Getting more from your reports — webinar, 10 December",
    "html_en": (
        '<p>Dear {{ contact.name|default:"customer" }},</p>'
        "<p>Join our 45-minute webinar with real examples of teams getting more from their "
        "reports.</p>"
        '<p><a href="https://example.jp/webinar/2026-12">Register</a></p>'
        "<p>{{ sender.from_name }}</p>"
    ),
    "text_en": (
        'Dear {{ contact.name|default:"customer" }},\n\n'
        "Join our 45-minute webinar with real examples of teams getting more from their "
        "reports.\n\nRegister: https://example.jp/webinar/2026-12\n\n{{ sender.from_name }}"
    ),
}

VIDEO = {
    "subject_ja": "新機能「自動月次レポート」を3分の動画でご紹介",
    "html_ja": (
        '<p>{{ contact.name|default:"ご担当者" }} 様</p>'
        "<p>毎月のレポート作成を自動化できる新機能をリリースしました。3分の動画でご覧ください。</p>"
        '<p><a href="https://example.jp/videos/auto-report">動画を見る(3分)</a></p>'
        "<p>{{ sender.from_name }}</p>"
    ),
    "text_ja": (
        '{{ contact.name|default:"ご担当者" }} 様\n\n'
        "毎月のレポート作成を自動化できる新機能をリリースしました。3分の動画でご覧ください。\n\n"
        "動画: https://example.jp/videos/auto-report\n\n{{ sender.from_name }}"
    ),
    "subject_en": "New: automatic monthly reports, in a 3-minute video",
    "html_en": (
        '<p>Dear {{ contact.name|default:"customer" }},</p>'
        "<p>Monthly reports can now be created automatically. See how in three minutes.</p>"
        '<p><a href="https://example.jp/videos/auto-report">Watch the video (3 min)</a></p>'
        "<p>{{ sender.from_name }}</p>"
    ),
    "text_en": (
        'Dear {{ contact.name|default:"customer" }},\n\n'
        "Monthly reports can now be created automatically. See how in three minutes.\n\n"
        "Video: https://example.jp/videos/auto-report\n\n{{ sender.from_name }}"
    ),
}

SEMINAR = {
    "subject_ja": "【導入事例セミナー】他社はレポートをどう経営に活かしているか",
    "html_ja": (
        '<p>{{ contact.name|default:"ご担当者" }} 様</p>'
        "<p>同じ業界のお客様3社に、レポートを経営会議で活用するまでの道のりを伺います。</p>"
        '<p><a href="https://example.jp/seminar/case-study">セミナーに申し込む</a></p>'
        "<p>{{ sender.from_name }}</p>"
    ),
    "text_ja": (
        '{{ contact.name|default:"ご担当者" }} 様\n\n'
        "同じ業界のお客様3社に、レポートを経営会議で活用するまでの道のりを伺います。\n\n"
        "お申し込み: https://example.jp/seminar/case-study\n\n{{ sender.from_name }}"
    ),
    "subject_en": "[Case-study seminar] How other teams bring reports to the board",
    "html_en": (
        '<p>Dear {{ contact.name|default:"customer" }},</p>'
        "<p>Three customers from your industry share how their reports reached the board "
        "room.</p>"
        '<p><a href="https://example.jp/seminar/case-study">Register</a></p>'
        "<p>{{ sender.from_name }}</p>"
    ),
    "text_en": (
        'Dear {{ contact.name|default:"customer" }},\n\n'
        "Three customers from your industry share how their reports reached the board "
        "room.\n\nRegister: https://example.jp/seminar/case-study\n\n{{ sender.from_name }}"
    ),
}

# Open and click probabilities by tier and content type: the long tail watches videos, the
# big accounts come to webinars.
OPEN: dict[str, float] = {Tier.TECH_TOUCH: 0.42, Tier.LOW_TOUCH: 0.48, Tier.HIGH_TOUCH: 0.55}
CLICK: dict[tuple[str, str], float] = {
    (Tier.TECH_TOUCH, ContentType.VIDEO): 0.22,
    (Tier.TECH_TOUCH, ContentType.WEBINAR): 0.06,
    (Tier.LOW_TOUCH, ContentType.VIDEO): 0.14,
    (Tier.LOW_TOUCH, ContentType.WEBINAR): 0.12,
    (Tier.HIGH_TOUCH, ContentType.VIDEO): 0.07,
    (Tier.HIGH_TOUCH, ContentType.WEBINAR): 0.24,
}


def prepare(say: Say) -> None:
    """A default sender and the shipped content live, before flows send anything."""
    say("Setting up tech touch: sender, templates, in-app messages…")
    seed.install()
    if not SenderIdentity.objects.exists():
        templates_service.create_sender(
            None,
            name="CS",
            from_name="空色レポート カスタマーサクセス",
            from_email="cs@sorairo.example.jp",
            reply_to="support@sorairo.example.jp",
            organisation="株式会社空色",
            postal_address="〒150-0002 東京都渋谷区渋谷2-24-12",
            inquiries="support@sorairo.example.jp / 03-1234-5678",
            is_default=True,
        )
    InAppMessage.objects.filter(shipped=True).update(status=InAppStatus.LIVE)
    # The demo's catcher takes mail as fast as it comes.
    rules = EngagementSettings.get()
    rules.send_rate = 500
    rules.save()


def seed_history(say: Say, rng: random.Random | None = None) -> None:
    """Campaigns sent over the last weeks, really rendered and sent to the local catcher."""
    rng = rng or random.Random(20261122)
    if Campaign.objects.exists():
        return
    # A port of its own for the build, so a Kizuna already serving on this machine (with
    # its catcher on the usual port) does not stop the demo from being built.
    configured = os.environ.get("KIZUNA_DEMO_SMTP_PORT")
    os.environ["KIZUNA_DEMO_SMTP_PORT"] = str(_free_port())
    try:
        if mailbox.start_catcher() is None:
            say("The demo mail catcher could not start: no campaign history.")
            return
        try:
            _history(say, rng)
        finally:
            mailbox.stop_catcher()
    finally:
        if configured is None:
            os.environ.pop("KIZUNA_DEMO_SMTP_PORT", None)
        else:
            os.environ["KIZUNA_DEMO_SMTP_PORT"] = configured


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _history(say: Say, rng: random.Random) -> None:
    now = timezone.now()
    events = MessageCategory.objects.get(key="events")
    news = MessageCategory.objects.get(key="product-news")
    webinar = templates_service.create_template(
        None,
        key="webinar-december",
        name="ウェビナー招待(12月)",
        category=events,
        content_type=ContentType.WEBINAR,
        team="CS",
        content=WEBINAR,
    )
    video = templates_service.create_template(
        None,
        key="auto-report-video",
        name="新機能紹介動画(自動月次レポート)",
        category=news,
        content_type=ContentType.VIDEO,
        team="CS",
        content=VIDEO,
    )
    # Marketing wrote the same invitation in a template of their own.
    marketing_copy = templates_service.create_template(
        None,
        key="webinar-december-marketing",
        name="12月ウェビナー集客(マーケティング)",
        category=events,
        content_type=ContentType.WEBINAR,
        team="マーケティング",
        content=WEBINAR,
    )
    # A sample of the portfolio keeps the demo quick to build: a few thousand emails.
    active = list(
        Account.objects.exclude(stage=LifecycleStage.CHURNED)
        .order_by("pk")
        .values_list("pk", "tier")
    )
    tech = _static_segment(
        "テックタッチ(配信対象)", [pk for pk, tier in active if tier == Tier.TECH_TOUCH][::2]
    )
    everyone = _static_segment("製品ニュース配信対象", [pk for pk, _tier in active][::3])

    say("Sending the demo campaigns to the local mail catcher…")
    ab = campaigns.create_campaign(
        None,
        campaigns.CampaignSpec(
            name="12月ウェビナー招待:件名A/Bテスト",
            template=webinar,
            segment=tech,
            team="CS",
            test_share=40,
            test_hours=24,
            variants=[
                campaigns.VariantSpec(label="A"),
                campaigns.VariantSpec(
                    label="B",
                    subject_ja="{{ account.name }} 様限定:45分でレポート活用が変わるウェビナー",
                    subject_en="{{ account.name }}: 45 minutes that change how you use reports",
                ),
            ],
        ),
    )
    started = now - datetime.timedelta(days=21)
    campaigns.start(ab, None, now=started)
    campaigns.queue_phase(ab.pk, RecipientPhase.TEST, now=started)
    _deliver(rng, started, boost={"B": 1.35})
    decided = started + datetime.timedelta(hours=25)
    from kizuna.engagement import abtest

    abtest.decide(Campaign.objects.get(pk=ab.pk), decided)
    campaigns.queue_phase(ab.pk, RecipientPhase.REST, now=decided)
    _deliver(rng, decided)

    send = partial(_send, rng)
    send(
        campaigns.CampaignSpec(
            name="新機能紹介:自動月次レポート(動画)", template=video, segment=everyone, team="CS"
        ),
        now - datetime.timedelta(days=9),
    )

    # Marketing's copy two days later: the same content and the cap hold it back.
    send(
        campaigns.CampaignSpec(
            name="12月ウェビナー集客", template=marketing_copy, segment=tech, team="マーケティング"
        ),
        now - datetime.timedelta(days=7),
    )

    # The big accounts get their own invitation: a case-study seminar.
    seminar = templates_service.create_template(
        None,
        key="case-study-seminar",
        name="導入事例セミナーのご案内",
        category=events,
        content_type=ContentType.WEBINAR,
        team="CS",
        content=SEMINAR,
    )
    served = _static_segment(
        "ハイタッチ・ロータッチ(配信対象)",
        [pk for pk, tier in active if tier != Tier.TECH_TOUCH][::2],
    )
    send(
        campaigns.CampaignSpec(
            name="導入事例セミナーのご案内", template=seminar, segment=served, team="CS"
        ),
        now - datetime.timedelta(days=5),
    )
    campaigns.finish_sent(now=now)
    _inapp_history(rng, now)

    upcoming = campaigns.create_campaign(
        None,
        campaigns.CampaignSpec(
            name="1月ユーザー会のご案内", template=webinar, segment=everyone, team="CS"
        ),
    )
    campaigns.schedule(upcoming, now + datetime.timedelta(days=7, hours=2))
    say(
        "Campaigns: "
        f"{EmailMessage.objects.filter(status=MessageStatus.SENT).count()} emails sent, "
        f"{EmailMessage.objects.filter(status=MessageStatus.HELD).count()} held back."
    )


def _send(rng: random.Random, spec: campaigns.CampaignSpec, at: datetime.datetime) -> Campaign:
    """A campaign without a test, started, sent and opened as of `at`."""
    campaign = campaigns.create_campaign(None, spec)
    campaigns.start(campaign, None, now=at)
    campaigns.queue_phase(campaign.pk, RecipientPhase.ALL, now=at)
    _deliver(rng, at)
    return campaign


def _static_segment(name: str, account_ids: Any) -> Segment:
    segment = Segment.objects.filter(name=name).first()
    if segment is None:
        segment = segments.create_segment(None, name=name, kind=SegmentKind.STATIC)
        segments.add_members(None, segment, list(account_ids))
    return segment


def _deliver(
    rng: random.Random, at: datetime.datetime, boost: dict[str, float] | None = None
) -> None:
    """Send what is queued, date it back to `at`, and let some contacts open and click."""
    while sending.send_due(limit=1000).claimed:
        pass
    sent = list(
        EmailMessage.objects.filter(status=MessageStatus.SENT, sent_at__gt=at)
        .filter(Q(opened_at__isnull=True))
        .select_related("account", "variant")
    )
    EmailMessage.objects.filter(pk__in=[m.pk for m in sent]).update(
        sent_at=at + datetime.timedelta(minutes=2), queued_at=at
    )
    for message in sent:
        tier = message.account.tier
        factor = (boost or {}).get(message.variant.label if message.variant else "", 1.0)
        if rng.random() >= min(OPEN.get(tier, 0.4) * factor, 0.95):
            continue
        opened = at + datetime.timedelta(hours=rng.uniform(0.2, 20))
        tracking.record_open(message.token, now=opened)
        click = CLICK.get((tier, message.content_type), 0.1) / OPEN.get(tier, 0.4)
        if message.links and rng.random() < click:
            tracking.record_click(message.token, 0, now=opened + datetime.timedelta(minutes=1))


def _inapp_history(rng: random.Random, now: datetime.datetime) -> None:
    """The shipped tutorial and support popup as people met them over the last weeks: tech-
    touch users finish the tour more often than they click the support link."""
    from kizuna.customers.models import Contact

    messages = {m.key: m for m in InAppMessage.objects.filter(key__in=["tutorial", "support-site"])}
    people = list(
        Contact.objects.filter(
            product_user_id__isnull=False, account__tier=Tier.TECH_TOUCH
        ).values_list("pk", "account_id", "product_user_id")[:400]
    )
    states: list[InAppState] = []
    events: list[InAppEvent] = []
    for contact_id, account_id, user_id in people:
        assert user_id is not None  # filtered above
        for key, responded, kind in (
            ("tutorial", 0.55, "completed"),
            ("support-site", 0.25, "clicked"),
        ):
            if rng.random() > 0.5:
                continue
            shown = now - datetime.timedelta(days=rng.uniform(1, 40))
            done = shown + datetime.timedelta(seconds=rng.uniform(10, 120))
            answered = rng.random() < responded
            state = InAppState(
                message=messages[key],
                visitor=user_id,
                contact_id=contact_id,
                account_id=account_id,
                shown_count=1,
                first_shown_at=shown,
                last_shown_at=shown,
                dismissed_at=None if answered else done,
                completed_at=done if answered and kind == "completed" else None,
                clicked_at=done if answered and kind == "clicked" else None,
            )
            states.append(state)
            common = {"message": messages[key], "visitor": user_id, "contact_id": contact_id}
            events.append(InAppEvent(kind="shown", at=shown, account_id=account_id, **common))
            events.append(
                InAppEvent(
                    kind=kind if answered else "dismissed", at=done, account_id=account_id, **common
                )
            )
    InAppState.objects.bulk_create(states, batch_size=500)
    InAppEvent.objects.bulk_create(events, batch_size=500)
