"""The agent's ``search_text``: a model-chosen regular expression over workspace files, in time
linear in the text and under a per-call budget.

Python's ``re`` backtracks: ``(a+)+$`` against a line of ``a`` doubles its cost per character
(17 s for one line in the issue's measurement), and no budget checked between files can stop
it. RE2 (``google-re2``) runs in time linear in the text for every pattern; it has no
backreferences or lookaround, and says so when a pattern uses them. Measured on this machine
(``bench/regex.py``): ``(a+)+$`` against 24 ``a`` and a ``!`` takes ``re`` 1.4 s (×3 per
character), RE2 3 µs, and 1.5 ms for a million. On ordinary patterns over the standard
library (4.7 MB), one RE2 call per file slice, never across a line break, takes 9–28 ms where
``re`` line by line takes 17–40 ms; RE2 called line by line would take ~200 ms (each call
re-encodes its text). RE2 is a wheel on PyPI; ripgrep would be a binary users may not have.

Each file is searched as UTF-8 bytes in slices of at most :data:`SLICE_BYTES` that end at a
line break, and the budget is checked after every slice and every match, so one call stops
within about one slice's scan of its deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

SLICE_BYTES = 256 << 10
MAX_PROGRAM_BYTES = 8 << 20
"""RE2's memory for one compiled pattern (a pattern that needs more is refused)."""


class SearchPatternError(ValueError):
    """A pattern RE2 cannot compile; ``str()`` says why, for the model."""


def compile_pattern(pattern: str) -> Any:
    """An RE2 program for ``pattern`` whose matches never cross a line break (``^``/``$`` are
    line anchors). Raises :class:`SearchPatternError`."""
    import re2

    if not isinstance(pattern, str) or not pattern:
        raise SearchPatternError("the pattern must be a non-empty string")
    options = re2.Options()
    options.log_errors = False  # RE2 would write every bad pattern to the server's stderr
    options.never_nl = True
    options.max_mem = MAX_PROGRAM_BYTES
    try:
        return re2.compile("(?m)" + pattern, options)
    except re2.error:
        pass
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        raise SearchPatternError(_message(exc)) from None
    raise SearchPatternError("the pattern cannot be used line by line")


def search_lines(
    program: Any,
    files: Iterable[str],
    read: Callable[[str], str | None],
    limit: int,
    deadline: float,
) -> tuple[list[tuple[str, int, str]], bool]:
    """(path, 1-based line, line text) of lines that match, at most ``limit``; and whether the
    budget ran out before every file was searched."""
    rows: list[tuple[str, int, str]] = []
    for path in files:
        if len(rows) >= limit:
            return rows, False
        if time.monotonic() > deadline:
            return rows, True
        text = read(path)
        if not text:
            continue
        data = text.replace("\r\n", "\n").encode("utf-8", "surrogatepass")
        if _search_file(program, data, path, rows, limit, deadline):
            return rows, True
    return rows, False


def _search_file(
    program: Any,
    data: bytes,
    path: str,
    rows: list[tuple[str, int, str]],
    limit: int,
    deadline: float,
) -> bool:
    """Append the matching lines of one file; True when the budget ran out."""
    pos, line, counted = 0, 1, 0
    while pos < len(data):
        end = data.find(b"\n", min(len(data), pos + SLICE_BYTES))
        end = len(data) if end < 0 else end + 1
        while pos < end:
            match = program.search(data, pos, end)
            if match is None:
                break
            start = data.rfind(b"\n", 0, match.start()) + 1
            stop = data.find(b"\n", match.start())
            stop = len(data) if stop < 0 else stop
            line += data.count(b"\n", counted, start)
            counted = start
            rows.append((path, line, data[start:stop].decode("utf-8", "replace")))
            if len(rows) >= limit:
                return False
            pos = stop + 1
            if time.monotonic() > deadline:
                return True
        pos = end
        if time.monotonic() > deadline:
            return True
    return False


def _message(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return f"{detail} (RE2 syntax: no backreferences or lookaround)"
