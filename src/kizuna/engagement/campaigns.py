"""Campaigns: one-off or scheduled sends of a template to a segment's contacts, optionally as
an A/B test of subjects and/or contents.

The write side lives here: creating and editing (validated, with errors naming the field),
the audience shown before sending, `start` (the audience is snapshot into
`CampaignRecipient` rows with each contact's random assignment recorded, then queued through
`sending.queue_emails` in chunks by a background task), `schedule` and `cancel`. The read
side (progress, results, results by segment) is in `campaign_queries.py`; the A/B decision
in `abtest.py`.

Statuses: draft → (scheduled →) sending → sent, or draft → testing (the test group is out,
the rest waits for the winner) → sending → sent; cancelled from any unfinished status.
"""

from __future__ import annotations

import datetime
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.customers.models import Contact
from kizuna.engagement.campaign_queries import (  # noqa: F401  (the campaigns facade)
    Progress,
    Results,
    SegmentResults,
    progress,
    results,
    results_by_segment,
)
from kizuna.engagement.choices import (
    BLOCKS_TRANSACTIONAL,
    CampaignStatus,
    IfInconclusive,
    MessageStatus,
    RecipientPhase,
    WinnerCriterion,
)
from kizuna.engagement.models import (
    Campaign,
    CampaignRecipient,
    CampaignVariant,
    EmailMessage,
    EmailTemplate,
    MessageCategory,
    Preference,
    SenderIdentity,
    Suppression,
)
from kizuna.segments.models import Segment, SegmentMembership

logger = logging.getLogger(__name__)

CHUNK = 1000  # recipients written, and queued, per statement / per queue_emails call
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
STARTABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
UNFINISHED = (
    CampaignStatus.DRAFT,
    CampaignStatus.SCHEDULED,
    CampaignStatus.TESTING,
    CampaignStatus.SENDING,
)
MAX_VARIANTS = 10


class CampaignError(ValidationError):
    """A campaign change that was refused; `message_dict` names the fields at fault
    (``variants`` for the variants as a whole, ``variants.1.weight`` for one of them)."""


@dataclass(frozen=True)
class VariantSpec:
    """One arm of an A/B test as typed in the form or the API."""

    label: str
    weight: int = 1
    subject_ja: str = ""
    subject_en: str = ""
    template: EmailTemplate | None = None


@dataclass(frozen=True)
class CampaignSpec:
    """Everything a campaign is made of, validated by `create_campaign`/`update_campaign`."""

    name: str
    template: EmailTemplate
    segment: Segment
    sender: SenderIdentity | None = None
    team: str = ""
    description: str = ""
    test_share: int = 20
    winner_criterion: str = WinnerCriterion.OPEN_RATE
    test_hours: int = 24
    if_inconclusive: str = IfInconclusive.BEST
    variants: Sequence[VariantSpec] = ()


# --- The audience -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who a campaign to a segment would reach now: the segment's accounts, their contacts,
    and how many of those can be emailed (the others are recorded as skipped when sent)."""

    accounts: int
    contacts: int
    reachable: int
    no_email: int
    suppressed: int
    unsubscribed: int


def audience_contacts(segment: Segment) -> Any:
    """The contacts of the segment's current member accounts (a queryset)."""
    members = SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True)
    return Contact.objects.filter(account_id__in=members.values("account_id"))


def audience(segment: Segment, category: MessageCategory | None = None) -> Audience:
    """Count the audience of `segment` for a message of `category` (None: any marketing
    message). Three queries whatever the size of the segment."""
    accounts = SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).count()
    transactional = category is not None and category.transactional
    suppressions = Suppression.objects.filter(email=OuterRef("address"))
    if transactional:
        # Transactional mail still reaches unsubscribed addresses; only bounces and
        # complaints stop it.
        suppressions = suppressions.filter(reason__in=BLOCKS_TRANSACTIONAL)
    rows = audience_contacts(segment).annotate(
        address=Lower("email"), is_suppressed=Exists(suppressions)
    )
    if category is not None and not transactional:
        rows = rows.annotate(
            is_unsubscribed=Exists(
                Preference.objects.filter(
                    contact=OuterRef("pk"), category=category, subscribed=False
                )
            )
        )
        opted_out = Q(is_unsubscribed=True)
    else:
        rows = rows.annotate(is_unsubscribed=Value(False, output_field=BooleanField()))
        opted_out = Q(is_unsubscribed=True)
    has_email = ~Q(email="")
    totals = rows.aggregate(
        contacts=Count("id"),
        no_email=Count("id", filter=~has_email),
        suppressed=Count("id", filter=has_email & Q(is_suppressed=True)),
        unsubscribed=Count("id", filter=has_email & Q(is_suppressed=False) & opted_out),
        reachable=Count("id", filter=has_email & Q(is_suppressed=False) & ~opted_out),
    )
    return Audience(accounts=accounts, **{key: value or 0 for key, value in totals.items()})


# --- Creating and editing ---------------------------------------------------------------------


def _check(spec: CampaignSpec) -> list[VariantSpec]:
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not spec.name.strip():
        refuse("name", _("Give the campaign a name."))
    if spec.template.archived:
        refuse("template", _("This template is archived; choose another one."))
    if spec.template.current_id is None:
        refuse("template", _("This template has no saved content yet."))
    if not 1 <= spec.test_share <= 100:
        refuse("test_share", _("The share of the audience in the test is between 1 and 100%."))
    if spec.test_hours < 1:
        refuse("test_hours", _("Wait at least one hour before picking the winner."))
    if spec.winner_criterion not in WinnerCriterion.values:
        refuse("winner_criterion", _("Choose open rate or click rate."))
    if spec.if_inconclusive not in IfInconclusive.values:
        refuse("if_inconclusive", _("Choose what happens when the test is not significant."))
    variants = [
        variant
        for variant in spec.variants
        if variant.label.strip()
        or variant.subject_ja.strip()
        or variant.subject_en.strip()
        or variant.template
    ]
    if len(variants) == 1:
        refuse("variants", _("An A/B test needs at least two variants (or none for no test)."))
    if len(variants) > MAX_VARIANTS:
        refuse(
            "variants", _("An A/B test has at most %(count)d variants.") % {"count": MAX_VARIANTS}
        )
    labels: set[str] = set()
    for number, variant in enumerate(variants, start=1):
        where = f"variants.{number}"
        label = variant.label.strip()
        if not label:
            refuse(f"{where}.label", _("Variant %(number)d needs a label.") % {"number": number})
        elif label in labels:
            refuse(
                f"{where}.label",
                _("Two variants are labelled “%(label)s”; labels must differ.") % {"label": label},
            )
        labels.add(label)
        if len(label) > 20:
            refuse(f"{where}.label", _("A label has at most 20 characters."))
        if variant.weight < 1:
            refuse(
                f"{where}.weight",
                _("The weight of variant %(number)d must be 1 or more.") % {"number": number},
            )
        if variant.template is not None:
            if variant.template.category_id != spec.template.category_id:
                refuse(
                    f"{where}.template",
                    _(
                        "Variant %(number)d's template is in another category than the "
                        "campaign's template; both must be in the same category."
                    )
                    % {"number": number},
                )
            if variant.template.current_id is None or variant.template.archived:
                refuse(
                    f"{where}.template",
                    _("Variant %(number)d's template cannot be sent.") % {"number": number},
                )
        if variant.subject_en.strip() and not variant.subject_ja.strip():
            refuse(
                f"{where}.subject_ja",
                _("Variant %(number)d has an English subject but no Japanese one.")
                % {"number": number},
            )
        for field in ("subject_ja", "subject_en"):
            value = getattr(variant, field)
            if "\n" in value or "\r" in value:
                refuse(f"{where}.{field}", _("A subject is one line."))
            elif len(value) > 300:
                refuse(f"{where}.{field}", _("A subject has at most 300 characters."))
    if errors:
        raise CampaignError(errors)
    return variants


def _write(campaign: Campaign, spec: CampaignSpec, variants: list[VariantSpec]) -> None:
    campaign.name = spec.name.strip()
    campaign.template = spec.template
    campaign.segment = spec.segment
    campaign.sender = spec.sender
    campaign.team = spec.team.strip()
    campaign.description = spec.description
    campaign.test_share = spec.test_share
    campaign.winner_criterion = spec.winner_criterion
    campaign.test_hours = spec.test_hours
    campaign.if_inconclusive = spec.if_inconclusive
    campaign.save()
    CampaignVariant.objects.filter(campaign=campaign).delete()
    CampaignVariant.objects.bulk_create(
        [
            CampaignVariant(
                campaign=campaign,
                label=variant.label.strip(),
                weight=variant.weight,
                subject_ja=variant.subject_ja.strip(),
                subject_en=variant.subject_en.strip(),
                template=variant.template,
                position=position,
            )
            for position, variant in enumerate(variants)
        ]
    )


def create_campaign(actor: User | None, spec: CampaignSpec) -> Campaign:
    """Create a draft campaign. Raises CampaignError naming the fields at fault."""
    variants = _check(spec)
    campaign = Campaign(created_by=actor if actor is not None and actor.pk else None)
    with transaction.atomic():
        _write(campaign, spec, variants)
        audit.record_create(actor, campaign)
    return campaign


def update_campaign(actor: User | None, campaign: Campaign, spec: CampaignSpec) -> Campaign:
    """Change a draft or scheduled campaign (its variants are replaced by `spec.variants`)."""
    variants = _check(spec)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status not in EDITABLE:
            raise CampaignError(
                {"status": [_("Only a draft or scheduled campaign can be changed.")]}
            )
        before = audit.snapshot(campaign)
        _write(campaign, spec, variants)
        audit.record_update(actor, campaign, before)
    return campaign


def variants_of(campaign: Campaign) -> list[CampaignVariant]:
    return list(campaign.variants.select_related("template").order_by("position", "id"))


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


# --- Starting, scheduling, cancelling ---------------------------------------------------------


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` into parts proportional to `weights` (largest remainders get the rest)."""
    whole = sum(weights)
    exact = [total * weight / whole for weight in weights]
    parts = [int(value) for value in exact]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (exact[i] - parts[i], -i), reverse=True
    )
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _snapshot(campaign: Campaign, variants: list[CampaignVariant], now: datetime.datetime) -> int:
    """Write the recipients with their random assignment; return how many there are."""
    contacts = list(
        audience_contacts(campaign.segment).order_by("id").values_list("id", "account_id")
    )
    rng = random.SystemRandom()
    rng.shuffle(contacts)
    assignments: list[tuple[int, int, str, CampaignVariant | None]] = []
    if variants:
        in_test = (
            len(contacts)
            if campaign.test_share >= 100
            else round(len(contacts) * campaign.test_share / 100)
        )
        start = 0
        for variant, size in zip(
            variants, allocate(in_test, [variant.weight for variant in variants]), strict=True
        ):
            for contact_id, account_id in contacts[start : start + size]:
                assignments.append((contact_id, account_id, RecipientPhase.TEST, variant))
            start += size
        for contact_id, account_id in contacts[in_test:]:
            assignments.append((contact_id, account_id, RecipientPhase.REST, None))
    else:
        assignments = [
            (contact_id, account_id, RecipientPhase.ALL, None)
            for contact_id, account_id in contacts
        ]
    assignments.sort(key=lambda row: row[0])
    for begin in range(0, len(assignments), CHUNK):
        CampaignRecipient.objects.bulk_create(
            [
                CampaignRecipient(
                    campaign=campaign,
                    contact_id=contact_id,
                    account_id=account_id,
                    phase=phase,
                    variant=variant,
                    assigned_at=now,
                )
                for contact_id, account_id, phase, variant in assignments[begin : begin + CHUNK]
            ],
            ignore_conflicts=True,
        )
    return len(assignments)


def start(
    campaign: Campaign, actor: User | None, *, now: datetime.datetime | None = None
) -> Campaign:
    """Start a draft or scheduled campaign now: snapshot the audience (with the A/B test
    assignment) and queue the emails in the background, after the transaction commits.
    Raises CampaignError when the campaign cannot start."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status not in STARTABLE:
            raise CampaignError(
                {"status": [_("This campaign has already been started or cancelled.")]}
            )
        template = EmailTemplate.objects.get(pk=campaign.template_id)
        if template.current_id is None or template.archived:
            raise CampaignError({"template": [_("The campaign's template cannot be sent.")]})
        if campaign.sender_id is None and template.sender_id is None:
            from kizuna.engagement.sending import default_sender

            if default_sender() is None:
                raise CampaignError(
                    {"sender": [_("No sender identity: add one under Senders first.")]}
                )
        before = audit.snapshot(campaign)
        variants = variants_of(campaign)
        campaign.audience_count = _snapshot(campaign, variants, now)
        campaign.status = CampaignStatus.TESTING if variants else CampaignStatus.SENDING
        campaign.started_at = now
        campaign.save()
        audit.record_update(actor, campaign, before)
        phase = RecipientPhase.TEST if variants else RecipientPhase.ALL
        transaction.on_commit(partial(enqueue_queueing, campaign.pk, phase))
    return campaign


def schedule(
    campaign: Campaign,
    when: datetime.datetime,
    actor: User | None = None,
    *,
    now: datetime.datetime | None = None,
) -> Campaign:
    """Start the campaign at `when` (a periodic job starts due campaigns)."""
    now = now or timezone.now()
    if when <= now:
        raise CampaignError({"scheduled_at": [_("Choose a time in the future.")]})
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status not in EDITABLE:
            raise CampaignError(
                {"status": [_("Only a draft or scheduled campaign can be scheduled.")]}
            )
        before = audit.snapshot(campaign)
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_at = when
        campaign.save()
        audit.record_update(actor, campaign, before)
    return campaign


def unschedule(campaign: Campaign, actor: User | None = None) -> Campaign:
    """Turn a scheduled campaign back into a draft."""
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status != CampaignStatus.SCHEDULED:
            raise CampaignError({"status": [_("This campaign is not scheduled.")]})
        before = audit.snapshot(campaign)
        campaign.status = CampaignStatus.DRAFT
        campaign.scheduled_at = None
        campaign.save()
        audit.record_update(actor, campaign, before)
    return campaign


def cancel(
    campaign: Campaign, actor: User | None = None, *, now: datetime.datetime | None = None
) -> Campaign:
    """Stop a campaign: nothing more is queued, and its emails still waiting in the queue
    are skipped (those already handed to the mail server stay sent)."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status not in UNFINISHED:
            raise CampaignError({"status": [_("This campaign is already finished.")]})
        before = audit.snapshot(campaign)
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = now
        campaign.save()
        # Only rows the worker has not claimed: it claims QUEUED rows, so the two never clash.
        EmailMessage.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SKIPPED,
            reason_detail=_("The campaign was cancelled."),
        )
        audit.record_update(actor, campaign, before)
    return campaign


# --- Queueing (background) --------------------------------------------------------------------


def enqueue_queueing(campaign_id: int, phase: str) -> None:
    """Hand the queueing of one phase to the task queue (the periodic job catches up on any
    that was missed)."""
    from kizuna.engagement import campaign_jobs

    try:
        campaign_jobs.queue_campaign.enqueue(campaign_id, phase)
    except Exception:
        logger.exception("Could not enqueue the queueing of campaign %s (%s)", campaign_id, phase)


def queue_phase(campaign_id: int, phase: str, *, now: datetime.datetime | None = None) -> int:
    """Queue the emails of one phase's recipients that have none yet, in chunks, and link
    each recipient to its message. Idempotent: the messages' source keys make a retry find
    what an earlier run queued. Returns how many recipients were linked."""
    from kizuna.engagement import sending

    campaign = Campaign.objects.select_related("template", "sender", "winner").get(pk=campaign_id)
    if campaign.status not in (CampaignStatus.SENDING, CampaignStatus.TESTING):
        return 0
    if phase == RecipientPhase.REST and campaign.winner is None:
        return 0
    variants = {variant.pk: variant for variant in variants_of(campaign)}
    linked = 0
    last_id = 0
    while True:
        chunk = list(
            CampaignRecipient.objects.filter(
                campaign=campaign, phase=phase, message__isnull=True, pk__gt=last_id
            ).order_by("pk")[:CHUNK]
        )
        if not chunk:
            break
        last_id = chunk[-1].pk
        chunk.sort(key=lambda row: row.contact_id)
        contact_ids = [row.contact_id for row in chunk]
        if phase == RecipientPhase.TEST:
            assigned = {row.contact_id: variants[row.variant_id] for row in chunk if row.variant_id}
        elif phase == RecipientPhase.REST:
            assert campaign.winner is not None
            assigned = dict.fromkeys(
                contact_ids, variants.get(campaign.winner_id or 0, campaign.winner)
            )
        else:
            assigned = {}
        result = sending.queue_emails(
            campaign.template,
            contact_ids,
            source="campaign",
            key_prefix=f"campaign:{campaign.pk}:{phase}",
            campaign=campaign,
            variants=assigned or None,
            sender=campaign.sender,
            team=campaign.team,
            now=now,
        )
        for row, message_id in zip(chunk, result.message_ids, strict=True):
            row.message_id = message_id
        CampaignRecipient.objects.bulk_update(chunk, ["message"])
        linked += len(chunk)
    return linked


def queue_pending(*, now: datetime.datetime | None = None) -> int:
    """Catch up: queue every phase of a running campaign that still has recipients without
    a message (an enqueue lost in a crash, a worker stopped halfway)."""
    pending = (
        CampaignRecipient.objects.filter(
            message__isnull=True,
            campaign__status__in=[CampaignStatus.SENDING, CampaignStatus.TESTING],
        )
        .filter(~Q(phase=RecipientPhase.REST) | Q(campaign__winner__isnull=False))
        .values_list("campaign_id", "phase")
        .distinct()
        .order_by()
    )
    return sum(queue_phase(campaign_id, phase, now=now) for campaign_id, phase in pending)


def start_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Start the scheduled campaigns whose time has come; return their ids."""
    now = now or timezone.now()
    started: list[int] = []
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now)
    for campaign in due.order_by("scheduled_at", "pk"):
        try:
            start(campaign, None, now=now)
        except CampaignError:
            # Started or cancelled meanwhile by someone else, or its template was archived:
            # the campaign page shows its state.
            logger.warning("Scheduled campaign %s could not start", campaign.pk)
            continue
        started.append(campaign.pk)
    return started


def finish_sent(*, now: datetime.datetime | None = None) -> list[int]:
    """Mark SENDING campaigns SENT once every recipient's email is out (no recipient waits
    for a message, and none of their messages is queued or being sent)."""
    now = now or timezone.now()
    waiting = CampaignRecipient.objects.filter(campaign=OuterRef("pk")).filter(
        Q(message__isnull=True)
        | Q(message__status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
    )
    done = list(
        Campaign.objects.filter(status=CampaignStatus.SENDING)
        .filter(~Exists(waiting))
        .values_list("pk", flat=True)
    )
    if done:
        Campaign.objects.filter(pk__in=done, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.SENT, finished_at=now
        )
    return done


def recipients_by_variant(campaign: Campaign) -> dict[int | None, int]:
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign)
        .values("variant_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["variant_id"]: row["count"] for row in rows}
