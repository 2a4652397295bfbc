from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "kizuna.health"
    label = "health"
    verbose_name = _("Health scores")

    def ready(self) -> None:
        from kizuna.api.webhooks import register_event_type
        from kizuna.core import recompute
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.health import api, services, timeline  # noqa: F401  (timeline source)

        recompute.register_step("health", 30, services.recompute_scores)
        register_event_type(
            services.HEALTH_CHANGED,
            _("Health band changed"),
            group=_("Health"),
            serialize=api.serialize_scores,
        )
        register("main", "health", _("Health"), "health:overview", order=25)
        register(
            "settings",
            "scorecards",
            _("Health scorecards"),
            "health:scorecards",
            allowed=lambda user: user.can_configure,
            order=25,
        )
        panels.register("health", _("Health"), "health:account_panel", column="side", order=10)
