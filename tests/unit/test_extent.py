"""Single or multi-line, and when a streamed candidate is long enough."""

from __future__ import annotations

import pytest

from weft.completion import extent
from weft.completion.extent import WINDOW_AFTER, WINDOW_BEFORE, decide_multiline, extent_complete
from weft.completion.postprocess import context_for
from weft.index.languages import get_parser

CURSOR = "█"


def decide(doc: str, language: str | None, setting: str = "auto") -> bool:
    offset = doc.index(CURSOR)
    return decide_multiline(doc.replace(CURSOR, "", 1), offset, language, setting)


def complete(doc: str, so_far: str, multiline: bool, language: str | None = "python") -> bool:
    offset = doc.index(CURSOR)
    ctx = context_for(doc.replace(CURSOR, "", 1), offset, language)
    return extent_complete(so_far, multiline, ctx)


def test_settings_always_and_never_decide_alone() -> None:
    assert decide("x = foo█bar\n", "python", "always")
    assert not decide("def f():█\n", "python", "never")


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("def f():█\n", "python"),
        ("class A:█\n    pass\n", "python"),
        ("    if x:  # check█\n", "python"),
        ("def f():\n    █\n", "python"),
        ("█", "python"),
        ("function f() {█}\n", "javascript"),
        ("const g = (x) =>█\n", "javascript"),
        ("foo(█);\n", "typescript"),
        ("func main() {█\n", "go"),
        ("fn main() {█}\n", "rust"),
        ("let v = vec![█];\n", "rust"),
        ("while (x) {█\n", None),
    ],
)
def test_auto_multiline(doc: str, language: str | None) -> None:
    assert decide(doc, language)


@pytest.mark.parametrize(
    ("doc", "language"),
    [
        ("x = foo█bar\n", "python"),
        ("if user█ and ok:\n", "python"),
        ("x = 1█\n", "python"),
        ("x = y[1:█]\n", "python"),
        ("# note: see below:█\n", "python"),
        ("// see {█\nfoo();\n", "javascript"),
        ('const s = "a {█";\n', "javascript"),
        ("let n: █ = 0;\n", "typescript"),
        ('fmt.Println("x"█)\n', "go"),
        ("let x = █\n", "rust"),
    ],
)
def test_auto_single_line(doc: str, language: str | None) -> None:
    assert not decide(doc, language)


def test_decide_parses_only_a_window_of_a_large_file(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = get_parser("python")
    assert real is not None

    class Counting:
        def parse(self, source: bytes):  # noqa: ANN202 - mirrors Parser.parse
            sizes.append(len(source))
            return real.parse(source)

    monkeypatch.setattr(extent, "get_parser", lambda language: Counting())
    body = "".join(f"def f{i}(a):\n    return a + {i}\n\n\n" for i in range(20000))
    doc = body + "def g():█\n" + body
    assert decide(doc, "python")
    assert sizes and max(sizes) <= WINDOW_BEFORE + WINDOW_AFTER + 200


def test_no_parse_unless_the_line_ends_in_an_opener(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(language: str) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(extent, "get_parser", forbidden)
    assert not decide("x = foo█bar\n", "python")
    assert decide("def f():\n    █\n", "python")


# -- extent_complete ------------------------------------------------------------------------


def test_single_line_is_complete_at_the_first_line_break() -> None:
    doc = "x = █\n"
    assert not complete(doc, "foo(1, ", multiline=False)
    assert complete(doc, "foo(1, 2)\ny", multiline=False)
    assert complete(doc, "foo(1, 2)\r\n", multiline=False)


def test_python_block_is_complete_at_the_dedent() -> None:
    doc = "def f(a):\n    █\n"
    assert not complete(doc, "if a:\n        return 1\n", multiline=True)
    assert not complete(doc, "if a:\n        return 1\n    return 2\n", multiline=True)
    assert complete(doc, "if a:\n        return 1\n    return 2\n\n\ndef g", multiline=True)


def test_a_dedent_that_may_become_else_waits_for_its_line() -> None:
    doc = "def f(a):\n    if a:█\n"
    assert not complete(doc, "\n        x()\n    el", multiline=True)
    assert not complete(doc, "\n        x()\n    else:", multiline=True)
    assert complete(doc, "\n        x()\n    return 2\n", multiline=True)


def test_brace_block_waits_for_the_whole_closing_line() -> None:
    doc = "function f(a) {\n  if (a) {█\n"
    assert not complete(doc, "\n    x();\n  }", multiline=True, language="javascript")
    assert not complete(doc, "\n    x();\n  } else {\n", multiline=True, language="javascript")
    assert complete(doc, "\n    x();\n  }\n", multiline=True, language="javascript")


def test_complete_when_the_model_starts_repeating_the_following_lines() -> None:
    doc = "def f(xs):\n    █\n    return total\n"
    assert not complete(doc, "total = sum(xs)\n", multiline=True)
    assert complete(doc, "total = sum(xs)\n    return total\n", multiline=True)


def test_complete_when_the_model_loops() -> None:
    doc = "def f():\n    █\n"
    looping = "a()\n    b()\n    b()\n    b()\n    b()\n"
    assert complete(doc, looping, multiline=True)
