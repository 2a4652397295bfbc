"""The success-flow actions of tech touch: send an email, show an in-app message.

They replace the placeholders `kizuna.flows.builtin` registers under the same keys
(registered in EngagementConfig.ready). Both are idempotent on the step run's key: a retried
step finds the messages and the assignment the first attempt made.
"""

from __future__ import annotations

from typing import Literal

import pydantic
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kizuna.flows.actions import Action, ActionRun, Outcome
from kizuna.flows.builtin import Params


class EmailParams(Params):
    template: str = pydantic.Field(min_length=1, max_length=100)
    # contact: the person whose event started the flow (else the account's champions, else
    # everyone at the account); champions; all: every contact of the account.
    to: Literal["contact", "champions", "all"] = "contact"

    @pydantic.field_validator("template")
    @classmethod
    def _exists(cls, value: str) -> str:
        from kizuna.engagement.models import EmailTemplate

        if not EmailTemplate.objects.filter(key=value, archived=False).exists():
            raise ValueError(_("There is no email template “%(key)s”.") % {"key": value})
        return value


def _template_name(key: str) -> str:
    from kizuna.engagement.models import EmailTemplate

    return EmailTemplate.objects.filter(key=key).values_list("name", flat=True).first() or key


def recipients(to: str, run: ActionRun) -> list[int]:
    """The contacts of the account an email step goes to, in a stable order."""
    from kizuna.customers.models import Contact

    contacts = Contact.objects.filter(account=run.account).order_by("pk")
    if to == "contact" and run.contact_id and contacts.filter(pk=run.contact_id).exists():
        return [run.contact_id]
    if to in ("contact", "champions"):
        champions = list(
            contacts.filter(Q(is_champion=True) | Q(is_decision_maker=True)).values_list(
                "pk", flat=True
            )
        )
        if champions or to == "champions":
            return champions
    return list(contacts.values_list("pk", flat=True))


class SendEmail(Action):
    key = "email.send"
    label = gettext_lazy("Send an email")
    Params = EmailParams

    @classmethod
    def describe(cls, params: EmailParams) -> str:
        return _("Send email “%(template)s”") % {"template": _template_name(params.template)}

    @classmethod
    def plan(cls, params: EmailParams, run: ActionRun) -> str:
        from kizuna.customers.models import Contact

        people = Contact.objects.filter(pk__in=recipients(params.to, run)).order_by("pk")
        names = [f"{c.name} <{c.email}>" if c.email else c.name for c in people[:5]]
        if not names:
            return _("Would send nothing: the account has no contact")
        return _("Would send “%(template)s” to %(people)s") % {
            "template": _template_name(params.template),
            "people": ", ".join(names),
        }

    @classmethod
    def execute(cls, params: EmailParams, run: ActionRun) -> Outcome:
        from kizuna.engagement import sending
        from kizuna.engagement.models import EmailTemplate

        template = EmailTemplate.objects.select_related("category").get(key=params.template)
        contact_ids = recipients(params.to, run)
        result = sending.queue_emails(
            template,
            contact_ids,
            source="flow",
            key_prefix=run.key,
            flow_enrolment_id=run.enrolment_id,
            flow_step=run.step_id,
            team=run.flow_name,
        )
        detail = {
            "template": template.key,
            "messages": result.message_ids,
            "queued": result.queued,
            "held": result.held,
            "skipped": result.skipped,
        }
        if not contact_ids:
            return Outcome(_("Nothing sent: the account has no contact"), detail)
        text = ngettext(
            "“%(template)s”: %(queued)d email queued",
            "“%(template)s”: %(queued)d emails queued",
            result.queued,
        ) % {"template": template.name, "queued": result.queued}
        if result.held or result.skipped:
            text += " · " + _("%(held)d held back, %(skipped)d skipped (see the emails)") % {
                "held": result.held,
                "skipped": result.skipped,
            }
        return Outcome(text, detail)


class InAppParams(Params):
    message: str = pydantic.Field(min_length=1, max_length=100)
    # Only the person whose event started the flow, instead of everyone at the account.
    only_contact: bool = False

    @pydantic.field_validator("message")
    @classmethod
    def _exists(cls, value: str) -> str:
        from kizuna.engagement.choices import InAppStatus
        from kizuna.engagement.models import InAppMessage

        if not InAppMessage.objects.filter(key=value).exclude(status=InAppStatus.ARCHIVED).exists():
            raise ValueError(_("There is no in-app message “%(key)s”.") % {"key": value})
        return value


def _message_name(key: str) -> str:
    from kizuna.engagement.models import InAppMessage

    return InAppMessage.objects.filter(key=key).values_list("name", flat=True).first() or key


class ShowInAppMessage(Action):
    key = "inapp.show"
    label = gettext_lazy("Show an in-app message")
    Params = InAppParams

    @classmethod
    def describe(cls, params: InAppParams) -> str:
        return _("Show in-app message “%(message)s”") % {"message": _message_name(params.message)}

    @classmethod
    def plan(cls, params: InAppParams, run: ActionRun) -> str:
        return _(
            "Would show “%(message)s” the next time someone at %(account)s opens a page it targets"
        ) % {
            "message": _message_name(params.message),
            "account": run.account.name,
        }

    @classmethod
    def execute(cls, params: InAppParams, run: ActionRun) -> Outcome:
        from kizuna.customers.models import Contact
        from kizuna.engagement import inapp
        from kizuna.engagement.models import InAppMessage

        message = InAppMessage.objects.get(key=params.message)
        contact = None
        if params.only_contact and run.contact_id:
            contact = Contact.objects.filter(pk=run.contact_id, account=run.account).first()
        assignment = inapp.show_to(
            message,
            run.account,
            contact,
            source_key=run.key,
            flow_enrolment_id=run.enrolment_id,
            flow_step=run.step_id,
        )
        if message.status != "live":
            text = _("“%(message)s” is assigned, but it is not live, so nobody sees it yet") % {
                "message": message.name
            }
        elif contact is not None:
            text = _("“%(message)s” will show for %(contact)s") % {
                "message": message.name,
                "contact": contact.name,
            }
        else:
            text = _("“%(message)s” will show for everyone at the account") % {
                "message": message.name
            }
        return Outcome(text, {"message": message.key, "assignment": assignment.pk})
