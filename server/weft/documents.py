"""Open documents as immutable snapshots, with LSP's own line rules and position encodings.

LSP ends lines only at ``\\n``, ``\\r\\n`` and ``\\r``. Python's ``str.splitlines`` (which
pygls's ``TextDocument`` uses) also breaks at form feeds, vertical tabs, ``\\x1c``–``\\x1e``,
``\\x85``, U+2028 and U+2029, so a file with a form feed gets every later position wrong there.
weft keeps its own snapshots: a new :class:`Document` per version, line starts computed once
per snapshot on first use, characters counted in the negotiated encoding (utf-16 by default,
utf-8 or utf-32 when the client offers them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from weft.index.languages import normalize_language

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

UTF16 = "utf-16"
UTF8 = "utf-8"
UTF32 = "utf-32"


class PositionError(ValueError):
    """A position that does not exist in the document."""


def split_lines(text: str) -> list[str]:
    """Lines by LSP's rules, each with its line ending (the last one may have none)."""
    lines: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def line_ending_of(text: str) -> str:
    """The document's dominant line ending (``\\n`` when it has none)."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    if crlf >= lf and crlf >= cr and crlf:
        return "\r\n"
    if cr > lf:
        return "\r"
    return "\n"


def units_to_chars(line: str, units: int, encoding: str) -> int:
    """Code points in ``line`` covered by ``units`` code units of ``encoding`` (clamped to the line)."""
    if encoding == UTF32:
        return min(units, len(line))
    chars = 0
    count = 0
    for ch in line:
        if count >= units:
            break
        if encoding == UTF8:
            count += len(ch.encode("utf-8"))
        else:
            count += 2 if ord(ch) > 0xFFFF else 1
        chars += 1
    return chars


def chars_to_units(line: str, chars: int, encoding: str) -> int:
    """Code units of ``encoding`` in the first ``chars`` code points of ``line``."""
    head = line[:chars]
    if encoding == UTF32 or head.isascii():
        return len(head)
    if encoding == UTF8:
        return len(head.encode("utf-8"))
    return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF)


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


@dataclass(frozen=True)
class Document:
    """One version of an open document."""

    uri: str
    text: str
    version: int | None = None
    language_id: str = ""
    encoding: str = UTF16
    _cache: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def path(self) -> Path | None:
        """The file system path, for ``file:`` URIs."""
        fs = to_fs_path(self.uri) if self.uri.startswith("file:") else None
        return Path(fs) if fs else None

    @cached_property
    def language(self) -> str | None:
        """weft's language name (a grammar name), from the language id and the file name."""
        return normalize_language(self.language_id, self.path or self.uri)

    @cached_property
    def line_starts(self) -> list[int]:
        """Offset of the first character of each line."""
        return [0, *(m.end() for m in _LINE_BREAK.finditer(self.text))]

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_text(self, line: int) -> str:
        """Line ``line`` without its ending."""
        starts = self.line_starts
        if not 0 <= line < len(starts):
            raise PositionError(f"line {line} is outside the document (0..{len(starts) - 1})")
        end = starts[line + 1] if line + 1 < len(starts) else len(self.text)
        return _strip_eol(self.text[starts[line] : end])

    def offset_at(self, position: types.Position, *, strict: bool = True) -> int:
        """Offset of an LSP position; ``strict`` rejects lines past the end (else clamps)."""
        starts = self.line_starts
        line = position.line
        if line < 0 or position.character < 0:
            raise PositionError(f"negative position {line}:{position.character}")
        if line >= len(starts):
            if strict:
                raise PositionError(f"line {line} is outside the document (0..{len(starts) - 1})")
            return len(self.text)
        text = self.line_text(line)
        return starts[line] + units_to_chars(text, position.character, self.encoding)

    def position_at(self, offset: int) -> types.Position:
        """LSP position of an offset (clamped to the document)."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts
        line = _bisect_right(starts, offset) - 1
        # An offset between \r and \n belongs to the end of the line before the break.
        head = self.text[starts[line] : offset]
        return types.Position(line=line, character=chars_to_units(head, len(head), self.encoding))

    def with_changes(
        self, changes: Iterable[types.TextDocumentContentChangeEvent], version: int | None
    ) -> Document:
        """The next snapshot after LSP content changes (incremental or whole)."""
        doc = self
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial) or getattr(
                change, "range", None
            ):
                rng = change.range  # type: ignore[union-attr]
                start = doc.offset_at(rng.start, strict=False)
                end = max(start, doc.offset_at(rng.end, strict=False))
                text = doc.text[:start] + change.text + doc.text[end:]
                new = Document(doc.uri, text, version, doc.language_id, doc.encoding)
                starts = _shifted_line_starts(doc, start, end, change.text)
                if starts is not None:
                    new.__dict__["line_starts"] = starts  # seed the cached_property
                doc = new
            else:
                doc = Document(doc.uri, change.text, version, doc.language_id, doc.encoding)
        return (
            Document(doc.uri, doc.text, version, doc.language_id, doc.encoding)
            if doc is self
            else doc
        )


def _shifted_line_starts(old: Document, start: int, end: int, inserted: str) -> list[int] | None:
    """The new document's line starts derived from the old one's (None: rescan instead).

    Replacing ``[start, end)`` with ``inserted`` keeps every line start up to ``start``,
    shifts those after ``end`` and adds the breaks inside ``inserted``: a few list
    operations instead of a regex scan of the whole text on every keystroke. An edit next to
    a ``\r`` could join or split a ``\r\n`` pair, so those rescan.
    """
    text = old.text
    if "\r" in inserted or (start > 0 and text[start - 1] == "\r"):
        return None
    starts = old.line_starts
    lo = _bisect_right(starts, start)  # starts[:lo] are <= start: unchanged
    hi = _bisect_right(starts, end)  # starts[hi:] are > end: shifted
    delta = len(inserted) - (end - start)
    added = [start + m.end() for m in _LINE_BREAK.finditer(inserted)]
    return starts[:lo] + added + [s + delta for s in starts[hi:]]


def _bisect_right(items: list[int], value: int) -> int:
    import bisect

    return bisect.bisect_right(items, value)
