"""The MIME message of an email: Japanese encoding that survives a round trip, tracked links,
the open pixel, the legal footer and the headers."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser

import pytest

from kizuna.engagement import compose, tracking_links
from kizuna.engagement.models import EmailMessage, SenderIdentity
from kizuna.engagement.rendering import Rendered

pytestmark = pytest.mark.usefixtures("public_url")

LONG_SUBJECT = (
    "【重要】株式会社みどり商事 佐藤 美咲 様：空色レポート ビジネスプランのご契約更新について"
    "のご案内と、新しいダッシュボード機能の活用ガイドのお知らせ"
)


@pytest.fixture
def public_url(settings):
    settings.ENGAGEMENT_PUBLIC_URL = "https://kizuna.example.jp/"


def message(*, transactional: bool = False, language: str = "ja") -> EmailMessage:
    sender = SenderIdentity(
        name="cs",
        from_name="空色レポート カスタマーサクセス",
        from_email="cs@sorairo.example.jp",
        reply_to="help@sorairo.example.jp",
        organisation="株式会社空色",
        postal_address="〒100-0001 東京都千代田区千代田1-1",
        inquiries="support@sorairo.example.jp",
    )
    return EmailMessage(
        token="tok_123-abc",
        to_email="misaki@midori.example.jp",
        sender=sender,
        language=language,
        transactional=transactional,
    )


def rendered(html: str = "<p>本文</p>", text: str = "本文", subject: str = "件名") -> Rendered:
    return Rendered(subject=subject, html=html, text=text, missing=())


def parsed(mime: MimeMessage) -> MimeMessage:
    result = BytesParser(policy=email.policy.default).parsebytes(mime.as_bytes())
    assert isinstance(result, MimeMessage)
    return result


def bodies(mime: MimeMessage) -> tuple[str, str]:
    text = mime.get_body(("plain",))
    html = mime.get_body(("html",))
    assert text is not None and html is not None
    # Text parts travel in canonical form (CRLF line ends).
    return (
        text.get_content().replace("\r\n", "\n"),
        html.get_content().replace("\r\n", "\n"),
    )


def test_japanese_subject_from_name_and_bodies_survive_a_round_trip() -> None:
    html = "<html><body><p>佐藤 美咲 様</p><p>いつもご利用ありがとうございます。</p></body></html>"
    mime, _links = compose.build_email(
        message(), rendered(html, "佐藤 美咲 様\nご利用ありがとうございます。", LONG_SUBJECT)
    )
    raw = mime.as_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert raw.isascii()
    back = parsed(mime)
    assert back["Subject"] == LONG_SUBJECT
    assert back["From"].addresses[0].display_name == "空色レポート カスタマーサクセス"
    assert back["From"].addresses[0].addr_spec == "cs@sorairo.example.jp"
    text, html_back = bodies(back)
    assert text.startswith("佐藤 美咲 様\nご利用ありがとうございます。")
    assert "<p>いつもご利用ありがとうございます。</p>" in html_back


def test_long_subject_is_folded() -> None:
    mime, _links = compose.build_email(message(), rendered(subject=LONG_SUBJECT))
    header = mime.as_bytes().split(b"\r\n\r\n")[0].decode()
    start = header.index("Subject:")
    lines = header[start:].split("\r\n")
    subject_lines = [lines[0], *[line for line in lines[1:] if line.startswith(" ")]]
    assert len(subject_lines) > 1
    assert all(len(line) <= 78 for line in subject_lines)


def test_html_links_are_tracked_but_not_mailto_or_preference_links() -> None:
    unsubscribe = tracking_links.unsubscribe_url("tok_123-abc")
    html = (
        '<p><a href="https://example.jp/guide?a=1&amp;b=2">ガイド <b>を見る</b></a>'
        '<a href="mailto:cs@example.jp">メール</a>'
        f'<a href="{unsubscribe}">配信停止</a>'
        "<a href='http://example.jp/video'>動画</a></p>"
    )
    mime, links = compose.build_email(message(), rendered(html))
    assert links == [
        {"url": "https://example.jp/guide?a=1&b=2", "text": "ガイド を見る"},
        {"url": "http://example.jp/video", "text": "動画"},
    ]
    _text, html_back = bodies(parsed(mime))
    assert f'href="{tracking_links.click_url("tok_123-abc", 0)}"' in html_back
    assert f'href="{tracking_links.click_url("tok_123-abc", 1)}"' in html_back
    assert 'href="mailto:cs@example.jp"' in html_back
    assert "https://example.jp/guide" not in html_back


def test_text_urls_of_html_links_are_tracked_and_others_left() -> None:
    html = '<a href="https://example.jp/guide">ガイド</a>'
    text = "ガイド: https://example.jp/guide。\nその他: https://example.jp/other"
    mime, _links = compose.build_email(message(), rendered(html, text))
    text_back, _html = bodies(parsed(mime))
    assert f"ガイド: {tracking_links.click_url('tok_123-abc', 0)}。" in text_back
    assert "その他: https://example.jp/other" in text_back


def test_open_pixel_and_footer_come_before_the_body_end() -> None:
    html = "<html><body><p>本文</p></body></html>"
    mime, _links = compose.build_email(message(), rendered(html))
    _text, html_back = bodies(parsed(mime))
    pixel = html_back.index(tracking_links.open_url("tok_123-abc"))
    footer = html_back.index("送信者: 株式会社空色")
    assert footer < pixel < html_back.index("</body>")


def test_marketing_footer_identifies_the_sender_and_how_to_unsubscribe() -> None:
    mime, _links = compose.build_email(message(), rendered())
    text, html = bodies(parsed(mime))
    unsubscribe = tracking_links.unsubscribe_url("tok_123-abc")
    for part in (text, html):
        assert "送信者: 株式会社空色" in part
        assert "住所: 〒100-0001 東京都千代田区千代田1-1" in part
        assert "お問い合わせ先: support@sorairo.example.jp" in part
        assert "配信停止・配信設定の変更" in part
        assert unsubscribe in part


def test_footer_is_in_the_message_language() -> None:
    mime, _links = compose.build_email(message(language="en"), rendered())
    text, _html = bodies(parsed(mime))
    assert "Sent by: 株式会社空色" in text
    assert "Unsubscribe or change your email preferences: https://kizuna.example.jp/e/u/" in text


def test_transactional_footer_has_no_unsubscribe_link() -> None:
    mime, _links = compose.build_email(message(transactional=True), rendered())
    text, html = bodies(parsed(mime))
    assert "送信者: 株式会社空色" in text
    assert "/e/u/" not in text and "/e/u/" not in html


def test_marketing_headers() -> None:
    back = parsed(compose.build_email(message(), rendered())[0])
    assert back["To"] == "misaki@midori.example.jp"
    assert back["Reply-To"] == "help@sorairo.example.jp"
    assert back["Message-ID"] == "<tok_123-abc@sorairo.example.jp>"
    assert back["X-Kizuna-Message"] == "tok_123-abc"
    assert back["Date"]
    assert back["List-Unsubscribe"] == f"<{tracking_links.unsubscribe_url('tok_123-abc')}>"
    assert back["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert back.get_content_type() == "multipart/alternative"


def test_transactional_headers_have_no_list_unsubscribe() -> None:
    back = parsed(compose.build_email(message(transactional=True), rendered())[0])
    assert back["List-Unsubscribe"] is None
    assert back["List-Unsubscribe-Post"] is None
