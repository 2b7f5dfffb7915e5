"""The syntax guard: longest prefix that adds no ERROR/MISSING node, with bounded work."""

from __future__ import annotations

import pytest

from weft.completion import syntax_guard
from weft.completion.syntax_guard import (
    MAX_PARSES,
    WINDOW_CHARS,
    guard_syntax,
    parse_window,
    syntax_errors,
)
from weft.index.languages import get_parser

CURSOR = "█"


def guard(doc: str, candidate: str, language: str | None, replaces: int = 0) -> str:
    offset = doc.index(CURSOR)
    text = doc.replace(CURSOR, "", 1)
    return guard_syntax(text, offset, offset + replaces, candidate, language)


def spliced_errors(doc: str, insert: str, language: str, replaces: int = 0) -> int:
    offset = doc.index(CURSOR)
    text = doc.replace(CURSOR, "", 1)
    result = text[:offset] + insert + text[offset + replaces :]
    parser = get_parser(language)
    assert parser is not None
    return len(syntax_errors(parser.parse(result.encode()).root_node))


def test_valid_candidate_is_unchanged() -> None:
    doc = "def f(a):\n    █\n"
    assert guard(doc, "if a:\n        return 1\n    return 2", "python") == (
        "if a:\n        return 1\n    return 2"
    )


def test_language_without_grammar_is_unchanged() -> None:
    assert guard("x █", "((( nonsense", None) == "((( nonsense"
    assert guard("x █", "((( nonsense", "no-such-language") == "((( nonsense"


def test_cut_at_the_last_good_line() -> None:
    doc = "function f() {\n  █\n}\n"
    got = guard(doc, "const a = 1;\n  const b = 2;\n  const c = (a +;\n  return c;", "javascript")
    assert got == "const a = 1;\n  const b = 2;"


def test_cut_at_a_token_boundary_in_a_single_line() -> None:
    doc = "def f(a, b):\n    █\n"
    assert guard(doc, "return max(a, b", "python") == "return max"


def test_nothing_valid_gives_empty_text() -> None:
    doc = "def f():\n    return 1\n█"
    assert guard(doc, ")))", "python") == ""


def test_existing_errors_elsewhere_do_not_count() -> None:
    doc = "def ok(a):\n    █\n\n\ndef broken(:\n    pass\n"
    assert guard(doc, "return a * 2", "python") == "return a * 2"
    # ...but a new error still does
    assert guard(doc, "return a * 2\n    x = (", "python") == "return a * 2"


def test_fixing_an_error_at_the_cursor_is_accepted() -> None:
    doc = "def run(cmd):\n    out = check(█\n    return out\n"
    assert guard(doc, "cmd, shell=True)", "python") == "cmd, shell=True)"


def test_cut_re_adds_the_replaced_closing_characters() -> None:
    doc = "x = foo(█)\n"
    # replaces the auto-closed `)`; the cut drops the candidate's own `)`, so it comes back
    got = guard(doc, "a, b) + [1,", "python", replaces=1)
    assert got.endswith(")")
    assert spliced_errors(doc, got, "python", replaces=1) == 0
    assert got.startswith("a")


def test_keep_protects_the_selected_item_text() -> None:
    text = "x = os.pa\n"
    start = text.index("pa")
    got = guard_syntax(text, start, start + 2, "path.join(a, b", "python", keep=4)
    assert got.startswith("path")
    bad = guard_syntax(text, start, start + 2, "path(((", "python", keep=4)
    assert bad == "path"


def test_crlf_documents() -> None:
    doc = "def f(a):\r\n    █\r\n"
    assert guard(doc, "b = a\r\n    c = (b", "python") == "b = a"


def test_go_and_rust() -> None:
    assert guard("func f() {\n\t█\n}\n", "x := 1\n\ty := (x +", "go") == "x := 1"
    assert guard("fn f() {\n    █\n}\n", "let x = 5;\n    let y = x +;", "rust") == "let x = 5;"


class _CountingParser:
    """Wraps a real parser to record how much work the guard does."""

    def __init__(self, language: str) -> None:
        parser = get_parser(language)
        assert parser is not None
        self.parser = parser
        self.sizes: list[int] = []

    def parse(self, source: bytes, old_tree=None):  # noqa: ANN001 - mirrors Parser.parse
        self.sizes.append(len(source))
        if old_tree is None:
            return self.parser.parse(source)
        return self.parser.parse(source, old_tree)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> _CountingParser:
    holder = _CountingParser("python")
    monkeypatch.setattr(syntax_guard, "get_parser", lambda language: holder)
    return holder


def test_work_is_bounded_on_a_long_broken_candidate(counting: _CountingParser) -> None:
    doc = "def f():\n    █\n"
    # every line opens a bracket it never closes: no line boundary is valid
    candidate = "\n    ".join(f"x{i} = g({i}," for i in range(40))
    guard(doc, candidate, "python")
    assert len(counting.sizes) <= MAX_PARSES


def test_large_files_are_parsed_in_a_window(counting: _CountingParser) -> None:
    body = "".join(f"def f{i}(a):\n    return a + {i}\n\n\n" for i in range(8000))
    half = len(body) // 2
    cut = body.index("def ", half)
    doc = body[:cut] + "def target(a):\n    █\n\n\n" + body[cut:]
    assert len(doc) > 4 * WINDOW_CHARS
    assert guard(doc, "b = a\n    c = (b", "python") == "b = a"
    assert counting.sizes and max(counting.sizes) <= WINDOW_CHARS + 200


def test_parse_window_snaps_to_top_level_lines() -> None:
    text = "".join(f"def f{i}():\n    return {i}\n" for i in range(2000))
    middle = text.index("return 1000")
    lo, hi = parse_window(text, middle, middle, 500, 500)
    assert text[lo:].startswith("def f")
    assert text[hi:].startswith("def f")
    assert lo <= middle <= hi
    assert hi - lo <= 1000
    assert parse_window("short", 2, 2, 500, 500) == (0, 5)


def test_bad_ranges_leave_the_candidate_alone() -> None:
    assert guard_syntax("abc", 5, 2, "x(", "python") == "x("
