"""The model-free NES predictor: rename propagation (Python parameters, locals, ``self.``
attributes, methods, module names and their importers through the index; JS/TS, Go, Rust
local scopes), repeated call-site edits, and the precision rules (ordinary edits, other scopes,
strings and comments, clashes, copies, stale snapshots predict nothing)."""

from __future__ import annotations

from pathlib import Path

from pygls.uris import from_fs_path

from weft.documents import Document
from weft.index.workspace import WorkspaceIndex
from weft.nes.candidate import Candidate
from weft.nes.history import EditHistory, TextChange
from weft.nes.predict import predict
from weft.nes.project import IndexProject

URI = "file:///w/m.py"


class Session:
    """One document being edited, its history fed as text sync would, and the predictor."""

    def __init__(
        self,
        text: str,
        uri: str = URI,
        language: str = "python",
        history: EditHistory | None = None,
    ) -> None:
        self.doc = Document(uri, text, 1, language)
        self.history = history if history is not None else EditHistory()
        self.clock = 10.0

    @property
    def text(self) -> str:
        return self.doc.text

    def replace(self, start: int, end: int, new: str) -> None:
        self.clock += 0.5
        version = (self.doc.version or 0) + 1
        line = self.text.count("\n", 0, start)
        self.history.record(
            self.doc.uri, self.text, TextChange(start, end, new, line), version, self.clock
        )
        text = self.text[:start] + new + self.text[end:]
        self.doc = Document(self.doc.uri, text, version, self.doc.language_id)

    def retype(self, needle: str, new: str, nth: int = 0, within: str = "") -> None:
        """Replace the ``nth`` occurrence of ``needle`` (after ``within``, if given)."""
        index = self.text.index(within) if within else -1
        for _ in range(nth + 1):
            index = self.text.index(needle, index + 1)
        self.replace(index, index + len(needle), new)

    def insert_after(self, anchor: str, new: str) -> None:
        at = self.text.index(anchor) + len(anchor)
        self.replace(at, at, new)

    def predict(self, **kwargs) -> list[Candidate]:
        return predict(self.doc, self.history.recent(), **kwargs)

    def accept_all(self, **kwargs) -> int:
        """Accept the first candidate until none is left in this document; how many were."""
        accepted = 0
        while (candidates := self.predict(**kwargs)) and candidates[0].uri == self.doc.uri:
            first = candidates[0]
            assert first.is_fresh(self.doc)
            self.replace(first.start, first.end, first.text)
            accepted += 1
            assert accepted < 100
        return accepted


# -- Python renames -----------------------------------------------------------------------

AREA = """def area(width, height):
    result = width * height
    print("width", width)  # width is the first side
    return result + width


def other(width):
    return width
"""


def test_parameter_rename_is_offered_at_each_use_then_nothing():
    s = Session(AREA)
    s.retype("width", "w")
    first = s.predict()
    assert [c.old_text for c in first] == ["width"] * 3
    assert first[0].label == "rename `width` → `w` (2 more)"
    assert s.accept_all() == 3
    assert s.text == AREA.replace("def area(width", "def area(w").replace(
        "result = width", "result = w"
    ).replace('"width", width)', '"width", w)').replace("result + width", "result + w")
    assert "def other(width):\n    return width\n" in s.text  # another scope: untouched
    assert '"width"' in s.text and "# width is" in s.text  # strings and comments: untouched


def test_candidates_are_nearest_after_the_cursor_first():
    s = Session(AREA)
    s.retype("width", "w", nth=2)  # the use in print(): a use, not a definition...
    assert s.predict() == []  # ...so one such edit is not enough
    s.retype("width", "w", nth=0)  # the parameter itself
    starts = [c.start for c in s.predict(cursor=s.text.index("result + width"))]
    assert starts == sorted(starts, key=lambda x: (x < s.text.index("result + width"), x))


def test_two_renamed_uses_are_enough_without_the_definition():
    s = Session(AREA)
    s.retype("width", "w", nth=1)
    s.retype("width", "w", nth=2)
    (candidate, *rest) = s.predict()
    assert {c.old_text for c in [candidate, *rest]} == {"width"}
    assert len(rest) == 1  # the parameter and the last use


def test_local_variable_rename_from_its_assignment():
    s = Session(AREA)
    s.retype("result", "total")
    (candidate,) = s.predict()
    assert candidate.old_text == "result" and candidate.text == "total"
    assert s.text[candidate.start - 11 : candidate.start] == "    return "


def test_rename_of_a_prefix_of_the_identifier_only():
    s = Session("def f(item_count):\n    return item_count + item_count\n")
    at = s.text.index("count")
    s.replace(at, at + 5, "total")  # item_count → item_total, typed inside the name
    assert [c.text for c in s.predict()] == ["item_total", "item_total"]


def test_typing_a_new_name_char_by_char_predicts_the_final_rename():
    s = Session("def f(size):\n    return size * 2\n")
    at = s.text.index("size")
    s.replace(at, at + 4, "")
    for offset, char in enumerate("length"):
        s.replace(at + offset, at + offset, char)
    (candidate,) = s.predict()
    assert (candidate.old_text, candidate.text) == ("size", "length")


SELF = """class Counter:
    def __init__(self):
        self.count = 0

    def bump(self, count):
        self.count += count
        return self.count

    def peer(self, other):
        return other.count


class Other:
    def __init__(self):
        self.count = 1
"""


def test_attribute_rename_through_self_stays_in_its_class():
    s = Session(SELF)
    s.retype("self.count = 0", "self.total = 0")
    s.accept_all()
    assert "self.total += count" in s.text and "return self.total" in s.text
    assert "def bump(self, count):" in s.text  # the parameter is another variable
    assert "other.count" in s.text  # another object's attribute
    assert "class Other:\n    def __init__(self):\n        self.count = 1" in s.text


def test_attribute_in_closures_of_the_method_follows_unless_self_is_rebound():
    s = Session(
        "class A:\n"
        "    def __init__(self):\n"
        "        self.n = 0\n"
        "\n"
        "    def run(self):\n"
        "        f = lambda: self.n\n"
        "        def inner():\n"
        "            return self.n\n"
        "        def unbound(self):\n"
        "            return self.n\n"
        "        return [self.n for _ in range(2)]\n"
    )
    s.retype("self.n = 0", "self.count = 0")
    assert s.accept_all() == 3
    assert "lambda: self.count" in s.text and "    return self.count\n        def" in s.text
    assert "def unbound(self):\n            return self.n\n" in s.text
    assert "[self.count for _" in s.text


def test_attribute_use_alone_is_not_a_rename():
    s = Session(SELF)
    s.retype("self.count\n", "self.total\n")  # `return self.count`: a read, maybe a switch
    assert s.predict() == []


def test_method_rename_reaches_its_calls_through_self():
    s = Session(
        "class A:\n    def helper(self):\n        return 1\n\n"
        "    def run(self):\n        return self.helper() + helper()\n"
    )
    s.retype("helper", "assist")
    (candidate,) = s.predict()
    assert s.text[candidate.start - 5 : candidate.end] == "self.helper"


MODULE = """import os

LIMIT = 10


def check(value):
    return value < LIMIT


def shadow():
    LIMIT = 3
    return LIMIT


print(check(LIMIT), os.sep)
"""


def test_module_name_rename_skips_a_shadowing_local():
    s = Session(MODULE)
    s.retype("LIMIT", "MAX_ITEMS")
    assert s.accept_all() == 2
    assert "value < MAX_ITEMS" in s.text and "check(MAX_ITEMS)" in s.text
    assert "LIMIT = 3\n    return LIMIT" in s.text


def test_comprehension_lambda_global_and_nonlocal_scopes():
    s = Session(
        "n = 1\n"
        "def f(xs):\n"
        "    ys = [n for n in xs]\n"
        "    g = lambda n: n\n"
        "    global n\n"
        "    n = 2\n"
        "    return n\n"
        "print(n)\n"
    )
    s.retype("n = 1", "m = 1")
    s.accept_all()
    assert s.text.startswith("m = 1\ndef f(xs):\n    ys = [n for n in xs]\n    g = lambda n: n\n")
    assert "global m\n    m = 2\n    return m\nprint(m)" in s.text


def test_with_and_for_targets_in_tuples_are_bindings():
    s = Session("def f(items):\n    with g() as (_, conn):\n        return conn.send(items)\n")
    s.retype("conn", "connection")
    assert [c.old_text for c in s.predict()] == ["conn"]


def test_nonlocal_reaches_the_enclosing_function():
    s = Session(
        "def outer():\n    total = 0\n    def inner():\n        nonlocal total\n"
        "        total += 1\n    return total\n"
    )
    s.retype("total", "count")
    assert s.accept_all() == 3
    assert "total" not in s.text


def test_unicode_positions_are_characters():
    s = Session('def f(größe):\n    s = "ü"; return größe + größe\n')
    s.retype("größe", "maß")
    s.accept_all()
    assert s.text == 'def f(maß):\n    s = "ü"; return maß + maß\n'


# -- precision: nothing after ordinary edits -------------------------------------------------

ORDINARY = """def total(prices, tax):
    # sum of prices
    subtotal = sum(prices)
    label = "prices"
    return subtotal * (1 + tax) + 0.5
"""


def ordinary_edits() -> list[tuple[str, str, str]]:
    return [
        ("a new line of code", "    return", "    log(subtotal)\n"),
        ("a changed literal", "0.5", "0.75"),
        ("a comment", "# sum of prices", "# total of prices"),
        ("a string", '"prices"', '"items"'),
        ("an attribute access", "sum(prices)", "sum(prices.values())"),
        ("a keyword", "return subtotal", "yield subtotal"),
    ]


def test_ordinary_edits_predict_nothing():
    for name, needle, new in ordinary_edits():
        s = Session(ORDINARY)
        if needle.startswith("    return"):
            s.insert_after("sum(prices)\n", new)
        else:
            s.retype(needle, new)
        assert s.predict() == [], name


def test_a_rename_inside_a_comment_or_string_predicts_nothing():
    s = Session(ORDINARY)
    s.retype("prices", "items", within="# sum of ")
    assert s.predict() == []
    s = Session(ORDINARY)
    s.retype("prices", "items", within="label = ")
    assert s.predict() == []


def test_a_name_already_used_in_the_scope_is_no_rename():
    s = Session(ORDINARY)
    s.retype("subtotal", "tax")  # switches to the other parameter: a fix, not a rename
    assert s.predict() == []


def test_renaming_a_copied_function_leaves_the_original_alone():
    s = Session("def load():\n    return 1\n\ndef load():\n    return 2\n\nload()\n")
    s.retype("load", "load_v2", nth=1)
    assert s.predict() == []


def test_a_stale_snapshot_or_an_old_edit_predicts_nothing():
    s = Session(AREA)
    s.retype("width", "w")
    stale = Document(URI, s.text, (s.doc.version or 0) - 1, "python")
    assert predict(stale, s.history.recent()) == []
    for index in range(3):  # three later edits in other files push it out of "recent"
        other = Session(f"x{index} = 1\n", f"file:///w/o{index}.py", history=s.history)
        other.retype("1", "2")
    assert s.predict() == []


def test_parses_are_bounded_in_size_and_languages(monkeypatch):
    from weft.nes import scopes

    monkeypatch.setattr(scopes, "MAX_PARSE_BYTES", len(AREA) - 1)
    s = Session(AREA)
    s.retype("width", "w")
    assert s.predict() == []  # too big to analyse: nothing, never a guess
    monkeypatch.undo()
    assert s.predict()
    lua = Session("local function f(x)\n  return x\nend\n", "file:///w/m.lua", "lua")
    lua.retype("x", "y")
    assert lua.predict() == []  # no scope rules for the language


def test_an_undone_rename_predicts_nothing():
    s = Session(AREA)
    s.retype("width", "w")
    assert s.predict()
    s.retype("w,", "width,")
    assert s.predict() == []


# -- other languages ----------------------------------------------------------------------

TS = """let v = 1;
function f(v: number, { w = v }) {
  const o = { v };
  for (const v of o) { use(v); }
  return v + o.v;
}
use(v);
"""


def test_typescript_function_scope_shorthand_and_block_shadowing():
    s = Session(TS, "file:///w/m.ts", "typescript")
    s.retype("v", "value", within="function f(")
    s.accept_all()
    assert s.text == (
        "let v = 1;\n"
        "function f(value: number, { w = value }) {\n"
        "  const o = { v: value };\n"
        "  for (const v of o) { use(v); }\n"
        "  return value + o.v;\n"
        "}\n"
        "use(v);\n"
    )


def test_javascript_block_scoped_let():
    s = Session(
        "function g() {\n  let n = 1;\n  { let n = 2; use(n); }\n  return n;\n}\n",
        "file:///w/m.js",
        "javascript",
    )
    s.retype("n", "count", within="let ")
    s.accept_all()
    assert (
        s.text == "function g() {\n  let count = 1;\n  { let n = 2; use(n); }\n  return count;\n}\n"
    )


GO = """package main

func f(x int) (err error) {
	y := x
	x, err := g(x)
	if x := 2; x > 0 {
		use(x)
	}
	s := S{x: x}
	return err
}
"""


def test_go_parameter_rename_with_redeclaration_and_inner_shadowing():
    s = Session(GO, "file:///w/m.go", "go")
    s.retype("x", "n", within="func f(")
    s.accept_all()
    assert "func f(n int)" in s.text and "y := n" in s.text and "n, err := g(n)" in s.text
    assert "if x := 2; x > 0 {\n\t\tuse(x)" in s.text  # the inner x is another variable
    assert "S{x: n}" in s.text  # the field name stays


def test_go_named_result_reused_by_a_redeclaration():
    s = Session(GO, "file:///w/m.go", "go")
    s.retype("err", "failure")
    s.accept_all()
    assert "x, failure := g(x)" in s.text and "return failure" in s.text


RUST = """fn f(x: i32) -> i32 {
    let y = x;
    let x = x + 1;
    let t = T { x };
    match o { Some(x) => x, None => 0 };
    x
}
"""


def test_rust_shadowing_and_match_arms_are_other_variables():
    s = Session(RUST, "file:///w/m.rs", "rust")
    s.retype("x", "input", within="fn f(")
    s.accept_all()
    assert s.text == (
        "fn f(input: i32) -> i32 {\n"
        "    let y = input;\n"
        "    let x = input + 1;\n"
        "    let t = T { x };\n"
        "    match o { Some(x) => x, None => 0 };\n"
        "    x\n"
        "}\n"
    )


def test_rust_let_rename_reaches_shorthand_field_init():
    s = Session(RUST, "file:///w/m.rs", "rust")
    s.retype("let x", "let next")
    s.accept_all()
    assert "let t = T { x: next };" in s.text and s.text.endswith("    next\n}\n")
    assert "Some(x) => x" in s.text


# -- cross-file (Python, through the workspace index) ---------------------------------------


def make_project(root: Path, files: dict[str, str]) -> tuple[IndexProject, dict[str, Document]]:
    index = WorkspaceIndex(root, cache_file=False)
    documents: dict[str, Document] = {}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        uri = from_fs_path(str(path))
        assert uri is not None
        documents[uri] = Document(uri, text, 1, "python")
        assert index.update_document(path, text, "python")
    return IndexProject(index, documents), documents


def uri_of(root: Path, rel: str) -> str:
    uri = from_fs_path(str(root / rel))
    assert uri is not None
    return uri


def test_module_function_rename_follows_into_importers(tmp_path: Path):
    files = {
        "pkg/util.py": "def parse(text):\n    return text\n\n\ndef twice(t):\n    return parse(parse(t))\n",
        "app.py": "from pkg.util import parse\n\nprint(parse('x'))\n",
        "aliased.py": "from pkg.util import parse as p\n\nprint(p('y'))\n",
        "other.py": "def parse(x):\n    return x\n\nparse(1)\n",
    }
    project, documents = make_project(tmp_path, files)
    history = EditHistory()
    util = Session(files["pkg/util.py"], uri_of(tmp_path, "pkg/util.py"), history=history)
    util.retype("parse", "read_text")
    assert util.accept_all(project=project) == 2  # the two calls in the same file...
    documents[util.doc.uri] = util.doc
    project.index.update_document(tmp_path / "pkg/util.py", util.text, "python")
    # ...then the importers, offered as edits in their own documents
    candidates = util.predict(project=project)
    assert sorted((Path(c.uri).name, c.old_text, c.text) for c in candidates) == [
        ("aliased.py", "parse", "read_text"),
        ("app.py", "parse", "read_text"),
        ("app.py", "parse", "read_text"),
    ]
    assert all(c.version == 1 for c in candidates)  # the open documents' versions
    aliased = [c for c in candidates if c.uri.endswith("aliased.py")]
    assert len(aliased) == 1  # only the imported name; the alias `p` stays


def test_an_importer_continues_the_rename_once_the_module_has_it(tmp_path: Path):
    files = {
        "lib.py": "def render(x):\n    return x\n",
        "a.py": "from lib import render\n\nrender(1)\nrender(2)\n",
        "b.py": "from lib import render\n\nrender(3)\n",
    }
    project, documents = make_project(tmp_path, files)
    history = EditHistory()
    lib = Session(files["lib.py"], uri_of(tmp_path, "lib.py"), history=history)
    lib.retype("render", "draw")
    documents[lib.doc.uri] = lib.doc
    project.index.update_document(tmp_path / "lib.py", lib.text, "python")
    a = Session(files["a.py"], uri_of(tmp_path, "a.py"), history=history)
    a.retype("render", "draw")  # the user (or an accepted suggestion) renames the import
    documents[a.doc.uri] = a.doc
    assert a.accept_all(project=project) == 2
    assert a.text == "from lib import draw\n\ndraw(1)\ndraw(2)\n"
    # b.py is next, although the edit was made in a.py
    following = a.predict(project=project)
    assert [(Path(c.uri).name, c.old_text) for c in following] == [("b.py", "render")] * 2


def test_an_import_switched_to_an_existing_name_stays_local(tmp_path: Path):
    files = {
        "lib.py": "def render(x):\n    return x\n\n\ndef draw(x):\n    return x\n",
        "a.py": "from lib import render\n\nrender(1)\n",
        "b.py": "from lib import render\n\nrender(3)\n",
    }
    project, documents = make_project(tmp_path, files)
    a = Session(files["a.py"], uri_of(tmp_path, "a.py"))
    a.retype("render", "draw")
    documents[a.doc.uri] = a.doc
    assert a.accept_all(project=project) == 1  # its own use, never b.py
    assert a.predict(project=project) == []


# -- repeated call-site edits -----------------------------------------------------------------

CALLS = """def fetch(url):
    return url


a = fetch("a")
b = fetch("b")
c = fetch("c", 1)
d = client.fetch("d")
"""


def test_added_argument_after_the_definition_changed_is_offered_at_other_calls():
    s = Session(CALLS)
    s.insert_after("def fetch(url", ", timeout")
    assert s.predict() == []  # a changed definition alone is not a call-site edit
    s.insert_after('fetch("a"', ", timeout=5")
    (first, second) = s.predict()
    assert first.label == "add `timeout=5` to `fetch(…)` (1 more)"
    assert s.accept_all() == 2
    assert 'b = fetch("b", timeout=5)' in s.text and 'c = fetch("c", 1, timeout=5)' in s.text
    assert 'client.fetch("d")' in s.text  # another callee


def test_added_positional_argument_goes_only_to_calls_of_the_same_shape():
    s = Session(CALLS)
    s.insert_after("def fetch(url", ", retries")
    s.insert_after('fetch("a"', ", 3")
    s.accept_all()
    assert 'b = fetch("b", 3)' in s.text and 'c = fetch("c", 1)' in s.text


def test_a_one_off_added_argument_predicts_nothing():
    s = Session(CALLS)
    s.insert_after('fetch("a"', ", 3")
    assert s.predict() == []


def test_the_same_edit_made_twice_by_hand_is_offered_at_the_rest():
    s = Session(CALLS + 'e = fetch("e")\n')
    s.insert_after('fetch("a"', ", 3")
    s.insert_after('fetch("b"', ", 3")
    (candidate,) = s.predict()
    assert candidate.old_text == "" and candidate.text == ", 3"
    assert s.text[candidate.start - 9 : candidate.start] == 'fetch("e"'


def test_removed_argument_after_the_parameter_was_dropped():
    s = Session('def log(msg, level):\n    pass\n\nlog("a", 1)\nlog("b", 1)\nlog("c", 2)\n')
    s.retype(", level", "")
    s.retype(", 1", "")
    (candidate,) = s.predict()
    assert candidate.old_text == ", 1"
    assert s.text[candidate.start - 7 : candidate.start] == 'log("b"'


def test_a_definition_changed_in_another_file(tmp_path: Path):
    files = {"lib.py": "def fetch(url):\n    return url\n", "app.py": CALLS.split("\n\n\n")[1]}
    project, documents = make_project(tmp_path, files)
    history = EditHistory()
    lib = Session(files["lib.py"], uri_of(tmp_path, "lib.py"), history=history)
    lib.insert_after("def fetch(url", ", timeout")
    documents[lib.doc.uri] = lib.doc
    app = Session(files["app.py"], uri_of(tmp_path, "app.py"), history=history)
    app.insert_after('fetch("a"', ", timeout=5")
    assert app.predict() == []  # without the project the changed definition is not seen
    assert len(app.predict(project=project)) == 2
