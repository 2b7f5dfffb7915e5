"""Edits as text for a model (unified diffs, original/updated blocks) and a model's rewritten
region back into minimal edits."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from weft.nes.history import Edit
from weft.nes.text import common_prefix_length, common_suffix_length, whole_words

CONTEXT = 3
"""Unchanged lines around each hunk of a unified diff (the usual default)."""


def edit_sides(edit: Edit) -> tuple[str, str]:
    """The lines around an edit before and after it (its context included)."""
    return (
        edit.context_before + edit.old_text + edit.context_after,
        edit.context_before + edit.new_text + edit.context_after,
    )


def unified_hunks(edit: Edit) -> str:
    """The edit as unified-diff hunks (``@@ -a,b +c,d @@`` with the document's own line
    numbers), without ``---``/``+++`` headers; "" for an edit that changes nothing."""
    before, after = edit_sides(edit)
    first_line = edit.line - edit.context_before.count("\n") + 1
    old_lines = before.split("\n")
    new_lines = after.split("\n")
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    out: list[str] = []
    for group in matcher.get_grouped_opcodes(CONTEXT):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(first_line + i1, i2 - i1)} +{_range(first_line + j1, j2 - j1)} @@")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(" " + line for line in old_lines[a1:a2])
                continue
            out.extend("-" + line for line in old_lines[a1:a2])
            out.extend("+" + line for line in new_lines[b1:b2])
    return "\n".join(out)


def _range(start: int, length: int) -> str:
    """GNU diff's range notation: ``start`` alone for one line, ``start-1,0`` for none."""
    if length == 1:
        return str(start)
    return f"{start - 1 if length == 0 else start},{length}"


@dataclass(frozen=True, slots=True)
class Hunk:
    """Replace ``[start, end)`` of the old text with ``text``."""

    start: int
    end: int
    text: str


def minimal_hunks(old: str, new: str) -> list[Hunk]:
    """The changes from ``old`` to ``new``: a line diff, each changed line (or run of added or
    removed lines) trimmed to the characters that differ."""
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_starts = _starts(old_lines)
    new_starts = _starts(new_lines)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    hunks = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and a2 - a1 == b2 - b1:
            pairs = [
                (a, a + 1, b, b + 1) for a, b in zip(range(a1, a2), range(b1, b2), strict=True)
            ]
        else:
            pairs = [(a1, a2, b1, b2)]  # lines added or removed: one change
        for o1, o2, n1, n2 in pairs:
            hunk = _trimmed(
                old, new, old_starts[o1], old_starts[o2], new_starts[n1], new_starts[n2]
            )
            if hunk is not None:
                hunks.append(hunk)
    return hunks


def _trimmed(old: str, new: str, lo: int, hi: int, new_lo: int, new_hi: int) -> Hunk | None:
    """``old[lo:hi]`` → ``new[new_lo:new_hi]`` without the characters they share at the ends."""
    piece_old, piece_new = old[lo:hi], new[new_lo:new_hi]
    if piece_old == piece_new:
        return None
    prefix = common_prefix_length(piece_old, piece_new)
    suffix = common_suffix_length(piece_old, piece_new, prefix)
    prefix, suffix = whole_words(piece_old, piece_new, prefix, suffix)
    return Hunk(lo + prefix, hi - suffix, piece_new[prefix : len(piece_new) - suffix])


def _starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts
