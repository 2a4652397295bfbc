"""The write side of CTAs, playbooks, assignment rules and notifications — the only module
other apps (success flows, the demo, the API) import.

Every change is validated, audited in its own transaction and, for CTAs, published as a
domain event (`cta.created`, `cta.closed`) inside that transaction, so webhooks and flows
see exactly the changes that were committed.

Duplicates are refused by the database, not only by a check here: a partial unique index
allows one open-or-snoozed CTA per (account, type, reason), and one CTA per non-empty
`source_key`. `open_cta` catches the violation and returns the CTA that won.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kizuna.core import audit, events
from kizuna.core.models import Role, User
from kizuna.customers import services as customers
from kizuna.customers.models import Account
from kizuna.playbooks import library
from kizuna.playbooks.choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    AssignmentStrategy,
    CtaSource,
    CtaStatus,
    CtaType,
    Outcome,
    Priority,
)
from kizuna.playbooks.models import AssignmentRule, Cta, CtaTask, Notification, Playbook
from kizuna.playbooks.schema import StepsError, dump_steps, parse_steps

CTA_CREATED = "cta.created"
CTA_CLOSED = "cta.closed"

DEFAULT_DUE_DAYS = 7
MAX_DUE_DAYS = 3650
MAX_SNOOZE_DAYS = 365
MAX_REASON = 200


class InvalidCta(ValueError):
    """A change that is refused; nothing was saved. `field` names what is wrong; `code`
    is "invalid", "conflict" (refused in the CTA's state or a duplicate) or "not_found"."""

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        self.field = field
        self.message = message
        self.code = code
        super().__init__(f"{field}: {message}")


# --- Helpers ----------------------------------------------------------------------------


def _publish(event_type: str, cta: Cta, changes: dict[str, list[str]], actor: User | None) -> None:
    events.publish(
        events.DomainEvent(
            type=event_type,
            instance=cta,
            object_id=cta.pk,
            changes=changes,
            actor_id=actor.pk if actor is not None and actor.pk else None,
        )
    )


def assignable_users() -> models.QuerySet[User]:
    """The people a CTA or an account can be given to: active, and not read-only."""
    return User.objects.filter(is_active=True).exclude(role=Role.VIEWER)


def _check_assignee(user_id: int | None, field: str = "owner_id") -> None:
    if user_id is not None and not assignable_users().filter(pk=user_id).exists():
        raise InvalidCta(field, _("Choose an active user who is not a viewer."))


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidCta("reason", _("Say why this CTA exists: the reason is required."))
    if len(reason) > MAX_REASON:
        raise InvalidCta(
            "reason", _("The reason has at most %(max)d characters.") % {"max": MAX_REASON}
        )
    return reason


def _check_choice(field: str, value: str, choices: type[models.TextChoices]) -> None:
    if value not in choices.values:
        raise InvalidCta(
            field,
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(choices.values)},
        )


# --- Owners -----------------------------------------------------------------------------


def _claim_turn(rule: AssignmentRule) -> int:
    """Move the rule's round-robin cursor on by one and return the new value.

    The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) until the caller's
    transaction ends, so the SELECT after it reads this transaction's own value: two CTAs
    created at once get consecutive turns."""
    AssignmentRule.objects.filter(pk=rule.pk).update(cursor=F("cursor") + 1)
    return AssignmentRule.objects.filter(pk=rule.pk).values_list("cursor", flat=True).get()


def choose_owner(account: Account, cta_type: str) -> int | None:
    """The owner of a new CTA under the assignment rules (first matching rule by position),
    falling back to the account's owner."""
    rules = (
        AssignmentRule.objects.filter(enabled=True)
        .filter(Q(tier="") | Q(tier=account.tier))
        .filter(Q(cta_type="") | Q(cta_type=cta_type))
        .order_by("position", "id")
    )
    for rule in rules:
        if rule.strategy == AssignmentStrategy.ACCOUNT_OWNER:
            if account.owner_id is not None:
                return account.owner_id
        elif rule.strategy == AssignmentStrategy.SPECIFIC_USER:
            if rule.user_id is not None and assignable_users().filter(pk=rule.user_id).exists():
                return rule.user_id
        elif rule.strategy == AssignmentStrategy.ROUND_ROBIN:
            members = list(
                assignable_users()
                .filter(pk__in=rule.users.values("pk"))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if members:
                return members[(_claim_turn(rule) - 1) % len(members)]
    return account.owner_id


# --- CTAs -------------------------------------------------------------------------------


def _existing(account_id: int, cta_type: str, reason: str, source_key: str) -> Cta | None:
    if source_key:
        found = Cta.objects.filter(source_key=source_key).first()
        if found is not None:
            return found
    return Cta.objects.filter(
        account_id=account_id, type=cta_type, reason=reason, status__in=OPEN_STATUSES
    ).first()


@transaction.atomic
def open_cta(
    *,
    account_id: int,
    type: str,
    reason: str,
    priority: str | None = None,
    due_in_days: int | None = None,
    playbook_key: str | None = None,
    owner_id: int | None = None,
    source: str = CtaSource.MANUAL,
    source_label: str = "",
    source_key: str = "",
    actor: User | None = None,
) -> tuple[Cta, bool]:
    """Open a CTA for an account, or return the one that already asks for the same work.

    Returns ``(cta, created)``. ``created`` is False, and nothing is written, when a CTA
    with this `source_key` exists (a retried flow step never creates a second CTA), or when
    an open or snoozed CTA with the same account, type and reason exists — also when a
    concurrent call created it a moment ago (the partial unique index decides).

    The owner is `owner_id` if given, else the assignment rules, else the account's owner.
    The playbook's steps (looked up by `playbook_key`) become the CTA's tasks, due
    `due_offset_days` after today; the CTA itself is due in `due_in_days`, else when the
    playbook's last step is due, else in a week. The priority defaults to the playbook's.
    Publishes `cta.created` and notifies the owner in the app (unless the owner created it).
    Raises InvalidCta for bad input.
    """
    reason = _clean_reason(reason)
    _check_choice("type", type, CtaType)
    if priority is not None:
        _check_choice("priority", priority, Priority)
    _check_choice("source", source, CtaSource)
    if due_in_days is not None and not 0 <= due_in_days <= MAX_DUE_DAYS:
        raise InvalidCta(
            "due_in_days",
            _("Due in must be from 0 to %(max)d days.") % {"max": MAX_DUE_DAYS},
        )
    source_key = (source_key or "").strip()[:200]
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise InvalidCta("account_id", _("No account has this id."), code="not_found")
    existing = _existing(account.pk, type, reason, source_key)
    if existing is not None:
        return existing, False
    playbook = None
    if playbook_key:
        playbook = Playbook.objects.filter(key=playbook_key).first()
        if playbook is None:
            raise InvalidCta("playbook_key", _("No playbook has this key."))
    _check_assignee(owner_id)
    today = timezone.localdate()
    if due_in_days is None:
        due_in_days = playbook.duration_days if playbook and playbook.steps else DEFAULT_DUE_DAYS
    cta = Cta(
        account=account,
        type=type,
        reason=reason,
        priority=priority or (playbook.priority if playbook else Priority.MEDIUM),
        due_on=today + datetime.timedelta(days=due_in_days),
        playbook=playbook,
        source=source,
        source_label=source_label[:200],
        source_key=source_key,
        created_by=actor if actor is not None and actor.pk else None,
    )
    try:
        with transaction.atomic():
            cta.owner_id = owner_id if owner_id is not None else choose_owner(account, type)
            cta.save()
            if playbook is not None:
                CtaTask.objects.bulk_create(
                    CtaTask(
                        cta=cta,
                        order=index,
                        title=step["title"],
                        guidance=step.get("guidance", ""),
                        due_on=today + datetime.timedelta(days=int(step.get("due_offset_days", 0))),
                    )
                    for index, step in enumerate(playbook.steps)
                )
    except IntegrityError:
        # Another request opened the same CTA between our check and our insert.
        winner = _existing(account.pk, type, reason, source_key)
        if winner is None:
            raise
        return winner, False
    entry = audit.record_create(actor, cta)
    _publish(CTA_CREATED, cta, entry.changes, actor)
    if cta.owner_id is not None and (actor is None or actor.pk != cta.owner_id):
        notify(
            user_id=cta.owner_id,
            account_id=account.pk,
            text=_("New CTA for %(account)s: %(reason)s")
            % {"account": account.name, "reason": reason},
            url=cta.get_absolute_url(),
            source_key=f"cta:{cta.pk}:assigned:{cta.owner_id}",
        )
    return cta, True


@transaction.atomic
def close_cta(
    actor: User | None,
    cta: Cta,
    *,
    status: str = CtaStatus.DONE,
    outcome: str,
    note: str = "",
) -> Cta:
    """Close a CTA as done or cancelled, with its outcome and an optional note; publishes
    `cta.closed`. Refused (code "conflict") when it is already closed — checked by a
    conditional UPDATE, so two people closing it at once close it once."""
    if status not in CLOSED_STATUSES:
        raise InvalidCta("status", _("A CTA is closed as done or cancelled."))
    if not outcome:
        raise InvalidCta("outcome", _("Choose the outcome."))
    _check_choice("outcome", outcome, Outcome)
    before = audit.snapshot(cta)
    now = timezone.now()
    claimed = Cta.objects.filter(pk=cta.pk, status__in=OPEN_STATUSES).update(
        status=status,
        outcome=outcome,
        outcome_note=(note or "").strip(),
        closed_at=now,
        closed_by=actor if actor is not None and actor.pk else None,
        snoozed_until=None,
        updated_at=now,
    )
    if not claimed:
        raise InvalidCta("status", _("This CTA is already closed."), code="conflict")
    cta.refresh_from_db()
    entry = audit.record_update(actor, cta, before)
    _publish(CTA_CLOSED, cta, entry.changes if entry else {}, actor)
    return cta


@transaction.atomic
def snooze(actor: User | None, cta: Cta, until: datetime.date) -> Cta:
    """Put an open CTA aside until a day (tomorrow at the earliest, a year at most); it
    counts as open again from that day."""
    today = timezone.localdate()
    if until <= today:
        raise InvalidCta("snoozed_until", _("Snooze until a day after today."))
    if until > today + datetime.timedelta(days=MAX_SNOOZE_DAYS):
        raise InvalidCta("snoozed_until", _("Snooze for at most a year."))
    if not cta.is_open:
        raise InvalidCta("status", _("Only an open CTA can be snoozed."), code="conflict")
    before = audit.snapshot(cta)
    cta.status = CtaStatus.SNOOZED
    cta.snoozed_until = until
    cta.save(update_fields=["status", "snoozed_until", "updated_at"])
    audit.record_update(actor, cta, before)
    return cta


@transaction.atomic
def reopen(actor: User | None, cta: Cta) -> Cta:
    """Wake a snoozed CTA, or reopen a closed one (its outcome is cleared). Refused when
    another open CTA now asks for the same work."""
    if cta.status == CtaStatus.OPEN:
        return cta
    before = audit.snapshot(cta)
    cta.status = CtaStatus.OPEN
    cta.snoozed_until = None
    cta.outcome = ""
    cta.outcome_note = ""
    cta.closed_at = None
    cta.closed_by = None
    try:
        with transaction.atomic():
            cta.save()
    except IntegrityError:
        cta.refresh_from_db()
        raise InvalidCta(
            "status",
            _("Another open CTA already has this account, type and reason."),
            code="conflict",
        ) from None
    audit.record_update(actor, cta, before)
    return cta


@transaction.atomic
def update_cta(actor: User | None, cta: Cta, **changes: Any) -> Cta:
    """Change a CTA's reason, type, priority, due date or owner (keys as the field names;
    `owner_id` for the owner). Refused when it would duplicate another open CTA."""
    allowed = {"reason", "type", "priority", "due_on", "owner_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidCta(sorted(unknown)[0], _("This field cannot be changed."))
    if "reason" in changes:
        changes["reason"] = _clean_reason(changes["reason"])
    if "type" in changes:
        _check_choice("type", changes["type"], CtaType)
    if "priority" in changes:
        _check_choice("priority", changes["priority"], Priority)
    if "due_on" in changes and not isinstance(changes["due_on"], datetime.date):
        raise InvalidCta("due_on", _("Enter a date."))
    if "owner_id" in changes:
        _check_assignee(changes["owner_id"])
    before = audit.snapshot(cta)
    previous_owner = cta.owner_id
    for name, value in changes.items():
        setattr(cta, name, value)
    try:
        with transaction.atomic():
            cta.save()
    except IntegrityError:
        raise InvalidCta(
            "reason",
            _("Another open CTA already has this account, type and reason."),
            code="conflict",
        ) from None
    audit.record_update(actor, cta, before)
    if cta.owner_id != previous_owner:
        _notify_assigned(actor, cta)
    return cta


def _notify_assigned(actor: User | None, cta: Cta) -> None:
    if cta.owner_id is None or (actor is not None and actor.pk == cta.owner_id):
        return
    notify(
        user_id=cta.owner_id,
        account_id=cta.account_id,
        text=_("A CTA was assigned to you: %(reason)s") % {"reason": cta.reason},
        url=cta.get_absolute_url(),
    )


@transaction.atomic
def delete_cta(actor: User | None, cta: Cta) -> None:
    object_id = cta.pk
    cta.delete()
    audit.record_delete(actor, cta, object_id)


@transaction.atomic
def reassign(actor: User | None, ctas: Iterable[Cta], user: User) -> int:
    """Give CTAs to another person (audited per CTA; the new owner is notified once).
    Returns how many changed owner."""
    _check_assignee(user.pk, "owner")
    changed = 0
    for cta in ctas:
        if cta.owner_id == user.pk:
            continue
        before = audit.snapshot(cta)
        cta.owner = user
        cta.save(update_fields=["owner", "updated_at"])
        audit.record_update(actor, cta, before)
        changed += 1
    if changed and (actor is None or actor.pk != user.pk):
        notify(
            user_id=user.pk,
            account_id=None,
            text=translation.ngettext(
                "%(count)d CTA was assigned to you.",
                "%(count)d CTAs were assigned to you.",
                changed,
            )
            % {"count": changed},
            url="",
        )
    return changed


def bulk_close(actor: User | None, ctas: Iterable[Cta], outcome: str) -> int:
    """Close several CTAs as done with one outcome; the closed ones are skipped. Returns
    how many were closed."""
    _check_choice("outcome", outcome, Outcome)
    closed = 0
    for cta in ctas:
        if cta.is_open:
            close_cta(actor, cta, outcome=outcome)
            closed += 1
    return closed


def bulk_snooze(actor: User | None, ctas: Iterable[Cta], days: int) -> int:
    """Snooze several open CTAs for `days` days; returns how many were snoozed."""
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise InvalidCta("days", _("Snooze for 1 to 365 days."))
    until = timezone.localdate() + datetime.timedelta(days=days)
    snoozed = 0
    for cta in ctas:
        if cta.is_open:
            snooze(actor, cta, until)
            snoozed += 1
    return snoozed


@transaction.atomic
def toggle_task(actor: User | None, task: CtaTask) -> CtaTask:
    """Tick a checklist step, or untick it."""
    before = audit.snapshot(task)
    if task.done_at is None:
        task.done_at = timezone.now()
        task.done_by = actor if actor is not None and actor.pk else None
    else:
        task.done_at = None
        task.done_by = None
    task.save(update_fields=["done_at", "done_by"])
    audit.record_update(actor, task, before)
    return task


def wake_snoozed(today: datetime.date | None = None) -> int:
    """Set every snoozed CTA whose day has come back to open, in one UPDATE."""
    today = today or timezone.localdate()
    return Cta.objects.filter(status=CtaStatus.SNOOZED, snoozed_until__lte=today).update(
        status=CtaStatus.OPEN, snoozed_until=None, updated_at=timezone.now()
    )


# --- Accounts' owners ------------------------------------------------------------------


class _OwnerForm(forms.ModelForm[Account]):
    class Meta:
        model = Account
        fields = ["owner"]


def reassign_accounts(actor: User | None, accounts: Sequence[Account], user: User) -> int:
    """Make `user` the owner of the accounts, through Customer 360's services (validated,
    audited, `account.updated` published). Returns how many changed owner."""
    _check_assignee(user.pk, "owner")
    changed = 0
    with transaction.atomic():
        for account in accounts:
            if account.owner_id == user.pk:
                continue
            before = audit.snapshot(account)
            form = _OwnerForm({"owner": user.pk}, instance=account)
            if not form.is_valid():
                raise InvalidCta("owner", _("Choose an active user who is not a viewer."))
            customers.save_form(actor, form, before)
            changed += 1
    return changed


# --- Notifications ----------------------------------------------------------------------


def notify(
    *,
    user_id: int,
    account_id: int | None,
    text: str,
    url: str = "",
    source_key: str = "",
) -> Notification:
    """Tell a user something in the app. With a `source_key`, sending the same key again
    returns the first notification instead of a second one."""
    source_key = (source_key or "").strip()[:200]
    if source_key:
        found = Notification.objects.filter(source_key=source_key).first()
        if found is not None:
            return found
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user_id=user_id,
                account_id=account_id,
                text=text[:500],
                url=url[:500],
                source_key=source_key,
            )
    except IntegrityError:
        if not source_key:
            raise
        return Notification.objects.get(source_key=source_key)


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark a user's notifications read (all unread ones when `ids` is None)."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


# --- Playbooks --------------------------------------------------------------------------


class InvalidPlaybook(ValueError):
    """`errors` maps a field (``steps[2].title`` for a step) to messages."""

    def __init__(self, errors: dict[str, list[str]], *, code: str = "invalid") -> None:
        self.errors = errors
        self.code = code
        super().__init__("; ".join(f"{key}: {' '.join(value)}" for key, value in errors.items()))


def _validate_playbook(playbook: Playbook) -> None:
    errors: dict[str, list[str]] = {}
    try:
        playbook.steps = dump_steps(parse_steps(playbook.steps))
    except StepsError as exc:
        errors.update(exc.errors)
    if not (playbook.name or "").strip():
        errors["name"] = [_("This field is required.")]
    if playbook.cta_type not in CtaType.values:
        errors["cta_type"] = [_("Choose a CTA type.")]
    if playbook.priority not in Priority.values:
        errors["priority"] = [_("Choose a priority.")]
    try:
        forms.SlugField().clean(playbook.key)
    except forms.ValidationError:
        errors["key"] = [_("Use letters, digits, hyphens and underscores.")]
    if errors:
        raise InvalidPlaybook(errors)


@transaction.atomic
def save_playbook(
    actor: User | None, playbook: Playbook, before: audit.Snapshot | None
) -> Playbook:
    """Validate and save a playbook (`before` None for a new one). Editing a shipped one
    marks it `customized`, so installing the library again leaves the edit in place."""
    _validate_playbook(playbook)
    if before is not None and playbook.shipped:
        playbook.customized = True
    try:
        with transaction.atomic():
            playbook.save()
    except IntegrityError:
        raise InvalidPlaybook(
            {"key": [_("Another playbook already has this key.")]}, code="unique"
        ) from None
    if before is None:
        audit.record_create(actor, playbook)
    else:
        audit.record_update(actor, playbook, before)
    return playbook


@transaction.atomic
def delete_playbook(actor: User | None, playbook: Playbook) -> None:
    """Delete a playbook; CTAs made from it keep their tasks. A shipped playbook is only
    disabled (deleting it would bring it back at the next library install)."""
    if playbook.shipped:
        raise InvalidPlaybook(
            {"key": [_("A shipped playbook cannot be deleted; disable it instead.")]},
            code="conflict",
        )
    object_id = playbook.pk
    playbook.delete()
    audit.record_delete(actor, playbook, object_id)


def install_library(model: Any = None) -> int:
    """Install the shipped playbooks (idempotent); returns how many were created.

    A missing one is created; a shipped one nobody edited gets the current text; one that
    was edited (`customized`) is left alone. Texts are in the site's default language.
    `model` is the Playbook model to use (a data migration passes its historical one).
    """
    model = model or Playbook
    with translation.override(settings.LANGUAGE_CODE):
        specs = library.shipped_playbooks()
    existing = {row.key: row for row in model.objects.filter(key__in=[s["key"] for s in specs])}
    created = 0
    for spec in specs:
        values = {**spec, "cta_type": str(spec["cta_type"]), "priority": str(spec["priority"])}
        row = existing.get(spec["key"])
        if row is None:
            model.objects.create(shipped=True, enabled=True, **values)
            created += 1
        elif row.shipped and not row.customized:
            changed = [name for name, value in values.items() if getattr(row, name) != value]
            if changed:
                for name in changed:
                    setattr(row, name, values[name])
                row.save(update_fields=[*changed, "updated_at"])
    return created


# --- Assignment rules -----------------------------------------------------------------


@transaction.atomic
def save_assignment_rule(
    actor: User | None,
    rule: AssignmentRule,
    before: audit.Snapshot | None,
    users: Sequence[User] | None = None,
) -> AssignmentRule:
    """Save a rule (a new one goes last); `users` is the round-robin rotation."""
    if rule.strategy == AssignmentStrategy.SPECIFIC_USER and rule.user_id is None:
        raise InvalidCta("user", _("Choose the user who gets the CTAs."))
    if rule.strategy == AssignmentStrategy.ROUND_ROBIN and not users:
        raise InvalidCta("users", _("Choose at least one user for the rotation."))
    if rule.pk is None:
        last = AssignmentRule.objects.order_by("-position").values_list("position", flat=True)
        rule.position = (last.first() or 0) + 10
    rule.save()
    if users is not None:
        rule.users.set(users if rule.strategy == AssignmentStrategy.ROUND_ROBIN else [])
    if before is None:
        audit.record_create(actor, rule)
    else:
        audit.record_update(actor, rule, before)
    return rule


@transaction.atomic
def delete_assignment_rule(actor: User | None, rule: AssignmentRule) -> None:
    object_id = rule.pk
    rule.delete()
    audit.record_delete(actor, rule, object_id)


@transaction.atomic
def move_assignment_rule(actor: User | None, rule: AssignmentRule, offset: int) -> None:
    """Move a rule up (-1) or down (+1) in the order; positions are renumbered."""
    rules = list(AssignmentRule.objects.order_by("position", "id"))
    index = next(i for i, row in enumerate(rules) if row.pk == rule.pk)
    target = max(0, min(len(rules) - 1, index + offset))
    rules.insert(target, rules.pop(index))
    for position, row in enumerate(rules, start=1):
        if row.position != position * 10:
            AssignmentRule.objects.filter(pk=row.pk).update(position=position * 10)
