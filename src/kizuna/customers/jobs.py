"""Customer 360's periodic jobs."""

import datetime

from kizuna.core import scheduler
from kizuna.customers import tasks

# Renewal dates move as days pass: recompute every account's rollups once a night.
scheduler.register(
    "customers.refresh_rollups", tasks.refresh_all_rollups, daily_at=datetime.time(2, 0)
)
