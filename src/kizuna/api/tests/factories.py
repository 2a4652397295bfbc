from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from kizuna.api.models import WebhookEndpoint


class WebhookEndpointFactory(DjangoModelFactory[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"CRM sync {n}")
    url = "http://127.0.0.1:9/hook"
    secret = factory.Sequence(lambda n: f"whsec_test_secret_{n}")
    event_types = factory.LazyFunction(lambda: ["account.created", "account.updated"])
    is_active = True
