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
scheduler.register(
    "core.recompute_pending_accounts",
    tasks.recompute_pending_accounts,
    every=datetime.timedelta(minutes=1),
)
# After the usage windows move at midnight (usage.refresh_windows runs at 00:05).
scheduler.register(
    "core.recompute_all_accounts", tasks.recompute_all_accounts, daily_at=datetime.time(0, 30)
)
