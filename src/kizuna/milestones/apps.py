from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MilestonesConfig(AppConfig):
    name = "kizuna.milestones"
    label = "milestones"
    verbose_name = _("Milestones")

    def ready(self) -> None:
        from kizuna.api.webhooks import register_event_type
        from kizuna.core import recompute
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.milestones import api, services, timeline  # noqa: F401  (timeline source)

        register(
            "settings",
            "milestones",
            _("Milestones"),
            "milestones:list",
            allowed=lambda user: user.can_configure,
            order=27,
        )
        panels.register(
            "milestones", _("Milestones"), "milestones:account_panel", column="main", order=7
        )
        # After stages (20: an account's stage decides its milestones), before health (30:
        # scorecards may measure milestone progress).
        recompute.register_step("milestones", 25, services.recompute_milestones)
        group = _("Milestones")
        register_event_type(
            services.REACHED,
            _("Milestone reached"),
            group=group,
            serialize=api.serialize_account_milestones,
        )
        register_event_type(
            services.OVERDUE,
            _("Milestone overdue"),
            group=group,
            serialize=api.serialize_account_milestones,
        )
