"""Post-processing: golden tables over the whole pipeline, then each step on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from weft.completion import postprocess as pp
from weft.completion.extent import decide_multiline
from weft.completion.postprocess import (
    Selection,
    balance_brackets,
    context_for,
    cut_at_block_end,
    cut_single_line,
    drop_repetition,
    normalize_indentation,
    normalize_line_endings,
    normalize_newlines,
    postprocess,
    process_completion,
    reject_noop,
    scan_brackets,
    trim_suffix_overlap,
    trim_whitespace,
)

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
CURSOR = "█"


# -- golden tables ---------------------------------------------------------------------------


@dataclass
class GoldenCase:
    file: str
    name: str
    language: str
    options: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    expect_none: bool = False
    replaces: str = ""

    @property
    def id(self) -> str:
        return f"{self.language}: {self.name}"


def _section_text(lines: list[str]) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines).replace("⇥", "\t").replace("␤", "\n")


def load_golden(path: Path) -> list[GoldenCase]:
    cases: list[GoldenCase] = []
    case: GoldenCase | None = None
    section: str | None = None
    buffer: list[str] = []

    def close_section() -> None:
        if case is not None and section is not None:
            case.sections[section] = _section_text(buffer)

    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("=== "):
            close_section()
            case = GoldenCase(path.name, line[4:].strip(), path.stem)
            cases.append(case)
            section, buffer = None, []
        elif case is None:
            continue  # comments before the first case
        elif line.startswith("--- "):
            close_section()
            header = line[4:]
            name, _, value = header.partition(":")
            name = name.strip()
            section, buffer = None, []
            if name == "replaces":
                case.replaces = value.strip().replace("⇥", "\t")
            elif name == "expect" and value.strip() == "none":
                case.expect_none = True
            else:
                section = name
        elif section is not None:
            buffer.append(line)
        elif line.strip():
            key, _, value = line.partition(":")
            case.options[key.strip()] = value.strip()
    close_section()
    return cases


ALL_CASES = [case for path in sorted(GOLDEN.glob("*.golden")) for case in load_golden(path)]


def _document(case: GoldenCase) -> tuple[str, int]:
    text = case.sections["document"] + "\n"
    if case.options.get("eol") == "crlf":
        text = text.replace("\n", "\r\n")
    assert text.count(CURSOR) == 1, "a golden document needs exactly one cursor marker"
    offset = text.index(CURSOR)
    return text.replace(CURSOR, ""), offset


def _multiline(case: GoldenCase, text: str, offset: int) -> bool:
    setting = case.options.get("multiline", "auto")
    if setting == "auto":
        decided = decide_multiline(text, offset, case.language, "auto")
        if "decided" in case.options:
            assert decided == (case.options["decided"] == "true"), "decide_multiline"
        return decided
    return setting == "true"


def test_golden_tables_cover_the_languages() -> None:
    by_language: dict[str, int] = {}
    for case in ALL_CASES:
        by_language[case.language] = by_language.get(case.language, 0) + 1
    assert len(ALL_CASES) >= 60
    assert set(by_language) >= {"python", "javascript", "typescript", "go", "rust"}
    assert any(case.options.get("eol") == "crlf" for case in ALL_CASES)
    assert any("\t" in case.sections["document"] for case in ALL_CASES)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_golden(case: GoldenCase) -> None:
    text, offset = _document(case)
    raw = case.sections["raw"]
    if case.options.get("raw_eol") == "crlf":
        raw = raw.replace("\n", "\r\n")
    multiline = _multiline(case, text, offset)
    ctx = context_for(text, offset, case.language)

    got = process_completion(ctx, raw, multiline)

    if case.expect_none:
        assert got is None
        return
    assert got is not None, "expected an item"
    expected = case.sections["expect"]
    if case.options.get("eol") == "crlf":
        expected = expected.replace("\n", "\r\n")
    assert got.insert_text == expected
    assert got.start_offset == offset
    assert text[offset : got.replace_end_offset] == case.replaces
    assert "\n" not in text[offset : got.replace_end_offset], "range must stay on the cursor line"
    if case.options.get("guarded") == "yes":
        unguarded = postprocess(ctx, raw, multiline)
        assert unguarded is not None and unguarded.insert_text != got.insert_text


# -- helpers for the focused tests ------------------------------------------------------------


def ctx_of(doc: str, language: str | None = "python") -> pp.CompletionContext:
    offset = doc.index(CURSOR)
    return context_for(doc.replace(CURSOR, "", 1), offset, language)


# -- context ----------------------------------------------------------------------------------


def test_context_reads_the_cursor_line_without_its_line_ending() -> None:
    ctx = ctx_of("a = 1\r\nb = f(█)\r\nc = 3\r\n")
    assert ctx.line_prefix == "b = f("
    assert ctx.line_suffix == ")"
    assert ctx.line_ending == "\r\n"
    assert ctx.preceding_lines == ("a = 1",)
    assert ctx.following_lines == ("c = 3",)


def test_context_line_ending_of_a_last_line_without_one_comes_from_the_line_before() -> None:
    assert ctx_of("a = 1\r\nb█").line_ending == "\r\n"
    assert ctx_of("a = 1\nb█").line_ending == "\n"
    assert ctx_of("b█").line_ending == "\n"


def test_context_looks_only_at_the_neighbourhood() -> None:
    lines = [f"line_{i} = {i}" for i in range(50_000)]
    text = "\n".join(lines[:25_000]) + "\nx = █\n" + "\n".join(lines[25_000:]) + "\n"
    ctx = ctx_of(text)
    assert 0 < len(ctx.preceding_lines) <= pp.NEIGHBOURHOOD_LINES
    assert 0 < len(ctx.following_lines) <= pp.NEIGHBOURHOOD_LINES
    assert ctx.preceding_lines[-1] == "line_24999 = 24999"
    assert ctx.following_lines[0] == "line_25000 = 25000"
    assert sum(map(len, ctx.preceding_lines)) <= pp.NEIGHBOURHOOD_CHARS


def test_context_indent_unit() -> None:
    assert ctx_of("def f():\n\tif x:\n\t\t█\n").indent_unit == "\t"
    assert ctx_of("function f() {\n  if (x) {\n    █\n  }\n}\n", "javascript").indent_unit == "  "
    assert ctx_of("x = █\n").indent_unit == "    "
    assert ctx_of("x := █\n", "go").indent_unit == "\t"


def test_out_of_range_offset_is_clamped() -> None:
    ctx = context_for("abc", 99, None)
    assert ctx.offset == 3 and ctx.line_prefix == "abc"


# -- each step ------------------------------------------------------------------------------


def test_normalize_newlines() -> None:
    assert normalize_newlines("a\r\nb\rc\n") == "a\nb\nc\n"


def test_trim_whitespace_drops_trailing_blanks_and_a_doubled_leading_space() -> None:
    ctx = ctx_of("x = █\n")
    assert trim_whitespace("  foo()  \n   \n", ctx) == "foo()"
    ctx = ctx_of("def f():█\n")
    assert trim_whitespace("\n    return 1   \n", ctx) == "\n    return 1"


def test_cut_single_line() -> None:
    assert cut_single_line("a + b\nc") == "a + b"
    assert cut_single_line("\nreturn") == ""


def test_drop_repetition_keeps_one_copy_of_a_looping_line() -> None:
    assert drop_repetition("a()\n    b()\n    b()\n    b()\n    b()") == "a()\n    b()"


def test_drop_repetition_keeps_one_copy_of_a_looping_block() -> None:
    text = "x = 1\nif a:\n    go()\nif a:\n    go()\nif a:\n    go()"
    assert drop_repetition(text) == "x = 1\nif a:\n    go()"


def test_drop_repetition_leaves_closing_lines_and_two_copies_alone() -> None:
    closers = "            x()\n        }\n    }\n}"
    assert drop_repetition(closers) == closers
    twice = "a.append(1)\na.append(1)"
    assert drop_repetition(twice) == twice


def test_drop_repetition_cuts_a_degenerate_line_tail() -> None:
    assert drop_repetition("total = 0\nx = y + y + y + y + y + y + y + y + y") == "total = 0"
    assert drop_repetition("values = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0") == "values = [0, 0"


def test_drop_repetition_keeps_separator_lines() -> None:
    text = "# ------------------------------\nx = 1"
    assert drop_repetition(text) == text


def test_cut_at_block_end_python_dedent() -> None:
    ctx = ctx_of("def f():\n    █\n")
    assert cut_at_block_end("x = 1\n    return x\n\ndef g():\n    pass", ctx) == (
        "x = 1\n    return x"
    )


def test_cut_at_block_end_keeps_the_closing_line_only_when_the_document_lacks_it() -> None:
    open_end = ctx_of("function f() {\n  █", "javascript")
    closed = ctx_of("function f() {\n  █\n}\n", "javascript")
    text = "return 1;\n}\n\nfunction g() {}"
    assert cut_at_block_end(text, open_end) == "return 1;\n}"
    assert cut_at_block_end(text, closed) == "return 1;"


def test_cut_at_block_end_continues_through_else() -> None:
    ctx = ctx_of("def f(x):\n    if x:█\n", "python")
    text = "\n        a()\n    else:\n        b()\n    return 2"
    assert cut_at_block_end(text, ctx) == "\n        a()\n    else:\n        b()"


def test_cut_at_block_end_completing_a_line_stops_at_the_next_statement() -> None:
    ctx = ctx_of("def f():\n    x = █\n", "python")
    assert cut_at_block_end("compute(\n        1,\n    )\n    y = 2", ctx) == (
        "compute(\n        1,\n    )"
    )


def test_normalize_indentation_spaces_to_tabs_and_back() -> None:
    tabs = ctx_of("func f() {\n\t█\n}\n", "go")
    assert normalize_indentation("if x {\n        y()\n    }", tabs) == "if x {\n\t\ty()\n\t}"
    spaces = ctx_of("function f() {\n  if (a) {\n    █\n  }\n}\n", "javascript")
    assert normalize_indentation("if (b) {\n\t\t\tc();\n\t\t}", spaces) == (
        "if (b) {\n      c();\n    }"
    )


def test_trim_suffix_overlap_following_lines_with_a_partial_last_line() -> None:
    ctx = ctx_of("def f(xs):\n    █\n    total = sum(xs)\n    return total\n")
    assert trim_suffix_overlap("xs = list(xs)\n    total = sum(xs)\n    ret", ctx) == (
        "xs = list(xs)"
    )


def test_trim_suffix_overlap_respects_indentation() -> None:
    # the candidate's `}` closes its own `if`, not the function's `}` below the cursor
    ctx = ctx_of("function f() {\n  █\n}\n", "javascript")
    text = "if (a) {\n    b();\n  }"
    assert trim_suffix_overlap(text, ctx) == text


def test_trim_suffix_overlap_same_line_only_when_balanced() -> None:
    ctx = ctx_of("print(█)\n")
    assert trim_suffix_overlap("a, b)", ctx) == "a, b"
    assert trim_suffix_overlap("f(x)", ctx) == "f(x)"
    ctx = ctx_of("y = █ + 1\n")
    assert trim_suffix_overlap("x + 1", ctx) == "x"


def test_balance_brackets_replaces_auto_closed_characters() -> None:
    assert balance_brackets("a) + 1", ctx_of("f(█)\n")) == 1
    assert balance_brackets('abc") + 1', ctx_of('f("█")\n')) == 2
    assert balance_brackets("x))", ctx_of("f(g(█)\n")) == 1
    assert balance_brackets("a) {", ctx_of("if (█) {\n", "javascript")) == 1


def test_balance_brackets_leaves_unrelated_suffix_alone() -> None:
    assert balance_brackets("a)", ctx_of("f(█]\n")) == 0
    assert balance_brackets("f(x)", ctx_of("print(█)\n")) == 0
    assert balance_brackets("a)", ctx_of("f(█\n)\n")) == 0  # nothing after the cursor on its line


def test_reject_noop() -> None:
    ctx = ctx_of("x = █foo()\nbar()\n")
    assert reject_noop("   \n  ", ctx)
    assert reject_noop("foo()", ctx)
    assert reject_noop("foo()\nbar()", ctx)
    assert reject_noop(")", ctx_of("f(█)\n"), consumed=1)
    assert not reject_noop("baz()", ctx)


def test_normalize_line_endings() -> None:
    assert normalize_line_endings("a\nb", "\r\n") == "a\r\nb"
    assert normalize_line_endings("a\nb", "\n") == "a\nb"


def test_scan_brackets_strings_comments_and_lifetimes() -> None:
    assert scan_brackets('"(" + x)', "python").unpaired == ")"
    assert scan_brackets("x # )\n)", "python").unpaired == ")"
    assert scan_brackets('"""a "quoted" (\n"""', "python").balanced
    assert scan_brackets("&'a str)", "rust").unpaired == ")"
    assert scan_brackets("abc')", "python", string="'").unpaired == "')"
    assert scan_brackets("foo(", "javascript").unclosed == ["("]


def test_postprocess_pipeline_returns_offsets() -> None:
    doc = "total = sum(█)\n"
    ctx = ctx_of(doc)
    cand = postprocess(ctx, "values) * 2\r\n", multiline=False)
    assert cand is not None
    assert (cand.insert_text, cand.start_offset, cand.replace_end_offset) == (
        "values) * 2",
        ctx.offset,
        ctx.offset + 1,
    )


def test_postprocess_single_line_mode_cuts_at_the_first_line() -> None:
    ctx = ctx_of("def f():\n    █\n")
    cand = postprocess(ctx, "x = 1\n    return x", multiline=False)
    assert cand is not None and cand.insert_text == "x = 1"


# -- selectedCompletionInfo -----------------------------------------------------------------


def test_selected_completion_item_text_and_range_are_kept() -> None:
    doc = "import os\nos.pa█\n"
    ctx = ctx_of(doc)
    start = doc.index("pa")
    selected = Selection(start, ctx.offset, "path")
    cand = postprocess(ctx, ".join(a, b)", multiline=False, selected=selected)
    assert cand is not None
    assert cand.insert_text == "path.join(a, b)"
    assert (cand.start_offset, cand.replace_end_offset) == (start, ctx.offset)


def test_selected_completion_with_auto_closed_paren() -> None:
    doc = "print(os.pa█)\n"
    ctx = ctx_of(doc)
    start = doc.index("pa")
    cand = postprocess(ctx, ".sep) + x", False, Selection(start, ctx.offset, "path"))
    assert cand is not None
    assert cand.insert_text == "path.sep) + x"
    assert ctx.text[cand.start_offset : cand.replace_end_offset] == "pa)"


def test_selected_completion_outside_the_cursor_line_gives_no_item() -> None:
    ctx = ctx_of("a = 1\nos.pa█\n")
    assert postprocess(ctx, "th", False, Selection(0, ctx.offset, "path")) is None


def test_selected_completion_nothing_beyond_the_item_gives_no_item() -> None:
    doc = "os.pa█\n"
    ctx = ctx_of(doc)
    assert postprocess(ctx, "  ", False, Selection(doc.index("pa"), ctx.offset, "path")) is None


def test_process_completion_keeps_the_selected_text_when_the_guard_cuts() -> None:
    doc = "import os\nx = os.pa█\n"
    ctx = ctx_of(doc)
    selected = Selection(doc.index("pa"), ctx.offset, "path")
    cand = process_completion(ctx, ".join(a, b", multiline=False, selected=selected)
    assert cand is not None
    assert cand.insert_text == "path.join"
    assert ctx.text[cand.start_offset : cand.replace_end_offset] == "pa"


def test_cut_at_block_end_on_a_new_line_keeps_sibling_statements() -> None:
    ctx = ctx_of("def f(a):\n    █\n")
    text = "if a:\n        return 1\n    return 2"
    assert cut_at_block_end(text, ctx) == text


def test_cut_at_block_end_one_definition_at_a_time() -> None:
    ctx = ctx_of("class A:\n    █\n")
    text = "def a(self):\n        return 1\n\n    def b(self):\n        return 2"
    assert cut_at_block_end(text, ctx) == "def a(self):\n        return 1"
    js = ctx_of("class A {\n  █\n}\n", "javascript")
    text = "a() {\n    return 1;\n  }\n\n  b() {\n    return 2;\n  }"
    assert cut_at_block_end(text, js) == "a() {\n    return 1;\n  }"


def test_random_input_never_crashes_and_keeps_the_range_rules() -> None:
    import random

    rng = random.Random(1234)
    pieces = list("ab (){}[]\"'`:;,.=+\n\r\t#/\\") + ["def ", "if ", "    ", "\r\n", "é", "😀"]
    languages = ["python", "javascript", "typescript", "go", "rust", None]
    for _ in range(300):
        doc = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        offset = rng.randint(0, len(doc))
        language = rng.choice(languages)
        multiline = decide_multiline(doc, offset, language, "auto")
        ctx = context_for(doc, offset, language)
        got = process_completion(ctx, raw, multiline)
        if got is not None:
            assert got.start_offset == ctx.offset <= got.replace_end_offset
            assert "\n" not in doc[got.start_offset : got.replace_end_offset]
            assert got.insert_text.strip()


def test_guard_cut_down_to_the_auto_closed_characters_is_no_item() -> None:
    ctx = ctx_of("x = foo(█)\n")
    # everything the model wrote breaks the file; what is left would only re-type the `)`
    assert process_completion(ctx, ")))) + [", multiline=False) is None
