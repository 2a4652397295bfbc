"""Building flows for tests."""

from __future__ import annotations

from typing import Any

from kizuna.flows import services
from kizuna.flows.builtin import EmailParams, NeedsTechTouch
from kizuna.flows.choices import FlowStatus
from kizuna.flows.models import SuccessFlow

_COUNT = [0]


def cta_step(step_id: str = "cta", reason: str = "Follow up", **more: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "action",
        "action": "cta.create",
        "params": {"type": "onboarding", "reason": reason},
        **more,
    }


def definition(trigger: dict[str, Any], steps: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"trigger": trigger, "start": steps[0]["id"] if steps else None, "steps": steps, **more}


def make_flow(
    trigger: dict[str, Any],
    steps: list[dict[str, Any]],
    *,
    live: bool = True,
    name: str | None = None,
    **more: Any,
) -> SuccessFlow:
    _COUNT[0] += 1
    flow = services.create_flow(
        None, name or f"Flow {_COUNT[0]}", definition(trigger, steps, **more)
    )
    if live:
        services.set_status(None, flow, FlowStatus.LIVE)
    flow.refresh_from_db()
    return flow


class Unavailable(NeedsTechTouch):
    """An action whose capability is not installed (as email was before tech touch)."""

    key = "test.unavailable"
    label = "Needs something not installed"
    Params = EmailParams
