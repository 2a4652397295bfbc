"""The translation catalogues are complete, compiled, and actually used.

See docs/translating.md for how to update them.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client

from kizuna.core.models import Role
from kizuna.core.tests.factories import UserFactory

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGUAGES = ["ja", "en"]

# Python named placeholders such as %(name)s or %(count)d; `{{ name }}` inside a
# {% blocktranslate %} is written to the catalogue in this form too.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def _po(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def _mo(language: str) -> polib.MOFile:
    return polib.mofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"))


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str | None, str, str]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural or "")


def _translation(entry: polib.POEntry | polib.MOEntry) -> str | tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return entry.msgstr


def _placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text)}


def test_japanese_catalogue_is_complete() -> None:
    po = _po("ja")
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert len(po) > 0
    assert not untranslated and not fuzzy, (
        f"ja/django.po: untranslated {untranslated}; fuzzy {fuzzy}"
    )


@pytest.mark.parametrize(
    ("language", "plural_forms"),
    [("ja", "nplurals=1; plural=0;"), ("en", "nplurals=2; plural=(n != 1);")],
)
def test_catalogue_headers(language: str, plural_forms: str) -> None:
    po = _po(language)
    assert not po.metadata_is_fuzzy, f"{language}/django.po has a fuzzy header"
    assert po.metadata["Language"] == language
    assert po.metadata["Plural-Forms"] == plural_forms
    assert "charset=UTF-8" in po.metadata["Content-Type"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_mo_matches_po(language: str) -> None:
    # translated_entries() leaves out fuzzy and obsolete entries, as msgfmt does.
    po_entries = {_key(entry): _translation(entry) for entry in _po(language).translated_entries()}
    mo_entries = {_key(entry): _translation(entry) for entry in _mo(language) if entry.msgid}
    stale = sorted(
        key[1]
        for key in po_entries.keys() | mo_entries.keys()
        if po_entries.get(key) != mo_entries.get(key)
    )
    assert not stale, (
        f"{language}/django.mo is out of date for {stale}; run `django-admin compilemessages`."
    )


def test_placeholders_survive_translation() -> None:
    mismatched = []
    for entry in _po("ja").translated_entries():
        if entry.msgid_plural:
            sources = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural)
            translations = list(entry.msgstr_plural.values())
        else:
            sources = _placeholders(entry.msgid)
            translations = [entry.msgstr]
        for translation in translations:
            if _placeholders(translation) != sources:
                mismatched.append((entry.msgid, translation))
    assert not mismatched, f"Placeholders differ between msgid and msgstr: {mismatched}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected", "unexpected"),
    [
        ("ja", "<h1>取引先</h1>", "<h1>Accounts</h1>"),
        ("en", "<h1>Accounts</h1>", "<h1>取引先</h1>"),
    ],
)
def test_pages_render_in_the_chosen_language(language: str, expected: str, unexpected: str) -> None:
    client = Client()
    client.force_login(UserFactory.create(role=Role.ADMIN))
    client.cookies["django_language"] = language
    response = client.get("/accounts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert expected in html
    assert unexpected not in html
