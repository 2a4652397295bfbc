"""Queueing and sending email: the one place every team's messages pass through.

`queue_emails` decides, for many contacts at once and under one lock, which messages go out
and which are held back or skipped, and why (the frequency cap, the same content again, no
address, unsubscribed, suppressed); every decision is a row. `send_due` is the worker: it
claims queued rows, renders and composes them, and hands them to the mail server over one
connection at most `send_rate` per second, retrying what failed for a passing reason and
bouncing what the server refused for good. A row is claimed (SENDING) before it is sent and
marked SENT right after the server accepted it, so no worker sends it a second time.
"""

from __future__ import annotations

import datetime
import json
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core.debounce import Debounced
from kizuna.customers.models import Contact
from kizuna.engagement import cap, smtp
from kizuna.engagement.choices import (
    BLOCKS_TRANSACTIONAL,
    EmailEventKind,
    HoldReason,
    MessageStatus,
    SuppressionReason,
)
from kizuna.engagement.models import (
    Campaign,
    CampaignVariant,
    EmailEvent,
    EmailMessage,
    EmailTemplate,
    EmailTemplateVersion,
    EngagementSettings,
    Preference,
    SenderIdentity,
    Suppression,
)

logger = logging.getLogger(__name__)

QUEUE_CHUNK = 2000
# A SENDING row not finished after this long belongs to a worker that died: queue it again.
STALE_CLAIM = datetime.timedelta(minutes=10)
# Accepted messages are written as SENT at least this often, so a crash loses little.
FLUSH_EVERY = 50
# SMTP connections the worker keeps open at once (ENGAGEMENT_SMTP["connections"] overrides).
SMTP_CONNECTIONS = 4
# Minutes to wait before attempt 2, 3, 4, …; the last value repeats.
BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720, 1440)


class NoSender(ValueError):
    """No sender identity: neither given, nor on the template, nor a default one."""


@dataclass(frozen=True)
class QueueResult:
    queued: int
    held: int
    skipped: int
    existing: int
    message_ids: list[int]  # all rows made or found, in contact order


@dataclass
class SendReport:
    configured: bool = True
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    bounced: int = 0
    skipped: int = 0
    released: int = 0
    error: str = ""


# --- Queueing --------------------------------------------------------------------------------


def default_sender() -> SenderIdentity | None:
    return SenderIdentity.objects.filter(is_default=True).first() or SenderIdentity.objects.first()


@dataclass(frozen=True)
class _Content:
    template: EmailTemplate
    version: EmailTemplateVersion
    variant: CampaignVariant | None


def queue_emails(
    template: EmailTemplate,
    contact_ids: Sequence[int],
    *,
    source: str,
    key_prefix: str | None = None,
    campaign: Campaign | None = None,
    variants: Mapping[int, CampaignVariant] | None = None,
    sender: SenderIdentity | None = None,
    flow_enrolment_id: int | None = None,
    flow_step: str = "",
    team: str = "",
    now: datetime.datetime | None = None,
) -> QueueResult:
    """Make one EmailMessage per contact (an existing `key_prefix:contact_id` row is found,
    not made again), decided in this order: no address -> skipped; suppressed -> skipped;
    unsubscribed from the category (non-transactional) -> skipped; the same content within
    `dedupe_days` -> held; the frequency cap -> held; otherwise queued. A few queries per
    chunk of contacts whatever its size; the send task is enqueued after commit."""
    from kizuna.engagement import rendering

    now = now or timezone.now()
    rules = EngagementSettings.get()
    if template.current_id is None:
        raise ValueError(_("The template %(name)s has no saved content.") % {"name": template})
    sender = (
        sender
        or (campaign.sender if campaign is not None else None)
        or template.sender
        or default_sender()
    )
    if sender is None:
        raise NoSender(_("No sender identity: add one under Senders first."))
    team = team or (campaign.team if campaign is not None else "") or template.team
    transactional = template.category.transactional
    contents = _contents(template, variants or {})

    ordered = list(dict.fromkeys(int(cid) for cid in contact_ids))
    totals = {"queued": 0, "held": 0, "skipped": 0, "existing": 0}
    ids: list[int] = []
    for start in range(0, len(ordered), QUEUE_CHUNK):
        chunk = ordered[start : start + QUEUE_CHUNK]
        with transaction.atomic():
            cap.serialise()
            keys = {cid: f"{key_prefix}:{cid}" for cid in chunk} if key_prefix else {}
            found: dict[str, int] = {}
            if keys:
                found = {
                    str(key): pk
                    for key, pk in EmailMessage.objects.filter(
                        source_key__in=list(keys.values())
                    ).values_list("source_key", "id")
                }
            todo = [cid for cid in chunk if keys.get(cid) not in found]
            contacts = {
                row[0]: row
                for row in Contact.objects.filter(pk__in=todo).values_list(
                    "id", "account_id", "email", "language"
                )
            }
            decisions = _decide(
                contacts,
                contents,
                variants or {},
                rules=rules,
                transactional=transactional,
                category_id=template.category_id,
                now=now,
            )
            messages: list[EmailMessage] = []
            for cid in todo:
                if cid not in contacts:
                    continue
                _id, account_id, email, contact_language = contacts[cid]
                content = _content_for(contents, variants or {}, cid)
                language = rendering.language_for(contact_language or "", content.version)
                hold = decisions.get(cid)
                status = MessageStatus.QUEUED
                if hold is not None:
                    status = (
                        MessageStatus.HELD
                        if hold.reason in (HoldReason.FREQUENCY_CAP, HoldReason.DUPLICATE)
                        else MessageStatus.SKIPPED
                    )
                messages.append(
                    EmailMessage(
                        contact_id=cid,
                        account_id=account_id,
                        to_email=(email or "").strip(),
                        language=language,
                        template=content.template,
                        version=content.version,
                        category_id=content.template.category_id,
                        sender=sender,
                        transactional=transactional,
                        content_type=content.template.content_type,
                        subject_override=_subject_override(content.variant, language),
                        content_hash=content.version.content_hash,
                        team=team,
                        source=source,
                        source_key=keys.get(cid),
                        campaign=campaign,
                        variant=content.variant,
                        flow_enrolment_id=flow_enrolment_id,
                        flow_step=flow_step,
                        status=status,
                        reason=hold.reason if hold else "",
                        reason_detail=hold.detail if hold else "",
                        queued_at=now,
                    )
                )
            EmailMessage.objects.bulk_create(messages, batch_size=500)
            EmailEvent.objects.bulk_create(
                [_decision_event(message, now) for message in messages], batch_size=1000
            )
            made = {message.contact_id: message.pk for message in messages}
            for cid in chunk:
                key = keys.get(cid)
                if key is not None and key in found:
                    ids.append(found[key])
                    totals["existing"] += 1
                elif cid in made:
                    ids.append(made[cid])
            for message in messages:
                totals[str(message.status)] = totals.get(str(message.status), 0) + 1
            if any(message.status == MessageStatus.QUEUED for message in messages):
                transaction.on_commit(schedule_send)
    return QueueResult(
        queued=totals["queued"],
        held=totals.get("held", 0),
        skipped=totals.get("skipped", 0),
        existing=totals["existing"],
        message_ids=ids,
    )


def _contents(
    template: EmailTemplate, variants: Mapping[int, CampaignVariant]
) -> dict[int | None, _Content]:
    """The content per variant id (None: the template itself), each with its version."""
    assert template.current is not None
    contents: dict[int | None, _Content] = {None: _Content(template, template.current, None)}
    for variant in {v.pk: v for v in variants.values()}.values():
        own = variant.template if variant.template_id else template
        if own is None or own.current is None:
            raise ValueError(
                _("Variant %(label)s: its template has no saved content.")
                % {"label": variant.label}
            )
        contents[variant.pk] = _Content(own, own.current, variant)
    return contents


def _content_for(
    contents: Mapping[int | None, _Content], variants: Mapping[int, CampaignVariant], cid: int
) -> _Content:
    variant = variants.get(cid)
    return contents[variant.pk if variant is not None else None]


def _subject_override(variant: CampaignVariant | None, language: str) -> str:
    if variant is None:
        return ""
    if language == "en" and variant.subject_en:
        return variant.subject_en
    return variant.subject_ja


def _decide(
    contacts: Mapping[int, tuple[int, int, str, str]],
    contents: Mapping[int | None, _Content],
    variants: Mapping[int, CampaignVariant],
    *,
    rules: EngagementSettings,
    transactional: bool,
    category_id: int,
    now: datetime.datetime,
) -> dict[int, cap.Hold]:
    """The held and skipped contacts of a chunk, with the rule that stopped each."""
    decisions: dict[int, cap.Hold] = {}
    addresses: dict[int, str] = {}
    for cid, (_id, _account, email, _language) in contacts.items():
        email = (email or "").strip()
        if not email:
            decisions[cid] = cap.Hold(HoldReason.NO_EMAIL, _("The contact has no email address."))
        else:
            addresses[cid] = email.lower()
    suppressed = Suppression.objects.filter(email__in=set(addresses.values()))
    if transactional:
        suppressed = suppressed.filter(reason__in=BLOCKS_TRANSACTIONAL)
    reasons = dict(suppressed.values_list("email", "reason"))
    for cid, address in addresses.items():
        if address in reasons:
            decisions[cid] = cap.Hold(
                HoldReason.SUPPRESSED,
                _("%(email)s is on the suppression list (%(reason)s).")
                % {
                    "email": address,
                    "reason": SuppressionReason(reasons[address]).label,
                },
            )
    if transactional:
        # Transactional mail ignores preferences and the cap (it is never counted either).
        return decisions
    remaining = [cid for cid in addresses if cid not in decisions]
    unsubscribed = set(
        Preference.objects.filter(
            contact_id__in=remaining, category_id=category_id, subscribed=False
        ).values_list("contact_id", flat=True)
    )
    for cid in unsubscribed:
        decisions[cid] = cap.Hold(
            HoldReason.UNSUBSCRIBED,
            _("The contact unsubscribed from this category in the preference centre."),
        )
    wanted = {
        cid: _content_for(contents, variants, cid).version.content_hash
        for cid in remaining
        if cid not in unsubscribed
    }
    decisions.update(cap.check(wanted, rules=rules, now=now))
    return decisions


def _decision_event(message: EmailMessage, now: datetime.datetime) -> EmailEvent:
    kind = {
        MessageStatus.QUEUED: EmailEventKind.QUEUED,
        MessageStatus.HELD: EmailEventKind.HELD,
        MessageStatus.SKIPPED: EmailEventKind.SKIPPED,
    }[MessageStatus(message.status)]
    detail = {"reason": message.reason, "detail": message.reason_detail} if message.reason else {}
    return EmailEvent(message_id=message.pk, kind=kind, at=now, detail=detail)


def _send_task() -> Any:
    from kizuna.engagement import tasks

    return tasks.send_emails


# Queueing many batches in a row keeps about one send task waiting, not one per batch.
schedule_send = Debounced(_send_task, 1.0)


# --- Sending ---------------------------------------------------------------------------------


class _Throttle:
    """At most `rate` messages per second from this process, across batches."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_at = 0.0

    def wait(self, rate: int) -> None:
        interval = 1.0 / max(rate, 1)
        with self.lock:
            now = time.monotonic()
            # An idle pause does not earn a burst afterwards.
            start = max(self.next_at, now)
            self.next_at = start + interval
        if start > now:
            time.sleep(start - now)


throttle = _Throttle()


def backoff(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return datetime.timedelta(minutes=BACKOFF_MINUTES[index])


def release_stale(now: datetime.datetime) -> int:
    """Queue again the rows a dead worker claimed and never finished."""
    return EmailMessage.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=MessageStatus.QUEUED, claimed_at=None)


def claim(limit: int, now: datetime.datetime) -> list[int]:
    """Atomically mark up to `limit` due QUEUED rows SENDING and return their ids.

    One UPDATE … RETURNING: on PostgreSQL its row selection skips rows another worker has
    locked, on SQLite the statement runs alone (writers are serialised)."""
    table = connection.ops.quote_name(EmailMessage._meta.db_table)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    stamp = connection.ops.adapt_datetimefield_value(now)
    # Only the table name (from the model) is formatted in; every value is a parameter.
    sql = (
        f"UPDATE {table} SET status = %s, claimed_at = %s "  # noqa: S608
        f"WHERE status = %s AND id IN ("
        f"SELECT id FROM {table} WHERE status = %s "
        f"AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
        f"ORDER BY transactional DESC, id LIMIT %s{lock}) RETURNING id"
    )
    params = [
        MessageStatus.SENDING.value,
        stamp,
        MessageStatus.QUEUED.value,
        MessageStatus.QUEUED.value,
        stamp,
        limit,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


def note_not_configured() -> int:
    """Say on the waiting rows why they wait."""
    text = str(smtp.NOT_CONFIGURED)
    return (
        EmailMessage.objects.filter(status=MessageStatus.QUEUED)
        .exclude(last_error=text)
        .update(last_error=text)
    )


def send_due(*, limit: int = 1000, now: datetime.datetime | None = None) -> SendReport:
    """The worker's batch: claim up to `limit` due messages and send them (see module doc)."""
    now = now or timezone.now()
    if not smtp.is_configured():
        note_not_configured()
        return SendReport(configured=False, error=str(smtp.NOT_CONFIGURED))
    release_stale(now)
    ids = claim(limit, now)
    report = SendReport(claimed=len(ids))
    if not ids:
        return report
    rows = list(
        EmailMessage.objects.filter(pk__in=ids, status=MessageStatus.SENDING)
        .select_related("sender", "version", "template", "category", "contact")
        .order_by("-transactional", "id")
    )
    rules = EngagementSettings.get()
    _Delivery(rows, rules, report, connections=connections()).run()
    return report


def connections() -> int:
    """How many SMTP connections the worker uses at once (each reused for its messages)."""
    return max(1, int(smtp.config().get("connections") or SMTP_CONNECTIONS))


@dataclass(frozen=True)
class _Outcome:
    row: EmailMessage
    response: str = ""
    failure: smtp.SendFailure | None = None
    # Not attempted: another connection failed first, so the row goes back to the queue.
    released: bool = False


class _SenderPool:
    """A few threads, each with its own reused SMTP connection, sending what the worker
    composed: the network round trips of one message overlap the composing of the next.
    After a failure that stops the batch, the messages not yet sent come back released."""

    def __init__(self, width: int, rate: int) -> None:
        self.rate = rate
        self.jobs: queue.Queue[tuple[EmailMessage, bytes] | None] = queue.Queue(width * 4)
        self.results: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, name=f"kizuna-smtp-{n}", daemon=True)
            for n in range(width)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, row: EmailMessage, data: bytes) -> None:
        self.jobs.put((row, data))

    def finished(self) -> list[_Outcome]:
        done = []
        while True:
            try:
                done.append(self.results.get_nowait())
            except queue.Empty:
                return done

    def close(self) -> list[_Outcome]:
        for _thread in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join()
        return self.finished()

    def _work(self) -> None:
        with smtp.Mailer() as mailer:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                row, data = job
                if self.stop.is_set():
                    self.results.put(_Outcome(row, released=True))
                    continue
                if self.rate:
                    throttle.wait(self.rate)
                try:
                    response = mailer.send(row.sender.from_email, row.to_email, data)
                except smtp.SendFailure as failure:
                    self.results.put(self._failed(row, failure))
                    continue
                except Exception as exc:
                    # Never lose a row to a bug in a sender thread: it is retried later.
                    logger.exception("Sending message %s failed", row.pk)
                    unexpected = smtp.SendFailure(smtp.FailureKind.CONNECTION, None, repr(exc))
                    self.results.put(self._failed(row, unexpected))
                    continue
                self.results.put(_Outcome(row, response=response))

    def _failed(self, row: EmailMessage, failure: smtp.SendFailure) -> _Outcome:
        if not failure.stops_batch:
            return _Outcome(row, failure=failure)
        with self.lock:
            first = not self.stop.is_set()
            self.stop.set()
        # Only the first connection failure counts as an attempt; messages that met the
        # same outage on another connection simply go back to the queue.
        return _Outcome(row, failure=failure) if first else _Outcome(row, released=True)


@dataclass
class _Delivery:
    """Sends a list of claimed (SENDING) rows and writes their outcome."""

    rows: list[EmailMessage]
    rules: EngagementSettings
    report: SendReport
    connections: int = 1
    rate_limited: bool = True
    sent: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[EmailEvent] = field(default_factory=list)
    skipped: list[EmailMessage] = field(default_factory=list)

    def run(self) -> None:
        ready = self._recheck(self.rows)
        contexts = self._contexts(ready)
        pool = _SenderPool(
            max(1, min(self.connections, len(ready))),
            self.rules.send_rate if self.rate_limited else 0,
        )
        try:
            for position, row in enumerate(ready):
                if pool.stop.is_set():
                    self._release(ready[position:])
                    break
                data = self._prepare(row, contexts)
                if data is not None:
                    pool.submit(row, data)
                self._collect(pool.finished())
        finally:
            self._collect(pool.close())
            self.flush()

    def _prepare(
        self, row: EmailMessage, contexts: Mapping[int, Mapping[str, str | None]]
    ) -> bytes | None:
        """The message's bytes, or None when a value is missing (the row is skipped)."""
        from kizuna.engagement import compose, rendering, tracking_links

        rendered = rendering.render(
            rendering.compiled(row.version),
            row.language,
            contexts.get(row.contact_id, {}),
            subject_override=row.subject_override,
            links=tracking_links.message_links(row.token),
        )
        if rendered.missing:
            self._skip(
                row,
                HoldReason.MISSING_VALUE,
                _("No value for %(names)s.") % {"names": ", ".join(rendered.missing)},
            )
            return None
        data, links = compose.build_email_bytes(row, rendered)
        row.subject = rendered.subject[:500]
        row.links = links
        return data

    def _collect(self, outcomes: list[_Outcome]) -> None:
        released = [outcome.row for outcome in outcomes if outcome.released]
        self._release(released)
        for outcome in outcomes:
            if outcome.released:
                continue
            if outcome.failure is not None:
                self.flush()
                self._failed(outcome.row, outcome.failure)
                if outcome.failure.stops_batch:
                    self.report.error = str(outcome.failure)
                continue
            self._sent(outcome.row, outcome.response)
            if len(self.sent) >= FLUSH_EVERY:
                self.flush()

    def _recheck(self, rows: list[EmailMessage]) -> list[EmailMessage]:
        """Skip rows whose address was suppressed or whose contact unsubscribed since they
        were queued (a bounce or an unsubscribe in between)."""
        addresses = {row.to_email.lower() for row in rows}
        reasons = dict(
            Suppression.objects.filter(email__in=addresses).values_list("email", "reason")
        )
        marketing = [row for row in rows if not row.transactional]
        unsubscribed = set(
            Preference.objects.filter(
                contact_id__in={row.contact_id for row in marketing}, subscribed=False
            ).values_list("contact_id", "category_id")
        )
        ready = []
        for row in rows:
            reason = reasons.get(row.to_email.lower())
            if reason and (not row.transactional or reason in BLOCKS_TRANSACTIONAL):
                self._skip(
                    row,
                    HoldReason.SUPPRESSED,
                    _("%(email)s is on the suppression list (%(reason)s).")
                    % {"email": row.to_email, "reason": SuppressionReason(reason).label},
                )
            elif not row.transactional and (row.contact_id, row.category_id) in unsubscribed:
                self._skip(
                    row,
                    HoldReason.UNSUBSCRIBED,
                    _("The contact unsubscribed from this category in the preference centre."),
                )
            else:
                ready.append(row)
        return ready

    def _contexts(self, rows: list[EmailMessage]) -> dict[int, dict[str, str | None]]:
        from kizuna.engagement import rendering

        by_sender: dict[int, list[EmailMessage]] = defaultdict(list)
        for row in rows:
            by_sender[row.sender_id].append(row)
        contexts: dict[int, dict[str, str | None]] = {}
        for group in by_sender.values():
            # A contact with messages from two senders gets the last sender's values; each
            # batch row of that contact is rendered with its own sender below.
            loaded = rendering.load_contexts([row.contact_id for row in group], group[0].sender)
            if len(by_sender) == 1:
                return loaded
            for row in group:
                contexts[row.contact_id] = loaded.get(row.contact_id, {})
        return contexts

    def _sent(self, row: EmailMessage, response: str) -> None:
        now = timezone.now()
        self.sent.append(
            (
                MessageStatus.SENT.value,
                connection.ops.adapt_datetimefield_value(now),
                response,
                row.subject,
                json.dumps(row.links, ensure_ascii=False),
                row.pk,
            )
        )
        self.events.append(
            EmailEvent(message_id=row.pk, kind=EmailEventKind.SENT, at=now, detail={})
        )
        self.report.sent += 1

    def _skip(self, row: EmailMessage, reason: HoldReason, detail: str) -> None:
        row.status = MessageStatus.SKIPPED
        row.reason = reason
        row.reason_detail = detail[:500]
        row.claimed_at = None
        self.skipped.append(row)
        self.events.append(
            EmailEvent(
                message_id=row.pk,
                kind=EmailEventKind.SKIPPED,
                detail={"reason": str(reason), "detail": row.reason_detail},
            )
        )
        self.report.skipped += 1

    def flush(self) -> None:
        """Write what happened so far: SENT rows (one executemany), skips and events."""
        if not (self.sent or self.skipped or self.events):
            return
        table = connection.ops.quote_name(EmailMessage._meta.db_table)
        with transaction.atomic():
            if self.sent:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        # The table name only is formatted in; values are parameters.
                        f"UPDATE {table} SET status = %s, sent_at = %s, smtp_response = %s, "  # noqa: S608
                        f"subject = %s, links = %s, claimed_at = NULL, last_error = '' "
                        f"WHERE id = %s",
                        self.sent,
                    )
            if self.skipped:
                EmailMessage.objects.bulk_update(
                    self.skipped, ["status", "reason", "reason_detail", "claimed_at"]
                )
            EmailEvent.objects.bulk_create(self.events)
        self.sent, self.skipped, self.events = [], [], []

    def _failed(self, row: EmailMessage, failure: smtp.SendFailure) -> None:
        now = timezone.now()
        error = str(failure)[:2000]
        row.attempts += 1
        row.last_error = error
        row.claimed_at = None
        if failure.kind == smtp.FailureKind.RECIPIENT and failure.permanent:
            row.status = MessageStatus.BOUNCED
            row.bounced_at = now
            with transaction.atomic():
                row.save(
                    update_fields=[
                        "status",
                        "bounced_at",
                        "attempts",
                        "last_error",
                        "claimed_at",
                        "subject",
                        "links",
                    ]
                )
                suppress_bounced(row, error, now=now)
            self.report.bounced += 1
            return
        give_up = failure.kind == smtp.FailureKind.DATA and failure.permanent
        if give_up or row.attempts >= self.rules.max_attempts:
            row.status = MessageStatus.FAILED
            row.next_attempt_at = None
            kind = EmailEventKind.FAILED
            self.report.failed += 1
        else:
            row.status = MessageStatus.QUEUED
            row.next_attempt_at = now + backoff(row.attempts)
            kind = EmailEventKind.RETRY
            self.report.retried += 1
        with transaction.atomic():
            row.save(
                update_fields=["status", "attempts", "last_error", "claimed_at", "next_attempt_at"]
            )
            EmailEvent.objects.create(
                message=row,
                kind=kind,
                at=now,
                detail={
                    "error": error,
                    "attempt": row.attempts,
                    "next_attempt_at": (
                        row.next_attempt_at.isoformat() if row.next_attempt_at else None
                    ),
                },
            )

    def _release(self, rows: list[EmailMessage]) -> None:
        if not rows:
            return
        released = EmailMessage.objects.filter(
            pk__in=[row.pk for row in rows], status=MessageStatus.SENDING
        ).update(status=MessageStatus.QUEUED, claimed_at=None)
        self.report.released += released


def suppress_bounced(
    message: EmailMessage, detail: str, *, now: datetime.datetime | None = None
) -> None:
    """Record a hard bounce: the message is BOUNCED, its address suppressed, an event kept."""
    now = now or timezone.now()
    EmailMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.BOUNCED, bounced_at=now, claimed_at=None
    )
    Suppression.objects.bulk_create(
        [
            Suppression(
                email=message.to_email.lower(),
                reason=SuppressionReason.HARD_BOUNCE,
                detail=detail[:500],
                message=message,
            )
        ],
        ignore_conflicts=True,
    )
    EmailEvent.objects.create(
        message=message, kind=EmailEventKind.BOUNCED, at=now, detail={"error": detail}
    )


def send_test(
    version: EmailTemplateVersion, contact: Contact, to_email: str, actor: Any
) -> EmailMessage:
    """Send this version to `to_email` now, rendered with `contact`'s values (source "test":
    outside the cap and the results). The returned row says what happened (SENT, FAILED
    with the server's answer, or SKIPPED for a missing value)."""
    from kizuna.core import audit
    from kizuna.engagement import rendering

    template = version.template
    sender = template.sender or default_sender()
    if sender is None:
        raise NoSender(_("No sender identity: add one under Senders first."))
    now = timezone.now()
    row = EmailMessage.objects.create(
        contact=contact,
        account_id=contact.account_id,
        to_email=to_email.strip(),
        language=rendering.language_for(contact.language or "", version),
        template=template,
        version=version,
        category=template.category,
        sender=sender,
        transactional=template.category.transactional,
        content_type=template.content_type,
        content_hash=version.content_hash,
        team=template.team,
        source=cap.TEST_SOURCE,
        status=MessageStatus.SENDING,
        claimed_at=now,
        queued_at=now,
    )
    audit.record_create(actor, row)
    if not smtp.is_configured():
        row.status = MessageStatus.FAILED
        row.last_error = str(smtp.NOT_CONFIGURED)
        row.claimed_at = None
        row.save(update_fields=["status", "last_error", "claimed_at"])
        return row
    report = SendReport(claimed=1)
    rules = EngagementSettings.get()
    # A test send is one message, by hand: no retries, so any failure is final.
    rules.max_attempts = 1
    _Delivery([row], rules, report, rate_limited=False).run()
    row.refresh_from_db()
    return row
