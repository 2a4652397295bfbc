"""Does a playbook work? Its CTAs' outcomes, and the flows that open it against their
hold-out groups."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows import engine
from kizuna.flows.engine import Candidate
from kizuna.flows.tests.factories import make_flow
from kizuna.playbooks import queries, services
from kizuna.playbooks.models import Playbook

pytestmark = pytest.mark.django_db


def test_the_outcomes_of_a_playbooks_ctas_are_counted():
    playbook = Playbook.objects.get(key="usage-drop")
    for account in AccountFactory.create_batch(3):
        cta, _created = services.open_cta(
            account_id=account.pk, type="risk", reason="Usage dropped", playbook_key="usage-drop"
        )
    services.close_cta(None, cta, outcome="resolved")
    stats = queries.playbook_stats(playbook)
    assert stats.total == 3
    assert stats.by_status == {"open": 2, "done": 1}
    assert [n for _label, n in stats.by_outcome] == [1]


def test_a_playbook_opened_by_a_flow_is_compared_with_its_hold_out(manager_client: Client):
    playbook = Playbook.objects.get(key="usage-drop")
    step = {
        "id": "risk",
        "type": "action",
        "action": "cta.create",
        "params": {"type": "risk", "reason": "Red", "playbook": "usage-drop"},
    }
    flow = make_flow({"type": "stage_changed"}, [step], name="Red play", holdout_percent=50)
    engine.enrol(flow, [Candidate(account.pk) for account in AccountFactory.create_batch(12)])
    engine.run_due()
    from kizuna.flows import queries as flow_queries

    names, outcomes = flow_queries.playbook_comparison("usage-drop")
    assert names == ["Red play"]
    churn = next(item for item in outcomes if item.key == "churn_rate")
    assert churn.treated_n + churn.holdout_n == 12
    response = manager_client.get(reverse("playbooks:playbook_results", args=[playbook.pk]))
    assert "Red play" in response.content.decode()
