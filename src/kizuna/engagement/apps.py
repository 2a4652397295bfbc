from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "kizuna.engagement"
    label = "engagement"
    verbose_name = _("Tech touch")

    def ready(self) -> None:
        from kizuna.flows import actions

        # The real actions replace the flows app's "needs tech touch" placeholders.
        actions.register("email.send", "kizuna.engagement.actions:SendEmail")
        actions.register("inapp.show", "kizuna.engagement.actions:ShowInAppMessage")
