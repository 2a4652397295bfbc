"""Health in the REST API: scorecards and their versions, each account's score with its
explanation and history, and CSM overrides (mounted at /api/v1/ by kizuna.api.api).

Handlers are thin: they call health.services, which validates exactly as the UI does. An
invalid definition is a 422 whose `fields` name where it is wrong, prefixed with
`definition.` — e.g. ``{"definition.groups[0].measures": ["The measure weights of group
“Usage” add up to 90; …"]}`` — and nothing is saved. `HealthScoreOut` is also the
`data.object` of `health.changed` webhook payloads.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kizuna.api import rest
from kizuna.api.rest import (
    ITEM_ERRORS,
    MAX_ID,
    READ_ERRORS,
    WRITE_ERRORS,
    ApiError,
    Input,
    Timestamp,
)
from kizuna.core.models import User
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.health import queries, services
from kizuna.health.choices import Band
from kizuna.health.definition import DefinitionError
from kizuna.health.models import (
    HealthScore,
    MeasureOverride,
    Scorecard,
    ScorecardVersion,
)

router = Router(tags=["Health"])

DEFINITION_HELP = (
    "A scorecard definition: `bands` {red_below, green_from} and `groups`, each with `key`, "
    "`label_ja`, `label_en`, `weight` and `measures` (key, labels, weight, `metric` "
    '{"metric": "usage.login_rate", "params": {"days": 30}} and `mapping`: linear '
    "{from, to}, bands [{min, points}], choices {value: points} or boolean {true, false}). "
    "Group weights, and the measure weights of each group, add up to 100."
)
DEFINITION_EXAMPLE = {
    "bands": {"red_below": 40, "green_from": 70},
    "groups": [
        {
            "key": "usage",
            "label_ja": "利用状況",
            "label_en": "Usage",
            "weight": 100,
            "measures": [
                {
                    "key": "login_rate",
                    "label_ja": "ログイン率",
                    "label_en": "Login rate",
                    "weight": 100,
                    "metric": {"metric": "usage.login_rate", "params": {"days": 30}},
                    "mapping": {"kind": "linear", "from": 10, "to": 60},
                }
            ],
        }
    ],
}


# --- Schemas --------------------------------------------------------------------------------


class ScorecardOut(Schema):
    id: int
    name: str
    description: str
    stage: LifecycleStage | None = Field(description="Empty: the default for every stage.")
    segment_id: int | None
    priority: int
    is_active: bool
    current_version: int | None = Field(description="The number of the current version.")
    definition: dict[str, Any] | None = Field(description="The current version's definition.")
    last_computed_at: Timestamp | None
    last_accounts: int = Field(description="Accounts scored by the last full recompute.")
    last_error: str
    created_at: Timestamp
    updated_at: Timestamp

    @staticmethod
    def resolve_stage(obj: Scorecard) -> str | None:
        return obj.stage or None

    @staticmethod
    def resolve_current_version(obj: Scorecard) -> int | None:
        return obj.current_version.number if obj.current_version else None

    @staticmethod
    def resolve_definition(obj: Scorecard) -> dict[str, Any] | None:
        return obj.current_version.definition if obj.current_version else None


class ScorecardList(Schema):
    count: int
    limit: int
    offset: int
    results: list[ScorecardOut]


class VersionOut(Schema):
    id: int
    scorecard_id: int
    number: int
    definition: dict[str, Any]
    note: str
    created_by_id: int | None
    created_at: Timestamp


class ScorecardPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=5000)
    stage: LifecycleStage | None = Field(
        None, description="A lifecycle stage, or null for the default scorecard (any stage)."
    )
    segment_id: int | None = Field(None, ge=1, le=MAX_ID)
    priority: int | None = Field(None, ge=0, le=1_000_000)
    is_active: bool | None = None
    definition: dict[str, Any] | None = Field(
        None,
        description=DEFINITION_HELP + " Sending one adds a version when it differs.",
        examples=[DEFINITION_EXAMPLE],
    )
    note: str = Field("", max_length=300, description="What changed, for the version history.")


class ScorecardCreate(Input):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=5000)
    stage: LifecycleStage | None = None
    segment_id: int | None = Field(None, ge=1, le=MAX_ID)
    priority: int = Field(100, ge=0, le=1_000_000)
    is_active: bool = True
    definition: dict[str, Any] = Field(description=DEFINITION_HELP, examples=[DEFINITION_EXAMPLE])
    note: str = Field("", max_length=300)


class VersionCreate(Input):
    definition: dict[str, Any] = Field(description=DEFINITION_HELP, examples=[DEFINITION_EXAMPLE])
    note: str = Field("", max_length=300)


class HealthScoreOut(Schema):
    account_id: int
    account_name: str
    score: float | None = Field(description="0–100, one decimal; null when nothing scored.")
    band: Band
    previous_band: Band | None = Field(description="The band before the last band change.")
    previous_score: float | None
    band_changed_at: Timestamp | None
    scorecard_id: int | None
    scorecard_name: str | None
    version: int | None = Field(description="The scorecard version that computed the score.")
    groups: dict[str, float | None] = Field(description="Score per group (pillar) key.")
    measures: dict[str, Any] = Field(
        description="Per measure key: value, points, weight_used (% of its group after "
        "redistribution; null: no data) and override (the CSM's points, or null).",
    )
    computed_at: Timestamp | None
    error: str = Field(description="Why the last computation failed (the score is older).")

    @staticmethod
    def resolve_account_name(obj: HealthScore) -> str:
        return obj.account.name

    @staticmethod
    def resolve_previous_band(obj: HealthScore) -> str | None:
        return obj.previous_band or None

    @staticmethod
    def resolve_scorecard_id(obj: HealthScore) -> int | None:
        return obj.version.scorecard_id if obj.version else None

    @staticmethod
    def resolve_scorecard_name(obj: HealthScore) -> str | None:
        return obj.version.scorecard.name if obj.version else None

    @staticmethod
    def resolve_version(obj: HealthScore) -> int | None:
        return obj.version.number if obj.version else None


class HealthScoreList(Schema):
    count: int
    limit: int
    offset: int
    results: list[HealthScoreOut]


class OverrideOut(Schema):
    id: int
    account_id: int
    scorecard_id: int
    measure_key: str
    points: float
    comment: str
    expires_at: Timestamp
    created_by_id: int | None
    created_at: Timestamp


class OverrideCreate(Input):
    measure_key: str = Field(min_length=1, max_length=40)
    points: float = Field(ge=0, le=100)
    comment: str = Field(min_length=1, max_length=2000)
    expires_at: datetime.datetime = Field(description="Until when; at most a year ahead.")


class MeasureExplained(Schema):
    key: str
    label: str
    source: str
    value: Any
    value_text: str
    points: float | None
    weight: float
    weight_used: float | None
    no_data: bool
    override: OverrideOut | None = None
    points_last_week: float | None
    points_delta: float | None


class GroupExplained(Schema):
    key: str
    label: str
    score: float | None
    weight: float
    weight_used: float | None
    score_last_week: float | None
    measures: list[MeasureExplained]


class Mover(Schema):
    measure_key: str
    group_key: str
    points_delta: float
    impact: float = Field(description="Effect on the overall score, in points.")


class SinceLastWeek(Schema):
    day: datetime.date
    score: float | None
    band: Band
    score_delta: float | None
    movers: list[Mover] = Field(description="Measures whose points moved, biggest impact first.")
    version_changed: bool


class Explained(Schema):
    account_id: int
    score: float | None
    band: Band
    trend: str | None = Field(description="up, down or flat against a week ago.")
    computed_at: Timestamp | None
    error: str
    scorecard_id: int | None
    scorecard_name: str | None
    version: int | None
    red_below: float | None
    green_from: float | None
    groups: list[GroupExplained]
    since_last_week: SinceLastWeek | None


class SnapshotOut(Schema):
    day: datetime.date
    score: float | None
    band: Band
    version_id: int | None
    groups: dict[str, float | None]
    measures: dict[str, Any]


class ScoreQuery(rest.QueryInput):
    band: Band | None = None
    scorecard_id: int | None = Field(None, ge=1, le=MAX_ID)


class HistoryQuery(Schema):
    days: int = Field(90, ge=1, le=3650)


# --- Helpers ------------------------------------------------------------------------------------


def serialize_scores(instances: Sequence[Any]) -> list[dict[str, Any]]:
    """Webhook payload objects of health.changed (scores loaded with account and
    version__scorecard, as services publishes them)."""
    return [
        HealthScoreOut.model_validate(instance).model_dump(mode="json") for instance in instances
    ]


def _configure(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_configure, _("Only managers and admins change scorecards."))
    return user


def _write(request: HttpRequest) -> User:
    user = rest.acting_user(request)
    rest.require(user.can_write, _("Viewers can only read."))
    return user


def _invalid(exc: DefinitionError | ValidationError) -> ApiError:
    fields: dict[str, list[str]] = {}
    if isinstance(exc, DefinitionError):
        fields[f"definition.{exc.path}" if exc.path else "definition"] = [exc.message]
    elif hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            fields["non_field_errors" if name == "__all__" else name] = list(messages)
    else:
        fields["non_field_errors"] = list(exc.messages)
    return ApiError(
        422, "validation_error", _("The data is not valid. Nothing was saved."), fields=fields
    )


def _scorecard(scorecard_id: int) -> Scorecard:
    found = (
        Scorecard.objects.select_related("current_version").filter(pk=scorecard_id).first()
        if 1 <= scorecard_id <= MAX_ID
        else None
    )
    if found is None:
        raise rest.not_found(_("There is no scorecard with this id."))
    return found


def _account(account_id: int) -> Account:
    found = Account.objects.filter(pk=account_id).first() if 1 <= account_id <= MAX_ID else None
    if found is None:
        raise rest.not_found(_("There is no account with this id."))
    return found


# --- Scorecards ---------------------------------------------------------------------------------


@router.get("/scorecards", response={200: ScorecardList, **READ_ERRORS}, summary="List scorecards")
def list_scorecards(request: HttpRequest, params: Query[rest.PageParams]) -> dict[str, Any]:
    return rest.page(queries.scorecards(), params)


@router.post(
    "/scorecards", response={201: ScorecardOut, **WRITE_ERRORS}, summary="Create scorecard"
)
def create_scorecard(request: HttpRequest, payload: ScorecardCreate) -> Status[Scorecard]:
    user = _configure(request)
    try:
        scorecard = services.create_scorecard(
            user,
            name=payload.name,
            description=payload.description,
            stage=payload.stage or "",
            segment_id=payload.segment_id,
            priority=payload.priority,
            is_active=payload.is_active,
            definition=payload.definition,
            note=payload.note,
        )
    except (DefinitionError, ValidationError) as exc:
        raise _invalid(exc) from None
    return Status(201, _scorecard(scorecard.pk))


@router.get(
    "/scorecards/{scorecard_id}",
    response={200: ScorecardOut, **ITEM_ERRORS},
    summary="Get scorecard",
)
def get_scorecard(request: HttpRequest, scorecard_id: int) -> Scorecard:
    return _scorecard(scorecard_id)


@router.patch(
    "/scorecards/{scorecard_id}",
    response={200: ScorecardOut, **WRITE_ERRORS},
    summary="Update scorecard",
    description="Changes the settings; a `definition` that differs from the current one "
    "becomes a new version (versions are never edited).",
)
def update_scorecard(request: HttpRequest, scorecard_id: int, payload: ScorecardPatch) -> Scorecard:
    user = _configure(request)
    scorecard = _scorecard(scorecard_id)
    changes = payload.model_dump(exclude_unset=True)
    definition = changes.pop("definition", None)
    note = changes.pop("note", "")
    if "stage" in changes:
        changes["stage"] = changes["stage"] or ""
    try:
        services.update_scorecard(user, scorecard, definition=definition, note=note, **changes)
    except (DefinitionError, ValidationError) as exc:
        raise _invalid(exc) from None
    return _scorecard(scorecard_id)


@router.delete(
    "/scorecards/{scorecard_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete scorecard",
    description="Only a scorecard that never scored an account; deactivate the others.",
)
def delete_scorecard(request: HttpRequest, scorecard_id: int) -> Status[None]:
    user = _configure(request)
    scorecard = _scorecard(scorecard_id)
    try:
        services.delete_scorecard(user, scorecard)
    except services.ScorecardInUse as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return Status(204, None)


@router.get(
    "/scorecards/{scorecard_id}/versions",
    response={200: list[VersionOut], **ITEM_ERRORS},
    summary="List scorecard versions",
)
def list_scorecard_versions(request: HttpRequest, scorecard_id: int) -> Any:
    return _scorecard(scorecard_id).versions.order_by("-number")


@router.post(
    "/scorecards/{scorecard_id}/versions",
    response={201: VersionOut, **WRITE_ERRORS},
    summary="Add scorecard version",
    description="Makes the definition current as a new version; scores are recomputed in "
    "the background.",
)
def create_scorecard_version(
    request: HttpRequest, scorecard_id: int, payload: VersionCreate
) -> Status[ScorecardVersion]:
    user = _configure(request)
    scorecard = _scorecard(scorecard_id)
    try:
        version = services.add_version(user, scorecard, payload.definition, payload.note)
    except (DefinitionError, ValidationError) as exc:
        raise _invalid(exc) from None
    return Status(201, version)


@router.get(
    "/scorecards/{scorecard_id}/versions/{number}",
    response={200: VersionOut, **ITEM_ERRORS},
    summary="Get scorecard version",
)
def get_scorecard_version(request: HttpRequest, scorecard_id: int, number: int) -> Any:
    version = _scorecard(scorecard_id).versions.filter(number=number).first()
    if version is None:
        raise rest.not_found(_("The scorecard has no version with this number."))
    return version


# --- Scores -------------------------------------------------------------------------------------


@router.get(
    "/health/scores",
    response={200: HealthScoreList, **READ_ERRORS},
    summary="List health scores",
)
def list_health_scores(request: HttpRequest, filters: Query[ScoreQuery]) -> dict[str, Any]:
    scores = HealthScore.objects.select_related("account", "version__scorecard").order_by(
        "account_id"
    )
    if filters.band is not None:
        scores = scores.filter(band=filters.band)
    if filters.scorecard_id is not None:
        scores = scores.filter(version__scorecard_id=filters.scorecard_id)
    return rest.page(scores, filters)


def _explained(explanation: queries.Explanation) -> dict[str, Any]:
    def override(line: queries.MeasureLine) -> dict[str, Any] | None:
        if line.override is None:
            return None
        return {
            "id": line.override.id,
            "account_id": explanation.account_id,
            "scorecard_id": explanation.scorecard.pk if explanation.scorecard else 0,
            "measure_key": line.key,
            "points": line.override.points,
            "comment": line.override.comment,
            "expires_at": line.override.expires_at,
            "created_by_id": None,
            "created_at": line.override.created_at,
        }

    since = explanation.since_last_week
    return {
        "account_id": explanation.account_id,
        "score": explanation.score,
        "band": explanation.band,
        "trend": explanation.trend,
        "computed_at": explanation.computed_at,
        "error": explanation.error,
        "scorecard_id": explanation.scorecard.pk if explanation.scorecard else None,
        "scorecard_name": explanation.scorecard.name if explanation.scorecard else None,
        "version": explanation.version.number if explanation.version else None,
        "red_below": explanation.red_below,
        "green_from": explanation.green_from,
        "groups": [
            {
                "key": group.key,
                "label": group.label,
                "score": group.score,
                "weight": group.weight,
                "weight_used": group.weight_used,
                "score_last_week": group.score_then,
                "measures": [
                    {
                        "key": line.key,
                        "label": line.label,
                        "source": line.source,
                        "value": line.value,
                        "value_text": line.value_text,
                        "points": line.points,
                        "weight": line.weight,
                        "weight_used": line.weight_used,
                        "no_data": line.no_data,
                        "override": override(line),
                        "points_last_week": line.points_then,
                        "points_delta": line.delta,
                    }
                    for line in group.measures
                ],
            }
            for group in explanation.groups
        ],
        "since_last_week": None
        if since is None
        else {
            "day": since.day,
            "score": since.score,
            "band": since.band,
            "score_delta": since.score_delta,
            "movers": [
                {
                    "measure_key": mover.measure.key,
                    "group_key": mover.group.key,
                    "points_delta": mover.delta,
                    "impact": mover.impact,
                }
                for mover in since.movers
            ],
            "version_changed": since.version_changed,
        },
    }


@router.get(
    "/accounts/{account_id}/health",
    response={200: Explained, **ITEM_ERRORS},
    summary="Get an account's health score with its explanation",
)
def get_account_health(request: HttpRequest, account_id: int) -> dict[str, Any]:
    account = _account(account_id)
    return _explained(queries.explain(account.pk))


@router.get(
    "/accounts/{account_id}/health/history",
    response={200: list[SnapshotOut], **ITEM_ERRORS},
    summary="Get an account's daily health history",
)
def get_account_health_history(
    request: HttpRequest, account_id: int, filters: Query[HistoryQuery]
) -> Any:
    account = _account(account_id)
    return queries.history(account.pk, filters.days)


@router.get(
    "/accounts/{account_id}/health/overrides",
    response={200: list[OverrideOut], **ITEM_ERRORS},
    summary="List an account's measure overrides",
    description="Live and past overrides, newest first.",
)
def list_account_overrides(request: HttpRequest, account_id: int) -> Any:
    account = _account(account_id)
    return MeasureOverride.objects.filter(account=account).order_by("-created_at", "-id")


@router.post(
    "/accounts/{account_id}/health/overrides",
    response={201: OverrideOut, **WRITE_ERRORS},
    summary="Override a measure",
    description="Replaces the computed points of one measure of the scorecard that scores "
    "the account, until `expires_at`; the comment says why. The account is rescored.",
)
def create_account_override(
    request: HttpRequest, account_id: int, payload: OverrideCreate
) -> Status[MeasureOverride]:
    user = _write(request)
    account = _account(account_id)
    try:
        override = services.set_override(
            user,
            account,
            measure_key=payload.measure_key,
            points=payload.points,
            comment=payload.comment,
            expires_at=rest.aware(payload.expires_at),
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    return Status(201, override)


@router.delete(
    "/health/overrides/{override_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a measure override",
    description="Ends the override now (it stays in the history); the account is rescored.",
)
def delete_override(request: HttpRequest, override_id: int) -> Status[None]:
    user = _write(request)
    override = (
        MeasureOverride.objects.filter(pk=override_id).first()
        if 1 <= override_id <= MAX_ID
        else None
    )
    if override is None:
        raise rest.not_found(_("There is no override with this id."))
    services.remove_override(user, override)
    return Status(204, None)
