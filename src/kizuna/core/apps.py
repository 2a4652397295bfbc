from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Django 6.1's empty choice label, not yet in Django's own Japanese catalogue: marked here so
# that our catalogue carries its translation.
_("- Select an option -")


class CoreConfig(AppConfig):
    name = "kizuna.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from kizuna.core import jobs  # noqa: F401  (registers the periodic jobs)
        from kizuna.core.conditions.metrics import autodiscover

        autodiscover()
        from kizuna.core import recompute  # noqa: F401  (marks accounts on domain events)
        from kizuna.core.navigation import register

        register(
            "settings",
            "users",
            _("Users & roles"),
            "core:users",
            allowed=lambda user: user.can_manage_users,
            order=10,
        )
        register(
            "settings",
            "audit",
            _("Audit log"),
            "core:audit",
            allowed=lambda user: user.can_configure,
            order=90,
        )
