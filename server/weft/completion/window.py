"""The context window: the prefix and suffix around the cursor that fit a prompt's token budget.

Tokens are estimated, not counted: ``estimate_tokens`` is UTF-8 bytes / 3.5, close to what BPE
code tokenizers give for source code (3–4 characters per token) and no lower for non-ASCII
text, where a character is often a token of its own. For ASCII text the estimate is
characters / 3.5, so the window works on character offsets alone.

The cut follows LSP's line rules: lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r``; a form
feed, vertical tab or U+2028 is text, not a line break (Python's ``str.splitlines`` disagrees,
so it is never used here). The window:

* always holds the cursor's whole line on both sides; only a line longer than the whole
  budget is cut, by characters, prefix-weighted;
* then grows by whole lines, the prefix up to its share (75 % by default), the suffix up to
  the rest, and gives what one side leaves unused to the other;
* is O(window), not O(file): it only looks at characters within the budget of the cursor
  (it runs on every keystroke).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.5
DEFAULT_PREFIX_SHARE = 0.75

Measure = Callable[[str, int, int], int]


@dataclass(frozen=True, slots=True)
class Window:
    """Text around the cursor: ``text[prefix_start:offset]`` and ``text[offset:suffix_end]``."""

    prefix: str
    suffix: str
    prefix_start: int
    suffix_end: int
    prefix_truncated: bool
    """True when text before ``prefix_start`` was left out."""
    suffix_truncated: bool
    """True when text after ``suffix_end`` was left out."""


def estimate_tokens(text: str) -> int:
    """Estimated tokens in ``text``: UTF-8 bytes / 3.5, rounded up."""
    return math.ceil(_utf8_len(text, 0, len(text)) / CHARS_PER_TOKEN)


def _char_len(text: str, start: int, end: int) -> int:
    return end - start


def _utf8_len(text: str, start: int, end: int) -> int:
    piece = text[start:end]
    return len(piece) if piece.isascii() else len(piece.encode("utf-8", "surrogatepass"))


def build_window(
    text: str, offset: int, max_tokens: int, prefix_share: float = DEFAULT_PREFIX_SHARE
) -> Window:
    """Prefix and suffix around ``offset`` within ``max_tokens`` estimated tokens."""
    offset = min(max(offset, 0), len(text))
    budget = max(0, int(max_tokens * CHARS_PER_TOKEN))
    share = min(max(prefix_share, 0.0), 1.0)
    # Every character costs at least one unit, so nothing beyond `budget` characters matters.
    near = text[max(0, offset - budget - 2) : offset + budget + 2]
    measure: Measure = _char_len if near.isascii() else _utf8_len
    start, end, whole_left, whole_right = _cursor_line(text, offset, budget, share, measure)
    used = measure(text, start, end)
    if whole_left:
        start = _grow_prefix(text, start, max(0, int(budget * share) - used), measure)
        used = measure(text, start, end)
    if whole_right:
        end = _grow_suffix(text, end, budget - used, measure)
        used = measure(text, start, end)
    if whole_left:  # what the suffix could not use goes back to the prefix
        start = _grow_prefix(text, start, budget - used, measure)
    return Window(
        prefix=text[start:offset],
        suffix=text[offset:end],
        prefix_start=start,
        suffix_end=end,
        prefix_truncated=start > 0,
        suffix_truncated=end < len(text),
    )


def _cursor_line(
    text: str, offset: int, budget: int, share: float, measure: Measure
) -> tuple[int, int, bool, bool]:
    """The cursor's line as (start, end, start is a line start, end is a line end), cut by
    characters only when the whole line does not fit the budget."""
    line_start = _line_start(text, offset, max(0, offset - budget - 1))
    line_end = _line_end(text, offset, min(len(text), offset + budget + 1))
    left = measure(text, line_start, offset) if line_start is not None else budget + 1
    right = measure(text, offset, line_end) if line_end is not None else budget + 1
    if line_start is not None and line_end is not None and left + right <= budget:
        return line_start, line_end, True, True
    left_allowance = min(left, max(int(budget * share), budget - right))
    start = line_start if line_start is not None and left <= left_allowance else None
    if start is None:
        start = _cut_left(text, offset, left_allowance, measure)
    right_allowance = budget - measure(text, start, offset)
    end = line_end if line_end is not None and right <= right_allowance else None
    if end is None:
        end = _cut_right(text, offset, right_allowance, measure)
    return start, end, start == line_start, end == line_end


def _cut_left(text: str, offset: int, allowance: int, measure: Measure) -> int:
    start = max(0, offset - allowance)
    while (over := measure(text, start, offset) - allowance) > 0:
        start += max(1, over // 4)  # a character is at most 4 UTF-8 bytes
    return start


def _cut_right(text: str, offset: int, allowance: int, measure: Measure) -> int:
    end = min(len(text), offset + max(0, allowance))
    while (over := measure(text, offset, end) - allowance) > 0:
        end -= max(1, over // 4)
    if end > offset and text.startswith("\r\n", end - 1):
        end -= 1  # never end between \r and \n
    return end


def _line_start(text: str, pos: int, lo: int) -> int | None:
    """Start of the line holding ``pos``, looking back no further than ``lo`` (None: the line
    starts before ``lo``)."""
    newline = text.rfind("\n", lo, pos)
    carriage = text.rfind("\r", max(lo, newline + 1), pos)
    brk = max(newline, carriage)
    if brk >= 0:
        return brk + 1
    return 0 if lo == 0 else None


def _line_end(text: str, pos: int, hi: int) -> int | None:
    """End of the line holding ``pos``, just past its line break, looking no further than
    ``hi`` (None: the line goes on past ``hi``)."""
    newline = text.find("\n", pos, hi)
    carriage = text.find("\r", pos, newline if newline >= 0 else hi)
    brk = carriage if carriage >= 0 else newline
    if brk >= 0:
        return brk + 2 if text.startswith("\r\n", brk) else brk + 1
    return len(text) if hi >= len(text) else None


def _break_begin(text: str, line_start: int) -> int:
    """Where the line break ending at ``line_start`` begins."""
    crlf = line_start >= 2 and text.startswith("\r\n", line_start - 2)
    return line_start - 2 if crlf else line_start - 1


def _grow_prefix(text: str, start: int, limit: int, measure: Measure) -> int:
    """Move ``start`` (a line start) back over whole lines costing at most ``limit``.

    Lines cost more than nothing, so the lines that fit are the nearest ones: the answer is
    the earliest line start within ``limit`` characters, less the far lines whose multi-byte
    characters overflow the budget.
    """
    new = _earliest_line_start(text, start, start - limit)
    over = measure(text, new, start) - limit if measure is not _char_len else 0
    while over > 0:
        nxt = _line_end(text, new, start) or start
        over -= measure(text, new, nxt)
        new = nxt
    return new


def _grow_suffix(text: str, end: int, limit: int, measure: Measure) -> int:
    """Move ``end`` (a line end) forward over whole lines costing at most ``limit``."""
    new = _latest_line_end(text, end, end + limit)
    over = measure(text, end, new) - limit if measure is not _char_len else 0
    while over > 0:
        prev = _start_of_line_ending_at(text, new, end)
        over -= measure(text, prev, new)
        new = prev
    return new


def _start_of_line_ending_at(text: str, line_end: int, lo: int) -> int:
    """Start of the line that ends at ``line_end`` (after its break, or at the end of the
    text), no earlier than ``lo``."""
    content_end = line_end
    if line_end > 0 and text[line_end - 1] in "\r\n":
        content_end = _break_begin(text, line_end)
    start = _line_start(text, content_end, lo)
    return lo if start is None else max(start, lo)


def _earliest_line_start(text: str, start: int, lo: int) -> int:
    """The first line start in ``[lo, start]`` (``start`` itself is one)."""
    if lo <= 0:
        return 0
    newline = text.find("\n", lo - 1, start)
    carriage = text.find("\r", lo - 1, newline if newline >= 0 else start)
    brk = carriage if carriage >= 0 else newline
    if brk < 0:
        return start
    return min(start, brk + 2 if text.startswith("\r\n", brk) else brk + 1)


def _latest_line_end(text: str, end: int, hi: int) -> int:
    """The last line end in ``[end, hi]`` (``end`` itself is one)."""
    if hi >= len(text):
        return len(text)
    newline = text.rfind("\n", end, hi)
    carriage = text.rfind("\r", max(end, newline + 1), hi)
    brk = max(newline, carriage)
    if brk < 0:
        return end
    if text.startswith("\r\n", brk):
        # The \n of this \r\n lies at `hi`, past the limit: end at the break before it.
        return _latest_line_end(text, end, brk)
    return brk + 1
