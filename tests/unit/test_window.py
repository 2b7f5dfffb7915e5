"""The context window: budget, line-boundary cuts, prefix weighting, give-back between sides,
LSP line endings, non-ASCII text, and that only the text near the cursor is looked at."""

from __future__ import annotations

import random
import re

import pytest

from weft.completion.window import CHARS_PER_TOKEN, Window, build_window, estimate_tokens

# -- an independent, obviously-correct (and O(file)) reference implementation -----------------

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


def _lines(text: str) -> list[tuple[int, int, int]]:
    """(start, content end, end after the break) for every LSP line."""
    out, pos = [], 0
    for m in _LINE.finditer(text):
        brk = 2 if m.group().endswith("\r\n") else 1
        out.append((m.start(), m.end() - brk, m.end()))
        pos = m.end()
    out.append((pos, len(text), len(text)))
    return out


def _cost(text: str, a: int, b: int) -> int:
    return len(text[a:b].encode("utf-8", "surrogatepass"))


def reference_window(text: str, offset: int, max_tokens: int, share: float = 0.75) -> Window:
    budget = int(max_tokens * CHARS_PER_TOKEN)
    lines = _lines(text)
    i = next(k for k, (s, ce, _) in enumerate(lines) if s <= offset <= ce)
    line_start, line_end = lines[i][0], lines[i][2]
    left, right = _cost(text, line_start, offset), _cost(text, offset, line_end)
    if left + right <= budget:
        start, end = line_start, line_end
    else:
        allowance = min(left, max(int(budget * share), budget - right))
        start = next(
            s for s in range(line_start, offset + 1) if _cost(text, s, offset) <= allowance
        )
        allowance = budget - _cost(text, start, offset)
        end = max(
            e
            for e in range(offset, line_end + 1)
            if _cost(text, offset, e) <= allowance and text[e - 1 : e + 1] != "\r\n"
        )
    first, last = i, i

    def grow_prefix(limit: int) -> None:
        nonlocal start, first
        while start == lines[first][0] and first > 0:
            s, _, e = lines[first - 1]
            if _cost(text, s, e) > limit:
                return
            limit -= _cost(text, s, e)
            start, first = s, first - 1

    def grow_suffix(limit: int) -> None:
        nonlocal end, last
        while end == lines[last][2] and last + 1 < len(lines) and end < len(text):
            s, _, e = lines[last + 1]
            if _cost(text, s, e) > limit:
                return
            limit -= _cost(text, s, e)
            end, last = e, last + 1

    whole_left, whole_right = start == line_start, end == line_end
    if whole_left:
        grow_prefix(max(0, int(budget * share) - _cost(text, start, end)))
    if whole_right:
        grow_suffix(budget - _cost(text, start, end))
    if whole_left:
        grow_prefix(budget - _cost(text, start, end))
    return Window(text[start:offset], text[offset:end], start, end, start > 0, end < len(text))


def _valid_offsets(text: str) -> list[int]:
    """Offsets an LSP position can map to (never between \\r and \\n)."""
    return [
        o for o in range(len(text) + 1) if not (0 < o < len(text) and text[o - 1 : o + 1] == "\r\n")
    ]


# -- behaviour -------------------------------------------------------------------------------


def test_estimate_tokens():
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcdefg") == 2  # 7 / 3.5
    assert estimate_tokens("abcdefgh") == 3  # rounded up
    assert estimate_tokens("中文") == 2  # 6 UTF-8 bytes: non-ASCII is never under-counted
    assert estimate_tokens("\ud800") == 1  # a lone surrogate does not raise


def test_small_file_fits_whole():
    text = "import os\n\ndef main():\n    pass\n"
    offset = text.index("pass")
    win = build_window(text, offset, 2048)
    assert (win.prefix, win.suffix) == (text[:offset], text[offset:])
    assert not win.prefix_truncated and not win.suffix_truncated


def test_cut_on_line_boundaries_prefix_weighted():
    lines = [f"line {i:03d}\n" for i in range(200)]  # 9 characters each
    text = "".join(lines)
    offset = text.index("line 100") + 5  # inside "line 100"
    win = build_window(text, offset, 40)  # 140 characters
    assert win.prefix.startswith("line ") and text[win.prefix_start - 1] == "\n"
    assert win.suffix.endswith("\n")
    before = win.prefix.count("\n")
    after = win.suffix.count("\n") - 1  # the cursor line's own break
    # The prefix's 75 % is 105, less 9 for the cursor line: 10 lines; the suffix gets the
    # other 41: 4 lines; the 5 characters left fit no line.
    assert (before, after) == (10, 4)
    assert win.prefix_truncated and win.suffix_truncated
    assert estimate_tokens(win.prefix + win.suffix) <= 40


def test_unused_suffix_budget_goes_to_prefix():
    text = "".join(f"line {i:03d}\n" for i in range(200))
    offset = text.index("line 198")
    win = build_window(text, offset, 40)
    assert win.suffix == "line 198\nline 199\n" and not win.suffix_truncated
    assert len(win.prefix) == 9 * 13  # 140 - 18 = 122 characters → 13 whole lines


def test_unused_prefix_budget_goes_to_suffix():
    text = "".join(f"line {i:03d}\n" for i in range(200))
    offset = text.index("line 001")
    win = build_window(text, offset, 40)
    assert win.prefix == "line 000\n" and not win.prefix_truncated
    assert len(win.suffix) == 9 * 14  # 140 - 9 → 14 whole lines from the cursor line on


def test_cursor_line_is_whole_even_past_its_share():
    long_line = "x" * 100
    text = f"a\nb\n{long_line}\nc\nd\n"
    offset = text.index(long_line) + 95
    win = build_window(text, offset, 30)  # 105 characters: the line (101) is kept whole
    assert win.prefix == "x" * 95
    assert win.suffix == "xxxxx\nc\nd\n"  # the prefix's unused share went to the suffix


def test_cursor_line_longer_than_budget_is_cut_by_characters():
    text = "head\n" + "y" * 10_000 + "\ntail\n"
    offset = 5 + 5_000
    win = build_window(text, offset, 100)  # 350 characters
    assert win.prefix == "y" * 262  # 75 %
    assert win.suffix == "y" * 88
    assert win.prefix_truncated and win.suffix_truncated


def test_long_line_cut_gives_short_side_all_it_needs():
    text = "z" * 5_000 + "\nnext line\n"
    win = build_window(text, 4_998, 100)  # 350 characters
    assert win.suffix == "zz\n"  # the short side whole
    assert win.prefix == "z" * 347  # the long side gets the rest, past its 75 %


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline):
    text = newline.join(["alpha", "beta", "gamma", "delta", "epsilon"]) + newline
    offset = text.index("gamma") + 2
    win = build_window(text, offset, 6)  # 21 characters
    assert win.prefix == "beta" + newline + "ga"
    assert win.suffix == "mma" + newline + "delta" + newline
    assert win.prefix + win.suffix == text[win.prefix_start : win.suffix_end]


def test_crlf_is_never_split():
    text = "aaaa\r\nbbbb\r\ncccc\r\n"
    for max_tokens in range(8):
        for offset in _valid_offsets(text):
            win = build_window(text, offset, max_tokens)
            assert not (
                win.prefix_start > 0 and text[win.prefix_start - 1 : win.prefix_start + 1] == "\r\n"
            )
            assert not text[win.suffix_end - 1 : win.suffix_end + 1] == "\r\n"


@pytest.mark.parametrize("separator", ["\f", "\x0b", "\x1c", "\x85", "\u2028", "\u2029"])
def test_splitlines_separators_are_not_line_breaks(separator):
    # Python's splitlines breaks at these; LSP does not. Were it a break, "bbbb\n" would fit.
    text = f"x\naaaa{separator}bbbb\ncc"
    win = build_window(text, len(text), 3)  # 10 characters: "aaaa?bbbb\n" is too long
    assert win.prefix == "cc"


def test_cursor_line_with_form_feed_is_whole():
    text = "one\ftwo\u2028three\x0bfour\nfive\n"
    offset = text.index("four")
    win = build_window(text, offset, 7)  # 24 bytes
    assert win.prefix == "one\ftwo\u2028three\x0b" and win.suffix == "four\n"


def test_non_ascii_counts_bytes():
    text = "".join(f"# 注释 {i}\n" for i in range(100))  # 12 UTF-8 bytes, 6 characters per line
    offset = text.index("# 注释 50")
    win = build_window(text, offset, 24)  # 84 bytes → 7 lines
    assert win.prefix.count("\n") + win.suffix.count("\n") == 7
    assert len((win.prefix + win.suffix).encode()) <= 84


def test_offset_out_of_range_is_clamped():
    assert build_window("abc", 99, 10).prefix == "abc"
    assert build_window("abc", -5, 10).suffix == "abc"
    assert build_window("", 0, 10) == Window("", "", 0, 0, False, False)


def test_zero_budget():
    win = build_window("abc\ndef\n", 5, 0)
    assert (win.prefix, win.suffix) == ("", "")


def test_offset_between_cr_and_lf_does_not_crash():
    text = "ab\r\ncd"
    win = build_window(text, 3, 100)
    assert win.prefix + win.suffix == text


@pytest.mark.parametrize("seed", range(6))
def test_matches_reference(seed):
    rng = random.Random(seed)
    alphabet = ["a", "b", "c", " ", "\t", "\n", "\n", "\r\n", "\r", "\f", "é", "中", "😀", "\u2028"]
    if seed % 2:
        alphabet = ["a", "b", " ", "\n", "\n", "\r\n", "\r"]  # ASCII: the fast path
    for _ in range(60):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120)))
        offsets = _valid_offsets(text)
        for offset in rng.sample(offsets, k=min(8, len(offsets))):
            max_tokens = rng.randrange(0, 30)
            share = rng.choice([0.75, 0.5, 0.0, 1.0])
            expected = reference_window(text, offset, max_tokens, share)
            assert build_window(text, offset, max_tokens, share) == expected, (
                text,
                offset,
                max_tokens,
            )
            assert _cost(text, expected.prefix_start, expected.suffix_end) <= int(max_tokens * 3.5)


# -- O(window): only text near the cursor is touched --------------------------------------------


class _WatchedText(str):
    """A str that records the ranges read through the methods build_window uses."""

    reads: list[tuple[int, int]]

    def _note(self, start: int | None, end: int | None) -> None:
        self.reads.append((0 if start is None else start, len(self) if end is None else end))

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, slice):
            self._note(key.start, key.stop)
        else:
            self._note(key, key + 1)
        return str.__getitem__(self, key)

    def find(self, sub, start=None, end=None):  # type: ignore[override]
        self._note(start, end)
        return str.find(self, sub, start, end)

    def rfind(self, sub, start=None, end=None):  # type: ignore[override]
        self._note(start, end)
        return str.rfind(self, sub, start, end)

    def startswith(self, prefix, start=0, end=None):  # type: ignore[override]
        self._note(start, start + len(prefix) if end is None else end)
        return str.startswith(self, prefix, start, len(self) if end is None else end)

    def isascii(self):  # type: ignore[override]
        self._note(0, len(self))
        return str.isascii(self)

    def encode(self, *args, **kwargs):  # type: ignore[override]
        self._note(0, len(self))
        return str.encode(self, *args, **kwargs)

    def splitlines(self, *args, **kwargs):  # type: ignore[override]
        self._note(0, len(self))
        return str.splitlines(self, *args, **kwargs)

    def split(self, *args, **kwargs):  # type: ignore[override]
        self._note(0, len(self))
        return str.split(self, *args, **kwargs)


@pytest.mark.parametrize("tail", ["", "é"])
def test_reads_only_near_the_cursor(tail):
    body = "".join(f"    value_{i} = compute(value_{i - 1}){tail}\n" for i in range(5_000))
    text = _WatchedText(body)
    text.reads = []
    offset = len(body) // 2
    win = build_window(text, offset, 256)
    assert win.prefix == body[win.prefix_start : offset]
    span = 2 * int(256 * CHARS_PER_TOKEN) + 10
    assert text.reads
    for start, end in text.reads:
        assert offset - span <= start and end <= offset + span, (start, end)
