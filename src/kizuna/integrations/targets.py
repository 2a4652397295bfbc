"""What each object type's columns can fill, and the forms that hold its rules.

An import validates every row with the same ModelForm the pages use (`AccountForm`,
`ContactForm`, …), so an imported row obeys exactly the rules of a row typed in by hand. The
subclasses here only adapt those forms to a whole file: uniqueness is checked for the file at
once instead of a query per row, and the opportunity form also takes the external id that the
page does not show.

A target is named the way mappings, exports and the command line name it: the model field
(``name``, ``owner``), ``account_external_id`` for the account a row belongs to, and
``custom.<key>`` for a custom field of accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kizuna.customers.forms import (
    CUSTOM_PREFIX,
    AccountForm,
    ContactForm,
    OpportunityForm,
    SubscriptionForm,
    TouchpointForm,
)
from kizuna.customers.models import (
    Account,
    Contact,
    CustomFieldDefinition,
    Opportunity,
    Subscription,
    Touchpoint,
)
from kizuna.integrations.models import ObjectType

ACCOUNT_KEY = "account_external_id"
CUSTOM = "custom."


class _FileLevelUniqueness:
    """The importer checks external ids (and other unique values) for the whole file with a
    few set-based queries; the per-row uniqueness query of a ModelForm is skipped."""

    def validate_unique(self) -> None:
        return None

    def validate_constraints(self) -> None:
        # Only models with Meta.constraints have anything to check (none of the customer
        # models today); skipping the call saves recomputing the exclusions for every row.
        if self.instance._meta.constraints:  # type: ignore[attr-defined]
            super().validate_constraints()  # type: ignore[misc]


class AccountImportForm(_FileLevelUniqueness, AccountForm):
    pass


class ContactImportForm(_FileLevelUniqueness, ContactForm):
    pass


class SubscriptionImportForm(_FileLevelUniqueness, SubscriptionForm):
    pass


class OpportunityImportForm(_FileLevelUniqueness, OpportunityForm):
    class Meta(OpportunityForm.Meta):
        fields = [*OpportunityForm.Meta.fields, "external_id"]

    def clean_external_id(self) -> str | None:
        return self.cleaned_data.get("external_id") or None


class TouchpointImportForm(_FileLevelUniqueness, TouchpointForm):
    """Touchpoints are imported without their contacts (the page picks them from a list)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The page's form lists the account's contacts; here that list is removed before it
        # is ever queried, so a placeholder account does.
        kwargs.setdefault("account", Account(pk=0))
        super().__init__(*args, **kwargs)
        del self.fields["contacts"]


@dataclass(frozen=True)
class Target:
    """A field that a column of a file can fill."""

    name: str
    label: str | Promise
    # Header names, in Japanese and English, that suggest this target (see mapping.suggest).
    aliases: tuple[str, ...] = ()
    # Needed to create a record; an update may leave the column out.
    required_to_create: bool = False

    @property
    def form_field(self) -> str:
        """The name of the form field that validates this target."""
        if self.name.startswith(CUSTOM):
            return CUSTOM_PREFIX + self.name.removeprefix(CUSTOM)
        return self.name


@dataclass(frozen=True)
class ObjectSpec:
    """How one object type is imported and exported."""

    object_type: ObjectType
    model: type[models.Model]
    form_class: type[forms.ModelForm[Any]]
    targets: tuple[Target, ...]
    # Targets resolved to a user of Kizuna by user name, e-mail or name.
    user_targets: tuple[str, ...] = ()
    # Unique fields besides the external id, checked for the whole file.
    unique_fields: tuple[str, ...] = ()
    # Text normalised to NFKC (full-width digits and letters, half-width kana).
    normalised: tuple[str, ...] = ()
    # Pairs where one value is derived from the other when only one column is given.
    derived_pairs: tuple[tuple[str, str], ...] = ()
    # Groups where a new record needs at least one of the columns.
    required_any: tuple[tuple[str, ...], ...] = ()
    # Relations that the audit log shows by name, so existing rows load them in one join.
    related: tuple[str, ...] = ()
    # Fields Kizuna computes: exported for reading, ignored by an import.
    read_only: tuple[str, ...] = ()

    @property
    def has_account(self) -> bool:
        return self.object_type != ObjectType.ACCOUNTS

    @property
    def label(self) -> str | Promise:
        return ObjectType(self.object_type).label

    def all_targets(self, definitions: Sequence[CustomFieldDefinition] = ()) -> list[Target]:
        """The targets of this object type; for accounts, with one per custom field."""
        targets = list(self.targets)
        if self.object_type == ObjectType.ACCOUNTS:
            targets += [custom_target(definition) for definition in definitions]
        return targets


def custom_target(definition: CustomFieldDefinition) -> Target:
    return Target(
        name=CUSTOM + definition.key,
        label=definition.label,
        aliases=(definition.key, definition.label_ja, definition.label_en),
        required_to_create=definition.required and definition.field_type != "boolean",
    )


def _label(model: type[models.Model], name: str) -> str | Promise:
    return model._meta.get_field(name).verbose_name  # type: ignore[union-attr]


EXTERNAL_ID_ALIASES = ("外部ID", "外部キー", "External ID", "External Key", "ID", "CRM ID")
ACCOUNT_KEY_ALIASES = (
    "取引先ID",
    "取引先コード",
    "取引先外部ID",
    "顧客ID",
    "顧客コード",
    "会社ID",
    "企業ID",
    "アカウントID",
    "Account ID",
    "Account External ID",
    "Account Key",
    "Customer ID",
    "Company ID",
)
OWNER_ALIASES = (
    "担当者",
    "担当",
    "担当CSM",
    "CSM",
    "担当CS",
    "所有者",
    "オーナー",
    "Owner",
    "Account Owner",
    "CSM Owner",
)
CURRENCY_ALIASES = ("通貨", "Currency")


def _account_key() -> Target:
    return Target(
        ACCOUNT_KEY, _("account external ID"), ACCOUNT_KEY_ALIASES, required_to_create=True
    )


ACCOUNTS = ObjectSpec(
    object_type=ObjectType.ACCOUNTS,
    model=Account,
    form_class=AccountImportForm,
    targets=(
        Target(
            "external_id",
            _label(Account, "external_id"),
            (
                *EXTERNAL_ID_ALIASES,
                *ACCOUNT_KEY_ALIASES,
                "CRM/外部ID",
                "SFID",
                "Salesforce ID",
            ),
        ),
        Target(
            "name",
            _label(Account, "name"),
            (
                "会社名",
                "企業名",
                "取引先名",
                "顧客名",
                "法人名",
                "社名",
                "名称",
                "アカウント名",
                "Account Name",
                "Company",
                "Company Name",
                "Customer",
                "Customer Name",
                "Organization",
                "Organisation",
            ),
            required_to_create=True,
        ),
        Target(
            "name_kana",
            _label(Account, "name_kana"),
            (
                "フリガナ",
                "ふりがな",
                "カナ",
                "かな",
                "ヨミ",
                "よみ",
                "よみがな",
                "読み",
                "読み仮名",
                "会社名カナ",
                "会社名フリガナ",
                "企業名カナ",
                "取引先名カナ",
                "取引先名フリガナ",
                "Kana",
                "Furigana",
                "Name Kana",
                "Kana Name",
            ),
        ),
        Target(
            "domain",
            _label(Account, "domain"),
            ("ドメイン", "ウェブサイト", "Webサイト", "ホームページ", "URL", "Website", "Web"),
        ),
        Target("industry", _label(Account, "industry"), ("業種", "業界", "Industry")),
        Target(
            "employees",
            _label(Account, "employees"),
            ("従業員数", "社員数", "従業員", "Employees", "Number of Employees", "Headcount"),
        ),
        Target("region", _label(Account, "region"), ("地域", "エリア", "地方", "Region", "Area")),
        Target("owner", _label(Account, "owner"), OWNER_ALIASES),
        Target(
            "stage",
            _label(Account, "stage"),
            (
                "ステージ",
                "ライフサイクル",
                "ライフサイクルステージ",
                "フェーズ",
                "Stage",
                "Lifecycle",
                "Lifecycle Stage",
                "Phase",
            ),
        ),
    ),
    user_targets=("owner",),
    normalised=("name_kana", "domain"),
    related=("owner",),
    read_only=("tier", "arr", "mrr", "next_renewal_date"),
)

CONTACTS = ObjectSpec(
    object_type=ObjectType.CONTACTS,
    model=Contact,
    form_class=ContactImportForm,
    targets=(
        Target(
            "external_id",
            _label(Contact, "external_id"),
            (*EXTERNAL_ID_ALIASES, "担当者ID", "連絡先ID", "コンタクトID", "Contact ID"),
        ),
        _account_key(),
        Target(
            "name",
            _label(Contact, "name"),
            ("氏名", "名前", "お名前", "担当者名", "担当者", "Name", "Full Name", "Contact Name"),
            required_to_create=True,
        ),
        Target(
            "name_kana",
            _label(Contact, "name_kana"),
            ("フリガナ", "ふりがな", "氏名カナ", "氏名フリガナ", "カナ", "よみがな", "Kana"),
        ),
        Target(
            "title",
            _label(Contact, "title"),
            ("役職", "肩書", "肩書き", "部署・役職", "Title", "Job Title", "Role", "Position"),
        ),
        Target(
            "email",
            _label(Contact, "email"),
            ("メール", "メールアドレス", "Eメール", "E-mail", "Email", "Email Address", "Mail"),
        ),
        Target(
            "phone",
            _label(Contact, "phone"),
            ("電話", "電話番号", "TEL", "携帯", "携帯電話", "Phone", "Phone Number", "Mobile"),
        ),
        Target(
            "is_champion", _label(Contact, "is_champion"), ("チャンピオン", "推進者", "Champion")
        ),
        Target(
            "is_decision_maker",
            _label(Contact, "is_decision_maker"),
            ("決裁者", "意思決定者", "Decision Maker"),
        ),
        Target(
            "product_user_id",
            _label(Contact, "product_user_id"),
            ("ユーザーID", "製品ユーザーID", "プロダクトユーザーID", "Product User ID", "User ID"),
        ),
    ),
    unique_fields=("product_user_id",),
    normalised=("name_kana", "email", "phone"),
    related=("account",),
)

SUBSCRIPTIONS = ObjectSpec(
    object_type=ObjectType.SUBSCRIPTIONS,
    model=Subscription,
    form_class=SubscriptionImportForm,
    targets=(
        Target(
            "external_id",
            _label(Subscription, "external_id"),
            (*EXTERNAL_ID_ALIASES, "契約ID", "契約番号", "Subscription ID", "Contract ID"),
        ),
        _account_key(),
        Target(
            "product",
            _label(Subscription, "product"),
            ("製品", "製品名", "商品", "商品名", "サービス", "サービス名", "Product"),
            required_to_create=True,
        ),
        Target("plan", _label(Subscription, "plan"), ("プラン", "契約プラン", "Plan")),
        Target(
            "seats",
            _label(Subscription, "seats"),
            (
                "席数",
                "ライセンス数",
                "ID数",
                "ユーザー数",
                "契約ID数",
                "Seats",
                "Licenses",
                "Quantity",
            ),
        ),
        Target(
            "mrr",
            _label(Subscription, "mrr"),
            ("MRR", "月額", "月額料金", "月額費用", "月額利用料", "Monthly", "Monthly Amount"),
        ),
        Target(
            "arr",
            _label(Subscription, "arr"),
            ("ARR", "年額", "年額料金", "年間契約金額", "年間金額", "Annual", "Annual Amount"),
        ),
        Target("currency", _label(Subscription, "currency"), CURRENCY_ALIASES),
        Target(
            "start_date",
            _label(Subscription, "start_date"),
            ("契約開始日", "開始日", "利用開始日", "Start Date", "Start", "Contract Start"),
            required_to_create=True,
        ),
        Target(
            "end_date",
            _label(Subscription, "end_date"),
            (
                "契約終了日",
                "終了日",
                "更新日",
                "契約更新日",
                "Renewal Date",
                "End Date",
                "Contract End",
            ),
        ),
        Target(
            "status",
            _label(Subscription, "status"),
            ("状態", "ステータス", "契約状態", "契約ステータス", "Status"),
        ),
        Target("auto_renew", _label(Subscription, "auto_renew"), ("自動更新", "Auto Renew")),
    ),
    derived_pairs=(("mrr", "arr"),),
    required_any=(("mrr", "arr"),),
    related=("account",),
)

OPPORTUNITIES = ObjectSpec(
    object_type=ObjectType.OPPORTUNITIES,
    model=Opportunity,
    form_class=OpportunityImportForm,
    targets=(
        Target(
            "external_id",
            _label(Opportunity, "external_id"),
            (*EXTERNAL_ID_ALIASES, "商談ID", "案件ID", "Opportunity ID", "Deal ID"),
        ),
        _account_key(),
        Target(
            "name",
            _label(Opportunity, "name"),
            ("商談名", "案件名", "Opportunity Name", "Deal Name", "Name"),
            required_to_create=True,
        ),
        Target(
            "kind",
            _label(Opportunity, "kind"),
            ("種別", "商談種別", "種類", "区分", "Type", "Kind"),
            required_to_create=True,
        ),
        Target(
            "amount",
            _label(Opportunity, "amount"),
            ("金額", "見込金額", "商談金額", "Amount"),
            required_to_create=True,
        ),
        Target("currency", _label(Opportunity, "currency"), CURRENCY_ALIASES),
        Target(
            "stage",
            _label(Opportunity, "stage"),
            ("フェーズ", "ステージ", "商談フェーズ", "Stage", "Phase"),
        ),
        Target(
            "close_date",
            _label(Opportunity, "close_date"),
            ("完了予定日", "クローズ日", "受注予定日", "Close Date", "Expected Close"),
            required_to_create=True,
        ),
        Target("owner", _label(Opportunity, "owner"), OWNER_ALIASES),
    ),
    user_targets=("owner",),
    related=("account", "owner"),
)

TOUCHPOINTS = ObjectSpec(
    object_type=ObjectType.TOUCHPOINTS,
    model=Touchpoint,
    form_class=TouchpointImportForm,
    targets=(
        Target(
            "external_id",
            _("external ID"),
            (*EXTERNAL_ID_ALIASES, "活動ID", "履歴ID", "対応ID", "Touchpoint ID", "Activity ID"),
        ),
        _account_key(),
        Target(
            "kind",
            _label(Touchpoint, "kind"),
            ("種別", "活動種別", "対応種別", "種類", "Type", "Kind", "Activity Type"),
            required_to_create=True,
        ),
        Target(
            "occurred_at",
            _label(Touchpoint, "occurred_at"),
            ("日時", "日付", "実施日", "実施日時", "活動日", "対応日", "Date", "Occurred At"),
            required_to_create=True,
        ),
        Target("channel", _label(Touchpoint, "channel"), ("チャネル", "手段", "Channel")),
        Target("rating", _label(Touchpoint, "rating"), ("評価", "手応え", "Rating")),
        Target(
            "subject",
            _label(Touchpoint, "subject"),
            ("件名", "タイトル", "表題", "Subject", "Title"),
            required_to_create=True,
        ),
        Target(
            "body",
            _label(Touchpoint, "body"),
            ("内容", "メモ", "詳細", "本文", "備考", "Notes", "Body", "Description"),
        ),
        Target(
            "author",
            _label(Touchpoint, "author"),
            ("記録者", "対応者", "実施者", "担当者", "担当", "担当CSM", "Author", "Logged By"),
        ),
    ),
    user_targets=("author",),
    related=("account", "author"),
)

SPECS: dict[str, ObjectSpec] = {
    spec.object_type: spec
    for spec in (ACCOUNTS, CONTACTS, SUBSCRIPTIONS, OPPORTUNITIES, TOUCHPOINTS)
}
# Names the command line also accepts.
ALIASES = {"contracts": ObjectType.SUBSCRIPTIONS.value}


def spec_for(object_type: str) -> ObjectSpec:
    return SPECS[ALIASES.get(object_type, object_type)]
