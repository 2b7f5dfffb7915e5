"""A next-edit model's answer back into candidate edits.

Each format's answer is reduced to the rewritten region (:func:`rewritten_region`), which is
diffed against the region's text in the snapshot the prompt was built on; each changed run
becomes one :class:`~weft.nes.candidate.Candidate`, trimmed to the characters that differ.
Malformed answers (markers doubled or missing, a region cut to a fraction of itself, a runaway
answer, an echo of the input) give no candidates. A candidate that undoes the user's latest
edit is dropped, and :func:`syntax_checked` drops candidates that add syntax errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from weft.completion.syntax_guard import guard_syntax
from weft.nes.candidate import Candidate, plural_more
from weft.nes.diffs import Hunk, minimal_hunks
from weft.nes.prompts import (
    NO_EDITS,
    SWEEP_STOPS,
    ZETA_CURSOR,
    ZETA_REGION_END,
    ZETA_REGION_START,
    ZETA_START_OF_FILE,
    NesPrompt,
    Region,
)

MAX_EXTRA_LINES = 20
"""An answer longer than its region by more lines than this ran away."""
LABEL_CHARS = 40
_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


def parse_answer(prompt: NesPrompt, answer: str) -> list[Candidate]:
    """The candidate edits in ``answer``, the nearest at or after the cursor first."""
    new = rewritten_region(prompt.format, answer)
    if new is None:
        return []
    return region_candidates(prompt, new)


def rewritten_region(fmt: str, answer: str) -> str | None:
    """The region as the answer rewrote it; None for no prediction or a malformed answer."""
    if fmt == "sweep":
        return _sweep_region(answer)
    if fmt == "zeta":
        return _zeta_region(answer)
    if fmt == "chat":
        return _chat_region(answer)
    return None


def _sweep_region(answer: str) -> str | None:
    for stop in SWEEP_STOPS:
        cut = answer.find(stop)
        if cut >= 0:
            answer = answer[:cut]
    if not answer.strip() or answer.startswith("<|"):
        return None
    return answer


def _zeta_region(answer: str) -> str | None:
    """As Zed's ``zeta1::parse_edits``, except that an answer without its start marker is
    refused rather than taken whole (it would rewrite the region with the excerpt's context)."""
    content = answer.replace(ZETA_CURSOR, "")
    if any(content.count(marker) > 1 for marker in (ZETA_REGION_START, ZETA_REGION_END)):
        return None
    if content.count(ZETA_START_OF_FILE) > 1:
        return None
    start = content.find(ZETA_REGION_START)
    if start < 0:
        return None
    start += len(ZETA_REGION_START)
    if content.startswith("\n", start):
        start += 1
    end = content.find(ZETA_REGION_END)
    if end < 0:
        end = len(content) - 1 if content.endswith("\n") else len(content)
    elif end > 0 and content[end - 1] == "\n":
        end -= 1
    if end < start - 1:
        return None
    return content[min(start, end) : end]


def _chat_region(answer: str) -> str | None:
    text = answer.strip()
    if not text or text.split("\n", 1)[0].strip().strip("`").strip() == NO_EDITS:
        return None
    fenced = _FENCE.search(answer)
    body = fenced.group(1) if fenced is not None else text
    if ZETA_REGION_START in body:
        body = body.split(ZETA_REGION_START, 1)[1].removeprefix("\n")
    if ZETA_REGION_END in body:
        body = body.split(ZETA_REGION_END, 1)[0].removesuffix("\n")
    return body.replace(ZETA_CURSOR, "")


def region_candidates(prompt: NesPrompt, new: str) -> list[Candidate]:
    """Candidates turning the prompt's region into ``new``."""
    region = prompt.region
    old = region.text
    if "\r\n" in old and "\r\n" not in new:
        new = new.replace("\n", "\r\n")
    for ending in ("\r\n", "\n"):
        if new.endswith(ending) and not old.endswith(ending):
            new = new[: -len(ending)]  # the line break that ends the answer's last line
            break
    if new == old or not _plausible(old, new):
        return []
    hunks = [h for h in minimal_hunks(old, new) if not _undoes(prompt, region, h)]
    candidates = [
        Candidate(
            region.document,
            region.start + hunk.start,
            region.start + hunk.end,
            hunk.text,
            "",
            "model",
        )
        for hunk in hunks
    ]
    candidates.sort(key=lambda c: (c.end < prompt.cursor, abs(c.start - prompt.cursor)))
    return [_labelled(c, len(candidates) - 1) for c in candidates]


def _plausible(old: str, new: str) -> bool:
    """Not a region cut short or a runaway answer."""
    old_lines = old.count("\n") + 1
    new_lines = new.count("\n") + 1
    if old_lines >= 4 and new_lines * 2 < old_lines:
        return False
    return new_lines <= old_lines + MAX_EXTRA_LINES


def _undoes(prompt: NesPrompt, region: Region, hunk: Hunk) -> bool:
    """The hunk puts back what the user's latest edit replaced."""
    latest = prompt.latest
    if latest is None or latest.opaque or latest.is_noop:
        return False
    span = (region.start + hunk.start, region.start + hunk.end)
    return span == (latest.start, latest.end) and hunk.text == latest.old_text


def _labelled(candidate: Candidate, more: int) -> Candidate:
    old, new = candidate.old_text, candidate.text
    if not old:
        summary = f"insert `{_short(new)}`"
    elif not new:
        summary = f"delete `{_short(old)}`"
    else:
        summary = f"`{_short(old)}` → `{_short(new)}`"
    return Candidate(
        candidate.document,
        candidate.start,
        candidate.end,
        candidate.text,
        summary + plural_more(more),
        candidate.kind,
    )


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= LABEL_CHARS else line[: LABEL_CHARS - 1] + "…"


def syntax_checked(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates that add no syntax error to their document (the completion syntax
    guard, bounded in parses and window size; languages without a grammar pass)."""
    kept = []
    for candidate in candidates:
        document = candidate.document
        checked = guard_syntax(
            document.text, candidate.start, candidate.end, candidate.text, document.language
        )
        if checked == candidate.text:
            kept.append(candidate)
    return kept
