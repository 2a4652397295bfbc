"""Japanese-aware partial search over account names, kana readings and domains."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.search import normalize
from kizuna.customers.tests.factories import AccountFactory


def test_normalize_folds_katakana_width_and_case() -> None:
    assert normalize("サクラ") == normalize("さくら") == normalize("ｻｸﾗ")
    assert normalize("ＡＢＣ Ｄata") == "abcdata"


def _names(client: Client, query: str) -> list[str]:
    response = client.get(reverse("customers:accounts"), {"q": query})
    return [account.name for account in response.context["page"].object_list]


@pytest.fixture
def portfolio(db) -> None:
    AccountFactory.create(
        name="株式会社サクラ物流", name_kana="サクラブツリュウ", domain="sakura-logi.co.jp"
    )
    AccountFactory.create(
        name="ミドリ精機株式会社", name_kana="ミドリセイキ", domain="midori.co.jp"
    )
    AccountFactory.create(
        name="東京データシステムズ株式会社", name_kana="トウキョウデータシステムズ"
    )


def test_partial_kanji_name_matches(csm_client: Client, portfolio: None) -> None:
    assert _names(csm_client, "物流") == ["株式会社サクラ物流"]


def test_hiragana_matches_the_katakana_reading(csm_client: Client, portfolio: None) -> None:
    assert _names(csm_client, "せいき") == ["ミドリ精機株式会社"]


def test_half_width_katakana_matches(csm_client: Client, portfolio: None) -> None:
    assert _names(csm_client, "ｻｸﾗ") == ["株式会社サクラ物流"]


def test_kanji_reading_matches_through_kana(csm_client: Client, portfolio: None) -> None:
    assert _names(csm_client, "とうきょう") == ["東京データシステムズ株式会社"]


def test_domain_matches(csm_client: Client, portfolio: None) -> None:
    assert _names(csm_client, "midori") == ["ミドリ精機株式会社"]


def test_no_match_shows_the_empty_state(csm_client: Client, portfolio: None) -> None:
    response = csm_client.get(reverse("customers:accounts"), {"q": "存在しない会社"})
    assert "No accounts match" in response.content.decode()


def test_search_does_not_match_across_fields(csm_client: Client, portfolio: None) -> None:
    # The end of the name and the start of the kana must not form a match together.
    assert _names(csm_client, "物流さくら") == []


@pytest.mark.parametrize("sparse_limit", [0, 10_000])
def test_both_search_plans_return_the_same_sorted_page(
    csm_client: Client, monkeypatch: pytest.MonkeyPatch, sparse_limit: int
) -> None:
    from kizuna.customers import queries

    monkeypatch.setattr(queries, "SPARSE_MATCHES", sparse_limit)
    for index in range(60):
        AccountFactory.create(name=f"株式会社サクラ{index:02d}", name_kana=f"サクラ{index:02d}")
    AccountFactory.create(name="ミドリ精機株式会社", name_kana="ミドリセイキ")
    response = csm_client.get(reverse("customers:accounts"), {"q": "さくら", "sort": "name"})
    page = response.context["page"]
    assert page.paginator.count == 60
    assert [a.name for a in page.object_list] == [f"株式会社サクラ{i:02d}" for i in range(50)]
