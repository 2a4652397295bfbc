"""Product usage's periodic jobs."""

import datetime

from kizuna.core import scheduler
from kizuna.usage import tasks

# Ingest enqueues a rollup right after it commits; this catches up whatever that missed
# (a worker restart, a debounced enqueue).
scheduler.register(
    "usage.rollup_new_events", tasks.rollup_new_events, every=datetime.timedelta(minutes=1)
)
scheduler.register(
    "usage.refresh_usage_windows", tasks.refresh_usage_windows, daily_at=datetime.time(0, 5)
)
