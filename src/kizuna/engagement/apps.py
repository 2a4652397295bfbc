from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "kizuna.engagement"
    label = "engagement"
    verbose_name = _("Tech touch")

    def ready(self) -> None:
        # The account timeline's emails; the periodic sending, bounce and campaign jobs.
        from kizuna.engagement import campaign_jobs, jobs, timeline  # noqa: F401
        from kizuna.flows import actions

        # The real actions replace the flows app's "needs tech touch" placeholders.
        actions.register("email.send", "kizuna.engagement.actions:SendEmail")
        actions.register("inapp.show", "kizuna.engagement.actions:ShowInAppMessage")
        self._navigation()

    def _navigation(self) -> None:
        from kizuna.core.navigation import register

        def configures(user: Any) -> bool:
            return bool(user.can_configure)

        register("main", "campaigns", _("Campaigns"), "engagement:campaigns", order=36)
        register("main", "email-templates", _("Email templates"), "engagement:templates", order=37)
        register("main", "inapp", _("In-app messages"), "engagement:inapp_list", order=38)
        register(
            "main",
            "engagement-insights",
            _("Content preferences"),
            "engagement:content_preferences",
            order=39,
        )
        register("settings", "email-sending", _("Email outbox"), "engagement:outbox", order=40)
        register(
            "settings",
            "cap-log",
            _("Frequency-cap log"),
            "engagement:cap_log",
            order=41,
        )
        register(
            "settings",
            "sending-settings",
            _("Sending rules"),
            "engagement:sending_settings",
            allowed=configures,
            order=42,
        )
        register("settings", "senders", _("Senders"), "engagement:senders", order=43)
        register(
            "settings",
            "suppressions",
            _("Suppression list"),
            "engagement:suppressions",
            order=44,
        )
        register(
            "settings",
            "mailbox",
            _("Demo mailbox"),
            "engagement:mailbox",
            allowed=lambda user: configures(user) and _catching_mail(),
            order=45,
        )


def _catching_mail() -> bool:
    from kizuna.engagement import mailbox

    return mailbox.catcher_address() is not None
