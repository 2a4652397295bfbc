"""Normalisation for Japanese-aware partial-match search.

Account names are matched against a pre-normalised `search_text` column: NFKC (full-width
ASCII and half-width katakana become their ordinary forms), case folded, katakana folded to
hiragana, white space removed. The query goes through the same function, so 「ｶﾌﾞｼｷ」,
「かぶしき」 and 「カブシキ」 all find an account whose kana reading is 「カブシキガイシャ…」.
"""

from __future__ import annotations

import re
import unicodedata

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_KATAKANA_TO_HIRAGANA)
    return _SPACES.sub("", text)


def search_text(*parts: str | None) -> str:
    """The value stored in `search_text`: the normalised parts separated by a marker.

    The separator keeps a query from matching across the end of one part and the start of the
    next; it is a character `normalize` never produces from a query.
    """
    return "\x1f".join(normalize(part) for part in parts if part)
