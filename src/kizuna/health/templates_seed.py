"""The shipped templates: the churn-risk and upsell-opportunity signals of seed 004 as
measures of four scorecards (one per lifecycle pillar: onboarding, adoption, value
realisation, renewal), and the "churn risk" / "upsell opportunity" segments built on the
same signals.

Seed 004 lists what a Japanese CS team reads an account's health from:

- qualitative: last touchpoint very good / good / poor, logo received, case study, payment
  delays on record, paid onboarding contract, seminar attendance;
- upsell opportunity: logins high for a period, users increasing or high, marketing-email
  click rate ≥ x %;
- churn risk: logins falling or low for a period, users decreasing or low.

The email click rate is not in the shipped scorecards and segments: a new installation has
no email history to weigh, so a click rate would be empty for everyone. Once tech-touch
emails have been going out for a while, `email.click_rate` (kizuna.engagement.metrics) can be
added as a measure; the descriptions say so.

`install()` is idempotent: it creates the custom fields the measures read when missing,
a scorecard for each stage that has none of its own yet, and each segment whose name is
free; whatever exists is kept as it is. Called by the demo, the "Load the seed templates"
button and ``kizuna health_templates``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.customers.choices import CustomFieldType, LifecycleStage
from kizuna.customers.models import CustomFieldDefinition
from kizuna.health import services
from kizuna.health.models import Scorecard

EMAIL_NOTE_JA = (
    "マーケティングメールのクリック率は、配信実績がたまってから測定項目"
    "「メールのクリック率」として追加できます。"
)
EMAIL_NOTE_EN = (
    "Email click rate can be added as a measure (“Email click rate”) once emails have been "
    "sent for a while."
)

# The boolean custom fields the qualitative measures read: key → (label ja, label en).
CUSTOM_FIELDS: dict[str, tuple[str, str]] = {
    "logo_received": ("ロゴ受領", "Logo received"),
    "case_study": ("事例化", "Case study published"),
    "payment_delays": ("支払遅延実績あり", "Payment delays on record"),
    "paid_onboarding": ("有償オンボーディング契約", "Paid onboarding contract"),
}


# --- Measures -------------------------------------------------------------------------------


def _measure(
    key: str, ja: str, en: str, weight: float, metric: str, params: dict[str, Any], mapping: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "label_ja": ja,
        "label_en": en,
        "weight": weight,
        "metric": {"metric": metric, "params": params},
        "mapping": mapping,
    }


def _boolean(yes: float, no: float) -> dict[str, Any]:
    return {"kind": "boolean", "true": yes, "false": no}


# Each measure by key: a function of its weight. Thresholds follow the seed's signals —
# a login rate under 30 % is low, from 80 % high; logins or users falling 30 % or more is
# a fall.
MEASURES: dict[str, Any] = {
    # Usage
    "login_rate": lambda w: _measure(
        "login_rate",
        "ログイン率（30日）",
        "Login rate (30 days)",
        w,
        "usage.login_rate",
        {"days": 30},
        {
            "kind": "bands",
            "bands": [
                {"min": 0, "points": 0},
                {"min": 30, "points": 50},
                {"min": 60, "points": 80},
                {"min": 80, "points": 100},
            ],
        },
    ),
    "login_trend": lambda w: _measure(
        "login_trend",
        "ログイン数の増減（30日）",
        "Logins, change over 30 days",
        w,
        "usage.change",
        {"days": 30, "of": "logins"},
        {"kind": "linear", "from": -50, "to": 10},
    ),
    "users_trend": lambda w: _measure(
        "users_trend",
        "利用ユーザー数の増減（30日）",
        "Active users, change over 30 days",
        w,
        "usage.change",
        {"days": 30, "of": "active_users"},
        {"kind": "linear", "from": -30, "to": 10},
    ),
    "active_users": lambda w: _measure(
        "active_users",
        "利用ユーザー数（30日）",
        "Active users (30 days)",
        w,
        "usage.active_users",
        {"days": 30},
        {
            "kind": "bands",
            "bands": [
                {"min": 0, "points": 0},
                {"min": 1, "points": 40},
                {"min": 3, "points": 70},
                {"min": 10, "points": 100},
            ],
        },
    ),
    # Engagement
    "touchpoint": lambda w: _measure(
        "touchpoint",
        "直近のタッチポイント評価",
        "Last touchpoint rating",
        w,
        "touchpoint.last_rating",
        {},
        {"kind": "choices", "points": {"very_good": 100, "good": 70, "poor": 0}},
    ),
    "seminars": lambda w: _measure(
        "seminars",
        "セミナー参加実績（1年）",
        "Seminars attended (1 year)",
        w,
        "touchpoint.count",
        {"kind": "seminar", "days": 365},
        {
            "kind": "bands",
            "bands": [
                {"min": 0, "points": 30},
                {"min": 1, "points": 80},
                {"min": 2, "points": 100},
            ],
        },
    ),
    # Relationship
    "logo": lambda w: _measure(
        "logo",
        "ロゴ受領",
        "Logo received",
        w,
        "account.custom_field",
        {"field": "logo_received"},
        _boolean(100, 40),
    ),
    "case_study": lambda w: _measure(
        "case_study",
        "事例化",
        "Case study published",
        w,
        "account.custom_field",
        {"field": "case_study"},
        _boolean(100, 40),
    ),
    # Financial
    "payment_delays": lambda w: _measure(
        "payment_delays",
        "支払遅延実績",
        "Payment delays on record",
        w,
        "account.custom_field",
        {"field": "payment_delays"},
        _boolean(0, 100),
    ),
    "paid_onboarding": lambda w: _measure(
        "paid_onboarding",
        "有償導入支援契約",
        "Paid onboarding contract",
        w,
        "account.custom_field",
        {"field": "paid_onboarding"},
        _boolean(100, 40),
    ),
}

GROUPS: dict[str, tuple[str, str]] = {
    "usage": ("利用状況", "Usage"),
    "engagement": ("エンゲージメント", "Engagement"),
    "relationship": ("関係性", "Relationship"),
    "financial": ("財務", "Financial"),
}


def _definition(groups: list[tuple[str, float, list[tuple[str, float]]]]) -> dict[str, Any]:
    return {
        "bands": {"red_below": 40, "green_from": 70},
        "groups": [
            {
                "key": key,
                "label_ja": GROUPS[key][0],
                "label_en": GROUPS[key][1],
                "weight": weight,
                "measures": [MEASURES[name](w) for name, w in measures],
            }
            for key, weight, measures in groups
        ],
    }


@dataclass(frozen=True)
class ScorecardTemplate:
    stage: str
    name: str
    description: str
    definition: dict[str, Any]


# Different weights per pillar: onboarding is about activation (active users, the paid
# onboarding contract); adoption and value about usage breadth and the relationship;
# renewal about the login trend, the last touchpoint and payment delays.
SCORECARDS: tuple[ScorecardTemplate, ...] = (
    ScorecardTemplate(
        stage=LifecycleStage.ONBOARDING,
        name="ヘルススコア：オンボーディング",
        description=(
            "導入初期のお客様向け。利用開始（アクティブユーザー数・ログイン率）と有償導入支援契約を"
            "重視します。" + EMAIL_NOTE_JA + "\n"
            "Onboarding health: activation (active users, login rate) and the paid "
            "onboarding contract weigh most. " + EMAIL_NOTE_EN
        ),
        definition=_definition(
            [
                ("usage", 55, [("active_users", 45), ("login_rate", 35), ("users_trend", 20)]),
                ("engagement", 20, [("touchpoint", 70), ("seminars", 30)]),
                ("financial", 25, [("paid_onboarding", 70), ("payment_delays", 30)]),
            ]
        ),
    ),
    ScorecardTemplate(
        stage=LifecycleStage.ADOPTION,
        name="ヘルススコア：活用",
        description=(
            "活用定着期のお客様向け。ログイン率と利用ユーザー数の推移を中心に、"
            "タッチポイント評価とセミナー参加を加味します。" + EMAIL_NOTE_JA + "\n"
            "Adoption health: login rate and the trend of active users first, then the "
            "touchpoint rating and seminar attendance. " + EMAIL_NOTE_EN
        ),
        definition=_definition(
            [
                (
                    "usage",
                    55,
                    [
                        ("login_rate", 40),
                        ("users_trend", 25),
                        ("login_trend", 20),
                        ("active_users", 15),
                    ],
                ),
                ("engagement", 25, [("touchpoint", 60), ("seminars", 40)]),
                ("relationship", 10, [("logo", 50), ("case_study", 50)]),
                ("financial", 10, [("payment_delays", 100)]),
            ]
        ),
    ),
    ScorecardTemplate(
        stage=LifecycleStage.VALUE,
        name="ヘルススコア：価値の実現",
        description=(
            "価値実現期のお客様向け。利用の水準と推移に加え、ロゴ受領・事例化など関係性の"
            "深さを重視します。" + EMAIL_NOTE_JA + "\n"
            "Value realisation health: usage level and trend, and how deep the "
            "relationship is (logo received, case study). " + EMAIL_NOTE_EN
        ),
        definition=_definition(
            [
                ("usage", 40, [("login_rate", 40), ("users_trend", 30), ("login_trend", 30)]),
                ("engagement", 25, [("touchpoint", 60), ("seminars", 40)]),
                ("relationship", 20, [("case_study", 60), ("logo", 40)]),
                ("financial", 15, [("payment_delays", 100)]),
            ]
        ),
    ),
    ScorecardTemplate(
        stage=LifecycleStage.RENEWAL,
        name="ヘルススコア：更新",
        description=(
            "更新期のお客様向け。ログイン数の推移、直近のタッチポイント評価、支払遅延実績を"
            "重視します。" + EMAIL_NOTE_JA + "\n"
            "Renewal health: the login trend, the last touchpoint rating and payment "
            "delays weigh most. " + EMAIL_NOTE_EN
        ),
        definition=_definition(
            [
                ("usage", 40, [("login_trend", 45), ("login_rate", 35), ("users_trend", 20)]),
                ("engagement", 30, [("touchpoint", 80), ("seminars", 20)]),
                ("relationship", 10, [("case_study", 50), ("logo", 50)]),
                ("financial", 20, [("payment_delays", 100)]),
            ]
        ),
    ),
)


# --- Segments ----------------------------------------------------------------------------

NOT_CHURNED = {"metric": "account.stage", "op": "not_in", "value": [LifecycleStage.CHURNED]}
NO_PAYMENT_DELAYS = {
    "not": {
        "metric": "account.custom_field",
        "params": {"field": "payment_delays"},
        "op": "is_true",
    }
}


@dataclass(frozen=True)
class SegmentTemplate:
    name: str
    description: str
    conditions: dict[str, Any]


SEGMENTS: tuple[SegmentTemplate, ...] = (
    SegmentTemplate(
        name="解約リスク",
        description=(
            "ログイン数が30%以上減少、利用ユーザー数が20%以上減少、ログイン率30%未満で"
            "直近のタッチポイント評価がpoor、またはヘルススコアが赤のお客様。"
            + EMAIL_NOTE_JA
            + "\nChurn risk: logins down 30 % or more, active users down 20 % or more, a "
            "login rate under 30 % with a poor last touchpoint, or a red health score. "
            + EMAIL_NOTE_EN
        ),
        conditions={
            "and": [
                NOT_CHURNED,
                {
                    "or": [
                        {
                            "metric": "usage.change",
                            "params": {"days": 30, "of": "logins"},
                            "op": "lte",
                            "value": -30,
                        },
                        {
                            "metric": "usage.change",
                            "params": {"days": 30, "of": "active_users"},
                            "op": "lte",
                            "value": -20,
                        },
                        # A low login rate alone is common in large accounts (many seats,
                        # few users); with a poor last touchpoint it is a risk.
                        {
                            "and": [
                                {
                                    "metric": "usage.login_rate",
                                    "params": {"days": 30},
                                    "op": "lt",
                                    "value": 30,
                                },
                                {
                                    "metric": "touchpoint.last_rating",
                                    "op": "in",
                                    "value": ["poor"],
                                },
                            ]
                        },
                        {"metric": "health.band", "op": "in", "value": ["red"]},
                    ]
                },
            ]
        },
    ),
    SegmentTemplate(
        name="アップセル機会",
        description=(
            "ログイン率80%以上かつ利用ユーザー数が10%以上増加、またはライセンスがほぼ満席"
            "（ログイン率90%以上）で、支払遅延実績のないお客様。"
            + EMAIL_NOTE_JA
            + "\nUpsell opportunity: login rate 80 % or more with active users up 10 % or "
            "more, or seats nearly full (login rate 90 % or more — active users per seat), "
            "and no payment delays on record. " + EMAIL_NOTE_EN
        ),
        conditions={
            "and": [
                NOT_CHURNED,
                {
                    "or": [
                        {
                            "and": [
                                {
                                    "metric": "usage.login_rate",
                                    "params": {"days": 30},
                                    "op": "gte",
                                    "value": 80,
                                },
                                {
                                    "metric": "usage.change",
                                    "params": {"days": 30, "of": "active_users"},
                                    "op": "gte",
                                    "value": 10,
                                },
                            ]
                        },
                        {
                            "metric": "usage.login_rate",
                            "params": {"days": 30},
                            "op": "gte",
                            "value": 90,
                        },
                    ]
                },
                NO_PAYMENT_DELAYS,
            ]
        },
    ),
)


# --- Installing ----------------------------------------------------------------------------


class TemplateError(ValueError):
    """A template cannot be installed (an existing custom field has another type…);
    nothing was installed."""


@dataclass
class InstallResult:
    """What `install` did; names of what it created and of what it found and kept."""

    fields_created: list[str] = field(default_factory=list)
    scorecards_created: list[str] = field(default_factory=list)
    scorecards_kept: list[str] = field(default_factory=list)
    segments_created: list[str] = field(default_factory=list)
    segments_kept: list[str] = field(default_factory=list)
    segments_unavailable: bool = False

    @property
    def created(self) -> int:
        return len(self.fields_created) + len(self.scorecards_created) + len(self.segments_created)


def _ensure_fields(actor: User | None, result: InstallResult) -> None:
    existing = {d.key: d for d in CustomFieldDefinition.objects.filter(key__in=CUSTOM_FIELDS)}
    for key, found in existing.items():
        if found.field_type != CustomFieldType.BOOLEAN:
            raise TemplateError(
                gettext(
                    "The custom field “%(key)s” exists with type “%(type)s”; the seed "
                    "templates need it to be yes / no. Nothing was installed."
                )
                % {"key": key, "type": found.field_type}
            )
    position = CustomFieldDefinition.objects.aggregate(top=Max("position"))["top"] or 0
    for key, (label_ja, label_en) in CUSTOM_FIELDS.items():
        if key in existing:
            continue
        position += 1
        definition = CustomFieldDefinition.objects.create(
            key=key,
            label_ja=label_ja,
            label_en=label_en,
            field_type=CustomFieldType.BOOLEAN,
            filterable=True,
            position=position,
        )
        audit.record_create(actor, definition)
        result.fields_created.append(key)


def _install_scorecards(actor: User | None, result: InstallResult) -> None:
    own = set(
        Scorecard.objects.filter(segment_id__isnull=True)
        .exclude(stage="")
        .values_list("stage", flat=True)
    )
    names = set(Scorecard.objects.values_list("name", flat=True))
    for template in SCORECARDS:
        if template.stage in own or template.name in names:
            # A stage with its own scorecard keeps it: templates never compete with a
            # manager's scorecard.
            result.scorecards_kept.append(template.name)
            continue
        try:
            services.create_scorecard(
                actor,
                name=template.name,
                description=template.description,
                stage=template.stage,
                definition=template.definition,
                note="シードテンプレート / Seed template",
            )
        except services.DefinitionError as exc:
            raise TemplateError(f"{template.name}: {exc}") from exc
        result.scorecards_created.append(template.name)


def _install_segments(actor: User | None, result: InstallResult) -> None:
    try:
        from kizuna.segments import services as segment_services
        from kizuna.segments.models import Segment
    except ImportError:  # pragma: no cover - segments ship with Kizuna
        result.segments_unavailable = True
        return
    taken = set(
        Segment.objects.filter(name__in=[t.name for t in SEGMENTS]).values_list("name", flat=True)
    )
    for template in SEGMENTS:
        if template.name in taken:
            result.segments_kept.append(template.name)
            continue
        try:
            segment_services.create_segment(
                actor,
                name=template.name,
                conditions=template.conditions,
                description=template.description,
            )
        except segment_services.InvalidSegment as exc:
            raise TemplateError(f"{template.name}: {exc}") from exc
        result.segments_created.append(template.name)


def install(actor: User | None = None) -> InstallResult:
    """Install the seed templates; idempotent (what exists is kept). Raises TemplateError
    and installs nothing when one of them cannot be installed. Scores and segment members
    follow with the next recompute (queued once this commits)."""
    result = InstallResult()
    with transaction.atomic():
        _ensure_fields(actor, result)
        _install_scorecards(actor, result)
        _install_segments(actor, result)
    return result
