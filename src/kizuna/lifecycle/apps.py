from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "kizuna.lifecycle"
    label = "lifecycle"
    verbose_name = _("Lifecycle")

    def ready(self) -> None:
        from kizuna.api.webhooks import register_event_type
        from kizuna.core import events, recompute
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.lifecycle import api, services, timeline  # noqa: F401  (timeline source)

        register("main", "lifecycle", _("Lifecycle"), "lifecycle:board", order=35)
        register(
            "settings",
            "stage_rules",
            _("Stage rules"),
            "lifecycle:rules",
            allowed=lambda user: user.can_configure,
            order=25,
        )
        panels.register(
            "lifecycle", _("Lifecycle"), "lifecycle:account_panel", column="main", order=5
        )
        recompute.register_step("tiers", 10, services.recompute_tiers)
        recompute.register_step("stages", 20, services.apply_stage_rules)
        events.subscribe(services.record_stage_edits)
        group = _("Lifecycle")
        register_event_type(
            services.STAGE_CHANGED,
            _("Lifecycle stage changed"),
            group=group,
            serialize=api.serialize_stage_changes,
        )
        register_event_type(
            services.TIER_CHANGED,
            _("Tier changed"),
            group=group,
            serialize=api.serialize_tier_changes,
        )
