"""The core app's periodic jobs."""

import datetime

from kizuna.core import scheduler, tasks

scheduler.register(
    "core.clear_expired_sessions", tasks.clear_expired_sessions, daily_at=datetime.time(3, 30)
)
scheduler.register(
    "core.prune_finished_task_results",
    tasks.prune_finished_task_results,
    every=datetime.timedelta(hours=1),
)
