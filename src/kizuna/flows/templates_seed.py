"""The template gallery: seed 004's onboarding flows, ready to adapt.

"初回ログイン ⇒ セグメント「初回ログイン」付与 ⇒ オンボーディングプログラムメール配信 ⇒ メール
未開封なら電話フォロータスク生成; 2回目ログイン → チュートリアルをポップアップで案内; 特定ページ
に30秒滞在 ⇒ サポートサイトをポップアップで案内; 設定未完了 ⇒ セグメント「項目未設定」⇒ 設定
サポートメール; 設定完了 ⇒ セグメント「設定管理」⇒ 運用サポートメール".

A template creates a draft flow (and the static segments it tags accounts with, when they do
not exist yet). Email and in-app steps are there as the seed has them; until the tech-touch
capability is installed they are marked as such on the flow page and recorded as skipped
when they run — a decision waiting for an unsent email then takes its "no" path at once,
which is the seed's manual fallback (the phone follow-up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.core.models import User
from kizuna.flows.definition import LOGIN
from kizuna.flows.models import SuccessFlow

DWELL_EVENT = "Page Dwell"
SETTINGS_EVENT = "Settings Saved"
ENVIRONMENT_EVENT = "Environment Ready"


@dataclass(frozen=True)
class FlowTemplate:
    key: str
    name: str | Promise
    description: str | Promise
    build: Callable[[], dict[str, Any]]
    actions: tuple[str, ...]  # what its steps do, for the gallery card (building has effects)


def _static_segment(name: str) -> int:
    from kizuna.segments import services
    from kizuna.segments.choices import SegmentKind
    from kizuna.segments.models import Segment

    existing = Segment.objects.filter(name=name).first()
    if existing is not None and not existing.is_dynamic:
        return existing.pk
    if existing is not None:
        name = f"{name} ({_('flow')})"
        existing = Segment.objects.filter(name=name).first()
        if existing is not None:
            return existing.pk
    return services.create_segment(None, name=name, kind=SegmentKind.STATIC).pk


def _playbook(key: str) -> str:
    from kizuna.playbooks.models import Playbook

    return key if Playbook.objects.filter(key=key).exists() else ""


def _cta(
    step_id: str, kind: str, reason: str, priority: str, playbook: str = "", **more: Any
) -> dict[str, Any]:
    params: dict[str, Any] = {"type": kind, "reason": reason, "priority": priority}
    if _playbook(playbook):
        params["playbook"] = playbook
    return {"id": step_id, "type": "action", "action": "cta.create", "params": params, **more}


def _exit_churned() -> dict[str, Any]:
    return {"and": [{"metric": "account.stage", "op": "in", "value": ["churned"]}]}


def _welcome() -> dict[str, Any]:
    return {
        "trigger": {"type": "event", "event": ENVIRONMENT_EVENT},
        "exit": _exit_churned(),
        "reentry": {"mode": "once"},
        "start": "login-mail",
        "steps": [
            {
                "id": "login-mail",
                "type": "action",
                "label": _("Login details email"),
                "action": "email.send",
                "params": {"template": "login-details"},
                "next": "first-login",
            },
            {
                "id": "first-login",
                "type": "decision",
                "label": _("First login within 3 days?"),
                "wait_for": {"kind": "event", "event": LOGIN},
                "within": {"days": 3},
                "no": "call",
            },
            _cta(
                "call",
                "onboarding",
                _("No login 3 days after the environment was ready: call to help"),
                "high",
                "onboarding-kickoff",
                label=_("Phone follow-up"),
            ),
        ],
    }


def _first_login() -> dict[str, Any]:
    return {
        "trigger": {"type": "event", "event": LOGIN, "occurrence": 1},
        "exit": _exit_churned(),
        "reentry": {"mode": "once"},
        "holdout_percent": 10,
        "start": "tag",
        "steps": [
            {
                "id": "tag",
                "type": "action",
                "label": _("Segment “first login”"),
                "action": "segment.add",
                "params": {"segment": _static_segment(_("First login"))},
                "next": "programme",
            },
            {
                "id": "programme",
                "type": "action",
                "label": _("Onboarding programme email"),
                "action": "email.send",
                "params": {"template": "onboarding-programme"},
                "next": "opened",
            },
            {
                "id": "opened",
                "type": "decision",
                "label": _("Email opened within 2 days?"),
                "wait_for": {"kind": "email_opened", "step": "programme"},
                "within": {"days": 2},
                "yes": "second-login",
                "no": "call",
            },
            _cta(
                "call",
                "onboarding",
                _("Onboarding email not opened: follow up by phone"),
                "high",
                "onboarding-kickoff",
                label=_("Phone follow-up task"),
                next="second-login",
            ),
            {
                "id": "second-login",
                "type": "decision",
                "label": _("Second login within 14 days?"),
                "wait_for": {"kind": "event", "event": LOGIN},
                "within": {"days": 14},
                "yes": "with-csm",
                "no": "quiet",
            },
            {
                "id": "with-csm",
                "type": "condition",
                "label": _("Served by a CSM (high or low touch)?"),
                "condition": {
                    "and": [{"metric": "account.tier", "op": "in", "value": ["high", "low"]}]
                },
                "yes": "session",
                "no": "tutorial",
            },
            _cta(
                "session",
                "onboarding",
                _("Second login: offer a guided tutorial session"),
                "medium",
                "onboarding-kickoff",
                label=_("Tutorial session (with a CSM)"),
            ),
            {
                "id": "tutorial",
                "type": "action",
                "label": _("Tutorial popup"),
                "action": "inapp.show",
                "params": {"message": "tutorial"},
            },
            _cta(
                "quiet",
                "risk",
                _("No second login within 14 days of the first"),
                "high",
                "no-login-14-days",
                label=_("Not coming back"),
            ),
        ],
    }


def _support_popup() -> dict[str, Any]:
    return {
        "trigger": {
            "type": "event",
            "event": DWELL_EVENT,
            "properties": [
                {"key": "path", "op": "eq", "value": "/settings"},
                {"key": "seconds", "op": "gt", "value": 30},
            ],
        },
        "reentry": {"mode": "again", "after_days": 7},
        "start": "popup",
        "steps": [
            {
                "id": "popup",
                "type": "action",
                "label": _("Support site popup"),
                "action": "inapp.show",
                "params": {"message": "support-site"},
            }
        ],
    }


def _settings_incomplete() -> dict[str, Any]:
    return {
        "trigger": {
            "type": "event",
            "event": SETTINGS_EVENT,
            "properties": [{"key": "complete", "op": "eq", "value": False}],
        },
        "reentry": {"mode": "again", "after_days": 7},
        "start": "tag",
        "steps": [
            {
                "id": "tag",
                "type": "action",
                "label": _("Segment “settings incomplete”"),
                "action": "segment.add",
                "params": {"segment": _static_segment(_("Settings incomplete"))},
                "next": "mail",
            },
            {
                "id": "mail",
                "type": "action",
                "label": _("Settings support email"),
                "action": "email.send",
                "params": {"template": "settings-support"},
            },
        ],
    }


def _settings_done() -> dict[str, Any]:
    return {
        "trigger": {
            "type": "event",
            "event": SETTINGS_EVENT,
            "properties": [{"key": "complete", "op": "eq", "value": True}],
        },
        "reentry": {"mode": "once"},
        "start": "untag",
        "steps": [
            {
                "id": "untag",
                "type": "action",
                "label": _("Leave “settings incomplete”"),
                "action": "segment.remove",
                "params": {"segment": _static_segment(_("Settings incomplete"))},
                "next": "tag",
            },
            {
                "id": "tag",
                "type": "action",
                "label": _("Segment “settings done”"),
                "action": "segment.add",
                "params": {"segment": _static_segment(_("Settings done"))},
                "next": "mail",
            },
            {
                "id": "mail",
                "type": "action",
                "label": _("Operations support email"),
                "action": "email.send",
                "params": {"template": "operations-support"},
            },
        ],
    }


TEMPLATES: list[FlowTemplate] = [
    FlowTemplate(
        "welcome",
        gettext_lazy("Environment ready → login details"),
        gettext_lazy(
            "When the customer's environment is ready, send the login details; if nobody logs "
            "in within 3 days, a CSM calls."
        ),
        _welcome,
        ("email.send", "cta.create"),
    ),
    FlowTemplate(
        "first-login",
        gettext_lazy("First login"),
        gettext_lazy(
            "On the first login: tag the account, send the onboarding programme email, and "
            "create a phone follow-up task if it is not opened in 2 days. On the second login, "
            "accounts with a CSM get a tutorial session offer, tech-touch ones the tutorial "
            "popup; no second login in 14 days is a risk."
        ),
        _first_login,
        ("segment.add", "email.send", "cta.create", "inapp.show"),
    ),
    FlowTemplate(
        "support-popup",
        gettext_lazy("30 seconds on the settings page → support site"),
        gettext_lazy(
            "When a user spends more than 30 seconds on the settings page, point them to the "
            "support site."
        ),
        _support_popup,
        ("inapp.show",),
    ),
    FlowTemplate(
        "settings-incomplete",
        gettext_lazy("Settings incomplete → settings support"),
        gettext_lazy(
            "When settings are saved incomplete: segment “settings incomplete” and the "
            "settings-support email."
        ),
        _settings_incomplete,
        ("segment.add", "email.send"),
    ),
    FlowTemplate(
        "settings-done",
        gettext_lazy("Settings complete → operations support"),
        gettext_lazy(
            "When settings are complete: segment “settings done” and the operations-support email."
        ),
        _settings_done,
        ("segment.remove", "segment.add", "email.send"),
    ),
]


def get(key: str) -> FlowTemplate:
    for template in TEMPLATES:
        if template.key == key:
            return template
    raise KeyError(key)


def needs_tech_touch(template: FlowTemplate) -> bool:
    """Whether some of the template's steps wait for the tech-touch capability."""
    from kizuna.flows import actions

    return any(not actions.available(key) for key in template.actions)


@transaction.atomic
def create_from_template(actor: User | None, key: str, name: str | None = None) -> SuccessFlow:
    """A draft flow from the template (named after it, numbered if the name is taken)."""
    from kizuna.flows import services

    template = get(key)
    base = name or str(template.name)
    candidate, number = base, 1
    while SuccessFlow.objects.filter(name=candidate).exists():
        number += 1
        candidate = f"{base} ({number})"
    return services.create_flow(
        actor,
        candidate,
        template.build(),
        description=str(template.description),
        template_key=key,
    )
