"""The account list's "Export Excel" link exports, as a workbook, the accounts the list
shows with its current filters."""

from __future__ import annotations

import html
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from kizuna.core.models import User
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

FILTERS = {"owner": "me", "stage": LifecycleStage.ADOPTION, "page": "1"}


@pytest.fixture
def portfolio(csm: User) -> None:
    AccountFactory.create(name="株式会社サクラ物流", owner=csm, stage=LifecycleStage.ADOPTION)
    AccountFactory.create(name="株式会社ミドリ商事", owner=csm, stage=LifecycleStage.ONBOARDING)
    AccountFactory.create(
        name="株式会社アオイ電機", owner=UserFactory.create(), stage=LifecycleStage.ADOPTION
    )


def _excel_link(client: Client) -> str:
    page = client.get(reverse("customers:accounts"), FILTERS).content.decode()
    match = re.search(r'id="export-xlsx-link" href="([^"]+)"', page)
    assert match is not None
    return html.unescape(match.group(1))


def test_the_excel_link_keeps_the_list_filters(csm_client: Client, portfolio) -> None:
    link = urlsplit(_excel_link(csm_client))
    assert link.path == reverse("integrations:export_xlsx", args=["accounts"])
    assert parse_qs(link.query) == {"owner": ["me"], "stage": ["adoption"]}


def test_the_excel_link_downloads_the_filtered_accounts(csm_client: Client, portfolio) -> None:
    response = csm_client.get(_excel_link(csm_client))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.values)
    assert rows[0][:2] == ("external_id", "name")
    assert [row[1] for row in rows[1:]] == ["株式会社サクラ物流"]
