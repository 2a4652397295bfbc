"""A manager sees which content type each segment and tier clicks (seed 000: video or
webinar invitation?)."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import queries
from kizuna.engagement.tests.factories import EmailTemplateFactory, sent_email
from kizuna.segments import services as segments
from kizuna.segments.choices import SegmentKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Tech-touch accounts click videos; high-touch ones webinar invitations."""
    video = EmailTemplateFactory.create(content_type="video")
    webinar = EmailTemplateFactory.create(content_type="webinar")
    small = [ContactFactory.create(account=AccountFactory.create(tier="tech")) for _ in range(25)]
    big = [ContactFactory.create(account=AccountFactory.create(tier="high")) for _ in range(25)]
    for n, contact in enumerate(small):
        sent_email(contact, template=video, clicked=n < 10)
        sent_email(contact, template=webinar, clicked=n < 2)
    for n, contact in enumerate(big):
        sent_email(contact, template=video, clicked=n < 3)
        sent_email(contact, template=webinar, clicked=n < 12)
    vip = segments.create_segment(None, name="VIP", kind=SegmentKind.STATIC)
    segments.add_members(None, vip, [contact.account_id for contact in big])
    return vip


def test_each_tier_prefers_what_it_clicks(history) -> None:
    rows = {row.key: row for row in queries.preferences(90).email}
    assert rows["tier:tech"].preferred == "video"
    assert rows["tier:high"].preferred == "webinar"
    assert rows["tier:tech"].cells["video"].rate == pytest.approx(40.0)


def test_segments_are_broken_down_by_their_current_members(history) -> None:
    rows = {row.key: row for row in queries.preferences(90).email}
    vip = rows[f"segment:{history.pk}"]
    assert vip.label == "VIP"
    assert vip.cells["webinar"].responded == 12
    assert vip.cells["webinar"].reached == 25


def test_too_few_deliveries_name_no_preference() -> None:
    contact = ContactFactory.create()
    sent_email(contact, template=EmailTemplateFactory.create(content_type="video"), clicked=True)
    sent_email(contact, template=EmailTemplateFactory.create(content_type="article"))
    (row,) = [row for row in queries.preferences(90).email if row.key == "all"]
    assert row.preferred is None


def test_the_page_shows_the_preference(csm_client, history) -> None:
    response = csm_client.get("/tech-touch/content/")
    assert response.status_code == 200
    assert "email-preferences" in response.text
    assert response.context["prefs"].email.rows[0].key == "all"


def test_accounts_in_no_segment_make_no_row_of_their_own() -> None:
    contact = ContactFactory.create(account=AccountFactory.create(tier="tech"))
    sent_email(contact, template=EmailTemplateFactory.create(content_type="video"))
    keys = [row.key for row in queries.preferences(90).email]
    assert keys == ["all", "tier:tech"]
