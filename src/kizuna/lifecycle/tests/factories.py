from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from kizuna.lifecycle.models import StageRule


class StageRuleFactory(DjangoModelFactory[StageRule]):
    class Meta:
        model = StageRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    from_stages = factory.LazyFunction(lambda: ["adoption"])
    to_stage = "renewal"
    conditions = factory.LazyFunction(
        lambda: {"metric": "subscription.days_to_renewal", "op": "lte", "value": 90}
    )
    priority = factory.Sequence(lambda n: (n + 1) * 10)
