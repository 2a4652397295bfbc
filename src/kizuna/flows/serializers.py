"""Webhook payload objects of `flow.step.executed`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.flows.models import StepRun


def step_runs(instances: Sequence[Any]) -> list[dict[str, Any]]:
    """Each run with its flow, version and account, loaded for the whole batch at once."""
    runs = {
        run.pk: run
        for run in StepRun.objects.filter(pk__in=[row.pk for row in instances]).select_related(
            "enrolment__flow", "enrolment__version", "enrolment__account"
        )
    }
    payload = []
    for row in instances:
        run = runs.get(row.pk, row)
        enrolment = run.enrolment
        payload.append(
            {
                "id": run.pk,
                "flow": {"id": enrolment.flow_id, "name": enrolment.flow.name},
                "version": enrolment.version.number,
                "step": run.step_id,
                "type": run.step_type,
                "status": run.status,
                "outcome": run.outcome,
                "text": run.text,
                "detail": run.detail,
                "account": {
                    "id": enrolment.account_id,
                    "name": enrolment.account.name,
                    "external_id": enrolment.account.external_id,
                },
                "enrolment": enrolment.pk,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            }
        )
    return payload
