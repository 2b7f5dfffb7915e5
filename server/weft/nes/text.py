"""Small string helpers shared by the NES modules, each bounded by the size of what it is asked
about (never by the size of the document)."""

from __future__ import annotations

import re

BLOCK = 1024
"""Characters compared per step when measuring long common prefixes (C-speed comparisons)."""

_IDENTIFIER_CHAR = re.compile(r"[\w$]")
IDENTIFIER = re.compile(r"[^\W\d][\w$]*|\$[\w$]*")


def splice_slice(text: str, start: int, end: int, inserted: str, lo: int, hi: int) -> str:
    """``(text[:start] + inserted + text[end:])[lo:hi]`` without building the whole string."""
    head = text[lo : min(hi, start)] if lo < start else ""
    mid_lo, mid_hi = max(lo - start, 0), max(min(hi - start, len(inserted)), 0)
    middle = inserted[mid_lo:mid_hi]
    tail_at = start + len(inserted)
    tail = ""
    if hi > tail_at:
        shift = end - tail_at
        tail = text[max(lo, tail_at) + shift : hi + shift]
    return head + middle + tail


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix (block-wise, so long equal runs cost C time)."""
    limit = min(len(a), len(b))
    index = 0
    while index + BLOCK <= limit and a[index : index + BLOCK] == b[index : index + BLOCK]:
        index += BLOCK
    while index < limit and a[index] == b[index]:
        index += 1
    return index


def common_suffix_length(a: str, b: str, floor: int = 0) -> int:
    """Length of the longest common suffix, leaving at least ``floor`` characters of each."""
    limit = min(len(a), len(b)) - floor
    count = 0
    while (
        count + BLOCK <= limit
        and a[len(a) - count - BLOCK : len(a) - count] == b[len(b) - count - BLOCK : len(b) - count]
    ):
        count += BLOCK
    while count < limit and a[len(a) - count - 1] == b[len(b) - count - 1]:
        count += 1
    return count


def whole_words(old: str, new: str, prefix: int, suffix: int) -> tuple[int, int]:
    """Widen a trimmed change to whole words at its ends (``width`` → ``w``, not a deleted
    ``idth``): what a person reads, and what a menu label shows."""

    def word(text: str, index: int) -> bool:
        return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")

    while prefix > 0 and word(old, prefix - 1) and (word(old, prefix) or word(new, prefix)):
        prefix -= 1
    while (
        suffix > 0
        and word(old, len(old) - suffix)
        and (word(old, len(old) - suffix - 1) or word(new, len(new) - suffix - 1))
    ):
        suffix -= 1
    return prefix, suffix


def identifier_around(text: str, start: int, end: int, reach: int = 256) -> tuple[int, int]:
    """``[start, end)`` widened to the identifier characters on both sides (at most ``reach``)."""
    lo = start
    floor = max(0, start - reach)
    while lo > floor and _IDENTIFIER_CHAR.match(text, lo - 1):
        lo -= 1
    hi = end
    ceiling = min(len(text), end + reach)
    while hi < ceiling and _IDENTIFIER_CHAR.match(text, hi):
        hi += 1
    return lo, hi


def is_identifier(word: str) -> bool:
    return bool(word) and IDENTIFIER.fullmatch(word) is not None


def line_start(text: str, offset: int, reach: int = 4000) -> int:
    """Offset of the start of the line holding ``offset`` (searching back at most ``reach``)."""
    floor = max(0, offset - reach)
    found = max(text.rfind("\n", floor, offset), text.rfind("\r", floor, offset))
    return found + 1 if found >= 0 else floor


def line_end(text: str, offset: int, reach: int = 4000) -> int:
    """Offset of the end of the line holding ``offset``, before its line break."""
    ceiling = min(len(text), offset + reach)
    for index in range(offset, ceiling):
        if text[index] in "\r\n":
            return index
    return ceiling


def lines_before(text: str, offset: int, count: int, reach: int = 4000) -> int:
    """Start offset of the ``count``-th line above the line of ``offset`` (bounded search)."""
    start = line_start(text, offset, reach)
    for _ in range(count):
        if start == 0:
            break
        previous = start - 1
        if previous > 0 and text[previous] == "\n" and text[previous - 1] == "\r":
            previous -= 1
        start = line_start(text, previous, reach)
    return start


def lines_after(text: str, offset: int, count: int, reach: int = 4000) -> int:
    """End offset (before its line break) of the ``count``-th line below the line of ``offset``."""
    end = line_end(text, offset, reach)
    for _ in range(count):
        after = end + (2 if text.startswith("\r\n", end) else 1)
        if after >= len(text):
            break  # no line after the last line break
        end = line_end(text, after, reach)
    return end


def char_offsets(text: str, byte_offsets: list[int]) -> dict[int, int]:
    """Character offsets of UTF-8 byte offsets into ``text`` (one pass over the text)."""
    if text.isascii():
        return {b: b for b in byte_offsets}
    result: dict[int, int] = {}
    chars = 0
    consumed = 0
    for target in sorted(set(byte_offsets)):
        while consumed < target and chars < len(text):
            consumed += len(text[chars].encode("utf-8", "surrogatepass"))
            chars += 1
        result[target] = chars
    return result


def byte_offset(text: str, char_offset: int) -> int:
    """UTF-8 byte offset of a character offset."""
    head = text[:char_offset]
    return len(head) if head.isascii() else len(head.encode("utf-8", "surrogatepass"))
