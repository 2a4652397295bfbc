"""Turning a rendered email into the MIME message that goes to the mail server.

`build_email` adds what every sent email needs on top of the template's content: click
tracking (each http/https link of the HTML goes through a signed redirect, and the same URL
in the plain text too), the open pixel, the footer Japan's Act on Specified Electronic Mail
(特定電子メール法) requires — the sender's name, postal address, a contact for inquiries and,
for marketing mail, how to stop receiving it — and the headers (List-Unsubscribe with one-click
for marketing mail, a Message-ID in the sender's domain, X-Kizuna-Message with the token).

The worker sends `build_email_bytes`: the same message written straight to bytes (a few
string joins and C-level base64/quoted-printable instead of the email package's header
objects, folding and generator, which cost milliseconds a message). Headers that are not
plain ASCII of the usual shape (an unusual address, a subject with control characters) are
still written by the email package, so both paths give recipients the same message.
`build_email` keeps the `email.message.EmailMessage` for callers that want the object.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import email.utils
import functools
import random
import re
import sys
from email.message import EmailMessage as MimeMessage
from html import escape, unescape
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from kizuna.engagement import tracking_links

if TYPE_CHECKING:
    from kizuna.engagement.models import EmailMessage
    from kizuna.engagement.rendering import Rendered

_ANCHOR = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\bhref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_ANCHOR_END = re.compile(r"</a\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_TEXT_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_TRAILING = ".,;:!?)]'"
LINK_TEXT_LENGTH = 200
# Headers set with set_raw are written as they are; the others are folded by the policy.
_POLICY = email.policy.SMTP.clone(refold_source="none")
MAX_LINE = 78  # RFC 5322's recommended line length, the policy's folding width
_CRLF = b"\r\n"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_SIMPLE_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_SIMPLE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
# Printable ASCII words separated by single spaces: foldable at those spaces as it is.
_PLAIN_SUBJECT = re.compile(r"[!-~]+(?: [!-~]+)*\Z")
_ENCODED_WORD = b"=?utf-8?b?"
# UTF-8 bytes per encoded word so that the line stays within MAX_LINE: 42 on the
# "Subject: " line, 45 on a continuation line (" " + a 73-character encoded word, under
# RFC 2047's 75).
_FIRST_WORD_BYTES = (MAX_LINE - len("Subject: ") - len(_ENCODED_WORD) - 2) // 4 * 3
_NEXT_WORD_BYTES = (75 - len(_ENCODED_WORD) - 2) // 4 * 3

# The footer is in the message's language (the contact's), whatever the language of the
# person or worker building it, and its wording is a legal requirement: it is kept here
# rather than in the UI's translation catalogues.
FOOTER = {
    "ja": {
        "organisation": "送信者",
        "address": "住所",
        "inquiries": "お問い合わせ先",
        "unsubscribe": "配信停止・配信設定の変更",
    },
    "en": {
        "organisation": "Sent by",
        "address": "Address",
        "inquiries": "Inquiries",
        "unsubscribe": "Unsubscribe or change your email preferences",
    },
}


def _link_text(html: str, start: int) -> str:
    end = _ANCHOR_END.search(html, start)
    inner = html[start : end.start()] if end else ""
    return " ".join(unescape(_TAGS.sub(" ", inner)).split())[:LINK_TEXT_LENGTH]


def track_html_links(html: str, token: str) -> tuple[str, list[dict[str, str]]]:
    """The HTML with every http/https link replaced by its tracked URL, and the links in
    order (a link's index is its position). mailto: and Kizuna's own links stay as they are."""
    own = str(settings.ENGAGEMENT_PUBLIC_URL).rstrip("/") + "/e/"
    links: list[dict[str, str]] = []
    out: list[str] = []
    position = 0
    for anchor in _ANCHOR.finditer(html):
        tag = anchor.group(0)
        href = _HREF.search(tag)
        if href is None:
            continue
        raw = next(group for group in href.groups()[1:] if group is not None)
        url = unescape(raw).strip()
        lowered = url.lower()
        if not lowered.startswith(("http://", "https://")) or url.startswith(own):
            continue
        index = len(links)
        links.append({"url": url, "text": _link_text(html, anchor.end())})
        tracked = tracking_links.click_url(token, index)
        new_tag = f'{tag[: href.start()]}{href.group(1)}"{tracked}"{tag[href.end() :]}'
        out.append(html[position : anchor.start()])
        out.append(new_tag)
        position = anchor.end()
    out.append(html[position:])
    return "".join(out), links


def track_text_links(text: str, links: list[dict[str, str]], token: str) -> str:
    """Plain URLs in the text that are also links of the HTML get that link's tracked URL
    (the first link with this target); other URLs stay as they are."""
    first: dict[str, int] = {}
    for index, link in enumerate(links):
        first.setdefault(link["url"], index)
    if not first:
        return text

    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url not in first and url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        if url in first:
            return tracking_links.click_url(token, first[url]) + tail
        return match.group(0)

    return _TEXT_URL.sub(replace, text)


def _insert_before_body_end(html: str, addition: str) -> str:
    ends = list(_BODY_END.finditer(html))
    if not ends:
        return html + addition
    at = ends[-1].start()
    return html[:at] + addition + html[at:]


def footer_html(message: EmailMessage, language: str, *, unsubscribe: str | None = None) -> str:
    """The legal footer in HTML (`unsubscribe`: the message's unsubscribe URL if known)."""
    words = FOOTER.get(language, FOOTER["ja"])
    sender = message.sender
    rows = [
        f"{words['organisation']}: {escape(sender.organisation)}",
        f"{words['address']}: {escape(sender.postal_address)}",
        f"{words['inquiries']}: {escape(sender.inquiries)}",
    ]
    if not message.transactional:
        url = unsubscribe or tracking_links.unsubscribe_url(message.token)
        rows.append(f'<a href="{url}" style="color:#666666">{words["unsubscribe"]}</a>')
    paragraphs = "".join(f'<p style="margin:0">{row}</p>' for row in rows)
    return (
        '<div class="kizuna-footer" style="margin-top:32px;padding-top:12px;'
        'border-top:1px solid #dddddd;color:#666666;font-size:12px;line-height:1.6">'
        f"{paragraphs}</div>"
    )


def footer_text(message: EmailMessage, language: str, *, unsubscribe: str | None = None) -> str:
    """The legal footer in plain text (`unsubscribe`: the message's unsubscribe URL if known)."""
    words = FOOTER.get(language, FOOTER["ja"])
    sender = message.sender
    lines = [
        "",
        "",
        "-- ",
        f"{words['organisation']}: {sender.organisation}",
        f"{words['address']}: {sender.postal_address}",
        f"{words['inquiries']}: {sender.inquiries}",
    ]
    if not message.transactional:
        url = unsubscribe or tracking_links.unsubscribe_url(message.token)
        lines.append(f"{words['unsubscribe']}: {url}")
    return "\n".join(lines) + "\n"


def _content(
    message: EmailMessage, rendered: Rendered, unsubscribe: str | None
) -> tuple[str, str, list[dict[str, str]]]:
    """The HTML and text as sent (tracked links, footer, open pixel) and the tracked links."""
    token = message.token
    language = message.language if message.language in FOOTER else "ja"
    html, links = track_html_links(rendered.html, token)
    pixel = (
        f'<img src="{tracking_links.open_url(token)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )
    html = _insert_before_body_end(
        html, footer_html(message, language, unsubscribe=unsubscribe) + pixel
    )
    text = track_text_links(rendered.text, links, token).rstrip("\n") + footer_text(
        message, language, unsubscribe=unsubscribe
    )
    return html, text, links


def _from_value(from_name: str, from_email: str) -> str:
    # The display name as one encoded word, set raw: Python's folding would split it into
    # several, and its parser (like some mail clients) then reads a space between them.
    return email.utils.formataddr((" ".join(from_name.split()), from_email), "utf-8")


def _domain(from_email: str) -> str:
    return from_email.rpartition("@")[2] or "kizuna.invalid"


def build_email(
    message: EmailMessage, rendered: Rendered
) -> tuple[MimeMessage, list[dict[str, str]]]:
    """The MIME message (multipart/alternative, text and HTML, UTF-8, headers RFC 2047
    encoded where needed) for `message` with `rendered` content, and its tracked links
    ([{"url", "text"}], by index) to store on the message row. `build_email_bytes` gives
    the same message as bytes, much faster: the worker sends that."""
    token = message.token
    unsubscribe = None if message.transactional else tracking_links.unsubscribe_url(token)
    html, text, links = _content(message, rendered, unsubscribe)

    sender = message.sender
    mime = MimeMessage(policy=_POLICY)
    mime.set_raw("From", _from_value(sender.from_name, sender.from_email))
    mime["To"] = message.to_email
    if sender.reply_to:
        mime["Reply-To"] = sender.reply_to
    mime["Subject"] = rendered.subject
    mime["Date"] = email.utils.format_datetime(timezone.now())
    mime["Message-ID"] = f"<{token}@{_domain(sender.from_email)}>"
    mime["X-Kizuna-Message"] = token
    if unsubscribe is not None:
        # Raw so that the URL stays on the header's line (it is shorter than 998 characters).
        mime.set_raw("List-Unsubscribe", f"<{unsubscribe}>")
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content(text, subtype="plain", charset="utf-8")
    mime.add_alternative(html, subtype="html", charset="utf-8")
    return mime, links


# --- The fast path: the same message written straight to bytes ----------------------------


def _policy_header(name: str, value: str, *, raw: bool = False) -> bytes:
    """The header line(s) exactly as `build_email` writes them, CRLF-terminated."""
    mime = MimeMessage(policy=_POLICY)
    if raw:
        mime.set_raw(name, value)
    else:
        mime[name] = value
    # A message with headers only: the header block, then the empty line that ends it.
    return mime.as_bytes()[:-2]


def _simple_header(name: str, value: str) -> bytes:
    """`Name: value` for a value the policy would write unchanged (plain ASCII of the
    expected shape, on one line); anything else goes through the policy."""
    line = f"{name}: {value}"
    if len(line) <= MAX_LINE:
        return line.encode("ascii") + _CRLF
    return _policy_header(name, value)


@functools.lru_cache(maxsize=256)
def _sender_headers(from_name: str, from_email: str, reply_to: str) -> tuple[bytes, bytes, str]:
    """From and Reply-To lines and the Message-ID domain, computed once per sender."""
    from_line = _policy_header("From", _from_value(from_name, from_email), raw=True)
    reply_line = _address_header("Reply-To", reply_to) if reply_to else b""
    domain = _domain(from_email)
    return from_line, reply_line, domain if _SIMPLE_DOMAIN.match(domain) else ""


def _address_header(name: str, address: str) -> bytes:
    if _SIMPLE_ADDRESS.match(address):
        return _simple_header(name, address)
    return _policy_header(name, address)


def _folded_ascii_subject(subject: str) -> bytes | None:
    """A plain ASCII subject folded at its spaces, or None if a word is too long for a line."""
    lines: list[str] = []
    line = "Subject:"
    for word in subject.split(" "):
        if len(line) + 1 + len(word) > MAX_LINE:
            if line == "Subject:" or 1 + len(word) > MAX_LINE:
                return None
            lines.append(line)
            line = ""
        line = f"{line} {word}"
    lines.append(line)
    return "\r\n".join(lines).encode("ascii") + _CRLF


def _subject_header(subject: str) -> bytes:
    """The Subject header: plain ASCII folded at its spaces, anything else as RFC 2047
    base64 encoded words of whole characters, one per line, each line within MAX_LINE."""
    if _PLAIN_SUBJECT.match(subject) and "=?" not in subject:
        # A word too long for a line: the policy encodes it.
        return _folded_ascii_subject(subject) or _policy_header("Subject", subject)
    if not subject.isprintable() or subject != subject.strip():
        # Control characters or edge whitespace: the policy's rules for those.
        return _policy_header("Subject", subject)
    data = subject.encode("utf-8")
    words: list[bytes] = []
    start, size, total = 0, _FIRST_WORD_BYTES, len(data)
    while start < total:
        end = min(start + size, total)
        # Never cut inside a character: back off over UTF-8 continuation bytes.
        while end < total and data[end] & 0xC0 == 0x80:
            end -= 1
        words.append(_ENCODED_WORD + binascii.b2a_base64(data[start:end], newline=False) + b"?=")
        start, size = end, _NEXT_WORD_BYTES
    return b"Subject: " + b"\r\n ".join(words) + _CRLF


def _encode_body(content: str) -> tuple[bytes, bytes]:
    """The transfer encoding and the encoded body (CRLF line ends, ending with one), chosen
    as the email package does: 7bit for short-lined ASCII, otherwise quoted-printable or
    base64, whichever is shorter on the first ten lines. Never 8bit (which the package
    picks for short-lined UTF-8): the connection does not negotiate 8BITMIME."""
    lines = content.encode("utf-8").splitlines()
    body = _CRLF.join(lines) + _CRLF
    if body.isascii() and max(map(len, lines), default=0) <= MAX_LINE:
        return b"7bit", body
    sniff = _CRLF.join(lines[:10]) + _CRLF
    if len(binascii.b2a_qp(sniff, istext=True)) > len(binascii.b2a_base64(sniff)):
        return b"base64", base64.encodebytes(body).replace(b"\n", _CRLF)
    return b"quoted-printable", binascii.b2a_qp(body, istext=True)


def _boundary(bodies: tuple[bytes, ...]) -> bytes:
    # The email package's shape: a random number, checked against the parts (only a 7bit
    # part could contain it; base64 and quoted-printable never have "==" inside a line).
    while True:
        boundary = b"===============%019d==" % random.randrange(sys.maxsize)
        if not any(boundary in body for body in bodies):
            return boundary


def _part(boundary: bytes, subtype: bytes, cte: bytes, body: bytes) -> bytes:
    return b"".join(
        (
            b"--",
            boundary,
            b"\r\nContent-Type: text/",
            subtype,
            b'; charset="utf-8"\r\nContent-Transfer-Encoding: ',
            cte,
            b"\r\n\r\n",
            body,
        )
    )


def build_email_bytes(
    message: EmailMessage, rendered: Rendered
) -> tuple[bytes, list[dict[str, str]]]:
    """What `build_email(...)[0].as_bytes()` gives recipients (same headers, same decoded
    subject, names and bodies), written directly: the message ready for SMTP DATA, and its
    tracked links."""
    token = message.token
    unsubscribe = None if message.transactional else tracking_links.unsubscribe_url(token)
    html, text, links = _content(message, rendered, unsubscribe)

    sender = message.sender
    from_line, reply_line, domain = _sender_headers(
        sender.from_name, sender.from_email, sender.reply_to or ""
    )
    simple_token = _SIMPLE_TOKEN.match(token) is not None
    message_id = f"<{token}@{domain or _domain(sender.from_email)}>"
    headers = [
        from_line,
        _address_header("To", message.to_email),
        reply_line,
        _subject_header(rendered.subject),
        f"Date: {email.utils.format_datetime(timezone.now())}\r\n".encode("ascii"),
        _simple_header("Message-ID", message_id)
        if simple_token and domain
        else _policy_header("Message-ID", message_id),
        _simple_header("X-Kizuna-Message", token)
        if simple_token
        else _policy_header("X-Kizuna-Message", token),
    ]
    if unsubscribe is not None:
        headers.append(f"List-Unsubscribe: <{unsubscribe}>\r\n".encode("ascii"))
        headers.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    text_cte, text_body = _encode_body(text)
    html_cte, html_body = _encode_body(html)
    boundary = _boundary((text_body, html_body))
    headers.append(b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="')
    headers.append(boundary)
    headers.append(b'"\r\n\r\n')
    headers.append(_part(boundary, b"plain", text_cte, text_body))
    headers.append(_CRLF)
    headers.append(_part(boundary, b"html", html_cte, html_body))
    headers.append(b"\r\n--" + boundary + b"--\r\n")
    return b"".join(headers), links
