"""Tech touch: email templates and the messages sent from them (by campaigns, flows and test
sends), tracking, consent and suppression, the one frequency cap, A/B tests, and in-app
guidance shown by kizuna.js.

Every email is a row (`EmailMessage`) from the moment it is decided: queued, then sent,
failed or bounced — or held back by the frequency cap or skipped (no address, unsubscribed,
a missing value), with the rule that held it. Nothing is sent that has no row, and a row is
never sent twice by the worker (see `sending.py`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.engagement.choices import (
    CampaignStatus,
    CategoryKind,
    ContentType,
    EmailEventKind,
    Frequency,
    HoldReason,
    IfInconclusive,
    InAppAudience,
    InAppEventKind,
    InAppKind,
    InAppStatus,
    MessageSource,
    MessageStatus,
    RecipientPhase,
    SuppressionReason,
    WinnerCriterion,
)

LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]


def new_token() -> str:
    """A random, URL-safe message id (used in tracking links and the Message-ID header)."""
    return secrets.token_urlsafe(16)


class EngagementSettings(models.Model):
    """The one set of sending rules for every team (a single row, pk=1)."""

    cap_messages = models.PositiveSmallIntegerField(
        _("at most this many messages"),
        default=2,
        help_text=_("Non-transactional emails one contact may receive in the period below."),
    )
    cap_days = models.PositiveSmallIntegerField(_("per this many days"), default=7)
    dedupe_days = models.PositiveSmallIntegerField(
        _("do not send the same content again within (days)"), default=30
    )
    send_rate = models.PositiveIntegerField(
        _("emails per second at most"),
        default=100,
        help_text=_("The worker never hands the mail server more than this."),
    )
    max_attempts = models.PositiveSmallIntegerField(_("attempts before an email fails"), default=8)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sending rules")
        verbose_name_plural = _("sending rules")

    def __str__(self) -> str:
        return str(_("Sending rules"))

    @classmethod
    def get(cls) -> EngagementSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class MessageCategory(models.Model):
    """A kind of message contacts can opt out of in the preference centre (webinars,
    newsletters, onboarding tips), or a transactional kind they cannot."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_ja = models.CharField(_("description (Japanese)"), max_length=300, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=CategoryKind.choices, default=CategoryKind.MARKETING
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("message category")
        verbose_name_plural = _("message categories")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name(None)

    def name(self, language: str | None) -> str:
        language = language or _current_language()
        return self.name_en if language == "en" and self.name_en else self.name_ja

    @property
    def transactional(self) -> bool:
        return self.kind == CategoryKind.TRANSACTIONAL


class SenderIdentity(models.Model):
    """Who an email is from, and the footer Japan's Act on Specified Electronic Mail
    (特定電子メール法) expects in commercial email: the sender's name, postal address and a
    contact for inquiries, next to the unsubscribe link."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    from_name = models.CharField(_("from name"), max_length=100)
    from_email = models.EmailField(_("from address"))
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    organisation = models.CharField(_("sender (company name)"), max_length=200)
    postal_address = models.CharField(_("postal address"), max_length=300)
    inquiries = models.CharField(
        _("contact for inquiries"),
        max_length=200,
        help_text=_("An email address, phone number or URL."),
    )
    is_default = models.BooleanField(_("default sender"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sender identity")
        verbose_name_plural = _("sender identities")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_sender"
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_name} <{self.from_email}>"


class EmailTemplate(models.Model):
    """An email in Japanese and English. Its content lives in versions: every save makes a
    new one, and each message records the version it was rendered from."""

    key = models.SlugField(
        _("key"),
        max_length=100,
        unique=True,
        help_text=_("How success flows refer to it, e.g. onboarding-programme."),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        MessageCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    sender = models.ForeignKey(
        SenderIdentity,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the default sender."),
    )
    content_type = models.CharField(
        _("content type"), max_length=16, choices=ContentType.choices, default=ContentType.OTHER
    )
    team = models.CharField(_("team"), max_length=100, blank=True)
    current = models.ForeignKey(
        "EmailTemplateVersion",
        verbose_name=_("current version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    archived = models.BooleanField(_("archived"), default=False)
    shipped = models.BooleanField(_("shipped with Kizuna"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("engagement:template", args=[self.pk])


class EmailTemplateVersion(models.Model):
    """One saved content of a template: subject, HTML and plain text in both languages.

    Bodies use `{{ contact.name|default:"ご担当者" }}` variables (see `rendering.py`); a
    version is only saved when every variable is known and the HTML is well formed."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    subject_ja = models.CharField(_("subject (Japanese)"), max_length=300)
    html_ja = models.TextField(_("HTML body (Japanese)"))
    text_ja = models.TextField(_("plain-text body (Japanese)"))
    subject_en = models.CharField(_("subject (English)"), max_length=300, blank=True)
    html_en = models.TextField(_("HTML body (English)"), blank=True)
    text_en = models.TextField(_("plain-text body (English)"), blank=True)
    # A hash of the normalised content: the same content saved by two teams in two templates
    # has the same hash, so the de-duplication rule sees it as the same message.
    content_hash = models.CharField(max_length=64, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("email template version")
        verbose_name_plural = _("email template versions")
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="one_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    def has_language(self, language: str) -> bool:
        return language == "ja" or bool(self.subject_en and self.html_en and self.text_en)


class Campaign(models.Model):
    """A one-off or scheduled send of a template to a segment's contacts, optionally as an
    A/B test: a share of the audience gets the variants, the rest the winner."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    template = models.ForeignKey(
        EmailTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    segment = models.ForeignKey(
        "segments.Segment",
        verbose_name=_("segment"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sender = models.ForeignKey(
        SenderIdentity,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the template's sender."),
    )
    team = models.CharField(_("team"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    audience_count = models.PositiveIntegerField(_("audience"), default=0)
    # A/B test (used when the campaign has two or more variants).
    test_share = models.PositiveSmallIntegerField(
        _("share of the audience in the test (%)"),
        default=20,
        help_text=_("The rest receives the winner. 100: everyone is in the test."),
    )
    winner_criterion = models.CharField(
        _("winner criterion"),
        max_length=16,
        choices=WinnerCriterion.choices,
        default=WinnerCriterion.OPEN_RATE,
    )
    test_hours = models.PositiveSmallIntegerField(_("pick the winner after (hours)"), default=24)
    if_inconclusive = models.CharField(
        _("when the difference is not significant"),
        max_length=16,
        choices=IfInconclusive.choices,
        default=IfInconclusive.BEST,
    )
    winner = models.ForeignKey(
        "CampaignVariant",
        verbose_name=_("winner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    winner_decided_at = models.DateTimeField(_("winner picked"), null=True, blank=True)
    # The figures the winner was picked on (rates, z, p-value), kept as they were then.
    decision = models.JSONField(_("decision"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("engagement:campaign", args=[self.pk])


class CampaignVariant(models.Model):
    """One arm of an A/B test: a subject and/or a different template, with a weight."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(_("label"), max_length=20)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    subject_ja = models.CharField(
        _("subject (Japanese)"), max_length=300, blank=True, help_text=_("Empty: the template's.")
    )
    subject_en = models.CharField(_("subject (English)"), max_length=300, blank=True)
    template = models.ForeignKey(
        EmailTemplate,
        verbose_name=_("content"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the campaign's template."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["campaign", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="one_variant_label")
        ]

    def __str__(self) -> str:
        return self.label


class CampaignRecipient(models.Model):
    """The audience as it was when the campaign started, and each contact's recorded random
    assignment to a variant (or to the rest, who get the winner)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    phase = models.CharField(max_length=8, choices=RecipientPhase.choices)
    variant = models.ForeignKey(
        CampaignVariant, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.OneToOneField(
        "EmailMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"], name="one_recipient_per_contact"
            )
        ]
        indexes = [models.Index(fields=["campaign", "phase"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.contact_id}"


class EmailMessage(models.Model):
    """One email to one contact, from decision to delivery and what the contact did with it."""

    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="emails",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="emails",
    )
    to_email = models.EmailField(_("to"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES, default="ja")
    template = models.ForeignKey(
        EmailTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(EmailTemplateVersion, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        MessageCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    sender = models.ForeignKey(
        SenderIdentity, verbose_name=_("sender"), on_delete=models.PROTECT, related_name="+"
    )
    transactional = models.BooleanField(_("transactional"), default=False)
    content_type = models.CharField(
        _("content type"), max_length=16, choices=ContentType.choices, default=ContentType.OTHER
    )
    # The variant's subject when an A/B test overrides it (rendered like the template's).
    subject_override = models.CharField(max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)  # as rendered
    content_hash = models.CharField(max_length=64, db_index=True)
    team = models.CharField(_("team"), max_length=100, blank=True)
    # Where it came from: a campaign, a flow step, a test send.
    source = models.CharField(_("source"), max_length=16, choices=MessageSource.choices)
    # Idempotency: a retried flow step or campaign batch finds its message by this key.
    source_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    variant = models.ForeignKey(
        CampaignVariant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    flow_enrolment_id = models.BigIntegerField(null=True, blank=True)
    flow_step = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=MessageStatus.choices,
        default=MessageStatus.QUEUED,
    )
    reason = models.CharField(_("reason"), max_length=16, choices=HoldReason.choices, blank=True)
    # The rule or value behind `reason`, in words ("2 in 7 days: 2 sent since 11/20").
    reason_detail = models.CharField(_("detail"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    smtp_response = models.CharField(max_length=500, blank=True)
    # The tracked links of the rendered HTML, by index: [{"url": ..., "text": ...}].
    links = models.JSONField(default=list, blank=True)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="email_due"),
            models.Index(fields=["contact", "sent_at"], name="email_contact_sent"),
            models.Index(fields=["contact", "content_hash"], name="email_contact_content"),
            models.Index(fields=["account", "queued_at"], name="email_account_queued"),
            models.Index(fields=["campaign", "status"], name="email_campaign_status"),
        ]

    def __str__(self) -> str:
        return self.subject or self.template.name

    @property
    def display_status(self) -> str:
        """The furthest the message got: clicked, opened, or its delivery status."""
        if self.clicked_at:
            return "clicked"
        if self.opened_at:
            return "opened"
        return self.status


class EmailEvent(models.Model):
    """What happened to a message, in order: sent, a retry, a bounce, each open and click."""

    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("what"), max_length=16, choices=EmailEventKind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    link_index = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["message", "kind"], name="email_event_message"),
            models.Index(fields=["kind", "at"], name="email_event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class Suppression(models.Model):
    """An address Kizuna never sends non-transactional email to again (hard bounces and
    complaints stop transactional mail too)."""

    email = models.EmailField(_("email"), unique=True)  # stored lower-cased
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    message = models.ForeignKey(
        EmailMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.email


class Preference(models.Model):
    """A contact's choice for one category, from the preference centre (no row: subscribed)."""

    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, related_name="email_preferences"
    )
    category = models.ForeignKey(MessageCategory, on_delete=models.CASCADE, related_name="+")
    subscribed = models.BooleanField(default=True)
    source = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "category"], name="one_preference")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}:{self.category_id}={self.subscribed}"


class InAppMessage(models.Model):
    """A banner, modal, tooltip tour or help popup shown in the customer's product by
    kizuna.js, with its targeting (who, which pages, after which event, after how long on the
    page) and how often it may be shown."""

    key = models.SlugField(
        _("key"),
        max_length=100,
        unique=True,
        help_text=_("How success flows refer to it, e.g. tutorial."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=8, choices=InAppKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=InAppStatus.choices, default=InAppStatus.DRAFT
    )
    content_type = models.CharField(
        _("content type"), max_length=16, choices=ContentType.choices, default=ContentType.OTHER
    )
    title_ja = models.CharField(_("title (Japanese)"), max_length=200, blank=True)
    body_ja = models.TextField(_("text (Japanese)"), blank=True)
    button_ja = models.CharField(_("button (Japanese)"), max_length=60, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    button_en = models.CharField(_("button (English)"), max_length=60, blank=True)
    button_url = models.CharField(_("button link"), max_length=2000, blank=True)
    # Tour steps, each anchored to a CSS selector of the customer's page:
    # [{"selector": "#reports", "title_ja": "...", "body_ja": "...", "title_en": ..., ...}]
    steps = models.JSONField(_("tour steps"), default=list, blank=True)
    audience = models.CharField(
        _("audience"), max_length=16, choices=InAppAudience.choices, default=InAppAudience.EVERYONE
    )
    segment = models.ForeignKey(
        "segments.Segment",
        verbose_name=_("segment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    url_pattern = models.CharField(
        _("pages"),
        max_length=500,
        blank=True,
        help_text=_("A path pattern such as /settings* ; empty: every page."),
    )
    event_name = models.CharField(
        _("after the event"),
        max_length=200,
        blank=True,
        help_text=_("Shown once the user has done this event (e.g. Signed In)."),
    )
    event_count = models.PositiveSmallIntegerField(
        _("for the Nth time"), default=1, help_text=_("2: from the second time on.")
    )
    dwell_seconds = models.PositiveIntegerField(_("after this many seconds on the page"), default=0)
    frequency = models.CharField(
        _("frequency"), max_length=16, choices=Frequency.choices, default=Frequency.ONCE
    )
    every_days = models.PositiveSmallIntegerField(_("every N days"), default=7)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=50, help_text=_("Higher first when several could show.")
    )
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    shipped = models.BooleanField(_("shipped with Kizuna"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("in-app message")
        verbose_name_plural = _("in-app messages")
        ordering = ["-priority", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("engagement:inapp", args=[self.pk])


class InAppAssignment(models.Model):
    """A success flow's "show in-app message" step: this account (or only this contact) is
    to see the message next time it matches."""

    message = models.ForeignKey(InAppMessage, on_delete=models.CASCADE, related_name="assignments")
    account = models.ForeignKey("customers.Account", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source_key = models.CharField(max_length=200, unique=True)
    flow_enrolment_id = models.BigIntegerField(null=True, blank=True)
    flow_step = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "message"], name="inapp_assignment_account")]

    def __str__(self) -> str:
        return self.source_key


class InAppState(models.Model):
    """How far one viewer got with one message, for its frequency rule."""

    message = models.ForeignKey(InAppMessage, on_delete=models.CASCADE, related_name="states")
    # The product's user id, or "anon:<anonymousId>" before identify.
    visitor = models.CharField(max_length=300)
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shown_count = models.PositiveIntegerField(default=0)
    first_shown_at = models.DateTimeField(null=True, blank=True)
    last_shown_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visitor", "message"], name="one_inapp_state")
        ]

    def __str__(self) -> str:
        return f"{self.visitor}:{self.message_id}"


class InAppEvent(models.Model):
    """Shown, dismissed, clicked, completed: what kizuna.js reported, for the results."""

    message = models.ForeignKey(InAppMessage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("what"), max_length=16, choices=InAppEventKind.choices)
    visitor = models.CharField(max_length=300)
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    url = models.CharField(max_length=2000, blank=True)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    preview = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["message", "kind"], name="inapp_event_message"),
            models.Index(fields=["account", "kind", "at"], name="inapp_event_account"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


def _current_language() -> str:
    from django.utils import translation

    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]
