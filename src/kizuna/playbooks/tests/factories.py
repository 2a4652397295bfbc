from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks.choices import CtaStatus, CtaType, Priority
from kizuna.playbooks.models import Cta, CtaTask, Playbook

STEPS = [
    {"title": "Call the champion", "guidance": "Ask what changed.", "due_offset_days": 2},
    {"title": "Agree a plan", "guidance": "", "due_offset_days": 7},
]


class PlaybookFactory(DjangoModelFactory[Playbook]):
    class Meta:
        model = Playbook

    key = factory.Sequence(lambda n: f"play-{n}")
    name = factory.Sequence(lambda n: f"Play {n}")
    cta_type = CtaType.RISK
    priority = Priority.HIGH
    steps = factory.LazyFunction(lambda: [dict(step) for step in STEPS])


class CtaFactory(DjangoModelFactory[Cta]):
    class Meta:
        model = Cta

    account = factory.SubFactory(AccountFactory)
    type = CtaType.RISK
    reason = factory.Sequence(lambda n: f"Reason {n}")
    priority = Priority.MEDIUM
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=5))
    status = CtaStatus.OPEN


class CtaTaskFactory(DjangoModelFactory[CtaTask]):
    class Meta:
        model = CtaTask

    cta = factory.SubFactory(CtaFactory)
    title = factory.Sequence(lambda n: f"Step {n}")
