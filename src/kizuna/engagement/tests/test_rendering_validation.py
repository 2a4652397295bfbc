"""Template content is checked before it is saved: each problem names field, line, column."""

from __future__ import annotations

from kizuna.engagement.rendering import TemplateProblem, validate_content

VALID = {"subject_ja": "件名", "html_ja": "<p>本文</p>", "text_ja": "本文"}


def problems(**fields: str) -> list[tuple[str, int, int, str]]:
    return [(p.field, p.line, p.column, p.message) for p in validate_content({**VALID, **fields})]


def test_valid_content_has_no_problem() -> None:
    assert validate_content({**VALID, "html_ja": "<div><p>a<br>b<br/><img src=x></p></div>"}) == []


def test_unknown_variable_is_named_at_its_place() -> None:
    assert problems(text_ja="こんにちは\n  {{ contact.nme }} 様") == [
        ("text_ja", 2, 3, "unknown variable contact.nme")
    ]


def test_broken_variable_syntax() -> None:
    [(field, line, column, message)] = problems(html_ja="<p>{{ contact.name </p>")
    assert (field, line, column) == ("html_ja", 1, 4)
    assert message.startswith("broken variable")


def test_filters_other_than_default_are_refused() -> None:
    [(_f, _l, column, message)] = problems(text_ja="{{ contact.name|upper }}")
    assert column == 1
    assert message.startswith("broken variable")


def test_unclosed_tag() -> None:
    assert problems(html_ja="<div>\n<span>本文</div>") == [
        ("html_ja", 2, 9, "closing tag </div> does not match <span> opened at line 2, column 1")
    ]


def test_never_closed_tag() -> None:
    assert problems(html_ja="<p>a</p>\n<div>b") == [("html_ja", 2, 1, "<div> is never closed")]


def test_stray_closing_tag() -> None:
    assert problems(html_ja="<p>a</p></b>") == [
        ("html_ja", 1, 9, "closing tag </b> has no opening tag")
    ]


def test_optional_end_tags_and_void_elements_are_fine() -> None:
    assert problems(html_ja="<ul><li>a<li>b</ul><table><tr><td>x</table><hr></hr>") == []


def test_english_must_be_complete_or_empty() -> None:
    assert [(p[0], p[3]) for p in problems(subject_en="Hello")] == [
        ("html_en", "the English version needs a subject, an HTML and a text body"),
        ("text_en", "the English version needs a subject, an HTML and a text body"),
    ]


def test_subject_must_be_one_line() -> None:
    assert problems(subject_ja="件名\n二行目") == [
        ("subject_ja", 1, 3, "the subject must be a single line")
    ]


def test_japanese_is_required() -> None:
    assert problems(text_ja=" ") == [("text_ja", 1, 1, "this field is required")]


def test_problem_reads_with_field_label_line_and_column() -> None:
    problem = TemplateProblem("text_ja", 3, 14, "unknown variable contact.nme")
    assert (
        str(problem)
        == "Plain-text body (Japanese), line 3, column 14: unknown variable contact.nme"
    )
