from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FlowsConfig(AppConfig):
    name = "kizuna.flows"
    label = "flows"
    verbose_name = _("Success flows")

    def ready(self) -> None:
        from kizuna.api.webhooks import register_event_type
        from kizuna.core import events, recompute
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.flows import engine, jobs, serializers, triggers  # noqa: F401  (jobs)
        from kizuna.usage import rollups

        rollups.on_chunk(triggers.on_events)
        events.subscribe(triggers.on_domain_events)
        # After segments (40): exit criteria may read segment membership and health.
        recompute.register_step("flows", 50, engine.check_exits)
        recompute.register_follow_up(engine.run_due)
        register("main", "flows", _("Success flows"), "flows:list", order=35)
        panels.register("flows", _("Success flows"), "flows:account_panel", column="main", order=40)
        register_event_type(
            engine.STEP_EXECUTED,
            _("A success flow step ran"),
            group=_("Success flows"),
            serialize=serializers.step_runs,
        )
