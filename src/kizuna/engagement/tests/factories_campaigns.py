"""Test data for campaigns: a segment with member accounts and contacts, a campaign on it
(optionally with variants), and a fixture that runs background tasks immediately."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.utils import timezone

from kizuna.customers.models import Contact
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import campaigns
from kizuna.engagement.models import Campaign, EmailTemplate
from kizuna.engagement.tests.factories import EmailTemplateFactory
from kizuna.segments.choices import MembershipSource, SegmentKind
from kizuna.segments.models import Segment, SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def segment_with_contacts(
    accounts: int = 3, contacts_per_account: int = 2, *, name: str | None = None, **contact: Any
) -> tuple[Segment, list[Contact]]:
    """A static segment whose member accounts each have `contacts_per_account` contacts."""
    segment = SegmentFactory.create(
        kind=SegmentKind.STATIC, conditions={}, **({"name": name} if name else {})
    )
    made: list[Contact] = []
    now = timezone.now()
    for _ in range(accounts):
        account = AccountFactory.create()
        SegmentMembership.objects.create(
            segment=segment, account=account, entered_at=now, source=MembershipSource.MANUAL
        )
        made.extend(ContactFactory.create_batch(contacts_per_account, account=account, **contact))
    return segment, made


def add_to_segment(segment: Segment, contacts: Sequence[Contact]) -> None:
    now = timezone.now()
    for account_id in {contact.account_id for contact in contacts}:
        SegmentMembership.objects.create(
            segment=segment, account_id=account_id, entered_at=now, source=MembershipSource.MANUAL
        )


def make_campaign(
    segment: Segment,
    *,
    template: EmailTemplate | None = None,
    variants: Sequence[campaigns.VariantSpec] = (),
    **fields: Any,
) -> Campaign:
    spec = campaigns.CampaignSpec(
        name=fields.pop("name", "6月のウェビナー案内"),
        template=template or EmailTemplateFactory.create(),
        segment=segment,
        variants=variants,
        **fields,
    )
    return campaigns.create_campaign(None, spec)


def two_subjects(weight_a: int = 1, weight_b: int = 1) -> list[campaigns.VariantSpec]:
    return [
        campaigns.VariantSpec(
            label="A", weight=weight_a, subject_ja="件名A", subject_en="Subject A"
        ),
        campaigns.VariantSpec(
            label="B", weight=weight_b, subject_ja="件名B", subject_en="Subject B"
        ),
    ]
