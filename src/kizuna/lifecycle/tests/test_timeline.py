"""Stage changes appear on the account timeline, with who moved the account and why."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kizuna.customers import timeline
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_manual_move_is_on_the_timeline(csm, csm_client):
    account = AccountFactory.create(stage="adoption")
    csm_client.post(
        reverse("lifecycle:account_stage", args=[account.pk]),
        {"stage": "value", "reason": "活用が定着"},
    )

    [entry] = timeline.timeline(account, sources=["lifecycle"])

    assert (entry.title, entry.detail, entry.author) == (
        "Adoption → Value realisation",
        "活用が定着",
        str(csm),
    )
