from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    name = "kizuna.playbooks"
    label = "playbooks"
    verbose_name = _("CTAs and playbooks")

    def ready(self) -> None:
        from kizuna.api.webhooks import register_event_type
        from kizuna.core.navigation import register
        from kizuna.customers import panels
        from kizuna.playbooks import (
            api,
            jobs,  # noqa: F401  (registers the periodic jobs)
            services,
        )

        register("main", "work", _("My work"), "playbooks:work", order=12)
        register(
            "main",
            "team",
            _("Team"),
            "playbooks:team",
            allowed=lambda user: user.can_configure,
            order=14,
        )
        register(
            "settings",
            "playbooks",
            _("Playbooks"),
            "playbooks:playbooks",
            allowed=lambda user: user.can_configure,
            order=45,
        )
        register(
            "settings",
            "assignment",
            _("CTA assignment"),
            "playbooks:rules",
            allowed=lambda user: user.can_configure,
            order=46,
        )
        panels.register("ctas", _("CTAs"), "playbooks:account_panel", column="main", order=3)
        group = _("CTAs")
        register_event_type(
            services.CTA_CREATED, _("CTA created"), group=group, serialize=api.serialize_ctas
        )
        register_event_type(
            services.CTA_CLOSED, _("CTA closed"), group=group, serialize=api.serialize_ctas
        )
