"""Picking the winner of a campaign's A/B test, and sending it to the rest of the audience.

Once `test_hours` have passed since the test group was sent (or when a manager asks for it
earlier), the test group's figures per variant are read (delivered = sent and not bounced;
opens or clicks among them, by the campaign's criterion) and compared: the best variant
against the runner-up with a two-proportion z-test (plus a chi-square test over all of them
when there are three or more). The figures, the verdict and why are kept in
`campaign.decision` as they were then, for example::

    {"criterion": "open_rate", "decided_at": "2025-06-02T09:00:00+00:00",
     "variants": [{"id": 7, "label": "A", "delivered": 1000, "opens": 200, "clicks": 31,
                   "rate": 0.2}, {"id": 8, "label": "B", ...}],
     "best": "B", "runner_up": "A", "difference": 0.05, "ci_low": 0.013, "ci_high": 0.087,
     "z": 2.68, "p": 0.0074, "chi2": null, "df": null, "chi2_p": null,
     "enough_data": true, "significant": true, "winner": "B", "winner_id": 8,
     "reason": "significant", "picked_by": null}

The rest of the audience is then queued with the winner (source keys campaign:<id>:rest:…).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.engagement import campaign_queries, stats
from kizuna.engagement.campaigns import CampaignError, enqueue_queueing, variants_of
from kizuna.engagement.choices import (
    CampaignStatus,
    IfInconclusive,
    RecipientPhase,
    WinnerCriterion,
)
from kizuna.engagement.models import Campaign, CampaignVariant

# Why the winner was picked (stored as these codes; shown in the reader's language).
SIGNIFICANT = "significant"
INCONCLUSIVE_BEST = "inconclusive_best"
INCONCLUSIVE_CONTROL = "inconclusive_control"
NOT_ENOUGH_BEST = "not_enough_data_best"
NOT_ENOUGH_CONTROL = "not_enough_data_control"
MANUAL = "manual"


@dataclass(frozen=True)
class VariantFigures:
    variant: CampaignVariant
    delivered: int
    opens: int
    clicks: int
    rate: float


def figures(campaign: Campaign, variants: list[CampaignVariant]) -> list[VariantFigures]:
    """The test group's figures per variant, in variant order (one query)."""
    by_variant = campaign_queries.results_by_variant(campaign, phase=RecipientPhase.TEST)
    out = []
    for variant in variants:
        row = by_variant.get(variant.pk)
        delivered = row.delivered if row else 0
        opens = row.opens if row else 0
        clicks = row.clicks if row else 0
        successes = clicks if campaign.winner_criterion == WinnerCriterion.CLICK_RATE else opens
        out.append(
            VariantFigures(
                variant=variant,
                delivered=delivered,
                opens=opens,
                clicks=clicks,
                rate=successes / delivered if delivered else 0.0,
            )
        )
    return out


def evaluate(
    campaign: Campaign, variants: list[CampaignVariant], now: datetime.datetime
) -> dict[str, Any]:
    """The decision figures and the winner by the campaign's rules (not saved)."""
    rows = figures(campaign, variants)
    click = campaign.winner_criterion == WinnerCriterion.CLICK_RATE
    proportions = [
        stats.Proportion(row.clicks if click else row.opens, row.delivered) for row in rows
    ]
    # Best first; on a tie the earlier variant wins (stable sort).
    order = sorted(range(len(rows)), key=lambda i: -rows[i].rate)
    best, runner_up = order[0], order[1]
    comparison = stats.two_proportion(proportions[best], proportions[runner_up])
    significant = comparison.significant
    chi: stats.ChiSquare | None = None
    if len(rows) >= 3:
        chi = stats.chi_square(proportions)
        significant = significant and chi.significant
    enough = comparison.enough_data and all(p.trials >= stats.MIN_SAMPLE for p in proportions)
    if significant:
        winner, reason = best, SIGNIFICANT
    elif campaign.if_inconclusive == IfInconclusive.CONTROL:
        winner, reason = 0, (INCONCLUSIVE_CONTROL if enough else NOT_ENOUGH_CONTROL)
    else:
        winner, reason = best, (INCONCLUSIVE_BEST if enough else NOT_ENOUGH_BEST)
    return {
        "criterion": campaign.winner_criterion,
        "decided_at": now.isoformat(),
        "variants": [
            {
                "id": row.variant.pk,
                "label": row.variant.label,
                "delivered": row.delivered,
                "opens": row.opens,
                "clicks": row.clicks,
                "rate": row.rate,
            }
            for row in rows
        ],
        "best": rows[best].variant.label,
        "runner_up": rows[runner_up].variant.label,
        "difference": comparison.difference,
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "z": comparison.z,
        "p": comparison.p,
        "chi2": chi.statistic if chi else None,
        "df": chi.df if chi else None,
        "chi2_p": chi.p if chi else None,
        "enough_data": enough,
        "significant": significant,
        "winner": rows[winner].variant.label,
        "winner_id": rows[winner].variant.pk,
        "reason": reason,
        "picked_by": None,
    }


def reason_text(decision: dict[str, Any]) -> str:
    """Why the winner won, in words (in the reader's language)."""
    values = {
        "winner": decision.get("winner", ""),
        "p": f"{decision.get('p', 1.0):.4f}",
        "minimum": stats.MIN_SAMPLE,
        "picked_by": decision.get("picked_by") or "",
    }
    texts = {
        SIGNIFICANT: _(
            "%(winner)s has the best rate and the difference is significant at 95%% (p = %(p)s)."
        ),
        INCONCLUSIVE_BEST: _(
            "The difference is not significant at 95%% (p = %(p)s); %(winner)s was sent "
            "because it has the best rate, as the campaign says."
        ),
        INCONCLUSIVE_CONTROL: _(
            "The difference is not significant at 95%% (p = %(p)s); the first variant, "
            "%(winner)s, was sent, as the campaign says."
        ),
        NOT_ENOUGH_BEST: _(
            "Not enough data: a variant has fewer than %(minimum)d delivered emails. "
            "%(winner)s was sent because it has the best rate, as the campaign says."
        ),
        NOT_ENOUGH_CONTROL: _(
            "Not enough data: a variant has fewer than %(minimum)d delivered emails. The "
            "first variant, %(winner)s, was sent, as the campaign says."
        ),
        MANUAL: _("%(winner)s was picked by %(picked_by)s."),
    }
    return texts.get(decision.get("reason", ""), "") % values


def is_due(campaign: Campaign, now: datetime.datetime) -> bool:
    return (
        campaign.status == CampaignStatus.TESTING
        and campaign.started_at is not None
        and campaign.started_at + datetime.timedelta(hours=campaign.test_hours) <= now
    )


def decide(
    campaign: Campaign,
    now: datetime.datetime | None = None,
    *,
    actor: User | None = None,
    force: bool = False,
    variant: CampaignVariant | None = None,
) -> Campaign:
    """Pick the winner of a campaign in test and queue the rest of the audience with it.

    Waits for `test_hours` after the start unless `force` (a manager's "pick the winner
    now"); `variant` overrides the rules with a manager's own choice (the figures are kept
    all the same). Raises CampaignError when the campaign is not in test or not due."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.TESTING:
            raise CampaignError({"status": [_("This campaign has no A/B test running.")]})
        if not force and not is_due(campaign, now):
            raise CampaignError(
                {
                    "status": [
                        _("The test runs until %(hours)d hours after the start.")
                        % {"hours": campaign.test_hours}
                    ]
                }
            )
        variants = variants_of(campaign)
        if len(variants) < 2:
            raise CampaignError({"variants": [_("An A/B test needs at least two variants.")]})
        if variant is not None and variant.campaign_id != campaign.pk:
            raise CampaignError({"variant": [_("This variant is not part of the campaign.")]})
        decision = evaluate(campaign, variants, now)
        if variant is not None:
            decision.update(
                winner=variant.label,
                winner_id=variant.pk,
                reason=MANUAL,
                picked_by=str(actor) if actor else "",
            )
        before = audit.snapshot(campaign)
        campaign.decision = decision
        campaign.winner_id = decision["winner_id"]
        campaign.winner_decided_at = now
        campaign.status = CampaignStatus.SENDING
        campaign.save()
        audit.record_update(actor, campaign, before)
        transaction.on_commit(partial(enqueue_queueing, campaign.pk, RecipientPhase.REST))
    return campaign


def decide_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Decide every A/B test whose test time is over; return the campaigns decided."""
    now = now or timezone.now()
    decided = []
    candidates = Campaign.objects.filter(
        status=CampaignStatus.TESTING, started_at__isnull=False
    ).order_by("started_at", "pk")
    for campaign in candidates:
        if not is_due(campaign, now):
            continue
        try:
            decide(campaign, now)
        except CampaignError:
            continue  # cancelled or decided meanwhile
        decided.append(campaign.pk)
    return decided
