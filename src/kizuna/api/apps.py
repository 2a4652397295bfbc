from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "kizuna.api"
    label = "api"
    verbose_name = _("API and webhooks")

    def ready(self) -> None:
        from kizuna.api import (
            jobs,  # noqa: F401  (registers the periodic jobs)
            webhooks,
        )
        from kizuna.api.event_types import register_customer_event_types
        from kizuna.core import events
        from kizuna.core.navigation import register

        register_customer_event_types()
        events.subscribe(webhooks.record_deliveries)
        register(
            "settings",
            "api_keys",
            _("API keys"),
            "api:keys",
            allowed=lambda user: user.can_manage_users,
            order=50,
        )
        register(
            "settings",
            "webhooks",
            _("Webhooks"),
            "api:webhooks",
            allowed=lambda user: user.can_configure,
            order=60,
        )
