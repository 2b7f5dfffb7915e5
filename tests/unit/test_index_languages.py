"""Each language's tags query on its fixture (tests/fixtures/languages/<lang>/): definitions with
kind, qualified name and doc, references, imports, and import resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from weft.index.extract import extract_file, first_doc_line, has_tags_query, unpack_ref
from weft.index.imports import Import, resolve_import
from weft.index.languages import OFFICIAL_GRAMMARS, language_for_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"

# file -> (definitions as (kind, qualname), references as (name, kind), imported modules)
EXPECTED: dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]], list[str]]] = {
    "python/shapes.py": (
        {
            ("constant", "MAX_SIDES"),
            ("variable", "registry"),
            ("class", "Shape"),
            ("field", "Shape.sides"),
            ("method", "Shape.area"),
            ("method", "Shape.name"),
            ("class", "Circle"),
            ("method", "Circle.__init__"),
            ("method", "Circle.area"),
            ("function", "make_circle"),
            ("function", "make_circle.check"),
        },
        {
            ("Circle", "call"),
            ("Shape", "class"),
            ("helper", "call"),
            ("helper", "import"),
            ("float", "type"),
            ("property", "call"),
            ("deque", "import"),
        },
        ["math", "collections", ".util"],
    ),
    "javascript/app.js": (
        {
            ("class", "Counter"),
            ("method", "Counter.increment"),
            ("field", "Counter.count"),
            ("function", "render"),
            ("function", "double"),
            ("constant", "VERSION"),
            ("variable", "instance"),
        },
        {("format", "call"), ("Counter", "class"), ("increment", "call"), ("format", "import")},
        ["react", "./format", "path"],
    ),
    "typescript/service.ts": (
        {
            ("interface", "User"),
            ("field", "User.id"),
            ("type", "UserId"),
            ("enum", "Role"),
            ("module", "Registry"),
            ("class", "Base"),
            ("method", "Base.describe"),
            ("class", "UserService"),
            ("method", "UserService.find"),
            ("method", "UserService.constructor"),
            ("field", "UserService.repo"),
            ("function", "createService"),
        },
        {
            ("Repo", "type"),
            ("Repo", "class"),
            ("UserService", "class"),
            ("User", "type"),
            ("get", "call"),
            ("Base", "class"),
        },
        ["./repo", "./options"],
    ),
    "tsx/Button.tsx": (
        {("interface", "ButtonProps"), ("function", "Button"), ("function", "Small")},
        {("Icon", "class"), ("Button", "class"), ("ButtonProps", "type")},
        ["./Icon"],
    ),
    "go/server.go": (
        {
            ("constant", "MaxClients"),
            ("variable", "defaultName"),
            ("interface", "Handler"),
            ("method", "Handler.Serve"),
            ("struct", "Server"),
            ("field", "Server.Name"),
            ("type", "ID"),
            ("function", "NewServer"),
            ("method", "Server.Serve"),
        },
        {("ToUpper", "call"), ("Println", "call"), ("Server", "type")},
        ["fmt", "strings"],
    ),
    "rust/lib.rs": (
        {
            ("constant", "MAX"),
            ("struct", "Point"),
            ("field", "Point.x"),
            ("enum", "Shape"),
            ("enum_member", "Shape.Circle"),
            ("interface", "Area"),
            ("method", "Area.area"),
            ("method", "Point.new"),
            ("method", "Point.area"),
            ("type", "Map"),
            ("macro", "square"),
            ("module", "util"),
            ("function", "util.helper"),
            ("function", "run"),
        },
        {
            ("new", "call"),
            ("println", "call"),
            ("helper", "call"),
            ("Point", "type"),
            ("Area", "implementation"),
        },
        ["std::collections", "crate::util"],
    ),
    "java/Library.java": (
        {
            ("class", "Library"),
            ("field", "Library.books"),
            ("method", "Library.Library"),
            ("method", "Library.add"),
            ("enum", "Library.Kind"),
            ("enum_member", "Library.Kind.FICTION"),
            ("interface", "Shelf"),
            ("method", "Shelf.add"),
            ("class", "Book"),
        },
        {("add", "call"), ("max", "call"), ("Book", "type"), ("Shelf", "implementation")},
        ["java.util", "java.util", "java.lang.Math"],
    ),
    "c/list.c": (
        {
            ("macro", "LIST_MAX"),
            ("struct", "node"),
            ("field", "node.next"),
            ("type", "node_t"),
            ("enum", "color"),
            ("enum_member", "color.RED"),
            ("variable", "count"),
            ("function", "list_push"),
            ("function", "list_len"),
        },
        {("malloc", "call"), ("node_t", "type")},
        ["<stdlib.h>", "list.h"],
    ),
    "cpp/widget.cpp": (
        {
            ("namespace", "ui"),
            ("class", "ui.Widget"),
            ("method", "ui.Widget.draw"),
            ("method", "ui.Widget.size"),
            ("method", "ui.Widget.~Widget"),
            ("field", "ui.Widget.name_"),
            ("type", "ui.Name"),
            ("function", "main"),
        },
        {("render", "call"), ("draw", "call"), ("Widget", "type")},
        ["<string>", "widget.hpp"],
    ),
}

DOCS = {
    "python/shapes.py": {
        "Shape": "A shape with an area.",
        "Shape.area": "Area in square units.",
        "make_circle": "Build a circle of the given size.",
    },
    "javascript/app.js": {
        "Counter": "A counter that renders itself.",
        "Counter.increment": "Increment by one.",
    },
    "typescript/service.ts": {
        "User": "What a user looks like.",
        "UserService.find": "Find one user.",
    },
    "go/server.go": {
        "Server.Serve": "Serve answers one request.",
        "MaxClients": "MaxClients bounds the pool.",
    },
    "rust/lib.rs": {"Point": "A point in space.", "Point.new": "Make a point."},
    "java/Library.java": {"Library": "A library of books.", "Library.add": "Add one book."},
    "c/list.c": {"list_push": "Push a value onto the list.", "node": "A node in the list."},
    "cpp/widget.cpp": {"ui.Widget": "A widget on screen."},
}


def extract(rel: str):
    path = FIXTURES / rel
    language = language_for_path(path)
    assert language is not None
    symbols = extract_file(path.read_bytes(), language)
    assert symbols is not None
    return symbols


def test_every_official_language_has_a_fixture_and_a_query():
    covered = {language_for_path(rel) for rel in EXPECTED}
    assert covered == set(OFFICIAL_GRAMMARS)
    assert all(has_tags_query(language) for language in OFFICIAL_GRAMMARS)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_definitions(rel):
    expected_defs, _, _ = EXPECTED[rel]
    found = {(s.kind, s.qualname) for s in extract(rel).defs}
    assert expected_defs <= found, expected_defs - found


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_references(rel):
    _, expected_refs, _ = EXPECTED[rel]
    symbols = extract(rel)
    found = {
        (name, unpack_ref(p)[2]) for name, positions in symbols.refs.items() for p in positions
    }
    assert expected_refs <= found, expected_refs - found


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_imports(rel):
    _, _, modules = EXPECTED[rel]
    assert [i.module for i in extract(rel).imports] == modules


@pytest.mark.parametrize("rel", sorted(DOCS))
def test_docs_and_signatures(rel):
    by_qualname = {s.qualname: s for s in extract(rel).defs}
    for qualname, doc in DOCS[rel].items():
        assert by_qualname[qualname].doc == doc
        assert by_qualname[qualname].signature.strip()
        assert by_qualname[qualname].name in by_qualname[qualname].signature


def test_positions_are_zero_based_name_positions():
    source = (FIXTURES / "python/shapes.py").read_text().splitlines()
    for symbol in extract("python/shapes.py").defs:
        line = source[symbol.line].encode()
        assert line[symbol.col : symbol.col + len(symbol.name)].decode() == symbol.name
        assert symbol.start_line <= symbol.line <= symbol.end_line


def test_reference_positions_point_at_the_name():
    source = (FIXTURES / "go/server.go").read_text().splitlines()
    symbols = extract("go/server.go")
    for name, positions in symbols.refs.items():
        for packed in positions:
            line, col, _ = unpack_ref(packed)
            assert source[line][col : col + len(name)] == name


def test_import_names():
    py = extract("python/shapes.py").imports
    assert Import("collections", ("OrderedDict", "deque"), 3) in py
    js = extract("javascript/app.js").imports
    assert js[0].names == ("default", "useState")
    rust = extract("rust/lib.rs").imports
    assert rust[0].names == ("HashMap", "HashSet")


def test_language_pack_language_parses_without_a_query():
    symbols = extract_file(b'[tool]\nname = "x"\n', "toml")
    assert symbols is not None and symbols.defs == []


def test_first_doc_line_strips_markers():
    assert first_doc_line('"""\n    Summary here.\n    More."""') == "Summary here."
    assert first_doc_line("/** Adds.\n * More */") == "Adds."
    assert first_doc_line("/// Rust doc") == "Rust doc"
    assert first_doc_line("# comment") == "comment"
    assert first_doc_line("r'''raw'''") == "raw"


# -- resolution ---------------------------------------------------------------------------


def test_python_resolution():
    files = {
        "pkg/__init__.py",
        "pkg/util.py",
        "pkg/sub/__init__.py",
        "pkg/sub/mod.py",
        "top.py",
        "src/lib/__init__.py",
        "src/lib/core.py",
    }
    assert resolve_import("pkg/sub/mod.py", "python", Import("..util", ("helper",), 0), files) == [
        "pkg/util.py"
    ]
    assert resolve_import("pkg/util.py", "python", Import(".sub", ("mod",), 0), files) == [
        "pkg/sub/__init__.py",
        "pkg/sub/mod.py",
    ]
    # from . import util: the package itself runs too
    assert resolve_import("pkg/util.py", "python", Import(".", ("util",), 0), files) == [
        "pkg/__init__.py",
        "pkg/util.py",
    ]
    assert resolve_import("pkg/util.py", "python", Import("top", (), 0), files) == ["top.py"]
    assert resolve_import("top.py", "python", Import("pkg.sub.mod", (), 0), files) == [
        "pkg/sub/mod.py"
    ]
    assert resolve_import("top.py", "python", Import("lib.core", (), 0), files) == [
        "src/lib/core.py"
    ]
    assert resolve_import("top.py", "python", Import("os", (), 0), files) == []
    assert resolve_import("top.py", "python", Import("...far", (), 0), files) == []


def test_ecma_resolution():
    files = {"src/a.ts", "src/b/index.ts", "src/c.js", "src/d.tsx", "lib/e.ts"}
    assert resolve_import("src/x.ts", "typescript", Import("./a", (), 0), files) == ["src/a.ts"]
    assert resolve_import("src/x.ts", "typescript", Import("./a.js", (), 0), files) == ["src/a.ts"]
    assert resolve_import("src/x.ts", "typescript", Import("./b", (), 0), files) == [
        "src/b/index.ts"
    ]
    assert resolve_import("src/x.js", "javascript", Import("./c.js", (), 0), files) == ["src/c.js"]
    assert resolve_import("src/x.tsx", "tsx", Import("./d", (), 0), files) == ["src/d.tsx"]
    assert resolve_import("src/x.ts", "typescript", Import("../lib/e", (), 0), files) == [
        "lib/e.ts"
    ]
    assert resolve_import("src/x.ts", "typescript", Import("react", (), 0), files) == []
    assert resolve_import("src/x.ts", "typescript", Import("../../out", (), 0), files) == []


def test_c_include_resolution():
    files = {"src/list.h", "include/api.h"}
    assert resolve_import("src/list.c", "c", Import("list.h", (), 0), files) == ["src/list.h"]
    assert resolve_import("src/list.c", "c", Import("api.h", (), 0), files) == ["include/api.h"]
    assert resolve_import("src/list.c", "c", Import("<stdio.h>", (), 0), files) == []
