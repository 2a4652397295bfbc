"""The write side of the api app: API keys (create, revoke, authenticate) and webhook
endpoints (save, delete, rotate the secret, test, redeliver). Every change is audited in
the same transaction."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
import uuid

from django.core.cache import cache
from django.db import transaction
from django.forms import ModelForm
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.api import webhooks
from kizuna.api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from kizuna.core import audit
from kizuna.core.models import AuditAction, AuditEntry, User

KEY_PREFIX = "kz"
# last_used_at is written at most this often per key, so reads do not become writes.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


# --- API keys ---------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: there is nothing to guess.
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_prefix() -> str:
    while True:
        prefix = secrets.token_hex(4)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            return prefix


@transaction.atomic
def create_api_key(
    actor: User | None,
    *,
    name: str,
    role: str,
    expires_at: datetime.datetime | None = None,
    rate_limit_per_minute: int = 600,
) -> tuple[ApiKey, str]:
    """Create a key and its service user; return the key row and the full key, which is
    shown once and never stored (only its hash is)."""
    prefix = _new_prefix()
    secret = secrets.token_urlsafe(32)
    user = User(
        username=f"apikey-{prefix}",
        display_name=(_("API key: %(name)s") % {"name": name})[:100],
        role=role,
        is_active=False,
    )
    user.set_unusable_password()
    user.save()
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        role=role,
        user=user,
        created_by=actor if actor is not None and actor.pk else None,
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    audit.record_create(actor, key)
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def revoke_api_key(actor: User | None, key: ApiKey) -> ApiKey:
    """Refuse the key from now on. Revoking twice changes nothing."""
    if key.revoked_at is not None:
        return key
    before = audit.snapshot(key)
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit.record_update(actor, key, before)
    return key


class KeyRejected(Exception):
    """The presented key is not (or no longer) valid; `message` says why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(retry_after)


def parse_key(token: str) -> tuple[str, str] | None:
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def authenticate(token: str, now: datetime.datetime | None = None) -> ApiKey:
    """The key for `token`, with its service user loaded and acting with the key's role.

    Raises KeyRejected for an unknown, wrong, revoked or expired key. The secret is compared
    in constant time; `last_used_at` is written at most once a minute.
    """
    now = now or timezone.now()
    parsed = parse_key(token)
    if parsed is None:
        raise KeyRejected(_("The API key is not valid."))
    prefix, secret = parsed
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    # Compare against a dummy hash when the prefix is unknown, so timing does not tell.
    expected = key.secret_hash if key is not None else hash_secret(prefix)
    if not hmac.compare_digest(expected, hash_secret(secret)) or key is None:
        raise KeyRejected(_("The API key is not valid."))
    if key.revoked_at is not None:
        raise KeyRejected(_("The API key has been revoked."))
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyRejected(_("The API key has expired."))
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    # The service user is inactive in the database (it can never sign in); a valid key
    # makes it act, for this request only, as an active user with the key's role.
    key.user.is_active = True
    key.user.role = key.role
    return key


def check_rate(key: ApiKey, now: float | None = None) -> None:
    """A fixed one-minute window per key in the cache; raises RateLimited when the key has
    used its `rate_limit_per_minute`. With the default in-process cache the limit applies
    per server process; configure a shared cache (Redis) to make it exact across processes.
    """
    limit = key.rate_limit_per_minute
    if not limit:
        return
    moment = int(now if now is not None else timezone.now().timestamp())
    window = moment // 60
    # By prefix, which is never reused, unlike a primary key.
    cache_key = f"kizuna:api-rate:{key.prefix}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=120)
        used = 1
    if used > limit:
        raise RateLimited(retry_after=60 - moment % 60)


# --- Webhook endpoints ------------------------------------------------------------------


def new_webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


@transaction.atomic
def save_endpoint(
    actor: User | None, form: ModelForm[WebhookEndpoint], before: audit.Snapshot | None
) -> WebhookEndpoint:
    """Save a validated endpoint form; a new endpoint gets a fresh signing secret."""
    endpoint = form.save(commit=False)
    if before is None:
        endpoint.secret = new_webhook_secret()
        endpoint.created_by = actor if actor is not None and actor.pk else None
    endpoint.save()
    if before is None:
        audit.record_create(actor, endpoint)
    else:
        audit.record_update(actor, endpoint, before)
    return endpoint


@transaction.atomic
def set_endpoint_active(actor: User | None, endpoint: WebhookEndpoint, active: bool) -> None:
    before = audit.snapshot(endpoint)
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active", "updated_at"])
    audit.record_update(actor, endpoint, before)


@transaction.atomic
def delete_endpoint(actor: User | None, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log."""
    object_id = endpoint.pk
    endpoint.delete()
    audit.record_delete(actor, endpoint, object_id)


def _fingerprint(secret: str) -> str:
    return "•••" + hashlib.sha256(secret.encode()).hexdigest()[:8]


@transaction.atomic
def rotate_secret(actor: User | None, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new signing secret; deliveries not yet sent use the new one."""
    old = endpoint.secret
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    # The secret is never audited in clear: only fingerprints show that it changed.
    AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=AuditAction.UPDATE,
        object_type=endpoint._meta.label_lower,
        object_id=str(endpoint.pk),
        object_repr=str(endpoint)[:200],
        changes={"secret": [_fingerprint(old), _fingerprint(endpoint.secret)]},
    )
    return endpoint.secret


@transaction.atomic
def send_test_event(actor: User | None, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` event to the endpoint, to check its URL and signature
    verification. A disabled endpoint receives nothing, so enable it first."""
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = webhooks.build_payload(
        event_id,
        webhooks.TEST_EVENT,
        now,
        {
            "endpoint": {"id": endpoint.pk, "name": endpoint.name},
            "sent_by": {"id": actor.pk if actor else None, "name": str(actor) if actor else ""},
        },
        {},
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event_type=webhooks.TEST_EVENT,
        payload=payload,
        next_attempt_at=now,
    )
    webhooks.enqueue_on_commit([delivery.pk])
    return delivery


@transaction.atomic
def redeliver(actor: User | None, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event (same id and payload) again, as a new delivery in the log.

    Receivers that deduplicate on `Kizuna-Event-Id` treat it as the same event.
    """
    copy = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
        redelivery_of=delivery,
    )
    webhooks.enqueue_on_commit([copy.pk])
    return copy
