from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kizuna.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kizuna.core.navigation import register
        from kizuna.customers import jobs  # noqa: F401  (registers the periodic jobs)

        register("main", "home", _("Home"), "customers:home", order=10)
        register("main", "accounts", _("Accounts"), "customers:accounts", order=20)
        register(
            "settings",
            "tiers",
            _("Tiers"),
            "customers:tiers",
            allowed=lambda user: user.can_configure,
            order=20,
        )
        register(
            "settings",
            "custom_fields",
            _("Custom fields"),
            "customers:custom_fields",
            allowed=lambda user: user.can_configure,
            order=30,
        )
