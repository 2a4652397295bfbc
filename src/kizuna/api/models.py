"""API keys for the REST API, and outbound webhooks: endpoints and their deliveries."""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.core.models import Role


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class ApiKey(models.Model):
    """A credential for the REST API. The key acts as its own service user with `role`, so
    the API allows exactly what the UI allows a person with that role, and the audit log
    names the key as the actor of every change made with it.

    Only a SHA-256 hash of the secret part is stored; the full key is shown once, when it
    is created. The `prefix` (public) finds the row, the hash is compared in constant time.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    # The service user the key acts as. It is inactive in the database so it can never
    # sign in or be chosen as an account owner; a valid key makes it active per request.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_key",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=600,
        help_text=_("0 means no limit."),
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_prefix(self) -> str:
        """What the UI shows to recognise a key: its public beginning."""
        return f"kz_{self.prefix}_…"

    def status_at(self, moment: datetime.datetime) -> str:
        if self.revoked_at is not None:
            return ApiKeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= moment:
            return ApiKeyStatus.EXPIRED
        return ApiKeyStatus.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def get_status_display(self) -> str:
        return str(ApiKeyStatus(self.status).label)


def validate_webhook_url(value: str) -> None:
    """An http(s) URL with a host. Unlike Django's URLValidator it accepts the single-label
    host names of a closed network, e.g. ``http://crm/hooks/kizuna``."""
    parts = urlsplit(value)
    blank = any(character.isspace() for character in value)
    if parts.scheme not in ("http", "https") or not parts.hostname or blank:
        raise ValidationError(
            _("Enter an http:// or https:// URL, e.g. https://crm.example.jp/hooks/kizuna."),
            code="invalid",
        )
    try:
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise ValidationError(_("The port in the URL is not valid."), code="invalid") from None


class WebhookEndpoint(models.Model):
    """A URL that receives signed POSTs for the event types it subscribes to.

    `event_types` is a list of registered type names (see kizuna.api.webhooks), e.g.
    ``["account.created", "account.updated", "touchpoint.created"]``.
    """

    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("URL"), max_length=500, validators=[validate_webhook_url])
    # Used to sign every payload, so it is kept as is; it is not an editable field so the
    # audit log never records it.
    secret = models.CharField(max_length=100, editable=False)
    event_types = models.JSONField(_("event types"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from kizuna.api.webhooks import EVENT_TYPES

        if not isinstance(self.event_types, list) or not all(
            isinstance(name, str) for name in self.event_types
        ):
            raise ValidationError({"event_types": _("Event types must be a list of names.")})
        unknown = [name for name in self.event_types if name not in EVENT_TYPES]
        if unknown:
            raise ValidationError(
                {
                    "event_types": _("Unknown event types: %(names)s.")
                    % {"names": ", ".join(unknown)}
                }
            )
        if not self.event_types:
            raise ValidationError({"event_types": _("Choose at least one event type.")})
        # Stored sorted and without duplicates, so two equal subscriptions compare equal.
        self.event_types = sorted(set(self.event_types))


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


# Deliveries a worker may still send.
OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class WebhookDelivery(models.Model):
    """One event to send to one endpoint, and what happened when it was sent.

    `payload` is the JSON body, e.g. ``{"id": "…", "type": "account.updated",
    "created_at": "…", "data": {"object": {…}, "changes": {"name": ["A", "B"]}}}``.
    A worker claims a due delivery by moving `next_attempt_at` forward with a conditional
    UPDATE, so two workers never send it at once; a worker that dies mid-send only delays it.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_id = models.UUIDField(_("event ID"))
    event_type = models.CharField(_("event type"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_response_body = models.TextField(_("response body (start)"), blank=True)
    last_error = models.TextField(_("error"), blank=True)
    last_duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self",
        verbose_name=_("redelivery of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="redeliveries",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DELIVERY_STATUSES
