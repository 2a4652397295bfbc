import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import campaigns
from kizuna.engagement.choices import CategoryKind, SuppressionReason
from kizuna.engagement.models import Preference, Suppression
from kizuna.engagement.tests.factories import CategoryFactory
from kizuna.engagement.tests.factories_campaigns import segment_with_contacts

pytestmark = pytest.mark.django_db


def test_audience_counts_accounts_contacts_and_reachable():
    segment, _contacts = segment_with_contacts(accounts=3, contacts_per_account=2)

    result = campaigns.audience(segment)

    assert (result.accounts, result.contacts, result.reachable) == (3, 6, 6)


def test_contacts_outside_the_segment_are_not_in_the_audience():
    segment, _ = segment_with_contacts(accounts=1, contacts_per_account=2)
    ContactFactory.create()

    assert campaigns.audience(segment).contacts == 2


def test_unreachable_contacts_are_counted_by_reason():
    category = CategoryFactory.create()
    segment, contacts = segment_with_contacts(accounts=2, contacts_per_account=3)
    contacts[0].email = ""
    contacts[0].save()
    Suppression.objects.create(
        email=contacts[1].email.lower(), reason=SuppressionReason.HARD_BOUNCE
    )
    Preference.objects.create(contact=contacts[2], category=category, subscribed=False)

    result = campaigns.audience(segment, category)

    assert (result.contacts, result.no_email, result.suppressed, result.unsubscribed) == (
        6,
        1,
        1,
        1,
    )
    assert result.reachable == 3


def test_suppression_matches_addresses_whatever_their_case():
    segment, contacts = segment_with_contacts(accounts=1, contacts_per_account=1)
    contacts[0].email = "Taro.Yamada@Example.JP"
    contacts[0].save()
    Suppression.objects.create(email="taro.yamada@example.jp", reason=SuppressionReason.MANUAL)

    assert campaigns.audience(segment).reachable == 0


def test_transactional_mail_reaches_unsubscribed_contacts():
    category = CategoryFactory.create(kind=CategoryKind.TRANSACTIONAL)
    segment, contacts = segment_with_contacts(accounts=1, contacts_per_account=2)
    Suppression.objects.create(email=contacts[0].email, reason=SuppressionReason.UNSUBSCRIBED)
    Preference.objects.create(contact=contacts[1], category=category, subscribed=False)

    assert campaigns.audience(segment, category).reachable == 2


def test_audience_is_a_fixed_number_of_queries(django_assert_num_queries):
    category = CategoryFactory.create()
    segment, _ = segment_with_contacts(accounts=5, contacts_per_account=3)

    with django_assert_num_queries(2):
        campaigns.audience(segment, category)
