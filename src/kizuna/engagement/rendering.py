"""The safe template language of email templates, and rendering a version for one contact.

The only syntax is a variable, optionally with a default::

    {{ contact.name }}
    {{ contact.name|default:"ご担当者" }}   (single quotes work too; spaces are free)

There are no tags, no other filters and no attribute calls. A version is compiled once (the
text split at its variables) and cached per version pk; rendering then only joins strings.
Values are inserted as they are, never parsed again, so a contact named ``{{ account.name }}``
prints exactly that. In HTML they are escaped; in the subject and the plain text they are not.
"""

from __future__ import annotations

import datetime
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Any

from django.db.models import F
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from kizuna.engagement.models import EmailTemplateVersion, SenderIdentity

# --- Variables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    label: str | Promise
    example_ja: str
    example_en: str
    is_date: bool = False


VARIABLES: dict[str, Variable] = {
    "contact.name": Variable(gettext_lazy("Contact name"), "佐藤 美咲", "Misaki Sato"),
    "contact.email": Variable(
        gettext_lazy("Contact email"), "misaki.sato@example.jp", "misaki.sato@example.jp"
    ),
    "contact.title": Variable(
        gettext_lazy("Contact title / role"), "情報システム部 部長", "IT Manager"
    ),
    "account.name": Variable(gettext_lazy("Account name"), "株式会社みどり商事", "Midori Trading"),
    "account.domain": Variable(
        gettext_lazy("Account domain"), "midori.example.jp", "midori.example.jp"
    ),
    "subscription.product": Variable(gettext_lazy("Product"), "空色レポート", "Sorairo Report"),
    "subscription.plan": Variable(gettext_lazy("Plan"), "ビジネス", "Business"),
    "subscription.seats": Variable(gettext_lazy("Seats"), "50", "50"),
    "subscription.renewal_date": Variable(
        gettext_lazy("Renewal date"), "2026年12月1日", "1 December 2026", is_date=True
    ),
    "csm.name": Variable(gettext_lazy("CSM name"), "田中 結衣", "Yui Tanaka"),
    "csm.email": Variable(
        gettext_lazy("CSM email"), "yui.tanaka@example.jp", "yui.tanaka@example.jp"
    ),
    "sender.organisation": Variable(gettext_lazy("Sender company"), "株式会社空色", "Sorairo Inc."),
    "sender.from_name": Variable(
        gettext_lazy("Sender name"), "空色レポート カスタマーサクセス", "Sorairo Customer Success"
    ),
    "unsubscribe_url": Variable(
        gettext_lazy("Unsubscribe link"),
        "https://kizuna.example.jp/e/u/…/",
        "https://kizuna.example.jp/e/u/…/",
    ),
    "preferences_url": Variable(
        gettext_lazy("Email preferences link"),
        "https://kizuna.example.jp/e/u/…/",
        "https://kizuna.example.jp/e/u/…/",
    ),
}

FIELDS = ("subject_ja", "html_ja", "text_ja", "subject_en", "html_en", "text_en")
FIELD_LABELS: dict[str, StrOrPromise] = {
    "subject_ja": gettext_lazy("Subject (Japanese)"),
    "html_ja": gettext_lazy("HTML body (Japanese)"),
    "text_ja": gettext_lazy("Plain-text body (Japanese)"),
    "subject_en": gettext_lazy("Subject (English)"),
    "html_en": gettext_lazy("HTML body (English)"),
    "text_en": gettext_lazy("Plain-text body (English)"),
}

# A whole variable tag. Names are dotted identifiers; the default is a quoted string.
_TAG = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*"
    r"(?:\|\s*default\s*:\s*(?:\"([^\"\n]*)\"|'([^'\n]*)')\s*)?\}\}"
)
# What re.split yields per tag: name, double-quoted default, single-quoted default.
_GROUPS = 3


# --- Validation --------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateProblem:
    field: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        label = FIELD_LABELS.get(self.field, self.field)
        return _("%(field)s, line %(line)s, column %(column)s: %(message)s") % {
            "field": label,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class TemplateInvalid(ValueError):
    """The content cannot be saved; `problems` says where and why."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _variable_problems(field: str, text: str) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            break
        match = _TAG.match(text, start)
        line, column = _position(text, start)
        if match is None:
            end = text.find("}}", start)
            snippet = text[start : end + 2 if 0 <= end < start + 60 else start + 20].split("\n")[0]
            problems.append(
                TemplateProblem(
                    field,
                    line,
                    column,
                    _('broken variable %(snippet)s: write {{ name }} or {{ name|default:"text" }}')
                    % {"snippet": snippet},
                )
            )
            position = start + 2
            continue
        name = match.group(1)
        if name not in VARIABLES:
            problems.append(
                TemplateProblem(
                    field, line, column, _("unknown variable %(name)s") % {"name": name}
                )
            )
        position = match.end()
    return problems


# Elements that never have an end tag.
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# Elements whose end tag HTML lets an author leave out (closed by the parent's end tag).
_OPTIONAL_END = frozenset(
    [
        "p",
        "li",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "option",
        "colgroup",
        "caption",
    ]
)


class _HtmlChecker(HTMLParser):
    def __init__(self, field: str) -> None:
        super().__init__(convert_charrefs=True)
        self.field = field
        self.stack: list[tuple[str, int, int]] = []
        self.problems: list[TemplateProblem] = []

    def _here(self) -> tuple[int, int]:
        line, offset = self.getpos()
        return line, offset + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        line, column = self._here()
        self.stack.append((tag, line, column))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return  # <br/>, <img ... /> and the like open nothing

    def handle_endtag(self, tag: str) -> None:
        line, column = self._here()
        if tag in _VOID:
            return
        if not any(open_tag == tag for open_tag, _l, _c in self.stack):
            self.problems.append(
                TemplateProblem(
                    self.field,
                    line,
                    column,
                    _("closing tag </%(tag)s> has no opening tag") % {"tag": tag},
                )
            )
            return
        while self.stack:
            open_tag, open_line, open_column = self.stack.pop()
            if open_tag == tag:
                return
            if open_tag in _OPTIONAL_END:
                continue
            self.problems.append(
                TemplateProblem(
                    self.field,
                    line,
                    column,
                    _(
                        "closing tag </%(tag)s> does not match <%(open)s> opened at "
                        "line %(line)s, column %(column)s"
                    )
                    % {"tag": tag, "open": open_tag, "line": open_line, "column": open_column},
                )
            )

    def finish(self) -> list[TemplateProblem]:
        self.close()
        for tag, line, column in self.stack:
            if tag not in _OPTIONAL_END:
                self.problems.append(
                    TemplateProblem(
                        self.field, line, column, _("<%(tag)s> is never closed") % {"tag": tag}
                    )
                )
        return self.problems


def _html_problems(field: str, text: str) -> list[TemplateProblem]:
    checker = _HtmlChecker(field)
    checker.feed(text)
    return checker.finish()


def validate_content(fields: Mapping[str, str]) -> list[TemplateProblem]:
    """Every problem in the six content fields, each with its field, line and column.

    Japanese is required; English is either complete (subject, HTML and text) or empty."""
    problems: list[TemplateProblem] = []
    values = {name: fields.get(name) or "" for name in FIELDS}
    for name in ("subject_ja", "html_ja", "text_ja"):
        if not values[name].strip():
            problems.append(TemplateProblem(name, 1, 1, _("this field is required")))
    english = [name for name in ("subject_en", "html_en", "text_en") if values[name].strip()]
    if english and len(english) < 3:
        for name in ("subject_en", "html_en", "text_en"):
            if name not in english:
                problems.append(
                    TemplateProblem(
                        name,
                        1,
                        1,
                        _("the English version needs a subject, an HTML and a text body"),
                    )
                )
    for name in FIELDS:
        text = values[name]
        if not text:
            continue
        if name.startswith("subject"):
            for offset, char in enumerate(text):
                if char in "\r\n":
                    line, column = _position(text, offset)
                    problems.append(
                        TemplateProblem(name, line, column, _("the subject must be a single line"))
                    )
                    break
        problems.extend(_variable_problems(name, text))
        if name.startswith("html"):
            problems.extend(_html_problems(name, text))
    return problems


# --- Compiling ---------------------------------------------------------------------------

# A compiled text: literal strings at even positions, (name, default, is_date) at odd ones.
Part = tuple[str, str | None, bool]
Compiled = tuple[Any, ...]


def compile_text(text: str) -> Compiled:
    pieces = _TAG.split(text)
    parts: list[Any] = []
    for index in range(0, len(pieces), _GROUPS + 1):
        parts.append(pieces[index])
        if index + 1 < len(pieces):
            name = pieces[index + 1]
            default = pieces[index + 2] if pieces[index + 2] is not None else pieces[index + 3]
            variable = VARIABLES.get(name)
            parts.append((name, default, bool(variable and variable.is_date)))
    return tuple(parts)


@dataclass(frozen=True)
class CompiledVersion:
    version_id: int | None
    has_en: bool
    texts: Mapping[str, Compiled]  # "subject_ja" -> compiled, …


_CACHE_SIZE = 512
# Keyed by pk and what identifies the saved row: a pk alone could be reused by a test
# database that rolled back, and the cache must never hand out another row's content.
_cache: OrderedDict[tuple[int, str, object], CompiledVersion] = OrderedDict()
_cache_lock = threading.Lock()


def compile_version(version: EmailTemplateVersion) -> CompiledVersion:
    return CompiledVersion(
        version_id=version.pk,
        has_en=version.has_language("en"),
        texts={name: compile_text(getattr(version, name) or "") for name in FIELDS},
    )


def compiled(version: EmailTemplateVersion) -> CompiledVersion:
    """The version, compiled once and kept (a saved version never changes)."""
    if version.pk is None:
        return compile_version(version)
    key = (version.pk, version.content_hash, version.created_at)
    found = _cache.get(key)
    if found is not None:
        return found
    result = compile_version(version)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result


@functools.lru_cache(maxsize=256)
def _compiled_override(text: str) -> Compiled:
    return compile_text(text)


# --- Contexts ----------------------------------------------------------------------------

_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@functools.lru_cache(maxsize=4096)
def format_date(value: str, language: str) -> str:
    """An ISO date as people write it: 2026年12月1日 / 1 December 2026."""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return value
    if language == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def _person_name(display_name: str, first: str, last: str, username: str) -> str:
    # Same order as User.__str__: display name, full name, username.
    full = f"{first} {last}".strip()
    return display_name or full or username


_CHUNK = 5000


def load_contexts(
    contact_ids: Sequence[int], sender: SenderIdentity | None = None
) -> dict[int, dict[str, str | None]]:
    """The variable values of each contact, by contact id.

    Two queries per 5,000 contacts (contact with account and account owner; the accounts'
    active subscriptions), plus one for the default sender when none is given. The current
    subscription is the active one ending last (one with an end date before one without)."""
    from kizuna.customers.choices import SubscriptionStatus
    from kizuna.customers.models import Contact, Subscription

    if sender is None:
        sender = SenderIdentity.objects.filter(is_default=True).first()
    sender_values: dict[str, str | None] = {
        "sender.organisation": sender.organisation if sender else None,
        "sender.from_name": sender.from_name if sender else None,
    }
    ids = list(dict.fromkeys(contact_ids))
    contexts: dict[int, dict[str, str | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = Contact.objects.filter(pk__in=chunk).values_list(
            "pk",
            "name",
            "email",
            "title",
            "account_id",
            "account__name",
            "account__domain",
            "account__owner__display_name",
            "account__owner__first_name",
            "account__owner__last_name",
            "account__owner__username",
            "account__owner__email",
        )
        by_account: dict[int, list[dict[str, str | None]]] = {}
        for (
            pk,
            name,
            email,
            title,
            account_id,
            account_name,
            domain,
            display_name,
            first,
            last,
            username,
            owner_email,
        ) in rows:
            context: dict[str, str | None] = {
                "contact.name": name,
                "contact.email": email,
                "contact.title": title,
                "account.name": account_name,
                "account.domain": domain,
                "subscription.product": None,
                "subscription.plan": None,
                "subscription.seats": None,
                "subscription.renewal_date": None,
                "csm.name": _person_name(display_name or "", first or "", last or "", username)
                if username
                else None,
                "csm.email": owner_email if username else None,
                **sender_values,
            }
            contexts[pk] = context
            by_account.setdefault(account_id, []).append(context)
        seen: set[int] = set()
        subscriptions = (
            Subscription.objects.filter(
                account_id__in=list(by_account), status=SubscriptionStatus.ACTIVE
            )
            .order_by("account_id", F("end_date").desc(nulls_last=True), "-id")
            .values_list("account_id", "product", "plan", "seats", "end_date")
        )
        for account_id, product, plan, seats, end_date in subscriptions:
            if account_id in seen:
                continue
            seen.add(account_id)
            for context in by_account[account_id]:
                context["subscription.product"] = product
                context["subscription.plan"] = plan
                context["subscription.seats"] = str(seats)
                context["subscription.renewal_date"] = end_date.isoformat() if end_date else None
    return contexts


def language_for(contact_language: str, version: EmailTemplateVersion | CompiledVersion) -> str:
    """The language a contact gets this version in: English only when both want it."""
    if contact_language != "en":
        return "ja"
    has_en = version.has_en if isinstance(version, CompiledVersion) else version.has_language("en")
    return "en" if has_en else "ja"


# --- Rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    missing: tuple[str, ...]


def _render_text(
    parts: Compiled,
    context: Mapping[str, str | None],
    language: str,
    html: bool,
    missing: set[str],
) -> str:
    if len(parts) == 1:
        return str(parts[0])
    out: list[str] = []
    append = out.append
    for index, part in enumerate(parts):
        if not index & 1:
            append(part)
            continue
        name, default, is_date = part
        value = context.get(name)
        if not value:
            if default is None:
                missing.add(name)
            else:
                # The default is part of the author's source (already HTML in the HTML body).
                append(default)
            continue
        if is_date:
            value = format_date(value, language)
        append(escape(value) if html else value)
    return "".join(out)


def render(
    version_or_compiled: EmailTemplateVersion | CompiledVersion,
    language: str,
    context: Mapping[str, str | None],
    *,
    subject_override: str = "",
    links: Mapping[str, str] | None = None,
) -> Rendered:
    """The subject, HTML and text of a version in `language` for one contact's `context`.

    `links` gives the per-message unsubscribe_url / preferences_url. Variables with no value
    and no default are named in `missing` (the message must not be sent)."""
    version = (
        version_or_compiled
        if isinstance(version_or_compiled, CompiledVersion)
        else compiled(version_or_compiled)
    )
    if language != "en" or not version.has_en:
        language = "ja"
    if links:
        context = {**context, **links}
    missing: set[str] = set()
    texts = version.texts
    subject_parts = (
        _compiled_override(subject_override) if subject_override else texts[f"subject_{language}"]
    )
    subject = _render_text(subject_parts, context, language, False, missing)
    if "\n" in subject or "\r" in subject:
        subject = " ".join(subject.split())
    return Rendered(
        subject=subject,
        html=_render_text(texts[f"html_{language}"], context, language, True, missing),
        text=_render_text(texts[f"text_{language}"], context, language, False, missing),
        missing=tuple(sorted(missing)),
    )


def example_context(language: str) -> dict[str, str | None]:
    """Every variable's example value (for a preview without a contact)."""
    context: dict[str, str | None] = {}
    for name, variable in VARIABLES.items():
        example = variable.example_en if language == "en" else variable.example_ja
        context[name] = "2026-12-01" if variable.is_date else example
    return context
