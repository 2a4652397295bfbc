"""What a flow can do: actions registered by key, each a class imported on first use.

An app adds its actions with `register("email.send", "kizuna.engagement.actions:SendEmail")`
(in its AppConfig.ready). An action declares its parameters as a pydantic model, so a flow
with a missing or wrong parameter is refused when it is saved, with the step named; it says in
words what it does (`describe`) and what it would do for one account (`plan`, used by the dry
run), and does it (`execute`).

`execute` must be idempotent on `run.key`: the engine may run a step again after a crash or
a retry, and a second run must find what the first one made (a CTA with that source key)
instead of making another. An action that needs a capability Kizuna does not have yet
(sending email before the tech-touch app is installed) is registered as unavailable: flows
that use it can be saved and tested, and the step is recorded as skipped with that reason —
never pretended to have run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pydantic
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from kizuna.customers.models import Account


class ActionError(ValueError):
    """Parameters an action cannot work with (the message names the parameter)."""


class ActionUnavailable(RuntimeError):
    """The action needs a capability that is not installed; the step is skipped."""


@dataclass
class ActionRun:
    """What an action is given when a step runs for one account."""

    account: Account
    contact_id: int | None
    flow_id: int
    flow_name: str
    version: int
    step_id: str
    step_label: str
    key: str  # idempotency key: the same for every attempt of this step run
    trigger: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    enrolment_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What the action did, in words, and the data behind it (kept in the execution log)."""

    text: str
    detail: dict[str, Any] = field(default_factory=dict)


class Action:
    key: ClassVar[str]
    label: ClassVar[str | Promise]
    Params: ClassVar[type[pydantic.BaseModel]]
    # A capability this action needs, named for people, when it is not installed.
    unavailable_reason: ClassVar[str | Promise | None] = None

    @classmethod
    def parse(cls, params: Any) -> Any:
        try:
            return cls.Params.model_validate(params or {})
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or _("parameters")
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                message = _("this parameter is required")
            raise ActionError(f"{where}: {message}") from None

    @classmethod
    def describe(cls, params: Any) -> str:
        return str(cls.label)

    @classmethod
    def plan(cls, params: Any, run: ActionRun) -> str:
        """What it would do for this account, without doing it (the dry run)."""
        return cls.describe(params)

    @classmethod
    def execute(cls, params: Any, run: ActionRun) -> Outcome:
        raise NotImplementedError


_PATHS: dict[str, str] = {}
_LOADED: dict[str, type[Action]] = {}


def register(key: str, path: str) -> None:
    """Register an action class by dotted path ("package.module:Class"); imported on use."""
    _PATHS[key] = path
    _LOADED.pop(key, None)


def get(key: str) -> type[Action]:
    if key not in _LOADED:
        path = _PATHS[key]  # KeyError: unknown action
        module, _sep, name = path.partition(":")
        action = getattr(importlib.import_module(module), name)
        if action.key != key:
            raise ImproperlyRegistered(f"{path} is registered as {key} but says {action.key}")
        _LOADED[key] = action
    return _LOADED[key]


def keys() -> list[str]:
    return sorted(_PATHS)


def available(key: str) -> bool:
    return get(key).unavailable_reason is None


class ImproperlyRegistered(RuntimeError):
    """An action registered under a key its class does not declare."""


# Built in; the tech-touch app (kizuna.engagement) replaces the last two with real ones.
register("cta.create", "kizuna.flows.builtin:CreateCta")
register("segment.add", "kizuna.flows.builtin:AddToSegment")
register("segment.remove", "kizuna.flows.builtin:RemoveFromSegment")
register("stage.set", "kizuna.flows.builtin:SetStage")
register("field.set", "kizuna.flows.builtin:SetField")
register("webhook.call", "kizuna.flows.builtin:CallWebhook")
register("owner.notify", "kizuna.flows.builtin:NotifyOwner")
register("email.send", "kizuna.flows.builtin:SendEmail")
register("inapp.show", "kizuna.flows.builtin:ShowInAppMessage")

NEEDS_TECH_TOUCH = gettext_lazy(
    "Needs the tech-touch (email and in-app) capability, which is not installed yet."
)
