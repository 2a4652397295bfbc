"""Dry run, simulation and results on the flow page (read-only: every role may use them)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory
from kizuna.flows.tests.factories import cta_step, make_flow

pytestmark = pytest.mark.django_db

LOGIN = {"type": "event", "event": "$login", "occurrence": 1}


def test_a_dry_run_says_what_each_step_would_do(viewer_client: Client) -> None:
    account = AccountFactory.create(name="株式会社ミドリ精機")
    flow = make_flow(LOGIN, [cta_step("call", reason="Offer a tutorial")], live=False)
    response = viewer_client.get(reverse("flows:dry_run", args=[flow.pk]), {"account": account.pk})
    page = response.content.decode()
    assert "株式会社ミドリ精機" in page
    assert "Would create a onboarding CTA “Offer a tutorial”" in page


def test_a_dry_run_without_an_account_asks_for_one(viewer_client: Client) -> None:
    flow = make_flow(LOGIN, [cta_step()], live=False)
    page = viewer_client.get(reverse("flows:dry_run", args=[flow.pk]), {"account": "x"})
    assert "Choose an account" in page.content.decode()


def test_the_account_search_filters_the_dry_run_choices(viewer_client: Client) -> None:
    AccountFactory.create(name="株式会社ミドリ精機")
    AccountFactory.create(name="株式会社オオキ商事")
    flow = make_flow(LOGIN, [cta_step()], live=False)
    page = viewer_client.get(reverse("flows:account_options", args=[flow.pk]), {"q": "ミドリ"})
    assert page.content.decode().count("<option") == 1


def test_a_simulation_reports_entrants_steps_and_ctas(viewer_client: Client) -> None:
    flow = make_flow(LOGIN, [cta_step("call")], live=False)
    response = viewer_client.get(reverse("flows:simulate", args=[flow.pk]), {"days": "30"})
    assert 'id="simulation-ctas"' in response.content.decode()


def test_a_simulation_refuses_a_bad_number_of_days(viewer_client: Client) -> None:
    flow = make_flow(LOGIN, [cta_step("call")], live=False)
    response = viewer_client.get(reverse("flows:simulate", args=[flow.pk]), {"days": "9999"})
    assert "between 1 and 365" in response.content.decode()


def test_the_results_show_the_funnel_and_the_outcomes(viewer_client: Client) -> None:
    flow = make_flow(LOGIN, [cta_step("call")], live=True)
    page = viewer_client.get(reverse("flows:results", args=[flow.pk])).content.decode()
    assert 'id="results-entered"' in page
    assert "Churned within 90 days" in page
