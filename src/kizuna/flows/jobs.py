"""Success flows' periodic jobs. Triggers fire as things happen; these cover time itself
(waits and decision limits that expire, dates, schedules) and any run whose enqueue was
missed."""

import datetime

from kizuna.core import scheduler
from kizuna.flows import tasks

scheduler.register("flows.run_due_steps", tasks.run_due_steps, every=datetime.timedelta(seconds=30))
scheduler.register("flows.enrol_by_date", tasks.enrol_by_date, every=datetime.timedelta(hours=1))
scheduler.register(
    "flows.enrol_on_schedule", tasks.enrol_on_schedule, every=datetime.timedelta(minutes=1)
)
