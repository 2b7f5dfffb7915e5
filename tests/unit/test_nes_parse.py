"""NES answers into edits: each format's answer (well-formed, with stop tokens left in, with
markers, malformed, empty, echoing the input, cut short, running away), minimal edits from the
rewritten region, the nearest first, answers that undo the user's edit, and the syntax check."""

from __future__ import annotations

from tests.unit.test_nes_prompts import geo_input
from weft.documents import Document
from weft.nes.candidate import Candidate
from weft.nes.history import EditHistory, TextChange
from weft.nes.parse import parse_answer, rewritten_region, syntax_checked
from weft.nes.prompts import NesInput, NesPrompt, build_prompt


def prompt_for(fmt: str) -> NesPrompt:
    prompt = build_prompt(fmt, geo_input())
    assert prompt is not None
    return prompt


def region_with(prompt: NesPrompt, old: str, new: str) -> str:
    assert old in prompt.region.text
    return prompt.region.text.replace(old, new, 1)


def applied(candidate: Candidate) -> str:
    return candidate.applied()


# -- Sweep ------------------------------------------------------------------------------------


def test_sweep_answer_is_the_rewritten_window():
    prompt = prompt_for("sweep")
    answer = region_with(prompt, "return width", "return w") + "\n"
    (candidate,) = parse_answer(prompt, answer)
    assert (candidate.old_text, candidate.text, candidate.kind) == ("width", "w", "model")
    assert candidate.label == "`width` → `w`"
    assert candidate.version == 2
    assert "def area(w, height):\n    return w * height" in applied(candidate)


def test_sweep_answer_is_cut_at_its_stop_tokens():
    prompt = prompt_for("sweep")
    body = region_with(prompt, "return width", "return w")
    for tail in ("\n<|file_sep|>updated/x.py\njunk", "</s>more", "\n<|endoftext|>"):
        (candidate,) = parse_answer(prompt, body + tail)
        assert candidate.text == "w"


def test_sweep_no_prediction_answers():
    prompt = prompt_for("sweep")
    for answer in ("", "\n", prompt.region.text, prompt.region.text + "\n", "<|file_sep|>"):
        assert parse_answer(prompt, answer) == [], repr(answer)


def test_several_changes_come_nearest_to_the_cursor_first():
    prompt = prompt_for("sweep")
    answer = region_with(prompt, "line 0", "line zero")
    answer = answer.replace("return width", "return w").replace("line 15", "line fifteen")
    candidates = parse_answer(prompt, answer)
    assert [c.text for c in candidates] == ["w", "fifteen", "zero"]
    assert candidates[0].label == "`width` → `w` (2 more)"


def test_an_answer_that_undoes_the_users_edit_is_dropped():
    prompt = prompt_for("sweep")
    answer = region_with(prompt, "def area(w,", "def area(width,")
    assert parse_answer(prompt, answer) == []
    answer = answer.replace("return width", "return w")
    assert [c.text for c in parse_answer(prompt, answer)] == ["w"]


def test_a_region_cut_short_or_a_runaway_answer_is_refused():
    prompt = prompt_for("sweep")
    lines = prompt.region.text.split("\n")
    assert parse_answer(prompt, "\n".join(lines[:5])) == []
    assert parse_answer(prompt, prompt.region.text + "\nx = 1" * 25) == []


# -- Zeta -----------------------------------------------------------------------------------


def test_zeta_answer_echoing_the_excerpt_stopped_at_the_end_marker():
    prompt = prompt_for("zeta")
    new_region = region_with(prompt, "return width", "return w")
    answer = (
        "```src/geo.py\n<|start_of_file|>\nline 0\n<|editable_region_start|>\n"
        + new_region.replace("return w", "return <|user_cursor_is_here|>w")
        + "\n"
    )
    (candidate,) = parse_answer(prompt, answer)
    assert (candidate.old_text, candidate.text) == ("width", "w")
    with_end = answer + "<|editable_region_end|>\nline 12\n```"
    assert parse_answer(prompt, with_end) == [candidate]


def test_zeta_malformed_answers_give_nothing():
    prompt = prompt_for("zeta")
    region = region_with(prompt, "return width", "return w")
    start, end = "<|editable_region_start|>\n", "\n<|editable_region_end|>"
    for answer in (
        region,  # no start marker: it could be anything, the context included
        start + start + region + end,
        start + region + end + end,
        "<|start_of_file|>\n<|start_of_file|>\n" + start + region + end,
        start + end,  # the whole region deleted
    ):
        assert parse_answer(prompt, answer) == [], repr(answer[:60])


def test_zeta_region_rules_follow_zed():
    assert (
        rewritten_region("zeta", "<|editable_region_start|>\nabc\n<|editable_region_end|>") == "abc"
    )
    assert rewritten_region("zeta", "<|editable_region_start|>abc<|editable_region_end|>") == "abc"
    assert rewritten_region("zeta", "<|editable_region_start|>\n<|editable_region_end|>") == ""
    assert rewritten_region("zeta", "<|editable_region_start|>\n// café\n") == "// café"


# -- chat -----------------------------------------------------------------------------------


def test_chat_answer_in_a_fence_after_prose():
    prompt = prompt_for("chat")
    region = region_with(prompt, "return width", "return w")
    answer = f"Finishing the rename:\n\n```python\n{region}\n```\nDone."
    (candidate,) = parse_answer(prompt, answer)
    assert (candidate.old_text, candidate.text) == ("width", "w")


def test_chat_answer_that_kept_the_markers():
    prompt = prompt_for("chat")
    region = region_with(prompt, "return width", "return <|user_cursor_is_here|>w")
    answer = f"```\n<|editable_region_start|>\n{region}\n<|editable_region_end|>\n```"
    (candidate,) = parse_answer(prompt, answer)
    assert candidate.text == "w"


def test_chat_no_edits():
    prompt = prompt_for("chat")
    for answer in ("NO_EDITS", "  NO_EDITS\n", "`NO_EDITS`", ""):
        assert parse_answer(prompt, answer) == []


# -- text details -------------------------------------------------------------------------------


def test_crlf_documents_keep_their_line_endings():
    text = "a = 1\r\nb = 2\r\nc = 3\r\n"
    document = Document("file:///w/c.py", text, 4, "python")
    prompt = build_prompt("sweep", NesInput(document, 0, "c.py"))
    assert prompt is not None
    (candidate,) = parse_answer(prompt, "a = 1\nb = 20\nc = 3\n")
    assert applied(candidate) == "a = 1\r\nb = 20\r\nc = 3\r\n"


def test_offsets_are_characters_in_unicode_text():
    text = "naïve = 'ü'\nvalue = naïve\n"
    history = EditHistory()
    document = Document("file:///w/u.py", text, 1, "python")
    prompt = build_prompt("sweep", NesInput(document, 0, "u.py", history.recent()))
    assert prompt is not None
    (candidate,) = parse_answer(prompt, "naïve = 'ü'\nvalue = naïve.strip()\n")
    assert applied(candidate) == "naïve = 'ü'\nvalue = naïve.strip()\n"
    assert candidate.start == text.index("\n", 12)


def test_syntax_check_drops_candidates_that_break_the_file():
    history = EditHistory()
    text = "def f(x):\n    return x\n"
    history.record("file:///w/s.py", text, TextChange(6, 7, "y", 0), 1, 1.0)
    document = Document("file:///w/s.py", "def f(y):\n    return x\n", 1, "python")
    prompt = build_prompt("sweep", NesInput(document, 12, "s.py", history.recent()))
    assert prompt is not None
    good = parse_answer(prompt, "def f(y):\n    return y\n")
    bad = parse_answer(prompt, "def f(y):\n    return (y\n")
    assert syntax_checked(good) == good
    assert bad and syntax_checked(bad) == []
