"""Tracking URLs are absolute, signed, and only their own signature verifies."""

from __future__ import annotations

import pytest

from kizuna.engagement import tracking_links


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.ENGAGEMENT_PUBLIC_URL = "https://kizuna.example.jp"


def test_urls_have_the_documented_paths() -> None:
    assert tracking_links.open_url("abc").startswith("https://kizuna.example.jp/e/o/abc/")
    assert tracking_links.open_url("abc").endswith(".gif")
    assert tracking_links.click_url("abc", 2).startswith("https://kizuna.example.jp/e/c/abc/2/")
    assert tracking_links.unsubscribe_url("abc").startswith("https://kizuna.example.jp/e/u/abc/")


def test_signatures_verify() -> None:
    signature = tracking_links.click_url("abc", 2).rsplit("/", 1)[1]
    assert tracking_links.verify("click", "abc", "2", signature=signature)


def test_a_signature_does_not_verify_other_parts_or_kinds() -> None:
    signature = tracking_links.click_url("abc", 2).rsplit("/", 1)[1]
    assert not tracking_links.verify("click", "abc", "3", signature=signature)
    assert not tracking_links.verify("click", "abd", "2", signature=signature)
    assert not tracking_links.verify("unsubscribe", "abc", signature=signature)
    assert not tracking_links.verify("click", "abc", "2", signature="x" * 16)


def test_signatures_depend_on_the_secret_key(settings) -> None:
    signature = tracking_links.sign("open", "abc")
    settings.SECRET_KEY = "another secret key that is long enough"
    assert not tracking_links.verify("open", "abc", signature=signature)
