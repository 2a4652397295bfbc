"""Periodic jobs of imports."""

import datetime

from kizuna.core import scheduler
from kizuna.integrations import tasks

# Uploaded files are kept a month for re-runs and then dropped; the job records stay.
scheduler.register(
    "integrations.prune_import_uploads",
    tasks.prune_import_uploads,
    daily_at=datetime.time(3, 45),
)
