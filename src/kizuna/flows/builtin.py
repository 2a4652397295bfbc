"""The actions every Kizuna has (see actions.py for the contract)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import pydantic
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kizuna.flows.actions import NEEDS_TECH_TOUCH, Action, ActionRun, ActionUnavailable, Outcome

CTA_TYPES = ("risk", "onboarding", "renewal", "expansion", "lifecycle", "other")


class Params(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- CTA ------------------------------------------------------------------------------------


class CtaParams(Params):
    type: Literal["risk", "onboarding", "renewal", "expansion", "lifecycle", "other"]
    reason: str = pydantic.Field(min_length=1, max_length=200)
    priority: Literal["high", "medium", "low"] | None = None
    due_in_days: int | None = pydantic.Field(None, ge=0, le=365)
    playbook: str = ""

    @pydantic.field_validator("playbook")
    @classmethod
    def _playbook(cls, value: str) -> str:
        if value:
            from kizuna.playbooks.models import Playbook

            if not Playbook.objects.filter(key=value).exists():
                raise ValueError(_("There is no playbook “%(key)s”.") % {"key": value})
        return value


class CreateCta(Action):
    key = "cta.create"
    label = gettext_lazy("Create a CTA")
    Params = CtaParams

    @classmethod
    def describe(cls, params: CtaParams) -> str:
        return _("Create a %(type)s CTA: %(reason)s") % {
            "type": params.type,
            "reason": params.reason,
        }

    @classmethod
    def plan(cls, params: CtaParams, run: ActionRun) -> str:
        owner = run.account.owner
        return _("Would create a %(type)s CTA “%(reason)s” for %(owner)s") % {
            "type": params.type,
            "reason": params.reason,
            "owner": (owner.get_full_name() or str(owner)) if owner else _("no owner"),
        }

    @classmethod
    def execute(cls, params: CtaParams, run: ActionRun) -> Outcome:
        from kizuna.playbooks import services

        cta, created = services.open_cta(
            account_id=run.account.pk,
            type=params.type,
            reason=params.reason,
            priority=params.priority,
            due_in_days=params.due_in_days,
            playbook_key=params.playbook or None,
            source="flow",
            source_label=f"{run.flow_name} · {run.step_label or run.step_id}",
            source_key=run.key,
        )
        text = (
            _("Created CTA “%(reason)s”") if created else _("CTA “%(reason)s” was already open")
        ) % {"reason": cta.reason}
        return Outcome(text, {"cta": cta.pk, "created": created})


# --- Segments -------------------------------------------------------------------------------


class SegmentParams(Params):
    segment: int

    @pydantic.field_validator("segment")
    @classmethod
    def _static(cls, value: int) -> int:
        from kizuna.segments.models import Segment

        segment = Segment.objects.filter(pk=value).first()
        if segment is None:
            raise ValueError(_("There is no segment %(id)s.") % {"id": value})
        if segment.is_dynamic:
            raise ValueError(
                _("“%(name)s” follows its conditions; a flow can only change a static segment.")
                % {"name": segment.name}
            )
        return value


def _segment_name(segment_id: int) -> str:
    from kizuna.segments.models import Segment

    return Segment.objects.filter(pk=segment_id).values_list("name", flat=True).first() or str(
        segment_id
    )


class AddToSegment(Action):
    key = "segment.add"
    label = gettext_lazy("Add to a segment")
    Params = SegmentParams

    @classmethod
    def describe(cls, params: SegmentParams) -> str:
        return _("Add to segment “%(name)s”") % {"name": _segment_name(params.segment)}

    @classmethod
    def execute(cls, params: SegmentParams, run: ActionRun) -> Outcome:
        from kizuna.segments import services
        from kizuna.segments.choices import MembershipSource
        from kizuna.segments.models import Segment

        segment = Segment.objects.get(pk=params.segment)
        change = services.add_members(None, segment, [run.account.pk], source=MembershipSource.FLOW)
        if change.added:
            return Outcome(_("Added to “%(name)s”") % {"name": segment.name})
        return Outcome(_("Already in “%(name)s”") % {"name": segment.name})


class RemoveFromSegment(Action):
    key = "segment.remove"
    label = gettext_lazy("Remove from a segment")
    Params = SegmentParams

    @classmethod
    def describe(cls, params: SegmentParams) -> str:
        return _("Remove from segment “%(name)s”") % {"name": _segment_name(params.segment)}

    @classmethod
    def execute(cls, params: SegmentParams, run: ActionRun) -> Outcome:
        from kizuna.segments import services
        from kizuna.segments.models import Segment

        segment = Segment.objects.get(pk=params.segment)
        change = services.remove_members(None, segment, [run.account.pk])
        if change.removed:
            return Outcome(_("Removed from “%(name)s”") % {"name": segment.name})
        return Outcome(_("Was not in “%(name)s”") % {"name": segment.name})


# --- Stage and fields -----------------------------------------------------------------------


class StageParams(Params):
    stage: Literal["onboarding", "adoption", "value", "renewal", "churned"]
    reason: str = pydantic.Field("", max_length=200)


class SetStage(Action):
    key = "stage.set"
    label = gettext_lazy("Set the lifecycle stage")
    Params = StageParams

    @classmethod
    def describe(cls, params: StageParams) -> str:
        from kizuna.customers.choices import LifecycleStage

        return _("Move to stage “%(stage)s”") % {"stage": LifecycleStage(params.stage).label}

    @classmethod
    def execute(cls, params: StageParams, run: ActionRun) -> Outcome:
        from kizuna.customers.choices import LifecycleStage
        from kizuna.lifecycle import services
        from kizuna.lifecycle.choices import StageChangeSource

        label = LifecycleStage(params.stage).label
        if run.account.stage == params.stage:
            return Outcome(_("Already in stage “%(stage)s”") % {"stage": label})
        reason = params.reason or _("Success flow “%(flow)s”") % {"flow": run.flow_name}
        services.set_stage(None, run.account, params.stage, reason, source=StageChangeSource.FLOW)
        return Outcome(_("Moved to stage “%(stage)s”") % {"stage": label})


class FieldParams(Params):
    field: str = pydantic.Field(min_length=1, max_length=50)
    value: str | int | float | bool | None = None

    @pydantic.model_validator(mode="after")
    def _known(self) -> FieldParams:
        from django.core.exceptions import ValidationError

        from kizuna.customers import services
        from kizuna.customers.models import CustomFieldDefinition

        definition = CustomFieldDefinition.objects.filter(key=self.field).first()
        if definition is None:
            raise ValueError(_("There is no custom field “%(key)s”.") % {"key": self.field})
        try:
            services.clean_custom_value(definition, self.value)
        except ValidationError as exc:
            raise ValueError("; ".join(exc.messages)) from None
        return self


class SetField(Action):
    key = "field.set"
    label = gettext_lazy("Set a custom field")
    Params = FieldParams

    @classmethod
    def describe(cls, params: FieldParams) -> str:
        return _("Set %(field)s to “%(value)s”") % {"field": params.field, "value": params.value}

    @classmethod
    def execute(cls, params: FieldParams, run: ActionRun) -> Outcome:
        from kizuna.customers import services

        before = run.account.custom_attributes.get(params.field)
        services.set_custom_value(None, run.account, params.field, params.value)
        after = run.account.custom_attributes.get(params.field)
        return Outcome(
            _("Set %(field)s to “%(value)s”") % {"field": params.field, "value": after},
            {"before": before, "after": after},
        )


# --- Webhook and notification ---------------------------------------------------------------


class WebhookParams(Params):
    endpoint: int

    @pydantic.field_validator("endpoint")
    @classmethod
    def _exists(cls, value: int) -> int:
        from kizuna.api.models import WebhookEndpoint

        if not WebhookEndpoint.objects.filter(pk=value).exists():
            raise ValueError(_("There is no webhook endpoint %(id)s.") % {"id": value})
        return value


class CallWebhook(Action):
    """Posts a signed `flow.webhook` payload through the webhook deliveries (their retries,
    signatures and delivery log): an endpoint that is down delays only its own delivery."""

    key = "webhook.call"
    label = gettext_lazy("Call a webhook")
    Params = WebhookParams

    @classmethod
    def describe(cls, params: WebhookParams) -> str:
        from kizuna.api.models import WebhookEndpoint

        name = WebhookEndpoint.objects.filter(pk=params.endpoint).values_list("name", flat=True)
        return _("Call webhook “%(name)s”") % {"name": name.first() or params.endpoint}

    @classmethod
    def execute(cls, params: WebhookParams, run: ActionRun) -> Outcome:
        from kizuna.api import webhooks
        from kizuna.api.models import WebhookDelivery, WebhookEndpoint

        endpoint = WebhookEndpoint.objects.get(pk=params.endpoint)
        existing = WebhookDelivery.objects.filter(
            endpoint=endpoint, event_type="flow.webhook", payload__data__object__run=run.key
        ).first()
        if existing is not None:
            return Outcome(_("Webhook already queued"), {"delivery": existing.pk})
        now = timezone.now()
        event_id = uuid.uuid4()
        obj = {
            "run": run.key,
            "flow": {"id": run.flow_id, "name": run.flow_name, "version": run.version},
            "step": run.step_id,
            "account": {
                "id": run.account.pk,
                "name": run.account.name,
                "external_id": run.account.external_id,
            },
            "contact": run.contact_id,
            "trigger": run.trigger,
        }
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            event_type="flow.webhook",
            payload=webhooks.build_payload(event_id, "flow.webhook", now, obj, {}),
            next_attempt_at=now,
        )
        webhooks.enqueue_on_commit([delivery.pk])
        return Outcome(
            _("Webhook “%(name)s” queued") % {"name": endpoint.name}, {"delivery": delivery.pk}
        )


class NotifyParams(Params):
    message: str = pydantic.Field(min_length=1, max_length=500)


class NotifyOwner(Action):
    key = "owner.notify"
    label = gettext_lazy("Notify the account owner in Kizuna")
    Params = NotifyParams

    @classmethod
    def describe(cls, params: NotifyParams) -> str:
        return _("Notify the owner: %(message)s") % {"message": params.message}

    @classmethod
    def execute(cls, params: NotifyParams, run: ActionRun) -> Outcome:
        from django.urls import reverse

        from kizuna.playbooks import services

        if run.account.owner_id is None:
            return Outcome(_("No owner to notify"))
        services.notify(
            user_id=run.account.owner_id,
            account_id=run.account.pk,
            text=params.message,
            url=reverse("customers:account_detail", args=[run.account.pk]),
            source_key=run.key,
        )
        return Outcome(_("Notified %(owner)s") % {"owner": run.account.owner})


# --- Tech touch (delivered by the engagement app) -------------------------------------------


class NeedsTechTouch(Action):
    """An action the tech-touch capability provides: until it is installed, a run of it is
    recorded as skipped, with this reason."""

    unavailable_reason = NEEDS_TECH_TOUCH

    @classmethod
    def execute(cls, params: Any, run: ActionRun) -> Outcome:
        raise ActionUnavailable(str(NEEDS_TECH_TOUCH))


class EmailParams(Params):
    template: str = pydantic.Field(min_length=1, max_length=100)
    model_config = pydantic.ConfigDict(extra="allow")


class SendEmail(NeedsTechTouch):
    key = "email.send"
    label = gettext_lazy("Send an email")
    Params = EmailParams

    @classmethod
    def describe(cls, params: EmailParams) -> str:
        return _("Send email “%(template)s”") % {"template": params.template}


class InAppParams(Params):
    message: str = pydantic.Field(min_length=1, max_length=100)
    model_config = pydantic.ConfigDict(extra="allow")


class ShowInAppMessage(NeedsTechTouch):
    key = "inapp.show"
    label = gettext_lazy("Show an in-app message")
    Params = InAppParams

    @classmethod
    def describe(cls, params: InAppParams) -> str:
        return _("Show in-app message “%(message)s”") % {"message": params.message}
