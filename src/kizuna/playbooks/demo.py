"""Demo CTAs: call `seed(rng)` after the demo accounts, owners, contracts and touchpoints
exist. Creates open, overdue, snoozed and done CTAs across the owners' accounts, through
the services (so playbook tasks, audit entries and notifications are real)."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kizuna.customers.choices import LifecycleStage, Tier
from kizuna.customers.models import Account
from kizuna.playbooks import services
from kizuna.playbooks.choices import CtaSource, CtaStatus, CtaType, Outcome
from kizuna.playbooks.models import Cta, CtaTask, Notification

MAX_CTAS = 400

# (playbook key, CTA type, reason) of the plays a demo account may have running.
_RISK = [
    ("no-login-14-days", CtaType.RISK, gettext_noop("No login in 14 days")),
    # xgettext:no-python-format
    ("usage-drop", CtaType.RISK, gettext_noop("Active users dropped by 40% in 30 days")),
    ("detractor-follow-up", CtaType.RISK, gettext_noop("NPS detractor (score 4)")),
]
_GROWTH = [
    # xgettext:no-python-format
    ("expansion-seats", CtaType.EXPANSION, gettext_noop("92% of licensed seats in use")),
]
_RENEWALS = {
    30: gettext_noop("Renewal in 30 days"),
    60: gettext_noop("Renewal in 60 days"),
    90: gettext_noop("Renewal in 90 days"),
}
_OUTCOMES = [Outcome.RESOLVED, Outcome.RESOLVED, Outcome.NOT_RESOLVED, Outcome.NO_RESPONSE]


def _plays(
    account: Account, today: datetime.date, rng: random.Random
) -> list[tuple[str, str, str]]:
    plays: list[tuple[str, str, str]] = []
    if account.stage == LifecycleStage.ONBOARDING:
        plays.append(
            ("onboarding-kickoff", CtaType.ONBOARDING, gettext_noop("New customer: onboarding"))
        )
    if account.next_renewal_date is not None:
        days = (account.next_renewal_date - today).days
        for window in (30, 60, 90):
            if 0 <= days <= window:
                plays.append((f"renewal-{window}", CtaType.RENEWAL, _RENEWALS[window]))
                break
    chance = {Tier.HIGH_TOUCH: 0.45, Tier.LOW_TOUCH: 0.3}.get(Tier(account.tier), 0.12)
    if rng.random() < chance:
        plays.append(rng.choice(_RISK))
    if rng.random() < chance / 2:
        plays.append(rng.choice(_GROWTH))
    return plays


def seed(rng: random.Random | None = None) -> int:
    """Create the demo CTAs (idempotent: their source keys are fixed); returns how many
    were created. Installs the playbook library first."""
    rng = rng or random.Random(20240401)
    services.install_library()
    today = timezone.localdate()
    now = timezone.now()
    accounts = list(
        Account.objects.filter(owner__isnull=False)
        .exclude(stage=LifecycleStage.CHURNED)
        .order_by("pk")
    )
    created = 0
    with transaction.atomic():
        for account in accounts:
            for key, kind, reason in _plays(account, today, rng):
                if created >= MAX_CTAS:
                    break
                # Its own generator, drawn whether or not the CTA is new, so a second run
                # makes the same choices as the first.
                local = random.Random(rng.random())
                cta, is_new = services.open_cta(
                    account_id=account.pk,
                    type=kind,
                    reason=_(reason),
                    playbook_key=key,
                    owner_id=account.owner_id,
                    source=CtaSource.SYSTEM,
                    source_label=_("Demo data"),
                    source_key=f"demo:{account.pk}:{key}",
                )
                if not is_new:
                    continue
                created += 1
                _age(cta, today, now, local)
        # The demo starts with a quiet inbox: only the newest notifications are unread.
        Notification.objects.filter(source_key__startswith="cta:").exclude(
            pk__in=Notification.objects.order_by("-created_at", "-id").values("pk")[:5]
        ).update(read_at=now)
    return created


def _age(cta: Cta, today: datetime.date, now: datetime.datetime, rng: random.Random) -> None:
    """Give a new CTA a past: created days or weeks ago, some steps done, and then overdue,
    snoozed, done or simply open."""
    age = rng.randint(0, 50)
    created_at = now - datetime.timedelta(days=age, hours=rng.randint(0, 8))
    shift = datetime.timedelta(days=age)
    Cta.objects.filter(pk=cta.pk).update(created_at=created_at, due_on=cta.due_on - shift)
    tasks = list(CtaTask.objects.filter(cta=cta).order_by("order"))
    for task in tasks:
        if task.due_on is not None:
            task.due_on -= shift
            if task.due_on < today and rng.random() < 0.7:
                task.done_at = created_at + datetime.timedelta(days=rng.randint(0, max(age, 1)))
                task.done_by_id = cta.owner_id
    CtaTask.objects.bulk_update(tasks, ["due_on", "done_at", "done_by"])
    roll = rng.random()
    if roll < 0.4 and age >= 7:
        cta.refresh_from_db()
        services.close_cta(None, cta, outcome=rng.choice(_OUTCOMES))
        closed_at = created_at + datetime.timedelta(days=rng.randint(1, max(age, 2)))
        Cta.objects.filter(pk=cta.pk).update(
            closed_at=min(closed_at, now), closed_by_id=cta.owner_id
        )
    elif roll < 0.5:
        Cta.objects.filter(pk=cta.pk).update(
            status=CtaStatus.SNOOZED,
            snoozed_until=today + datetime.timedelta(days=rng.randint(1, 6)),
        )
