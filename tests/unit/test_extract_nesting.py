"""Tags extraction on pathological nesting (issue 11): wide ERROR nodes are queried child by
child with the same result as one query, deep definition chains stay linear (qualified names
capped, doc lookups bounded), and the start-depth cap holds."""

from __future__ import annotations

import pytest

from weft.index import extract
from weft.index.extract import MAX_QUALNAME, cached_parser, capture_all, extract_tree, tags_query

BROKEN = (
    "function before(a) { return helper(a) }\n"
    "class Kept { method() { return 1 } }\n"
    "let x = " + "(" * 300 + "\n"
    "function inside(b) { return other(b) }\n"
    "const arrow = () => call(1)\n"
)


def _normalise(captures: dict) -> dict:
    return {
        cap: sorted({(n.start_byte, n.end_byte) for n in nodes}) for cap, nodes in captures.items()
    }


@pytest.mark.parametrize("language", ["javascript", "python", "typescript"])
def test_querying_a_wide_error_child_by_child_finds_what_one_query_finds(monkeypatch, language):
    data = BROKEN.encode()
    tree = cached_parser(language).parse(data)
    whole = capture_all(tags_query(language), tree.root_node)
    monkeypatch.setattr(extract, "WIDE_ERROR", 20)  # the split path, on a small tree
    assert extract._wide_errors(tree.root_node)  # (there is an ERROR node that wide)
    split = capture_all(tags_query(language), tree.root_node)
    assert _normalise(split) == _normalise(whole)
    assert extract_tree(tree, data, language) == extract._collect(whole, data, language)


def test_the_split_keeps_line_ranges(monkeypatch):
    data = BROKEN.encode()
    tree = cached_parser("javascript").parse(data)
    monkeypatch.setattr(extract, "WIDE_ERROR", 20)
    symbols = extract_tree(tree, data, "javascript", lines=(3, 4))
    assert {s.name for s in symbols.defs} >= {"inside"}
    assert "before" not in {s.name for s in symbols.defs}


def test_a_deep_chain_of_definitions_is_capped_not_quadratic():
    depth = 3_000
    data = ("function f(){" * depth + "}" * depth + "\n").encode()
    tree = cached_parser("javascript").parse(data)
    symbols = extract_tree(tree, data, "javascript")
    assert symbols.defs  # the shallow ones are there...
    assert max(len(s.qualname) for s in symbols.defs) <= MAX_QUALNAME + 1
    assert all(s.doc == "" for s in symbols.defs[extract.MAX_DOC_NESTING :])
    assert len(symbols.defs) < depth  # ...and captures start no deeper than the cap


def test_deep_but_ordinary_code_is_still_fully_indexed():
    # 40 nested functions: well under every cap, each with its doc comment and full name
    body = "".join(f"// doc {i}\nfunction f{i}() {{\n" for i in range(40)) + "}\n" * 40
    data = body.encode()
    symbols = extract_tree(cached_parser("javascript").parse(data), data, "javascript")
    names = {s.name: s for s in symbols.defs}
    assert len(names) == 40
    assert names["f39"].qualname == ".".join(f"f{i}" for i in range(40))
    assert names["f3"].doc == "doc 3"
