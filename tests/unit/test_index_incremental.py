"""Open documents: incremental re-parse and re-tag give what a full extraction gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from weft.index.extract import extract_file
from weft.index.incremental import IncrementalDocument, common_prefix, common_suffix, point_at

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"


def full(text: str, language: str):
    return extract_file(text.encode(), language)


def assert_same(doc_symbols, expected):
    assert sorted(doc_symbols.defs) == sorted(expected.defs)
    assert doc_symbols.refs == expected.refs
    assert doc_symbols.imports == expected.imports


def test_common_prefix_and_suffix():
    assert common_prefix(b"abcdef", b"abcxef") == 3
    assert common_prefix(b"abc", b"abc") == 3
    assert common_prefix(b"", b"x") == 0
    assert common_suffix(b"abcdef", b"abxdef", 6) == 3
    assert common_suffix(b"aaa", b"aaaa", 3) == 3
    big = bytes(range(256)) * 1000
    assert common_prefix(big, big[:5000] + b"!" + big[5001:]) == 5000


def test_point_at():
    assert point_at(b"ab\ncd\nef", 0) == (0, 0)
    assert point_at(b"ab\ncd\nef", 4) == (1, 1)
    assert point_at(b"ab\ncd\nef", 8) == (2, 2)


@pytest.mark.parametrize(
    ("rel", "language"),
    [
        ("python/shapes.py", "python"),
        ("go/server.go", "go"),
        ("typescript/service.ts", "typescript"),
        ("rust/lib.rs", "rust"),
    ],
)
def test_typing_matches_full_extraction(rel: str, language: str):
    """Typing an identifier character by character, a new line, then deleting it."""
    text = (FIXTURES / rel).read_text()
    doc = IncrementalDocument(language)
    doc.update(text)
    rng = random.Random(7)
    lines = text.splitlines(keepends=True)
    for _ in range(25):
        line = rng.randrange(len(lines))
        col = len(lines[line]) - len(lines[line].lstrip())
        offset = sum(len(part) for part in lines[:line]) + col
        for piece in ("x", "xy", "xyz"):  # an identifier growing at a line start
            edited = text[:offset] + piece + text[offset:]
            assert_same(doc.update(edited), full(edited, language))
        assert_same(doc.update(text), full(text, language))


def test_inserting_and_removing_definitions_shifts_the_rest():
    text = (FIXTURES / "python/shapes.py").read_text()
    doc = IncrementalDocument("python")
    doc.update(text)
    anchor = text.index("class Circle")
    added = text[:anchor] + "def inserted(a):\n    return helper(a)\n\n\n" + text[anchor:]
    symbols = doc.update(added)
    assert_same(symbols, full(added, "python"))
    assert any(s.name == "inserted" for s in symbols.defs)
    circle = next(s for s in symbols.defs if s.name == "Circle")
    assert added.splitlines()[circle.line].startswith("class Circle")
    assert_same(doc.update(text), full(text, "python"))


def test_full_update_repairs_scope_changes_far_from_the_edit():
    text = "class A:\n    def f(self):\n        pass\n\n    def g(self):\n        pass\n"
    doc = IncrementalDocument("python")
    doc.update(text)
    dedented = text.replace("class A:\n", "def top():\n    pass\nclass A:\n")
    doc.update(dedented)
    assert_same(doc.update(dedented, full=True), full(dedented, "python"))


def test_same_text_is_free_and_none_parser_languages_are_empty():
    doc = IncrementalDocument("python")
    first = doc.update("def a():\n    pass\n")
    assert doc.update("def a():\n    pass\n") is first
    assert IncrementalDocument("no-such-language").update("anything").defs == []
