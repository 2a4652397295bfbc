"""Periodic jobs of CTAs."""

import datetime

from kizuna.core import scheduler
from kizuna.playbooks import tasks

# Snoozed CTAs whose day has come are open again (My work already shows them; this keeps
# the stored status and the API right).
scheduler.register("playbooks.wake_snoozed", tasks.wake_snoozed, daily_at=datetime.time(0, 5))
