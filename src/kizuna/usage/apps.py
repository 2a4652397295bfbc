from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsageConfig(AppConfig):
    name = "kizuna.usage"
    label = "usage"
    verbose_name = _("Product usage")

    def ready(self) -> None:
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.usage import jobs, timeline  # noqa: F401  (register jobs and the timeline)

        register(
            "settings",
            "sources",
            _("Data sources"),
            "usage:sources",
            allowed=lambda user: user.can_configure,
            order=40,
        )
        panels.register("usage", _("Product usage"), "usage:account_panel", column="side", order=20)
