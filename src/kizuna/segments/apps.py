from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "kizuna.segments"
    label = "segments"
    verbose_name = _("Segments")

    def ready(self) -> None:
        from kizuna.api.webhooks import register_event_type
        from kizuna.core import recompute
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.segments import api, services, timeline  # noqa: F401  (timeline source)

        register("main", "segments", _("Segments"), "segments:list", order=30)
        panels.register(
            "segments", _("Segments"), "segments:account_panel", column="side", order=30
        )
        recompute.register_step("segments", 40, services.recompute_all)
        group = _("Segments")
        register_event_type(
            services.ENTERED,
            _("Account entered a segment"),
            group=group,
            serialize=api.serialize_memberships,
        )
        register_event_type(
            services.EXITED,
            _("Account left a segment"),
            group=group,
            serialize=api.serialize_memberships,
        )
