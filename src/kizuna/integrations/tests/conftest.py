"""Helpers shared by the import tests: run a file through upload, dry run and apply."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kizuna.core.models import User
from kizuna.integrations import services
from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import ImportJob


@pytest.fixture
def import_file(csm: User) -> Callable[..., ImportJob]:
    """Upload `content` and run its dry run (and, with apply=True, apply it) inline, as the
    CSM fixture; returns the job as it ends."""

    def run(
        content: bytes,
        object_type: str = "accounts",
        *,
        name: str = "data.csv",
        apply: bool = False,
        columns: dict[str, str] | None = None,
        actor: User | None = None,
    ) -> ImportJob:
        user = actor or csm
        mapping = ColumnMap.parse(columns, object_type) if columns is not None else None
        job = services.upload(user, object_type, name, content, language="en", columns=mapping)
        services.start_dry_run(job, inline=True)
        if apply:
            services.start_apply(job, user, inline=True)
        job.refresh_from_db()
        return job

    return run
