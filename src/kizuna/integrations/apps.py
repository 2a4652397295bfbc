from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "kizuna.integrations"
    label = "integrations"
    verbose_name = _("Imports and exports")

    def ready(self) -> None:
        from kizuna.core.navigation import register
        from kizuna.integrations import jobs  # noqa: F401  (registers the periodic jobs)

        register(
            "main",
            "data",
            _("Import & export"),
            "integrations:imports",
            allowed=lambda user: user.can_write,
            order=40,
        )
