"""Turning a rendered email into the MIME message that goes to the mail server.

`build_email` adds what every sent email needs on top of the template's content: click
tracking (each http/https link of the HTML goes through a signed redirect, and the same URL
in the plain text too), the open pixel, the footer Japan's Act on Specified Electronic Mail
(特定電子メール法) requires — the sender's name, postal address, a contact for inquiries and,
for marketing mail, how to stop receiving it — and the headers (List-Unsubscribe with one-click
for marketing mail, a Message-ID in the sender's domain, X-Kizuna-Message with the token).
"""

from __future__ import annotations

import email.policy
import email.utils
import re
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


def footer_html(message: EmailMessage, language: str) -> str:
    words = FOOTER.get(language, FOOTER["ja"])
    sender = message.sender
    rows = [
        f"{words['organisation']}: {escape(sender.organisation)}",
        f"{words['address']}: {escape(sender.postal_address)}",
        f"{words['inquiries']}: {escape(sender.inquiries)}",
    ]
    if not message.transactional:
        url = tracking_links.unsubscribe_url(message.token)
        rows.append(f'<a href="{url}" style="color:#666666">{words["unsubscribe"]}</a>')
    paragraphs = "".join(f'<p style="margin:0">{row}</p>' for row in rows)
    return (
        '<div class="kizuna-footer" style="margin-top:32px;padding-top:12px;'
        'border-top:1px solid #dddddd;color:#666666;font-size:12px;line-height:1.6">'
        f"{paragraphs}</div>"
    )


def footer_text(message: EmailMessage, language: str) -> str:
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
        lines.append(f"{words['unsubscribe']}: {tracking_links.unsubscribe_url(message.token)}")
    return "\n".join(lines) + "\n"


def build_email(
    message: EmailMessage, rendered: Rendered
) -> tuple[MimeMessage, list[dict[str, str]]]:
    """The MIME message (multipart/alternative, text and HTML, UTF-8, headers RFC 2047
    encoded where needed) for `message` with `rendered` content, and its tracked links
    ([{"url", "text"}], by index) to store on the message row."""
    token = message.token
    language = message.language if message.language in FOOTER else "ja"
    html, links = track_html_links(rendered.html, token)
    pixel = (
        f'<img src="{tracking_links.open_url(token)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )
    html = _insert_before_body_end(html, footer_html(message, language) + pixel)
    text = track_text_links(rendered.text, links, token).rstrip("\n") + footer_text(
        message, language
    )

    sender = message.sender
    mime = MimeMessage(policy=_POLICY)
    # The display name as one encoded word, set raw: Python's folding would split it into
    # several, and its parser (like some mail clients) then reads a space between them.
    from_name = " ".join(sender.from_name.split())
    mime.set_raw("From", email.utils.formataddr((from_name, sender.from_email), "utf-8"))
    mime["To"] = message.to_email
    if sender.reply_to:
        mime["Reply-To"] = sender.reply_to
    mime["Subject"] = rendered.subject
    mime["Date"] = email.utils.format_datetime(timezone.now())
    domain = sender.from_email.rpartition("@")[2] or "kizuna.invalid"
    mime["Message-ID"] = f"<{token}@{domain}>"
    mime["X-Kizuna-Message"] = token
    if not message.transactional:
        # Raw so that the URL stays on the header's line (it is shorter than 998 characters).
        mime.set_raw("List-Unsubscribe", f"<{tracking_links.unsubscribe_url(token)}>")
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content(text, subtype="plain", charset="utf-8")
    mime.add_alternative(html, subtype="html", charset="utf-8")
    return mime, links
