"""The account list exports exactly what it shows."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _export(client: Client, **params: str) -> list[list[str]]:
    response = client.get(reverse("customers:accounts_export"), params)
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_follows_the_current_filters(csm_client: Client) -> None:
    AccountFactory.create(name="株式会社サクラ物流", name_kana="サクラブツリュウ")
    AccountFactory.create(name="ミドリ精機株式会社", name_kana="ミドリセイキ")
    rows = _export(csm_client, q="さくら")
    assert rows[0][:3] == ["id", "external_id", "name"]
    assert [row[2] for row in rows[1:]] == ["株式会社サクラ物流"]


def test_viewers_may_export(viewer_client: Client) -> None:
    AccountFactory.create()
    assert len(_export(viewer_client)) == 2
