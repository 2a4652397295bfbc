"""The write side of segments: define them, compute their members set-based, pick the
members of static ones by hand or from a list. Other apps (flows, campaigns, the demo)
call these functions, never the models directly.

A dynamic segment's members are computed with one compiled query over the accounts (the
condition engine of kizuna.core.conditions): one UPDATE closes the stays of accounts that no
longer match, one INSERT … SELECT opens stays for accounts that newly match — a handful of
queries whatever the number of accounts. Entries and exits are published as
`segment.entered` / `segment.exited` domain events (webhooks now, success flows later).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from graphlib import CycleError, TopologicalSorter
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kizuna.core import audit, conditions, events
from kizuna.core import recompute as account_recompute
from kizuna.core.conditions import Condition, ConditionError, Context
from kizuna.core.models import User
from kizuna.customers.models import Account
from kizuna.segments.choices import MembershipSource, SegmentKind
from kizuna.segments.models import Segment, SegmentMembership

logger = logging.getLogger(__name__)

ENTERED = "segment.entered"
EXITED = "segment.exited"
# Unknown ids named in an import error; the rest are counted.
UNKNOWN_SHOWN = 20
# Ids looked up per query (well under every database's limit of parameters).
LOOKUP_CHUNK = 5000
MAX_ERROR = 2000


class InvalidSegment(ValueError):
    """A definition or a change that is refused; nothing was saved.

    `field` is what is wrong ("name", "conditions", "account_ids", …); for a condition
    tree, `path` says where in it (``and[1].op``)."""

    def __init__(self, field: str, message: str, path: str = "", *, code: str = "invalid") -> None:
        self.field = field
        self.message = message
        self.path = path
        # "unique" (the name is taken), "conflict" (refused in the segment's state) or
        # "invalid".
        self.code = code
        super().__init__(f"{field}.{path}: {message}" if path else f"{field}: {message}")

    @property
    def location(self) -> str:
        """The field and the path in one dotted name: ``conditions.and[1].op``."""
        return f"{self.field}.{self.path}" if self.path else self.field


@dataclass(frozen=True)
class RecomputeResult:
    segment_id: int
    entered: int = 0
    exited: int = 0
    members: int = 0
    error: str = ""


@dataclass(frozen=True)
class MembershipChange:
    """What a hand-made change did to a static segment."""

    added: int = 0
    removed: int = 0
    already: int = 0
    unknown: list[str] = field(default_factory=list)


# --- Validating a definition --------------------------------------------------------------


def _segment_references(tree: Any) -> set[int]:
    """The ids of the segments a stored tree refers to (an invalid tree refers to none)."""
    if not tree:
        return set()
    try:
        condition = conditions.parse(tree, check=False)
    except ConditionError:
        return set()
    return {ident for kind, ident in condition.references() if kind == "segment"}


def _reference_graph() -> dict[int, tuple[str, set[int]]]:
    """Every segment: its name and the segments its tree refers to (one query)."""
    return {
        pk: (name, _segment_references(tree))
        for pk, name, tree in Segment.objects.values_list("pk", "name", "conditions")
    }


def _cycle(segment_id: int, refs: set[int], graph: Mapping[int, tuple[str, set[int]]]) -> list[int]:
    """The ids along a chain of references from the segment back to itself, or []."""
    seen: set[int] = set()

    def walk(node: int, trail: list[int]) -> list[int]:
        if node == segment_id:
            return trail
        if node in seen:
            return []
        seen.add(node)
        for child in sorted(graph.get(node, ("", set()))[1]):
            found = walk(child, [*trail, child])
            if found:
                return found
        return []

    for ref in sorted(refs):
        found = walk(ref, [segment_id, ref])
        if found:
            return found
    return []


def check_definition(kind: str, tree: Any, segment: Segment | None = None) -> Condition | None:
    """Validate what a segment would be defined as; raise InvalidSegment saying where it is
    wrong. A dynamic segment needs a valid tree that does not lead back to the segment
    itself through the segments it refers to; a static one has no tree."""
    if kind not in SegmentKind.values:
        raise InvalidSegment("kind", _("Choose dynamic or static."))
    if kind == SegmentKind.STATIC:
        if tree not in (None, {}, ""):
            raise InvalidSegment(
                "conditions", _("A static segment has no conditions: its members are picked.")
            )
        return None
    if tree in (None, ""):
        raise InvalidSegment("conditions", _("A dynamic segment needs conditions."))
    try:
        condition = conditions.parse(tree)
    except ConditionError as exc:
        raise InvalidSegment("conditions", exc.message, exc.path) from exc
    refs = {ident for kind_, ident in condition.references() if kind_ == "segment"}
    if segment is not None and segment.pk is not None and refs:
        graph = _reference_graph()
        graph[segment.pk] = (segment.name, refs)
        trail = _cycle(segment.pk, refs, graph)
        if trail:
            names = " → ".join(f"«{graph[ident][0]}»" for ident in trail)
            raise InvalidSegment(
                "conditions",
                _("Segments cannot refer to each other in a circle: %(cycle)s.") % {"cycle": names},
            )
    return condition


def _check_name(name: str, segment: Segment | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidSegment("name", _("A segment needs a name."))
    if len(name) > 200:
        raise InvalidSegment("name", _("A name has at most 200 characters."))
    others = Segment.objects.filter(name=name)
    if segment is not None and segment.pk is not None:
        others = others.exclude(pk=segment.pk)
    if others.exists():
        raise InvalidSegment(
            "name", _("Another segment is already called “%s”.") % name, code="unique"
        )
    return name


# --- Defining segments --------------------------------------------------------------------


def create_segment(
    actor: User | None,
    *,
    name: str,
    kind: str = SegmentKind.DYNAMIC,
    conditions: Mapping[str, Any] | None = None,
    description: str = "",
    is_active: bool = True,
) -> Segment:
    """Create a segment (audit-logged). A dynamic one is computed in the background once
    the transaction commits. Raises InvalidSegment; then nothing is saved."""
    segment = Segment(kind=kind)
    segment.name = _check_name(name, None)
    check_definition(kind, conditions, None)
    segment.conditions = dict(conditions or {}) if kind == SegmentKind.DYNAMIC else {}
    segment.description = description or ""
    segment.is_active = is_active
    segment.created_by = actor if actor is not None and actor.pk else None
    segment.is_calculating = segment.is_dynamic and is_active
    with transaction.atomic():
        segment.save()
        audit.record_create(actor, segment)
        if segment.is_calculating:
            schedule_recompute(segment)
    return segment


_UNCHANGED: Any = object()


def update_segment(
    actor: User | None,
    segment: Segment,
    *,
    name: str = _UNCHANGED,
    description: str = _UNCHANGED,
    conditions: Mapping[str, Any] | None = _UNCHANGED,
    is_active: bool = _UNCHANGED,
) -> Segment:
    """Change a segment's name, description, conditions or active flag (audit-logged).

    New conditions raise its `version` and recompute it fully in the background (as does
    reactivating it). The kind cannot change. Raises InvalidSegment; then nothing is saved
    and `segment` is left as it was."""
    before = audit.snapshot(segment)
    new_name = segment.name if name is _UNCHANGED else _check_name(name, segment)
    new_conditions = segment.conditions if conditions is _UNCHANGED else dict(conditions or {})
    definition_changed = conditions is not _UNCHANGED and new_conditions != segment.conditions
    if definition_changed:
        probe = Segment(pk=segment.pk, name=new_name, kind=segment.kind)
        check_definition(segment.kind, new_conditions or None, probe)
    reactivated = is_active is not _UNCHANGED and is_active and not segment.is_active
    segment.name = new_name
    if description is not _UNCHANGED:
        segment.description = description or ""
    if is_active is not _UNCHANGED:
        segment.is_active = bool(is_active)
    if definition_changed:
        segment.conditions = new_conditions
        segment.version += 1
    recompute_now = segment.is_dynamic and segment.is_active and (definition_changed or reactivated)
    if recompute_now:
        segment.is_calculating = True
    with transaction.atomic():
        segment.save()
        audit.record_update(actor, segment, before)
        if recompute_now:
            schedule_recompute(segment)
    return segment


def referring_segments(segment: Segment) -> list[Segment]:
    """The segments whose conditions refer to this one."""
    graph = _reference_graph()
    ids = [pk for pk, (_name, refs) in graph.items() if segment.pk in refs and pk != segment.pk]
    return list(Segment.objects.filter(pk__in=ids).order_by("name"))


def delete_segment(actor: User | None, segment: Segment) -> None:
    """Delete a segment and its membership history (audit-logged). Refused while another
    segment's conditions refer to it."""
    users = referring_segments(segment)
    if users:
        raise InvalidSegment(
            "segment",
            _("Other segments refer to this one: %(names)s. Change their conditions first.")
            % {"names": ", ".join(f"«{other.name}»" for other in users)},
            code="conflict",
        )
    pk = segment.pk
    with transaction.atomic():
        audit.record_delete(actor, segment, pk)
        segment.delete()


def schedule_recompute(segment: Segment) -> None:
    """Recompute the segment fully (and the segments that refer to it) in the background,
    once the current transaction commits."""
    transaction.on_commit(partial(_enqueue, segment.pk))


def _enqueue(segment_id: int) -> None:
    from kizuna.segments import tasks

    try:
        tasks.recompute_segment.enqueue(segment_id)
    except Exception:
        # The nightly full recompute still computes it.
        logger.exception("Could not enqueue the recompute of segment %s", segment_id)


# --- Computing members --------------------------------------------------------------------


def _lock(segment: Segment) -> None:
    # Recomputes and hand-made changes of one segment take turns (PostgreSQL; SQLite
    # already lets one writer at a time).
    list(Segment.objects.select_for_update().filter(pk=segment.pk).order_by().values_list("pk"))


def _publish(segment: Segment, moment: Any) -> list[SegmentMembership]:
    """Publish the entries and exits made at `moment` (one query) and return them.

    The rows carry their segment but not their accounts: a subscriber that needs those
    loads them for the whole batch (the webhook serializer does, when an endpoint wants
    the events), which keeps a recompute that moves many accounts cheap."""
    changed = list(
        SegmentMembership.objects.filter(segment=segment)
        .filter(Q(entered_at=moment, exited_at__isnull=True) | Q(exited_at=moment))
        .order_by("id")
    )
    for row in changed:
        row.segment = segment
    events.publish_many(
        [
            events.DomainEvent(
                type=EXITED if row.exited_at is not None else ENTERED,
                instance=row,
                object_id=row.pk,
            )
            for row in changed
        ]
    )
    return changed


def _insert_entries(segment: Segment, candidates: Any, moment: Any) -> int:
    """INSERT … SELECT a stay for each account of `candidates` (a queryset of accounts
    that match and are not members): one statement, however many accounts."""
    select = (
        candidates.order_by()
        .annotate(
            _segment=Value(segment.pk),
            _account=F("pk"),
            _entered=Value(moment, output_field=DateTimeField()),
            _source=Value(MembershipSource.RULE.value),
        )
        .values_list("_segment", "_account", "_entered", "_source")
    )
    sql, params = select.query.sql_with_params()
    table = connection.ops.quote_name(SegmentMembership._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(name)
        for name in ("segment_id", "account_id", "entered_at", "source")
    )
    with connection.cursor() as cursor:
        # The statement is built from quoted names and Django's compiled SELECT; values
        # are parameters.
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT DO NOTHING", params)
        return max(cursor.rowcount, 0)


def _open_count(segment: Segment) -> int:
    return SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).count()


def _finish(segment: Segment, moment: Any, *, full: bool) -> int:
    members = _open_count(segment)
    values: dict[str, Any] = {"member_count": members, "last_calculated_at": moment}
    values["last_error"] = ""
    if full:
        values["is_calculating"] = False
    Segment.objects.filter(pk=segment.pk).update(**values)
    for name, value in values.items():
        setattr(segment, name, value)
    return members


def _apply_rules(
    segment: Segment, account_ids: Sequence[int] | None, ctx: Context
) -> RecomputeResult:
    _lock(segment)
    condition = conditions.parse(segment.conditions)
    moment = timezone.now()
    accounts = Account.objects.all()
    open_rows = SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True)
    scope = open_rows
    if account_ids is not None:
        ids = list(account_ids)
        accounts = accounts.filter(pk__in=ids)
        scope = open_rows.filter(account_id__in=ids)
    matched = conditions.matching(condition, accounts, ctx)
    exited = scope.exclude(account_id__in=matched.order_by().values("pk")).update(exited_at=moment)
    entered = _insert_entries(
        segment, matched.exclude(pk__in=open_rows.order_by().values("account_id")), moment
    )
    if entered or exited:
        _publish(segment, moment)
    members = _finish(segment, moment, full=account_ids is None)
    return RecomputeResult(segment.pk, entered=entered, exited=exited, members=members)


def recompute(
    segment: Segment, account_ids: Sequence[int] | None = None, ctx: Context | None = None
) -> RecomputeResult:
    """Bring a segment's members up to date, for these accounts (every account when None).

    Set-based: a few queries whatever the number of accounts. Idempotent: a second run
    changes nothing. A failure is recorded on the segment (`last_error`) and returned, never
    raised, so one broken segment never stops the others. A static segment is only
    recounted."""
    ctx = ctx or Context.now()
    try:
        with transaction.atomic():
            if segment.is_dynamic:
                return _apply_rules(segment, account_ids, ctx)
            _lock(segment)
            members = _finish(segment, timezone.now(), full=True)
            return RecomputeResult(segment.pk, members=members)
    except Exception as exc:
        logger.exception("Segment %s (%s) could not be computed", segment.pk, segment.name)
        if isinstance(exc, ConditionError):
            message = _("Invalid conditions at %(path)s: %(message)s") % {
                "path": exc.path or "/",
                "message": exc.message,
            }
        else:
            message = f"{type(exc).__name__}: {exc}"
        message = message[:MAX_ERROR]
        Segment.objects.filter(pk=segment.pk).update(is_calculating=False, last_error=message)
        segment.is_calculating = False
        segment.last_error = message
        return RecomputeResult(segment.pk, members=segment.member_count, error=message)


def dependency_order(segments: Iterable[Segment]) -> list[Segment]:
    """The segments in an order where each comes after the segments it refers to.

    Segments caught in a circle of references (which saving refuses, so only data written
    around the services) are left out and get the error recorded."""
    by_id = {segment.pk: segment for segment in segments}
    refs = {
        pk: _segment_references(segment.conditions) & by_id.keys() for pk, segment in by_id.items()
    }
    while True:
        sorter: TopologicalSorter[int] = TopologicalSorter()
        for pk, needed in refs.items():
            sorter.add(pk, *needed)
        try:
            return [by_id[pk] for pk in sorter.static_order()]
        except CycleError as exc:
            circle = set(exc.args[1])
            message = _("Segments refer to each other in a circle; not computed.")
            Segment.objects.filter(pk__in=circle).update(is_calculating=False, last_error=message)
            for pk in circle:
                refs.pop(pk, None)
            refs = {pk: needed - circle for pk, needed in refs.items()}


def recompute_all(
    account_ids: Sequence[int] | None = None, ctx: Context | None = None
) -> list[RecomputeResult]:
    """Recompute every active dynamic segment for these accounts (every account when None),
    each after the segments it refers to. The recompute step of kizuna.core.recompute."""
    ctx = ctx or Context.now()
    segments = Segment.objects.filter(kind=SegmentKind.DYNAMIC, is_active=True)
    return [recompute(segment, account_ids, ctx) for segment in dependency_order(segments)]


def recompute_with_dependents(segment_id: int, ctx: Context | None = None) -> list[RecomputeResult]:
    """Recompute a segment fully, then the active segments that refer to it, directly or
    through others (after a definition changed)."""
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        return []
    graph = _reference_graph()
    wanted = {segment_id}
    grew = True
    while grew:
        found = {pk for pk, (_name, refs) in graph.items() if refs & wanted} - wanted
        wanted |= found
        grew = bool(found)
    others = Segment.objects.filter(
        pk__in=wanted - {segment_id}, kind=SegmentKind.DYNAMIC, is_active=True
    )
    ordered = dependency_order([segment, *others])
    ctx = ctx or Context.now()
    return [recompute(item, None, ctx) for item in ordered]


# --- Static segments: members picked by hand or from a list --------------------------------


def _require_static(segment: Segment) -> None:
    if segment.is_dynamic:
        raise InvalidSegment(
            "segment",
            _("The members of a dynamic segment follow its conditions."),
            code="conflict",
        )


def _ids_text(values: Collection[Any]) -> str:
    shown = [str(value) for value in list(values)[:UNKNOWN_SHOWN]]
    more = len(values) - len(shown)
    text = ", ".join(shown)
    if more > 0:
        text += " " + ngettext("(and %d more)", "(and %d more)", more) % more
    return text


def _recount(segment: Segment) -> None:
    segment.member_count = _open_count(segment)
    Segment.objects.filter(pk=segment.pk).update(member_count=segment.member_count)


def add_members(
    actor: User | None,
    segment: Segment,
    account_ids: Iterable[int],
    *,
    source: str = MembershipSource.MANUAL,
) -> MembershipChange:
    """Put accounts in a static segment (those already in it stay as they are). Raises
    InvalidSegment naming the ids that are no account; then nothing changes."""
    _require_static(segment)
    wanted = sorted({int(pk) for pk in account_ids})
    with transaction.atomic():
        _lock(segment)
        known: set[int] = set()
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            known.update(Account.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        unknown = [pk for pk in wanted if pk not in known]
        if unknown:
            raise InvalidSegment(
                "account_ids", _("No account has these ids: %s.") % _ids_text(unknown)
            )
        current = set(
            SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
                "account_id", flat=True
            )
        )
        new = [pk for pk in wanted if pk not in current]
        moment = timezone.now()
        by = actor if actor is not None and actor.pk else None
        SegmentMembership.objects.bulk_create(
            [
                SegmentMembership(
                    segment=segment, account_id=pk, entered_at=moment, source=source, added_by=by
                )
                for pk in new
            ],
            batch_size=1000,
        )
        if new:
            _publish(segment, moment)
            _recount(segment)
            # Segments, scorecards and stages that read this membership follow.
            account_recompute.mark(new)
    return MembershipChange(added=len(new), already=len(wanted) - len(new))


def remove_members(
    actor: User | None, segment: Segment, account_ids: Iterable[int]
) -> MembershipChange:
    """Take accounts out of a static segment (their stay is closed, kept as history)."""
    _require_static(segment)
    wanted = {int(pk) for pk in account_ids}
    with transaction.atomic():
        _lock(segment)
        moment = timezone.now()
        leaving = SegmentMembership.objects.filter(
            segment=segment, exited_at__isnull=True, account_id__in=sorted(wanted)
        )
        leaving_ids = list(leaving.values_list("account_id", flat=True))
        removed = leaving.update(exited_at=moment)
        if removed:
            _publish(segment, moment)
            _recount(segment)
            account_recompute.mark(leaving_ids)
    return MembershipChange(removed=removed)


def import_members(
    actor: User | None, segment: Segment, external_ids: Iterable[str], *, replace: bool = False
) -> MembershipChange:
    """Put the accounts with these external (CRM) ids in a static segment; with `replace`,
    take out the members not in the list. Every id must be an account's: otherwise
    InvalidSegment lists the unknown ones and nothing changes."""
    _require_static(segment)
    wanted = list(dict.fromkeys(value.strip() for value in external_ids if value and value.strip()))
    if not wanted:
        raise InvalidSegment("external_ids", _("The list has no account ids."))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = Account.objects.filter(external_id__in=chunk).values_list("external_id", "pk")
        found.update((external_id, pk) for external_id, pk in rows if external_id)
    unknown = [value for value in wanted if value not in found]
    if unknown:
        raise InvalidSegment(
            "external_ids",
            ngettext(
                "%(count)d id is no account's: %(ids)s. Nothing was imported.",
                "%(count)d ids are no account's: %(ids)s. Nothing was imported.",
                len(unknown),
            )
            % {"count": len(unknown), "ids": _ids_text(unknown)},
        )
    ids = set(found.values())
    with transaction.atomic():
        added = add_members(actor, segment, ids, source=MembershipSource.IMPORT)
        removed = MembershipChange()
        if replace:
            current = SegmentMembership.objects.filter(
                segment=segment, exited_at__isnull=True
            ).values_list("account_id", flat=True)
            removed = remove_members(actor, segment, [pk for pk in current if pk not in ids])
    return MembershipChange(added=added.added, already=added.already, removed=removed.removed)


# Header names of the column that holds the ids, in a file with a header row.
ID_HEADERS = {
    "external_id",
    "external id",
    "externalid",
    "crm id",
    "crm_id",
    "crm / external id",
    "account external id",
    "account_external_id",
    "外部id",
    "crm / 外部id",
    "取引先id",
}


def parse_id_list(text: str) -> list[str]:
    """Ids pasted as text: one per line, or separated by commas, tabs or spaces."""
    return [part for part in text.replace(",", " ").replace("\t", " ").split() if part]


def read_id_file(content: bytes) -> list[str]:
    """The account ids of an uploaded CSV or Excel file: the column headed like an
    external id ("external_id", "CRM ID", …), else the first column (then the first row
    is an id too). Raises InvalidSegment when the file cannot be read."""
    from kizuna.integrations import cells, tabular

    try:
        inspection = tabular.inspect(content)
    except tabular.FileProblem as exc:
        raise InvalidSegment("file", exc.message) from exc
    headers = [header.strip().casefold() for header in inspection.headers]
    column = next((index for index, header in enumerate(headers) if header in ID_HEADERS), None)
    ids: list[str] = []
    if column is None:
        column = 0
        ids.append(inspection.headers[0] if inspection.headers else "")
    for row in tabular.unpack_rows(inspection.packed_rows):
        if column < len(row.values):
            ids.append(cells.text(row.values[column]))
    return [value for value in ids if value]
