"""Custom field definitions are validated; account values are validated against them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kizuna.customers import services
from kizuna.customers.models import Account, CustomFieldDefinition
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def definitions() -> list[CustomFieldDefinition]:
    return [
        CustomFieldDefinition.objects.create(
            key="channel",
            label_ja="販売チャネル",
            label_en="Sales channel",
            field_type="choice",
            choices=["直販", "代理店"],
            required=True,
            filterable=True,
        ),
        CustomFieldDefinition.objects.create(
            key="seats_planned", label_ja="予定席数", label_en="Planned seats", field_type="number"
        ),
        CustomFieldDefinition.objects.create(
            key="kickoff", label_ja="キックオフ日", label_en="Kick-off", field_type="date"
        ),
    ]


def test_values_are_stored_in_their_json_form(definitions) -> None:
    cleaned = services.clean_custom_attributes(
        {"channel": "直販", "seats_planned": "120", "kickoff": "2026-04-01"}, definitions
    )
    assert cleaned == {"channel": "直販", "seats_planned": 120, "kickoff": "2026-04-01"}


def test_each_bad_value_is_named(definitions) -> None:
    with pytest.raises(ValidationError) as error:
        services.clean_custom_attributes(
            {"channel": "通販", "seats_planned": "many", "kickoff": "April", "nope": 1},
            definitions,
        )
    assert set(error.value.message_dict) == {"channel", "seats_planned", "kickoff", "nope"}


def test_required_field_must_be_given(definitions) -> None:
    with pytest.raises(ValidationError) as error:
        services.clean_custom_attributes({}, definitions)
    assert "channel" in error.value.message_dict


def test_choice_field_without_choices_is_refused() -> None:
    definition = CustomFieldDefinition(
        key="tier_code", label_ja="区分", label_en="Code", field_type="choice", choices=[]
    )
    with pytest.raises(ValidationError, match="at least one choice"):
        definition.full_clean()


def test_bad_key_is_refused() -> None:
    definition = CustomFieldDefinition(key="Bad Key", label_ja="x", label_en="x")
    with pytest.raises(ValidationError):
        definition.full_clean()


def test_account_form_rejects_bad_custom_value_and_saves_nothing(
    csm_client: Client,
    definitions,
) -> None:
    response = csm_client.post(
        reverse("customers:account_new"),
        {"name": "株式会社ヒカリ", "industry": "other", "stage": "onboarding", "cf_channel": ""},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Account.objects.exists()


def test_account_form_saves_custom_values(csm_client: Client, definitions) -> None:
    csm_client.post(
        reverse("customers:account_new"),
        {
            "name": "株式会社ヒカリ",
            "industry": "other",
            "stage": "onboarding",
            "cf_channel": "代理店",
            "cf_seats_planned": "40",
        },
    )
    account = Account.objects.get()
    assert account.custom_attributes == {"channel": "代理店", "seats_planned": 40}


def test_account_list_filters_on_a_custom_field(csm_client: Client, definitions) -> None:
    AccountFactory.create(name="直販の会社", custom_attributes={"channel": "直販"})
    AccountFactory.create(name="代理店の会社", custom_attributes={"channel": "代理店"})
    response = csm_client.get(reverse("customers:accounts"), {"cf_channel": "代理店"})
    assert [a.name for a in response.context["page"].object_list] == ["代理店の会社"]


def test_deleting_a_definition_removes_its_values(manager_client: Client, definitions) -> None:
    account = AccountFactory.create(custom_attributes={"channel": "直販", "seats_planned": 3})
    channel = definitions[0]
    manager_client.post(reverse("customers:custom_field_delete", args=[channel.pk]))
    account.refresh_from_db()
    assert account.custom_attributes == {"seats_planned": 3}
    assert not CustomFieldDefinition.objects.filter(key="channel").exists()


def test_definition_form_takes_choices_one_per_line(manager_client: Client) -> None:
    manager_client.post(
        reverse("customers:custom_field_new"),
        {
            "key": "partner",
            "label_ja": "パートナー",
            "label_en": "Partner",
            "field_type": "choice",
            "choices": "A社\n B社 \n\n",
            "position": "0",
        },
    )
    assert CustomFieldDefinition.objects.get(key="partner").choices == ["A社", "B社"]
