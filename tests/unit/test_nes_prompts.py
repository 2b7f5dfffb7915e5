"""NES prompts: the exact strings of each format (Sweep Next-Edit, Zeta, the chat prompt) are
pinned here, special tokens included, as tests/unit/test_prompt.py pins the FIM templates; plus
the windows, the "before the latest edit" window, clipping, budgets and refused inputs."""

from __future__ import annotations

from weft.documents import Document
from weft.nes.history import EditHistory, TextChange
from weft.nes.prompts import (
    CHAT_SYSTEM,
    SWEEP_STOPS,
    ZETA_STOPS,
    NesInput,
    build_prompt,
    sweep_prompt,
    zeta_prompt,
)

GEO = "file:///w/src/geo.py"
UTIL = "file:///w/lib/util.py"


def relative(uri: str) -> str:
    return uri.removeprefix("file:///w/")


def geo_input() -> NesInput:
    """src/geo.py (30 lines) right after `width` → `w` in its `def`, an earlier edit in
    lib/util.py, one related snippet, the cursor on the next line."""
    lines = [f"line {i}" for i in range(30)]
    lines[5] = "def area(width, height):"
    lines[6] = "    return width * height"
    text = "\n".join(lines) + "\n"
    history = EditHistory()
    util = "def helper(x):\n    return x\n"
    history.record(UTIL, util, TextChange(11, 12, "value", 0), 3, 1.0)
    at = text.index("width")
    history.record(GEO, text, TextChange(at, at + 5, "w", 5), 2, 2.0)
    current = text[:at] + "w" + text[at + 5 :]
    document = Document(GEO, current, 2, "python")
    return NesInput(
        document,
        current.index("width"),
        "src/geo.py",
        history.recent(),
        path_of=relative,
        snippets=[("lib/util.py", "def helper(value):\n    return value\n")],
    )


# Written out literally, special tokens included: a change to any character fails here.
# The excerpt the Zeta and chat prompts share (markers and all).
EXCERPT = (
    "```src/geo.py\n"
    "<|start_of_file|>\n"
    "line 0\n"
    "<|editable_region_start|>\n"
    "line 1\n"
    "line 2\n"
    "line 3\n"
    "line 4\n"
    "def area(w, height):\n"
    "    return <|user_cursor_is_here|>width * height\n"
    "line 7\n"
    "line 8\n"
    "line 9\n"
    "line 10\n"
    "line 11\n"
    "<|editable_region_end|>\n"
    "line 12\n"
    "line 13\n"
    "line 14\n"
    "line 15\n"
    "line 16\n"
    "line 17\n"
    "line 18\n"
    "line 19\n"
    "line 20\n"
    "line 21\n"
    "```\n"
)
SWEEP = (
    "<|file_sep|>lib/util.py\n"
    "def helper(value):\n"
    "    return value\n"
    "<|file_sep|>lib/util.py.diff\n"
    "original:\n"
    "def helper(x):\n"
    "    return x\n"
    "updated:\n"
    "def helper(value):\n"
    "    return x\n"
    "<|file_sep|>src/geo.py.diff\n"
    "original:\n"
    "line 2\n"
    "line 3\n"
    "line 4\n"
    "def area(width, height):\n"
    "    return width * height\n"
    "line 7\n"
    "line 8\n"
    "updated:\n"
    "line 2\n"
    "line 3\n"
    "line 4\n"
    "def area(w, height):\n"
    "    return width * height\n"
    "line 7\n"
    "line 8\n"
    "<|file_sep|>original/src/geo.py\n"
    "line 0\n"
    "line 1\n"
    "line 2\n"
    "line 3\n"
    "line 4\n"
    "def area(width, height):\n"
    "    return width * height\n"
    "line 7\n"
    "line 8\n"
    "line 9\n"
    "line 10\n"
    "line 11\n"
    "line 12\n"
    "line 13\n"
    "line 14\n"
    "line 15\n"
    "line 16\n"
    "<|file_sep|>current/src/geo.py\n"
    "line 0\n"
    "line 1\n"
    "line 2\n"
    "line 3\n"
    "line 4\n"
    "def area(w, height):\n"
    "    return width * height\n"
    "line 7\n"
    "line 8\n"
    "line 9\n"
    "line 10\n"
    "line 11\n"
    "line 12\n"
    "line 13\n"
    "line 14\n"
    "line 15\n"
    "line 16\n"
    "<|file_sep|>updated/src/geo.py\n"
)
ZETA = (
    "### Instruction:\n"
    "You are a code completion assistant and your task is to analyze user edits and then rewrite an excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking into account the cursor location.\n"
    "\n"
    "### User Edits:\n"
    "\n"
    'User edited "lib/util.py":\n'
    "```diff\n"
    "@@ -1,2 +1,2 @@\n"
    "-def helper(x):\n"
    "+def helper(value):\n"
    "     return x\n"
    "```\n"
    "\n"
    'User edited "src/geo.py":\n'
    "```diff\n"
    "@@ -3,7 +3,7 @@\n"
    " line 2\n"
    " line 3\n"
    " line 4\n"
    "-def area(width, height):\n"
    "+def area(w, height):\n"
    "     return width * height\n"
    " line 7\n"
    " line 8\n"
    "```\n"
    "\n"
    "### User Excerpt:\n"
    "\n" + EXCERPT + "\n"
    "### Response:\n"
)
CHAT_USER = (
    "My recent edits, oldest first:\n"
    "\n"
    "```diff\n"
    "--- a/lib/util.py\n"
    "+++ b/lib/util.py\n"
    "@@ -1,2 +1,2 @@\n"
    "-def helper(x):\n"
    "+def helper(value):\n"
    "     return x\n"
    "--- a/src/geo.py\n"
    "+++ b/src/geo.py\n"
    "@@ -3,7 +3,7 @@\n"
    " line 2\n"
    " line 3\n"
    " line 4\n"
    "-def area(width, height):\n"
    "+def area(w, height):\n"
    "     return width * height\n"
    " line 7\n"
    " line 8\n"
    "```\n"
    "\n"
    "Related code:\n"
    "\n"
    "lib/util.py:\n"
    "```\n"
    "def helper(value):\n"
    "    return value\n"
    "```\n"
    "\n"
    "The file I am editing:\n"
    "\n" + EXCERPT + "\n"
    "What is my next edit in the editable part?"
)


def test_sweep_prompt_is_exact():
    prompt = build_prompt("sweep", geo_input())
    assert prompt is not None
    assert prompt.prompt == SWEEP
    assert prompt.stop == SWEEP_STOPS == ("<|file_sep|>", "</s>", "<|endoftext|>")
    assert (prompt.max_tokens, prompt.temperature) == (1024, 0.0)
    # the region the answer rewrites is the 21-line window (here cut by the file's start)
    assert (
        prompt.region.text
        == prompt.prompt.split("<|file_sep|>current/src/geo.py\n")[1].split("\n<|file_sep|>")[0]
    )


def test_zeta_prompt_is_exact():
    prompt = build_prompt("zeta", geo_input())
    assert prompt is not None
    assert prompt.prompt == ZETA
    assert prompt.stop == ZETA_STOPS == ("<|editable_region_end|>",)
    assert prompt.region.text == "\n".join(
        ["line 1", "line 2", "line 3", "line 4", "def area(w, height):"]
        + ["    return width * height"]
        + [f"line {i}" for i in range(7, 12)]
    )


def test_chat_prompt_is_exact():
    prompt = build_prompt("chat", geo_input())
    assert prompt is not None
    assert [m.role for m in prompt.messages] == ["system", "user"]
    assert prompt.messages[0].content == CHAT_SYSTEM
    assert prompt.messages[1].content == CHAT_USER
    assert "NO_EDITS" in CHAT_SYSTEM and "<|editable_region_start|>" in CHAT_SYSTEM
    assert prompt.prompt == "" and prompt.stop == ()


def test_unknown_format_builds_nothing():
    assert build_prompt("instinct", geo_input()) is None


def window_input(text: str, cursor: int, history: EditHistory | None = None) -> NesInput:
    document = Document(GEO, text, 9, "python")
    return NesInput(document, cursor, "g.py", history.recent() if history else ())


def test_sweep_window_is_21_lines_around_the_cursor():
    text = "".join(f"l{i}\n" for i in range(50))
    prompt = sweep_prompt(window_input(text, text.index("l25")))
    assert prompt is not None
    assert prompt.region.text == "\n".join(f"l{i}" for i in range(15, 36))
    assert "<|file_sep|>original/g.py\n" + prompt.region.text + "\n" in prompt.prompt


def test_sweep_original_window_maps_an_edit_that_crosses_its_end():
    # Zed's case: "aaaaabbbbb", the edit 5..10 → "b", a window ending right after it.
    history = EditHistory()
    history.record(GEO, "aaaaabbbbb", TextChange(5, 10, "b", 0), 9, 1.0)
    prompt = sweep_prompt(window_input("aaaaab", 0, history))
    assert prompt is not None
    assert "<|file_sep|>original/g.py\naaaaabbbbb\n<|file_sep|>current/g.py\naaaaab\n" in (
        prompt.prompt
    )


def test_sweep_refuses_its_reserved_tokens_in_the_input():
    for token in ("<|file_sep|>", "</s>"):
        text = f"x = '{token}'\n"
        assert sweep_prompt(window_input(text, 0)) is None


def test_zeta_and_chat_refuse_files_holding_their_markers():
    for marker in (
        "<|editable_region_start|>",
        "<|editable_region_end|>",
        "<|user_cursor_is_here|>",
    ):
        source = window_input(f"s = '{marker}'\n", 0)
        assert build_prompt("zeta", source) is None
        assert build_prompt("chat", source) is None
        assert build_prompt("sweep", source) is not None  # not one of Sweep's tokens


def test_sweep_change_blocks_are_the_last_three_and_clipped_to_40_lines():
    history = EditHistory()
    big = "".join(f"x{i}\n" for i in range(100))
    history.record(
        "file:///w/big.py", big, TextChange(0, len(big) - 1, big.upper()[:-1], 0), 1, 1.0
    )
    for n in range(3):
        history.record(f"file:///w/f{n}.py", "a = 1\n", TextChange(4, 5, "2", 0), 1, 2.0 + n)
    source = NesInput(Document(GEO, "z\n", 9), 0, "g.py", history.recent(), path_of=relative)
    prompt = sweep_prompt(source)
    assert prompt is not None
    assert "big.py.diff" not in prompt.prompt  # the fourth newest
    assert [p.split("\n")[0] for p in prompt.prompt.split("<|file_sep|>")[1:4]] == [
        "f0.py.diff",
        "f1.py.diff",
        "f2.py.diff",
    ]
    history.record(
        "file:///w/big.py", big, TextChange(0, len(big) - 1, big.upper()[:-1], 0), 1, 9.0
    )
    prompt = sweep_prompt(
        NesInput(Document(GEO, "z\n", 9), 0, "g.py", history.recent(), path_of=relative)
    )
    assert prompt is not None
    block = prompt.prompt.split("<|file_sep|>big.py.diff\n")[1].split("<|file_sep|>")[0]
    original = block.split("updated:\n")[0].removeprefix("original:\n").split("\n")[:-1]
    assert len(original) == 40 and original[20] == "..."
    assert original[:2] == ["x0", "x1"] and original[-1] == "x99"


def test_zeta_drops_the_oldest_events_beyond_its_budget():
    history = EditHistory()
    for n in range(40):
        text = f"value_{n} = {'1' * 60}\n"
        history.record(f"file:///w/m{n}.py", text, TextChange(0, 7, "renamed", 0), 1, float(n))
    source = NesInput(Document(GEO, "z\n", 9), 0, "g.py", history.recent(), path_of=relative)
    prompt = zeta_prompt(source)
    assert prompt is not None
    shown = prompt.prompt.count("User edited")
    assert 0 < shown < 40
    assert 'User edited "m39.py"' in prompt.prompt and 'User edited "m0.py"' not in prompt.prompt
    assert prompt.prompt.index('"m38.py"') < prompt.prompt.index('"m39.py"')  # oldest first


def test_zeta_start_of_file_marker_only_at_the_start_of_the_file():
    text = "".join(f"l{i}\n" for i in range(60))
    far = zeta_prompt(window_input(text, text.index("l40")))
    near = zeta_prompt(window_input(text, text.index("l3\n")))
    assert far is not None and near is not None
    assert "<|start_of_file|>" not in far.prompt
    assert "```g.py\n<|start_of_file|>\nl0\n" not in near.prompt  # l0 is editable here
    assert "```g.py\n<|start_of_file|>\n<|editable_region_start|>\nl0\n" in near.prompt
    assert "<|editable_region_start|>\nl35\n" in far.prompt
    assert "l45\n<|editable_region_end|>\nl46\n" in far.prompt
