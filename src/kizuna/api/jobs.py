"""The api app's periodic jobs."""

import datetime

from kizuna.api import tasks
from kizuna.core import scheduler

scheduler.register(
    "api.send_due_webhooks", tasks.send_due_webhooks, every=datetime.timedelta(minutes=1)
)
scheduler.register(
    "api.prune_webhook_deliveries",
    tasks.prune_webhook_deliveries,
    daily_at=datetime.time(3, 45),
)
