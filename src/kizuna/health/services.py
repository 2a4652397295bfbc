"""The write side of health scores: scorecards and their versions, CSM overrides, and the
set-based computation of every account's score (the recompute step "health").

Other apps import this module only. Computation, in `recompute_scores`:

1. Each account gets one scorecard — the most specific active one that fits its stage and
   segment (see `Scorecard`) — through one CASE expression; each scorecard then scores
   its accounts with ONE ``INSERT INTO health_healthscore … SELECT … ON CONFLICT
   (account_id) DO UPDATE`` built from `scoring.score_queryset`. The upsert itself keeps
   the band before a change (`previous_band`, `previous_score`, `band_changed_at`), which
   is how band changes are captured without computing the scores twice.
2. A scorecard whose query fails is rolled back to a savepoint, its error recorded on the
   scorecard and on its accounts' scores (which keep their last value), and the other
   scorecards go on.
3. Today's snapshot of every recomputed account is upserted from health_healthscore.
4. Band changes become ``health.changed`` domain events (webhooks, flows).

A handful of queries whatever the number of accounts.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Max, Q, QuerySet, Value, When
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit, events
from kizuna.core.conditions import metrics
from kizuna.core.conditions.metrics import Context
from kizuna.core.models import User
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.health import definition as schema
from kizuna.health import scoring
from kizuna.health.choices import Band
from kizuna.health.definition import Definition, DefinitionError
from kizuna.health.models import (
    HealthScore,
    HealthSnapshot,
    MeasureOverride,
    Scorecard,
    ScorecardVersion,
)

logger = logging.getLogger(__name__)

HEALTH_CHANGED = "health.changed"
SEGMENT_METRIC = "segment.member"
# The longest a CSM's override may last before someone looks at it again.
MAX_OVERRIDE_DAYS = 366

__all__ = [
    "HEALTH_CHANGED",
    "ComputeReport",
    "DefinitionError",
    "add_version",
    "backfill_snapshots",
    "create_scorecard",
    "delete_scorecard",
    "ensure_default_scorecard",
    "recompute_scores",
    "remove_override",
    "set_override",
    "update_scorecard",
    "validate_definition",
]


# --- Scorecards and versions ----------------------------------------------------------------


def validate_definition(raw: Any, *, check: bool = True) -> Definition:
    """The definition parsed, or DefinitionError(path, message) saying where it is wrong."""
    return schema.parse(raw, check=check)


def _check_selector(stage: str, segment_id: int | None) -> None:
    errors: dict[str, str] = {}
    if stage and stage not in LifecycleStage.values:
        errors["stage"] = _("Unknown lifecycle stage “%s”.") % stage
    if segment_id is not None:
        metric = metrics.get(SEGMENT_METRIC)
        if metric is None:
            errors["segment_id"] = _("Segments are not available.")
        else:
            try:
                metric.check(metric.parse({"segment": segment_id}))
            except Exception as exc:
                errors["segment_id"] = str(exc) if isinstance(exc, ValueError) else repr(exc)
    if errors:
        raise ValidationError(errors)


def _schedule_full_recompute() -> None:
    def enqueue() -> None:
        from kizuna.health import tasks

        try:
            tasks.recompute_health.enqueue()
        except Exception:
            # The nightly recompute catches up.
            logger.exception("Could not enqueue the health recompute")

    transaction.on_commit(enqueue)


def _new_version(
    actor: User | None, scorecard: Scorecard, definition: Definition, note: str
) -> ScorecardVersion:
    latest = scorecard.versions.aggregate(n=Max("number"))["n"] or 0
    version = ScorecardVersion.objects.create(
        scorecard=scorecard,
        number=latest + 1,
        definition=definition.dump(),
        note=note[:300],
        created_by=actor if actor is not None and actor.pk else None,
    )
    audit.record_create(actor, version)
    return version


@transaction.atomic
def create_scorecard(
    actor: User | None,
    *,
    name: str,
    definition: Any,
    description: str = "",
    stage: str = "",
    segment_id: int | None = None,
    priority: int = 100,
    is_active: bool = True,
    note: str = "",
) -> Scorecard:
    """A new scorecard with its first version. Raises DefinitionError (definition) or
    ValidationError (the other fields) and saves nothing when either is invalid; scores
    are recomputed in the background once it commits."""
    parsed = validate_definition(definition)
    _check_selector(stage, segment_id)
    if not name.strip():
        raise ValidationError({"name": _("A scorecard needs a name.")})
    scorecard = Scorecard.objects.create(
        name=name.strip(),
        description=description,
        stage=stage,
        segment_id=segment_id,
        priority=priority,
        is_active=is_active,
    )
    version = _new_version(actor, scorecard, parsed, note)
    scorecard.current_version = version
    scorecard.save(update_fields=["current_version", "updated_at"])
    audit.record_create(actor, scorecard)
    _schedule_full_recompute()
    return scorecard


SCORECARD_FIELDS = ("name", "description", "stage", "segment_id", "priority", "is_active")


@transaction.atomic
def update_scorecard(
    actor: User | None,
    scorecard: Scorecard,
    *,
    definition: Any = None,
    note: str = "",
    **changes: Any,
) -> Scorecard:
    """Change a scorecard's settings (`changes`: any of SCORECARD_FIELDS) and, when
    `definition` is given and differs from the current one, add a version with it — a
    version is never edited. Everything is validated before anything is written."""
    unknown = set(changes) - set(SCORECARD_FIELDS)
    if unknown:
        raise ValueError(f"Unknown scorecard fields: {sorted(unknown)}")
    parsed = validate_definition(definition) if definition is not None else None
    _check_selector(
        changes.get("stage", scorecard.stage), changes.get("segment_id", scorecard.segment_id)
    )
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError({"name": _("A scorecard needs a name.")})
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    before = audit.snapshot(scorecard)
    for name, value in changes.items():
        setattr(scorecard, name, value.strip() if name == "name" else value)
    current = scorecard.current_version
    rescore = any(
        before.get(name) != audit.snapshot(scorecard).get(name)
        for name in ("stage", "segment_id", "priority", "is_active")
    )
    if parsed is not None and (current is None or current.definition != parsed.dump()):
        scorecard.current_version = _new_version(actor, scorecard, parsed, note)
        rescore = True
    scorecard.save()
    audit.record_update(actor, scorecard, before)
    if rescore:
        _schedule_full_recompute()
    return scorecard


def add_version(
    actor: User | None, scorecard: Scorecard, definition: Any, note: str = ""
) -> ScorecardVersion:
    """Make `definition` the scorecard's current definition, as a new version."""
    updated = update_scorecard(actor, scorecard, definition=definition, note=note)
    assert updated.current_version is not None
    return updated.current_version


class ScorecardInUse(ValueError):
    pass


@transaction.atomic
def delete_scorecard(actor: User | None, scorecard: Scorecard) -> None:
    """Delete a scorecard that never scored an account; one that did is kept (its scores
    and history name its versions) and can be deactivated instead."""
    versions = list(scorecard.versions.values_list("pk", flat=True))
    if (
        HealthScore.objects.filter(version_id__in=versions).exists()
        or HealthSnapshot.objects.filter(version_id__in=versions).exists()
    ):
        raise ScorecardInUse(
            _("This scorecard has scored accounts; deactivate it instead of deleting it.")
        )
    object_id = scorecard.pk
    Scorecard.objects.filter(pk=object_id).update(current_version=None)
    scorecard.current_version = None
    audit.record_delete(actor, scorecard, object_id)
    scorecard.delete()
    _schedule_full_recompute()


# --- Overrides ----------------------------------------------------------------------------------


@transaction.atomic
def set_override(
    actor: User | None,
    account: Account,
    *,
    measure_key: str,
    points: float,
    comment: str,
    expires_at: datetime.datetime,
    scorecard: Scorecard | None = None,
) -> MeasureOverride:
    """A CSM's points for one measure of the account, replacing the computed ones until
    `expires_at`. The scorecard is the one that scores the account now, unless given; a
    live override of the same measure ends. The account is rescored at once."""
    if scorecard is None:
        scorecard = scorecard_of(account.pk)
    errors: dict[str, str] = {}
    if scorecard is None or scorecard.current_version is None:
        raise ValidationError(_("No scorecard scores this account; there is nothing to override."))
    measures = scoring.definition_of(scorecard.current_version)
    if measures.measure(measure_key) is None:
        errors["measure_key"] = _("The scorecard has no measure “%s”.") % measure_key
    if not 0 <= points <= 100:
        errors["points"] = _("Points go from 0 to 100.")
    if not comment.strip():
        errors["comment"] = _("Say why: the comment is required.")
    now = timezone.now()
    if expires_at <= now:
        errors["expires_at"] = _("The expiry must be in the future.")
    elif expires_at > now + datetime.timedelta(days=MAX_OVERRIDE_DAYS):
        errors["expires_at"] = _("An override lasts at most a year.")
    if errors:
        raise ValidationError(errors)
    live = MeasureOverride.objects.filter(
        account=account, scorecard=scorecard, measure_key=measure_key, expires_at__gt=now
    )
    for previous in live:
        _end(actor, previous, now)
    override = MeasureOverride.objects.create(
        account=account,
        scorecard=scorecard,
        measure_key=measure_key,
        points=points,
        comment=comment.strip(),
        expires_at=expires_at,
        created_by=actor if actor is not None and actor.pk else None,
    )
    audit.record_create(actor, override)
    _rescore(account.pk)
    return override


def _end(actor: User | None, override: MeasureOverride, now: datetime.datetime) -> None:
    before = audit.snapshot(override)
    override.expires_at = now
    override.save(update_fields=["expires_at"])
    audit.record_update(actor, override, before)


@transaction.atomic
def remove_override(actor: User | None, override: MeasureOverride) -> None:
    """End a live override now (it stays in the history) and rescore the account."""
    now = timezone.now()
    if override.expires_at > now:
        _end(actor, override, now)
    _rescore(override.account_id)


def _rescore(account_id: int) -> None:
    from kizuna.core import recompute

    recompute_scores([account_id], Context.now())
    # Segments and flows that read the health score catch up with the next recompute.
    recompute.mark([account_id])


# --- Which scorecard scores which account ---------------------------------------------------


def ordered_scorecards() -> list[Scorecard]:
    """The active scorecards with a definition, most specific first (see Scorecard)."""
    scorecards = Scorecard.objects.filter(
        is_active=True, current_version__isnull=False
    ).select_related("current_version")
    return sorted(scorecards, key=lambda sc: (sc.specificity, sc.priority, sc.pk))


def _selector(scorecard: Scorecard, ctx: Context, prefix: str) -> tuple[dict[str, Any], Q]:
    """The accounts a scorecard fits, as aliases and a Q (raises if the segment cannot be
    read)."""
    aliases: dict[str, Any] = {}
    q = Q(stage=scorecard.stage) if scorecard.stage else ~Q(stage=LifecycleStage.CHURNED)
    if scorecard.segment_id is not None:
        metric = metrics.get(SEGMENT_METRIC)
        if metric is None:
            raise LookupError(_("Segments are not available."))
        params = metric.parse({"segment": scorecard.segment_id})
        metric.check(params)
        aliases[prefix] = metric.expression(params, ctx)
        q &= Q(**{prefix: True})
    return aliases, q


# The alias `assign` gives the id of each account's scorecard.
SCORECARD_ALIAS = "_scorecard"


@dataclass
class Assignment:
    accounts: QuerySet[Account]  # aliased with `_scorecard`
    scorecards: list[Scorecard]
    errors: dict[int, str] = field(default_factory=dict)

    def of(self, scorecard: Scorecard) -> QuerySet[Account]:
        return self.accounts.filter(**{SCORECARD_ALIAS: scorecard.pk})

    def unscored(self) -> QuerySet[Account]:
        return self.accounts.filter(**{f"{SCORECARD_ALIAS}__isnull": True})


def assign(
    accounts: QuerySet[Account], ctx: Context, scorecards: list[Scorecard] | None = None
) -> Assignment:
    """`accounts` aliased with the id of the scorecard that scores each (`_scorecard`,
    NULL when none fits). A scorecard whose segment cannot be read is left out, with its
    error; its accounts fall to the next scorecard that fits."""
    if scorecards is None:
        scorecards = ordered_scorecards()
    aliases: dict[str, Any] = {}
    whens: list[When] = []
    usable: list[Scorecard] = []
    errors: dict[int, str] = {}
    for scorecard in scorecards:
        try:
            found, q = _selector(scorecard, ctx, f"_segment{scorecard.pk}")
        except Exception as exc:
            errors[scorecard.pk] = _error_text(exc)
            continue
        aliases.update(found)
        whens.append(When(q, then=Value(scorecard.pk)))
        usable.append(scorecard)
    case = Case(*whens, default=Value(None), output_field=BigIntegerField())
    return Assignment(accounts.alias(**aliases, **{SCORECARD_ALIAS: case}), usable, errors)


def scorecard_of(account_id: int, ctx: Context | None = None) -> Scorecard | None:
    """The scorecard that scores an account now (one query, plus the scorecards)."""
    scorecards = ordered_scorecards()
    assignment = assign(Account.objects.filter(pk=account_id), ctx or Context.now(), scorecards)
    chosen = (
        assignment.accounts.annotate(chosen=F(SCORECARD_ALIAS))
        .values_list("chosen", flat=True)
        .first()
    )
    return next((sc for sc in assignment.scorecards if sc.pk == chosen), None)


# --- Computation --------------------------------------------------------------------------------


@dataclass
class ComputeReport:
    """What a recompute did: accounts written per scorecard id (None: no scorecard fits),
    errors per scorecard id, and the band changes."""

    accounts: dict[int | None, int] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    changed: int = 0


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _empty_json() -> str:
    return "'{}'::jsonb" if connection.vendor == "postgresql" else "'{}'"


SCORE_TABLE = HealthScore._meta.db_table
SNAPSHOT_TABLE = HealthSnapshot._meta.db_table
_COLUMNS = (
    "account_id",
    "score",
    "band",
    "version_id",
    "groups",
    "measures",
    "computed_at",
    "previous_band",
    "previous_score",
    "band_changed_at",
    "error",
)


def _upsert_sql(select: str, *, on_conflict: str | None = None) -> str:
    table = _q(SCORE_TABLE)
    changed = f"{table}.{_q('band')} <> excluded.{_q('band')}"
    update = on_conflict or ", ".join(
        [
            *(
                f"{_q(name)} = excluded.{_q(name)}"
                for name in ("score", "band", "version_id", "groups", "measures", "computed_at")
            ),
            f"{_q('error')} = ''",
            f"{_q('previous_band')} = CASE WHEN {changed} THEN {table}.{_q('band')} "
            f"ELSE {table}.{_q('previous_band')} END",
            f"{_q('previous_score')} = CASE WHEN {changed} THEN {table}.{_q('score')} "
            f"ELSE {table}.{_q('previous_score')} END",
            f"{_q('band_changed_at')} = CASE WHEN {changed} THEN excluded.{_q('computed_at')} "
            f"ELSE {table}.{_q('band_changed_at')} END",
        ]
    )
    columns = ", ".join(_q(name) for name in _COLUMNS)
    # "WHERE 1 = 1": SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT.
    return (
        f"INSERT INTO {table} ({columns}) {select} WHERE 1 = 1 "
        f"ON CONFLICT ({_q('account_id')}) DO UPDATE SET {update}"
    )


def _execute(sql: str, params: Sequence[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return max(cursor.rowcount, 0)


def _write_scores(
    version: ScorecardVersion, accounts: QuerySet[Account], ctx: Context, now: datetime.datetime
) -> int:
    """Score `accounts` with `version` and upsert their HealthScore rows (one query)."""
    definition = scoring.definition_of(version)
    names = scoring.columns(definition)
    scored = scoring.score_queryset(version, accounts, ctx).annotate(
        h_groups=JSONObject(**{key: F(column) for key, column in names.groups.items()}),
        h_measures=JSONObject(
            **{
                key: JSONObject(
                    value=F(names.values[key]),
                    points=F(names.points[key]),
                    weight_used=F(names.weights[key]),
                    override=F(names.overrides[key]),
                )
                for key in names.values
            }
        ),
    )
    sql, params = scoring.compile_sql(
        scored.values("id", "score", "band", "h_groups", "h_measures")
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    select = (
        f"SELECT s.{_q('id')}, s.{_q('score')}, s.{_q('band')}, %s, s.{_q('h_groups')}, "  # noqa: S608
        f"s.{_q('h_measures')}, %s, 'none', NULL, "
        f"CASE WHEN s.{_q('band')} <> 'none' THEN %s END, '' FROM ({sql}) s"
    )
    return _execute(_upsert_sql(select), [version.pk, stamp, stamp, *params])


def _write_unscored(accounts: QuerySet[Account], now: datetime.datetime) -> int:
    """Accounts no scorecard fits: no score, band "none"."""
    sql, params = scoring.compile_sql(accounts.order_by().values("id"))
    stamp = connection.ops.adapt_datetimefield_value(now)
    empty = _empty_json()
    select = (
        f"SELECT s.{_q('id')}, NULL, 'none', NULL, {empty}, {empty}, %s, 'none', NULL, NULL, '' "  # noqa: S608
        f"FROM ({sql}) s"
    )
    return _execute(_upsert_sql(select), [stamp, *params])


def _write_error(accounts: QuerySet[Account], message: str, now: datetime.datetime) -> None:
    """Record a computation error on the accounts' scores, which keep their last value."""
    sql, params = scoring.compile_sql(accounts.order_by().values("id"))
    stamp = connection.ops.adapt_datetimefield_value(now)
    empty = _empty_json()
    select = (
        f"SELECT s.{_q('id')}, NULL, 'none', NULL, {empty}, {empty}, %s, 'none', NULL, NULL, %s "  # noqa: S608
        f"FROM ({sql}) s"
    )
    on_conflict = f"{_q('error')} = excluded.{_q('error')}"
    _execute(_upsert_sql(select, on_conflict=on_conflict), [stamp, message, *params])


def _write_snapshots(account_ids: Sequence[int] | None, day: datetime.date) -> None:
    """Upsert the day's snapshot of these accounts (all when None) from their scores."""
    table = _q(SNAPSHOT_TABLE)
    copied = ("score", "band", "version_id", "groups", "measures")
    where, params = "1 = 1", []
    if account_ids is not None:
        where = f"{_q('account_id')} IN ({', '.join(['%s'] * len(account_ids))})"
        params = list(account_ids)
    sql = (
        f"INSERT INTO {table} ({_q('account_id')}, {_q('day')}, "  # noqa: S608
        f"{', '.join(_q(name) for name in copied)}) "
        f"SELECT {_q('account_id')}, %s, {', '.join(_q(name) for name in copied)} "
        f"FROM {_q(SCORE_TABLE)} WHERE {where} "
        f"ON CONFLICT ({_q('account_id')}, {_q('day')}) DO UPDATE SET "
        + ", ".join(f"{_q(name)} = excluded.{_q(name)}" for name in copied)
    )
    _execute(sql, [connection.ops.adapt_datefield_value(day), *params])


def _publish_changes(now: datetime.datetime) -> int:
    """`health.changed` events for the band changes this run wrote (one query)."""
    changed = list(
        HealthScore.objects.filter(band_changed_at=now)
        .exclude(previous_band=F("band"))
        .select_related("account", "version__scorecard")
        .order_by("account_id")
    )
    events.publish_many(
        [
            events.DomainEvent(
                type=HEALTH_CHANGED,
                instance=score,
                object_id=score.account_id,
                changes={
                    "band": [score.previous_band or Band.NONE, score.band],
                    "score": [_text(score.previous_score), _text(score.score)],
                },
            )
            for score in changed
        ]
    )
    return len(changed)


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def recompute_scores(
    account_ids: Sequence[int] | None, ctx: Context | None = None
) -> ComputeReport:
    """Score these accounts (every account when None) with the scorecard that fits each,
    as of `ctx.today`; write their scores and today's snapshots and publish band changes.

    The recompute step "health" (see kizuna.core.recompute). A few queries whatever the
    number of accounts: the scorecards, one upsert per scorecard, one for the accounts no
    scorecard fits, the snapshots, the band changes, the scorecards' status.
    """
    ctx = ctx or Context.now()
    now = timezone.now()
    ids = None if account_ids is None else sorted({int(pk) for pk in account_ids})
    if ids == []:
        return ComputeReport()
    scope = Account.objects.all() if ids is None else Account.objects.filter(pk__in=ids)
    scorecards = ordered_scorecards()
    assignment = assign(scope, ctx, scorecards)
    report = ComputeReport(errors=dict(assignment.errors))
    for scorecard in assignment.scorecards:
        version = scorecard.current_version
        assert version is not None
        accounts = assignment.of(scorecard)
        try:
            with transaction.atomic():
                report.accounts[scorecard.pk] = _write_scores(version, accounts, ctx, now)
        except Exception as exc:
            logger.exception("Scorecard %s could not be computed", scorecard.pk)
            report.errors[scorecard.pk] = _error_text(exc)
            try:
                with transaction.atomic():
                    _write_error(accounts, report.errors[scorecard.pk], now)
            except Exception:
                logger.exception("Could not record the error of scorecard %s", scorecard.pk)
    report.accounts[None] = _write_unscored(assignment.unscored(), now)
    if ctx.is_today:
        _write_snapshots(ids, ctx.today)
    report.changed = _publish_changes(now)
    _record_status(scorecards, report, now, full=ids is None)
    return report


def _record_status(
    scorecards: list[Scorecard], report: ComputeReport, now: datetime.datetime, *, full: bool
) -> None:
    if not scorecards:
        return
    for scorecard in scorecards:
        scorecard.last_computed_at = now
        scorecard.last_error = report.errors.get(scorecard.pk, "")
        if full:
            scorecard.last_accounts = report.accounts.get(scorecard.pk, 0)
    fields = ["last_computed_at", "last_error"] + (["last_accounts"] if full else [])
    Scorecard.objects.bulk_update(scorecards, fields)


def backfill_snapshots(
    first_day: datetime.date, last_day: datetime.date, *, account_ids: Sequence[int] | None = None
) -> int:
    """Fill in snapshots of past days that have none, by scoring each day as of that day
    with today's scorecards (one INSERT … SELECT per day and scorecard; existing snapshots
    are kept). Stages are today's (they have no history yet). For a demo, or history
    after a first install. Returns the rows written."""
    written = 0
    scorecards = ordered_scorecards()
    day = first_day
    while day <= last_day:
        ctx = Context(today=day)
        scope = (
            Account.objects.all()
            if account_ids is None
            else Account.objects.filter(pk__in=list(account_ids))
        )
        assignment = assign(scope, ctx, scorecards)
        for scorecard in assignment.scorecards:
            assert scorecard.current_version is not None
            written += _insert_snapshots(scorecard.current_version, assignment.of(scorecard), ctx)
        day += datetime.timedelta(days=1)
    return written


def _insert_snapshots(version: ScorecardVersion, accounts: QuerySet[Account], ctx: Context) -> int:
    definition = scoring.definition_of(version)
    names = scoring.columns(definition)
    scored = scoring.score_queryset(version, accounts, ctx).annotate(
        h_groups=JSONObject(**{key: F(column) for key, column in names.groups.items()}),
        h_measures=JSONObject(
            **{
                key: JSONObject(
                    value=F(names.values[key]),
                    points=F(names.points[key]),
                    weight_used=F(names.weights[key]),
                    override=F(names.overrides[key]),
                )
                for key in names.values
            }
        ),
    )
    sql, params = scoring.compile_sql(
        scored.values("id", "score", "band", "h_groups", "h_measures")
    )
    columns = ("account_id", "day", "score", "band", "version_id", "groups", "measures")
    statement = (
        f"INSERT INTO {_q(SNAPSHOT_TABLE)} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608
        f"SELECT s.{_q('id')}, %s, s.{_q('score')}, s.{_q('band')}, %s, s.{_q('h_groups')}, "
        f"s.{_q('h_measures')} FROM ({sql}) s WHERE 1 = 1 "
        f"ON CONFLICT ({_q('account_id')}, {_q('day')}) DO NOTHING"
    )
    return _execute(
        statement, [connection.ops.adapt_datefield_value(ctx.today), version.pk, *params]
    )


# --- The demo's default scorecard ---------------------------------------------------------------

DEFAULT_DEFINITION: dict[str, Any] = {
    "bands": {"red_below": 40, "green_from": 70},
    "groups": [
        {
            "key": "usage",
            "label_ja": "利用状況",
            "label_en": "Usage",
            "weight": 60,
            "measures": [
                {
                    "key": "login_rate",
                    "label_ja": "ログイン率（30日）",
                    "label_en": "Login rate (30 days)",
                    "weight": 50,
                    "metric": {"metric": "usage.login_rate", "params": {"days": 30}},
                    "mapping": {"kind": "linear", "from": 10, "to": 60},
                },
                {
                    "key": "active_users_trend",
                    "label_ja": "アクティブユーザーの増減",
                    "label_en": "Active users trend",
                    "weight": 25,
                    "metric": {
                        "metric": "usage.change",
                        "params": {"days": 30, "of": "active_users"},
                    },
                    "mapping": {"kind": "linear", "from": -50, "to": 10},
                },
                {
                    "key": "days_since_seen",
                    "label_ja": "最終利用からの日数",
                    "label_en": "Days since last seen",
                    "weight": 25,
                    "metric": {"metric": "usage.days_since_last_seen", "params": {}},
                    "mapping": {
                        "kind": "bands",
                        "bands": [
                            {"min": 0, "points": 100},
                            {"min": 4, "points": 70},
                            {"min": 15, "points": 30},
                            {"min": 31, "points": 0},
                        ],
                    },
                },
            ],
        },
        {
            "key": "relationship",
            "label_ja": "関係性",
            "label_en": "Relationship",
            "weight": 40,
            "measures": [
                {
                    "key": "last_rating",
                    "label_ja": "直近の接点の評価",
                    "label_en": "Last touchpoint rating",
                    "weight": 60,
                    "metric": {"metric": "touchpoint.last_rating", "params": {}},
                    "mapping": {
                        "kind": "choices",
                        "points": {"very_good": 100, "good": 70, "poor": 0},
                    },
                },
                {
                    "key": "days_since_touchpoint",
                    "label_ja": "最終接点からの日数",
                    "label_en": "Days since the last touchpoint",
                    "weight": 40,
                    "metric": {"metric": "touchpoint.days_since", "params": {}},
                    "mapping": {"kind": "linear", "from": 120, "to": 14},
                },
            ],
        },
    ],
}


def ensure_default_scorecard() -> Scorecard:
    """The default scorecard (every stage), created with `DEFAULT_DEFINITION` when there is
    no scorecard yet. Scores follow with the next recompute."""
    existing = Scorecard.objects.filter(stage="", segment_id__isnull=True).order_by("pk").first()
    if existing is not None:
        return existing
    return create_scorecard(
        None,
        name=_("Standard health"),
        description=_("Usage and relationship, for every stage without a scorecard of its own."),
        definition=DEFAULT_DEFINITION,
        note=_("Shipped default"),
    )
