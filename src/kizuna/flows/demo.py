"""Demo success flows: the seed's first-login flow live, a "health turned red" play with a
hold-out group and 90 days of history, and a renewal play 90 days before renewal.

The history of the red-band play is what the engine would have done: every account whose
daily health snapshot turned red in the last 90 days entered on that day, a fifth of them
held out at random; the others got their risk CTA (closed with an outcome once old enough).
The results page then compares the two groups on the demo's real health history.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.flows import engine, services, templates_seed, triggers
from kizuna.flows.choices import EnrolmentStatus, FlowStatus, RunStatus, StepType
from kizuna.flows.models import Enrolment, StepRun, SuccessFlow

HISTORY_DAYS = 90
HOLDOUT = 20


def _red_flow() -> SuccessFlow:
    definition = {
        "trigger": {"type": "health_band_changed", "to": ["red"]},
        "exit": {"and": [{"metric": "account.stage", "op": "in", "value": ["churned"]}]},
        "reentry": {"mode": "again", "after_days": 30},
        "holdout_percent": HOLDOUT,
        "start": "risk",
        "steps": [
            {
                "id": "risk",
                "type": "action",
                "label": _("Risk CTA for the owner"),
                "action": "cta.create",
                "params": {
                    "type": "risk",
                    "reason": _("Health turned red"),
                    "priority": "high",
                    "playbook": "usage-drop",
                },
                "next": "notify",
            },
            {
                "id": "notify",
                "type": "action",
                "label": _("Tell the owner"),
                "action": "owner.notify",
                "params": {"message": _("Health turned red: a risk CTA is waiting in My work.")},
            },
        ],
    }
    return services.create_flow(
        None,
        _("Health turned red → risk play"),
        definition,
        description=_("A risk CTA and a notification when an account's health turns red."),
    )


def _renewal_flow() -> SuccessFlow:
    definition = {
        "trigger": {"type": "date", "field": "renewal", "offset_days": -90},
        "reentry": {"mode": "again", "after_days": 180},
        "start": "renewal",
        "steps": [
            {
                "id": "renewal",
                "type": "action",
                "label": _("Renewal CTA"),
                "action": "cta.create",
                "params": {
                    "type": "renewal",
                    "reason": _("Renewal in 90 days"),
                    "playbook": "renewal-90",
                },
            }
        ],
    }
    return services.create_flow(
        None,
        _("Renewal in 90 days"),
        definition,
        description=_("A renewal CTA with the 90-day playbook, 90 days before renewal."),
    )


def _red_turns(days: int) -> list[tuple[int, datetime.date]]:
    """(account, day) for every day an account's snapshot turned red."""
    from kizuna.health.models import HealthSnapshot

    first = timezone.localdate() - datetime.timedelta(days=days)
    rows = (
        HealthSnapshot.objects.filter(day__gte=first)
        .order_by("account_id", "day")
        .values_list("account_id", "day", "band")
    )
    turns: list[tuple[int, datetime.date]] = []
    before: tuple[int | None, str] = (None, "")
    for account_id, day, band in rows.iterator():
        if band == "red" and before[0] == account_id and before[1] != "red":
            turns.append((account_id, day))
        before = (account_id, band)
    return turns


def _history(flow: SuccessFlow, rng: random.Random) -> int:
    """What the red-band play did over the demo's health history."""
    from kizuna.playbooks import services as playbooks
    from kizuna.playbooks.choices import Outcome

    assert flow.version is not None
    last: dict[int, datetime.date] = {}
    made = 0
    for account_id, day in _red_turns(HISTORY_DAYS):
        if account_id in last and (day - last[account_id]).days < 30:
            continue
        last[account_id] = day
        entered = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 30)))
        holdout = rng.random() < HOLDOUT / 100
        enrolment = Enrolment.objects.create(
            flow=flow,
            version=flow.version,
            account_id=account_id,
            holdout=holdout,
            status=EnrolmentStatus.HELD_OUT if holdout else EnrolmentStatus.COMPLETED,
            entered_at=entered,
            finished_at=entered,
            trigger={"type": "health_band_changed", "from": "yellow", "to": "red"},
        )
        made += 1
        if holdout:
            continue
        cta, created = playbooks.open_cta(
            account_id=account_id,
            type="risk",
            reason=_("Health turned red"),
            priority="high",
            source="flow",
            source_label=f"{flow.name} · {_('Risk CTA for the owner')}",
            source_key=f"flow-run:{enrolment.pk}:risk",
        )
        age = (timezone.localdate() - day).days
        if created and age > 14:
            outcome = rng.choice([Outcome.RESOLVED, Outcome.NOT_RESOLVED, Outcome.NO_RESPONSE])
            playbooks.close_cta(None, cta, outcome=outcome)
        text = _("Created CTA “%(reason)s”") % {"reason": cta.reason}
        StepRun.objects.create(
            enrolment=enrolment,
            flow=flow,
            step_id="risk",
            step_type=StepType.ACTION,
            status=RunStatus.DONE,
            due_at=entered,
            finished_at=entered,
            attempts=1,
            outcome="done",
            text=text,
            detail={"action": "cta.create", "cta": cta.pk, "created": created},
        )
    return made


def seed(say: Callable[[str], Any] = print, rng: random.Random | None = None) -> int:
    """Create the demo flows, their history, and run what is due today."""
    rng = rng or random.Random(20261122)
    with transaction.atomic():
        first_login = templates_seed.create_from_template(None, "first-login")
        services.set_status(None, first_login, FlowStatus.LIVE)
        for key in ("welcome", "settings-incomplete", "settings-done", "support-popup"):
            templates_seed.create_from_template(None, key)
        red = _red_flow()
        entered = _history(red, rng)
        services.set_status(None, red, FlowStatus.LIVE)
        renewal = _renewal_flow()
        services.set_status(None, renewal, FlowStatus.LIVE)
    say(f"Success flows: {entered} accounts went through the red-health play in 90 days.")
    triggers.enrol_by_date()
    engine.run_due()
    return entered
