"""Campaigns' background tasks and periodic jobs: queueing a started campaign in chunks,
starting scheduled campaigns when their time comes, deciding A/B tests whose test time is
over, and marking campaigns sent once every email is out. Imported by the app's ready()
so the jobs are registered."""

from __future__ import annotations

import datetime

from django.tasks import task

from kizuna.core import scheduler


@task
def queue_campaign(campaign_id: int, phase: str) -> int:
    """Queue one phase of a started campaign (enqueued by start and by the A/B decision)."""
    from kizuna.engagement import campaigns

    return campaigns.queue_phase(campaign_id, phase)


@task
def start_scheduled_campaigns() -> int:
    """Start the scheduled campaigns that are due, and catch up on any queueing missed."""
    from kizuna.engagement import campaigns

    started = campaigns.start_due()
    campaigns.queue_pending()
    return len(started)


@task
def decide_ab_tests() -> int:
    """Pick the winners of the A/B tests whose test time is over."""
    from kizuna.engagement import abtest

    return len(abtest.decide_due())


@task
def finish_campaigns() -> int:
    """Mark campaigns sent once all their emails are out."""
    from kizuna.engagement import campaigns

    return len(campaigns.finish_sent())


scheduler.register(
    "engagement.start_scheduled_campaigns",
    start_scheduled_campaigns,
    every=datetime.timedelta(minutes=1),
)
scheduler.register(
    "engagement.decide_ab_tests", decide_ab_tests, every=datetime.timedelta(minutes=5)
)
scheduler.register(
    "engagement.finish_campaigns", finish_campaigns, every=datetime.timedelta(minutes=1)
)
