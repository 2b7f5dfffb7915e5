"""search_text's engine (issue 11): RE2, line by line, a budget checked inside the scan, and
invalid patterns as tool errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from weft.agent.text_search import SearchPatternError, compile_pattern, search_lines


def run(pattern: str, files: dict[str, str], limit: int = 50, deadline: float | None = None):
    program = compile_pattern(pattern)
    return search_lines(program, list(files), files.get, limit, deadline or time.monotonic() + 60)


def test_catastrophic_pattern_runs_in_linear_time_and_finds_the_right_lines():
    # (a+)+$ against a's followed by "!" backtracks exponentially in Python's re (a few dozen
    # characters take minutes); RE2 answers at once, with the same result
    evil = "a" * 50_000 + "!"
    rows, out_of_time = run(r"(a+)+$", {"x.txt": f"{evil}\naaaa\n{evil}\n"})
    assert rows == [("x.txt", 2, "aaaa")] and not out_of_time


def test_matches_stay_within_a_line_and_anchor_per_line():
    files = {"a.py": "foo\n  bar\nfoo bar\r\nbaz"}
    assert run(r"foo\s+bar", files)[0] == [("a.py", 3, "foo bar")]
    assert run(r"^\s+bar$", files)[0] == [("a.py", 2, "  bar")]
    assert run(r"bar$", files)[0] == [("a.py", 2, "  bar"), ("a.py", 3, "foo bar")]
    assert run(r"[^x]+z", files)[0] == [("a.py", 4, "baz")]  # never across a line break


def test_one_row_per_line_and_the_limit_holds():
    files = {"a": "xx xx xx\n" * 10, "b": "xx\n"}
    rows, _ = run("xx", files, limit=4)
    assert rows == [("a", n, "xx xx xx") for n in (1, 2, 3, 4)]


def test_non_ascii_lines_and_numbers():
    files = {"é.txt": "café\nnaïve ünïcode\n😀 smile\n"}
    assert run("ü", files)[0] == [("é.txt", 2, "naïve ünïcode")]
    assert run("smile$", files)[0] == [("é.txt", 3, "😀 smile")]


def test_the_budget_is_checked_inside_a_file(monkeypatch):
    # a clock that moves one second per look: the deadline passes while the one big file is
    # being scanned, and the scan stops there (the old check ran between files only)
    ticks = iter(range(1, 10**7))
    monkeypatch.setattr("weft.agent.text_search.time.monotonic", lambda: next(ticks))
    text = "match\n" * 100_000
    rows, out_of_time = run("match", {"big": text, "next": "match\n"}, limit=10**6, deadline=1.5)
    assert out_of_time and rows == [("big", 1, "match")]


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("(", "missing )"), (r"(a)\1", "backreferences"), (r"foo(?=bar)", "lookaround"), ("", "")],
)
def test_patterns_re2_cannot_compile_are_errors_for_the_model(pattern, why):
    with pytest.raises(SearchPatternError) as info:
        compile_pattern(pattern)
    assert why in str(info.value)


def test_the_tool_answers_an_invalid_pattern_with_an_error_line(tmp_path: Path):
    from weft.agent.context import Workspace
    from weft.agent.tools import ToolBox

    (tmp_path / "a.py").write_text("x = 1\n")
    box = ToolBox(Workspace(tmp_path, lambda rel: False))
    answer = box.call("search_text", {"pattern": r"(x)\1"})
    assert answer.startswith("error: invalid regular expression:") and "RE2" in answer
    assert json.loads(box.call("search_text", {"pattern": r"(x+)+ ="})) == [
        {"path": "a.py", "line": 1, "text": "x = 1"}
    ]
