"""The bytes the worker sends (`build_email_bytes`) are the message `build_email` describes:
parsed back, the same headers, subject, From name, recipient and bodies."""

from __future__ import annotations

import email.header
import email.policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesParser
from typing import Any

import pytest

from kizuna.engagement import compose
from kizuna.engagement.tests.test_compose import LONG_SUBJECT, message, rendered

pytestmark = pytest.mark.usefixtures("public_url")

HTML_JA = "<html><body><p>佐藤 美咲 様</p><p>いつもご利用ありがとうございます。</p></body></html>"
TEXT_JA = "佐藤 美咲 様\nご利用ありがとうございます。\nガイド: https://example.jp/guide"
HTML_EN = (
    "<html><body><p>Dear Misaki,</p>"
    '<p>Your plan renews soon. <a href="https://example.jp/guide">Read the guide</a>, '
    "and tell us what you think of the new dashboards and reports.</p></body></html>"
)
TEXT_EN = "Dear Misaki,\nYour plan renews soon.\nGuide: https://example.jp/guide\n"


@pytest.fixture
def public_url(settings):
    settings.ENGAGEMENT_PUBLIC_URL = "https://kizuna.example.jp/"


def parse(raw: bytes) -> MimeMessage:
    result = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(result, MimeMessage)
    return result


def what_recipients_get(raw: bytes) -> dict[str, Any]:
    back = parse(raw)
    text = back.get_body(("plain",))
    html = back.get_body(("html",))
    assert text is not None and html is not None
    return {
        # Date is the time of writing; the multipart boundary is random.
        "headers": {k: str(v) for k, v in back.items() if k not in ("Date", "Content-Type")},
        "from": [(a.display_name, a.addr_spec) for a in back["From"].addresses],
        "to": [a.addr_spec for a in back["To"].addresses],
        "content_type": back.get_content_type(),
        "text": text.get_content(),
        "html": html.get_content(),
        "defects": [repr(defect) for part in back.walk() for defect in part.defects],
    }


@pytest.mark.parametrize(
    ("kwargs", "content"),
    [
        pytest.param({}, (HTML_JA, TEXT_JA, LONG_SUBJECT), id="long-japanese-subject"),
        pytest.param(
            {"transactional": True},
            (HTML_JA, TEXT_JA, "株式会社みどり商事 様 — 月次レポート"),
            id="japanese-transactional",
        ),
        pytest.param(
            {"language": "en"},
            (
                HTML_EN,
                TEXT_EN,
                "Midori Trading: your Business plan renews on 1 December, and what is new "
                "in the dashboards",
            ),
            id="english",
        ),
    ],
)
def test_fast_bytes_parse_to_the_same_message(kwargs: dict[str, Any], content: tuple) -> None:
    html, text, subject = content
    old, old_links = compose.build_email(message(**kwargs), rendered(html, text, subject))
    new, new_links = compose.build_email_bytes(message(**kwargs), rendered(html, text, subject))

    expected = what_recipients_get(old.as_bytes())
    got = what_recipients_get(new)
    assert got == expected
    assert got["headers"]["Subject"] == subject
    assert got["from"] == [("空色レポート カスタマーサクセス", "cs@sorairo.example.jp")]
    assert got["defects"] == []
    assert new_links == old_links


def test_fast_bytes_are_ascii_with_crlf_lines_and_a_folded_subject() -> None:
    raw, _links = compose.build_email_bytes(message(), rendered(HTML_JA, TEXT_JA, LONG_SUBJECT))
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    header = raw.split(b"\r\n\r\n")[0].decode()
    lines = header[header.index("Subject:") :].split("\r\n")
    subject_lines = [lines[0]]
    for line in lines[1:]:
        if not line.startswith(" "):
            break
        subject_lines.append(line)
    assert len(subject_lines) > 1
    assert all(len(line) <= 78 for line in subject_lines)
    # Each line is one encoded word of whole characters, so each decodes on its own.
    for line in subject_lines:
        word = line.removeprefix("Subject:").strip()
        assert word.startswith("=?utf-8?b?") and word.endswith("?=")
        assert len(word) <= 75
        assert str(email.header.make_header(email.header.decode_header(word)))


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param("Acme: " + "x" * 90, id="ascii-word-longer-than-a-line"),
        pytest.param("Tab\there and  double  spaces", id="odd-whitespace"),
    ],
)
def test_unusual_subjects_decode_as_with_the_email_package(subject: str) -> None:
    old, _links = compose.build_email(message(), rendered(subject=subject))
    new, _links = compose.build_email_bytes(message(), rendered(subject=subject))
    assert parse(new)["Subject"] == parse(old.as_bytes())["Subject"]


def test_text_that_looks_like_an_encoded_word_stays_as_written() -> None:
    subject = "Invoice =?utf-8?q?x?= attached"
    raw, _links = compose.build_email_bytes(message(), rendered(subject=subject))
    assert parse(raw)["Subject"] == subject


def transfer_encodings(raw: bytes) -> list[str]:
    return [str(part["Content-Transfer-Encoding"]) for part in parse(raw).iter_parts()]


@pytest.mark.parametrize(
    ("organisation", "text", "encodings"),
    [
        pytest.param("Sorairo Inc.", "Hello", ["7bit", "quoted-printable"], id="ascii-short"),
        pytest.param(
            "Sorairo Inc.", "Hello " * 30, ["quoted-printable"] * 2, id="ascii-long-lines"
        ),
        # The email package would write short-lined UTF-8 as raw 8bit, which needs the
        # server's 8BITMIME; the fast path keeps every message 7-bit clean.
        pytest.param("株式会社空色", TEXT_JA, ["base64", "quoted-printable"], id="japanese"),
    ],
)
def test_transfer_encodings_keep_ascii_readable_and_everything_7bit(
    organisation: str, text: str, encodings: list[str]
) -> None:
    # Transactional: no unsubscribe URL, so a short ASCII text has only short lines.
    msg = message(language="en", transactional=True)
    msg.sender.organisation = organisation
    msg.sender.postal_address = "1-1 Chiyoda, Tokyo"
    old, _links = compose.build_email(msg, rendered("<p>Hello</p>", text, "Hello"))
    new, _links = compose.build_email_bytes(msg, rendered("<p>Hello</p>", text, "Hello"))
    assert new.isascii()
    assert transfer_encodings(new) == encodings
    assert what_recipients_get(new) == what_recipients_get(old.as_bytes())
