"""The account list leads to the condition builder's "Find accounts" page."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse


def test_the_account_list_links_to_find_accounts(csm_client: Client) -> None:
    response = csm_client.get(reverse("customers:accounts"))

    assert reverse("core:conditions_explore") in response.content.decode()
