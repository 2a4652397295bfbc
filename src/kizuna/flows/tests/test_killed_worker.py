"""Kill a worker in the middle of a batch of due steps: nothing is lost, nothing runs twice.

A child process (its own database: an SQLite file, or a fresh PostgreSQL database when the
suite runs on PostgreSQL) runs the due steps of 200 enrolments with a slowed-down CTA
action, and is killed with SIGKILL once it is halfway through its first batch. Another
worker then runs what is due: every account has exactly one CTA and every step ran once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from kizuna.usage.tests.test_crash_safety import database  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

ACCOUNTS = 200

SETUP = f"""
from kizuna.customers.models import Account
from kizuna.flows import engine, services
from kizuna.flows.engine import Candidate
accounts = Account.objects.bulk_create([Account(name=f"Crash {{i}}") for i in range({ACCOUNTS})])
step = {{"id": "cta", "type": "action", "action": "cta.create",
        "params": {{"type": "risk", "reason": "Crash test"}}}}
flow = services.create_flow(None, "Crash", {{"trigger": {{"type": "stage_changed"}},
                                             "start": "cta", "steps": [step]}})
services.set_status(None, flow, "live")
flow.refresh_from_db()
engine.enrol(flow, [Candidate(account.pk) for account in accounts])
"""

SLOW_WORKER = """
import sys, time
from kizuna.playbooks import services
real = services.open_cta
calls = [0]
def slow(**kwargs):
    calls[0] += 1
    if calls[0] == 50:
        print("halfway", flush=True)
    time.sleep(0.05)
    return real(**kwargs)
services.open_cta = slow
from kizuna.flows import engine
engine.run_due(limit=500)
print("finished", flush=True)
"""

WORKER = "from kizuna.flows import engine; engine.run_due()"

CHECK = """
import json
from django.db.models import Count
from kizuna.flows.models import StepRun
from kizuna.playbooks.models import Cta
per_account = Cta.objects.values("account_id").annotate(n=Count("id"))
print(json.dumps({
    "ctas": Cta.objects.count(),
    "most_per_account": max((row["n"] for row in per_account), default=0),
    "runs": StepRun.objects.count(),
    "done": StepRun.objects.filter(status="done").count(),
}))
"""


def _shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "kizuna", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_a_killed_worker_loses_nothing_and_runs_nothing_twice(database):  # noqa: F811
    env = database
    _shell(env, SETUP)
    worker = subprocess.Popen(  # noqa: S603  (our own command)
        [sys.executable, "-m", "kizuna", "shell", "-c", SLOW_WORKER],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline and "halfway" not in line:
        line = worker.stdout.readline()
        if not line and worker.poll() is not None:
            break
    assert "halfway" in line, "the worker never got halfway through its batch"
    worker.kill()
    worker.wait(timeout=10)

    assert json.loads(_shell(env, CHECK).splitlines()[-1])["ctas"] == 0
    _shell(env, WORKER)
    _shell(env, WORKER)
    after = json.loads(_shell(env, CHECK).splitlines()[-1])
    assert after == {"ctas": ACCOUNTS, "most_per_account": 1, "runs": ACCOUNTS, "done": ACCOUNTS}
