"""SEARCH/REPLACE parsing, application, LSP line edits and diffs."""

from __future__ import annotations

import pytest

from weft.agent.edits import (
    apply_edit_blocks,
    apply_line_edits,
    line_edits,
    parse_edit_blocks,
    unified_diff,
)

ANSWER = """Here is the fix.

src/a.py
<<<<<<< SEARCH
def f():
    return 1
=======
def f():
    return 2
>>>>>>> REPLACE

src/b.py
```python
<<<<<<< SEARCH
x = 1
=======
x = 2
>>>>>>> REPLACE
```

new/mod.py
<<<<<<< SEARCH
=======
VALUE = 3
>>>>>>> REPLACE
"""


def test_parses_plain_fenced_and_new_file_blocks() -> None:
    parsed = parse_edit_blocks(ANSWER)
    assert parsed.errors == []
    assert [(b.number, b.path) for b in parsed.blocks] == [
        (1, "src/a.py"),
        (2, "src/b.py"),
        (3, "new/mod.py"),
    ]
    assert parsed.blocks[0].search == "def f():\n    return 1\n"
    assert parsed.blocks[0].replace == "def f():\n    return 2\n"
    assert parsed.blocks[2].search == ""
    assert parsed.blocks[2].replace == "VALUE = 3\n"


def test_path_decorations_are_stripped_and_missing_path_reuses_previous() -> None:
    text = "`src/a.py`:\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n"
    parsed = parse_edit_blocks(text)
    assert [b.path for b in parsed.blocks] == ["src/a.py", "src/a.py"]


def test_unterminated_block_is_an_error_naming_it() -> None:
    parsed = parse_edit_blocks("a.py\n<<<<<<< SEARCH\nx\n=======\ny\n")
    assert parsed.blocks == []
    assert parsed.errors[0].number == 1
    assert "REPLACE" in parsed.errors[0].reason


def test_block_without_path_is_an_error() -> None:
    parsed = parse_edit_blocks("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n")
    assert parsed.blocks == []
    assert "path" in parsed.errors[0].reason


def test_apply_exact_and_create() -> None:
    parsed = parse_edit_blocks(ANSWER)
    originals = {
        "src/a.py": "import os\n\ndef f():\n    return 1\n",
        "src/b.py": "x = 1\ny = x\n",
        "new/mod.py": None,
    }
    result = apply_edit_blocks(originals, parsed.blocks)
    assert result.errors == []
    assert result.texts == {
        "src/a.py": "import os\n\ndef f():\n    return 2\n",
        "src/b.py": "x = 2\ny = x\n",
        "new/mod.py": "VALUE = 3\n",
    }
    assert result.created == {"new/mod.py"}


def test_zero_and_several_matches_are_errors_by_block() -> None:
    text = "a.py\n<<<<<<< SEARCH\nnope\n=======\nz\n>>>>>>> REPLACE\na.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
    blocks = parse_edit_blocks(text).blocks
    result = apply_edit_blocks({"a.py": "x = 1\nx = 1\n"}, blocks)
    assert result.texts == {}
    reasons = {e.number: e.reason for e in result.errors}
    assert "matches nothing" in reasons[1]
    assert "matches 2 places" in reasons[2]


def test_indentation_only_difference_is_tolerated_and_reindented() -> None:
    original = "class A:\n    def f(self):\n        return 1\n"
    text = "a.py\n<<<<<<< SEARCH\ndef f(self):\n    return 1\n=======\ndef f(self):\n    return 2\n>>>>>>> REPLACE\n"
    result = apply_edit_blocks({"a.py": original}, parse_edit_blocks(text).blocks)
    assert result.errors == []
    assert result.texts["a.py"] == "class A:\n    def f(self):\n        return 2\n"


def test_nothing_fuzzier_than_whitespace() -> None:
    original = "def f():\n    return 1\n"
    text = "a.py\n<<<<<<< SEARCH\ndef f():\n    return 1;\n=======\nx\n>>>>>>> REPLACE\n"
    result = apply_edit_blocks({"a.py": original}, parse_edit_blocks(text).blocks)
    assert result.texts == {}
    assert "closest lines start at line 1" in result.errors[0].reason


def test_empty_search_on_existing_file_and_search_on_missing_file_are_errors() -> None:
    text = "a.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\nb.py\n<<<<<<< SEARCH\ny\n=======\nz\n>>>>>>> REPLACE\n"
    result = apply_edit_blocks({"a.py": "old\n", "b.py": None}, parse_edit_blocks(text).blocks)
    assert result.texts == {}
    assert [e.number for e in result.errors] == [1, 2]
    assert "does not exist" in result.errors[1].reason


def test_crlf_files_keep_crlf() -> None:
    text = "a.py\n<<<<<<< SEARCH\nb\n=======\nB\n>>>>>>> REPLACE\n"
    result = apply_edit_blocks({"a.py": "a\r\nb\r\nc\r\n"}, parse_edit_blocks(text).blocks)
    assert result.texts["a.py"] == "a\r\nB\r\nc\r\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\nc", "a\nb\nc\nd\n"),
        ("a\nb", "a\nc"),
        ("a\n", "x\na\ny\n"),
        ("", "new\n"),
        ("é𝄞\nb\n", "é𝄞\nc\n"),
        ("a\nb\nc\n", "c\n"),
    ],
)
def test_line_edits_round_trip(old: str, new: str) -> None:
    for encoding in ("utf-16", "utf-8", "utf-32"):
        assert apply_line_edits(old, line_edits(old, new, encoding), encoding) == new


def test_line_edits_are_minimal() -> None:
    edits = line_edits("a\nb\nc\n", "a\nB\nc\n")
    assert len(edits) == 1
    assert (edits[0].start_line, edits[0].end_line, edits[0].new_text) == (1, 2, "B\n")


def test_unified_diff() -> None:
    diff = unified_diff("a.py", "x = 1\n", "x = 2\n")
    assert diff.splitlines()[:2] == ["--- a/a.py", "+++ b/a.py"]
    assert "-x = 1" in diff and "+x = 2" in diff
    assert unified_diff("n.py", None, "y\n").startswith("--- /dev/null\n+++ b/n.py")
