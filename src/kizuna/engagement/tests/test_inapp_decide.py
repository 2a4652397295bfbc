"""The in-app decision: which live messages a viewer may see now, one rule per test."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import inapp
from kizuna.engagement.choices import Frequency, InAppAudience, InAppKind, InAppStatus
from kizuna.engagement.models import InAppState
from kizuna.engagement.tests.factories import InAppMessageFactory
from kizuna.engagement.tests.factories_inapp import rolled_up
from kizuna.segments.models import SegmentMembership
from kizuna.segments.tests.factories import SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    account = AccountFactory.create(external_id="SF-1")
    return ContactFactory.create(account=account, product_user_id="u-1")


def keys(write_key: str, contact=None, **kwargs) -> list[str]:
    params = {"user_id": "u-1", "group_id": "SF-1", "url": "https://app.example.jp/", **kwargs}
    return [m["key"] for m in inapp.decide(write_key=write_key, **params)]


def test_live_message_for_everyone_is_returned(write_key, contact) -> None:
    InAppMessageFactory.create(key="hello")
    InAppMessageFactory.create(key="draft", status=InAppStatus.DRAFT)

    assert keys(write_key) == ["hello"]


def test_highest_priority_first(write_key, contact) -> None:
    InAppMessageFactory.create(key="low", priority=10)
    InAppMessageFactory.create(key="high", priority=90)

    assert keys(write_key) == ["high", "low"]


def test_outside_its_dates_it_is_not_shown(write_key, contact) -> None:
    now = timezone.now()
    InAppMessageFactory.create(key="later", starts_at=now + datetime.timedelta(days=1))
    InAppMessageFactory.create(key="over", ends_at=now - datetime.timedelta(days=1))
    InAppMessageFactory.create(key="now", starts_at=now - datetime.timedelta(days=1))

    assert keys(write_key) == ["now"]


def test_segment_audience_needs_the_account_in_the_segment(write_key, contact) -> None:
    inside = SegmentFactory.create()
    outside = SegmentFactory.create()
    SegmentMembership.objects.create(
        segment=inside, account=contact.account, entered_at=timezone.now()
    )
    InAppMessageFactory.create(key="in", audience=InAppAudience.SEGMENT, segment=inside)
    InAppMessageFactory.create(key="out", audience=InAppAudience.SEGMENT, segment=outside)

    assert keys(write_key) == ["in"]


def test_segment_audience_ignores_a_past_membership(write_key, contact) -> None:
    segment = SegmentFactory.create()
    SegmentMembership.objects.create(
        segment=segment,
        account=contact.account,
        entered_at=timezone.now(),
        exited_at=timezone.now(),
    )
    InAppMessageFactory.create(key="in", audience=InAppAudience.SEGMENT, segment=segment)

    assert keys(write_key) == []


def test_url_pattern_is_a_glob_on_the_path(write_key, contact) -> None:
    InAppMessageFactory.create(key="settings", url_pattern="/settings*")

    assert keys(write_key, url="https://app.example.jp/settings/billing?x=1") == ["settings"]
    assert keys(write_key, url="https://app.example.jp/reports/") == []


def test_event_rule_counts_the_rollups(write_key, contact) -> None:
    InAppMessageFactory.create(key="second", event_name="Signed In", event_count=2)
    rolled_up(contact, "Signed In", 1, days_ago=3)
    assert keys(write_key) == []

    rolled_up(contact, "Signed In", 1)
    assert keys(write_key) == ["second"]


def test_event_just_tracked_counts_at_once(write_key, contact) -> None:
    InAppMessageFactory.create(key="second", event_name="Signed In", event_count=2)
    rolled_up(contact, "Signed In", 1)

    assert keys(write_key, event="Signed In") == ["second"]


def test_event_rule_reads_the_account_rollups_without_a_contact(write_key, contact) -> None:
    from kizuna.usage.models import AccountDailyUsage

    InAppMessageFactory.create(key="third", event_name="Report Created", event_count=3)
    AccountDailyUsage.objects.create(
        account=contact.account,
        day=timezone.localdate(),
        type="track",
        event="Report Created",
        count=3,
    )

    assert keys(write_key, user_id=None, anonymous_id="anon-1") == ["third"]


def test_dwell_seconds_and_kind_are_passed_on(write_key, contact) -> None:
    InAppMessageFactory.create(
        key="tour",
        kind=InAppKind.TOUR,
        dwell_seconds=30,
        steps=[{"selector": "#a", "title_ja": "ここ", "body_ja": "説明", "title_en": "Here"}],
    )

    [message] = inapp.decide(write_key=write_key, user_id="u-1", url="/", language="en")

    assert message["dwellSeconds"] == 30
    assert message["kind"] == "tour"
    assert message["steps"] == [{"selector": "#a", "title": "Here", "body": "説明"}]


def test_frequency_once_never_again_after_shown(write_key, contact) -> None:
    message = InAppMessageFactory.create(key="once", frequency=Frequency.ONCE)
    InAppState.objects.create(
        message=message, visitor="u-1", shown_count=1, last_shown_at=timezone.now()
    )

    assert keys(write_key) == []


def test_frequency_until_dismissed(write_key, contact) -> None:
    message = InAppMessageFactory.create(key="until", frequency=Frequency.UNTIL_DISMISSED)
    state = InAppState.objects.create(message=message, visitor="u-1", shown_count=3)
    assert keys(write_key) == ["until"]

    state.dismissed_at = timezone.now()
    state.save()
    assert keys(write_key) == []


def test_frequency_every_n_days(write_key, contact) -> None:
    message = InAppMessageFactory.create(
        key="weekly", frequency=Frequency.EVERY_N_DAYS, every_days=7
    )
    state = InAppState.objects.create(
        message=message,
        visitor="u-1",
        shown_count=1,
        last_shown_at=timezone.now() - datetime.timedelta(days=3),
    )
    assert keys(write_key) == []

    state.last_shown_at = timezone.now() - datetime.timedelta(days=8)
    state.save()
    assert keys(write_key) == ["weekly"]


def test_flow_audience_needs_an_assignment(write_key, contact) -> None:
    message = InAppMessageFactory.create(key="flow", audience=InAppAudience.FLOW)
    assert keys(write_key) == []

    inapp.show_to(message, contact.account, source_key="flow:1:step")
    assert keys(write_key) == ["flow"]


def test_flow_assignment_expires(write_key, contact) -> None:
    message = InAppMessageFactory.create(key="flow", audience=InAppAudience.FLOW)
    inapp.show_to(
        message,
        contact.account,
        source_key="flow:1:step",
        expires_at=timezone.now() - datetime.timedelta(hours=1),
    )

    assert keys(write_key) == []


def test_flow_assignment_for_another_contact_is_not_for_this_one(write_key, contact) -> None:
    message = InAppMessageFactory.create(key="flow", audience=InAppAudience.FLOW)
    other = ContactFactory.create(account=contact.account, product_user_id="u-2")
    inapp.show_to(message, contact.account, other, source_key="flow:1:step")

    assert keys(write_key) == []
    assert keys(write_key, user_id="u-2") == ["flow"]


def test_show_to_is_idempotent_on_source_key(contact) -> None:
    message = InAppMessageFactory.create(audience=InAppAudience.FLOW)

    first = inapp.show_to(message, contact.account, source_key="flow:9:show")
    again = inapp.show_to(message, contact.account, source_key="flow:9:show")

    assert first.pk == again.pk


@pytest.mark.parametrize(
    ("contact_language", "page_language", "expected"),
    [
        ("en", "ja", "New reports"),
        ("", "en-US", "New reports"),
        ("ja", "en", "新しいレポート機能"),
        ("", "", "新しいレポート機能"),
    ],
)
def test_language_is_the_contacts_then_the_pages_then_japanese(
    write_key, contact, contact_language, page_language, expected
) -> None:
    contact.language = contact_language
    contact.save()
    InAppMessageFactory.create(key="hello")

    [message] = inapp.decide(write_key=write_key, user_id="u-1", url="/", language=page_language)

    assert message["title"] == expected


def test_preview_token_ignores_targeting(write_key, contact) -> None:
    message = InAppMessageFactory.create(
        key="draft", status=InAppStatus.DRAFT, url_pattern="/nowhere", audience=InAppAudience.FLOW
    )

    [shown] = inapp.decide(
        write_key=write_key, user_id="u-1", url="/", preview=inapp.preview_token(message)
    )

    assert shown["key"] == "draft"
    assert shown["preview"] is True


def test_a_forged_preview_token_is_refused(write_key, contact) -> None:
    with pytest.raises(inapp.BadRequest):
        inapp.decide(write_key=write_key, user_id="u-1", url="/", preview="forged:token")


def test_unknown_write_key_is_refused(contact) -> None:
    with pytest.raises(inapp.UnknownWriteKey):
        inapp.decide(write_key="kzw_nope", user_id="u-1", url="/")


def test_a_decision_takes_a_fixed_number_of_queries(
    write_key, contact, django_assert_num_queries
) -> None:
    segment = SegmentFactory.create()
    SegmentMembership.objects.create(
        segment=segment, account=contact.account, entered_at=timezone.now()
    )
    for n in range(10):
        InAppMessageFactory.create(
            audience=InAppAudience.SEGMENT, segment=segment, event_name=f"E{n}"
        )
        flow = InAppMessageFactory.create(audience=InAppAudience.FLOW)
        inapp.show_to(flow, contact.account, source_key=f"k{n}")
        InAppMessageFactory.create(frequency=Frequency.UNTIL_DISMISSED)
    keys(write_key)  # warms the caches of live messages and write keys

    # contact, account, memberships, assignments, states, event counts (rollups + tail)
    with django_assert_num_queries(7):
        keys(write_key)


def test_the_live_cache_sees_a_change_after_it_is_cleared(write_key, contact) -> None:
    message = InAppMessageFactory.create(key="hello")
    assert keys(write_key) == ["hello"]

    message.status = InAppStatus.PAUSED
    message.save()
    inapp.forget_cached_messages()

    assert keys(write_key) == []
