"""The syntax guard: never suggest text that breaks the file's syntax.

The candidate is spliced into the document and parsed with tree-sitter; the guard keeps the
longest prefix of it (cut at a line boundary, else at a token boundary of its first line) that
adds no ERROR or MISSING node compared with the document before the splice. Documents are often
mid-edit and already hold errors, so only *new* errors count: a spliced tree is accepted when it
has no more error nodes than the original and its ERROR nodes cover no more of the original
text (the inserted text excluded).

Cost is bounded for the keystroke path: the original is parsed once, every attempt is an
incremental re-parse of a copy of that tree, at most ``MAX_PARSES`` parses happen per call, and
files above ``WINDOW_CHARS`` are parsed only in a window around the cursor that starts and ends
at top-level lines. Languages without a grammar get the candidate back unchanged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from tree_sitter import Node, Parser, Tree

from weft.completion.postprocess import scan_brackets
from weft.index.languages import get_parser

logger = logging.getLogger(__name__)

MAX_PARSES = 8
"""Parses per call, the original included."""
WINDOW_CHARS = 8_000
"""Documents longer than this are parsed only in a window of about this size."""

_TOKEN_END = re.compile(r"\w+|[^\w\s]")
_AUTO_CLOSED = ")]}\"'`"


def parse_window(text: str, start: int, end: int, before: int, after: int) -> tuple[int, int]:
    """A slice ``[lo, hi)`` around ``[start, end)`` of at most about ``before + after``
    characters, starting and ending at top-level lines when there are some (so the window
    parses like the file does)."""
    lo = max(0, start - before)
    hi = min(len(text), end + after)
    if lo > 0:
        top = _TOP_LEVEL_LINE.search(text, lo, start)
        if top is not None:
            lo = top.start() + 1
        else:
            lo = text.rfind("\n", lo, start) + 1 or text.rfind("\n", 0, start) + 1
    if hi < len(text):
        cut = text.rfind("\n", end, hi)
        while cut >= 0 and not _is_top_level_at(text, cut + 1):
            cut = text.rfind("\n", end, cut)
        hi = cut + 1 if cut >= 0 else hi
    return lo, hi


# A window must start where the file's own parse would be at top level. A line in column 0 is
# not enough (docstrings and block comments have those), so it must open with a declaration
# keyword of one of the languages we guard.
_DECLARATION = (
    r"(?:def|class|async|import|from|@|export|function|const|let|var|fn|pub|impl|struct|enum|"
    r"trait|mod|use|type|interface|func|package|namespace|template|#include|#define|static|"
    r"public|private|protected|abstract|final)\b"
)
_TOP_LEVEL_LINE = re.compile(r"\n(?=" + _DECLARATION + ")")
_TOP_LEVEL_AT = re.compile(_DECLARATION)


def _is_top_level_at(text: str, index: int) -> bool:
    return index < len(text) and _TOP_LEVEL_AT.match(text, index) is not None


@dataclass(frozen=True, slots=True)
class _Error:
    start: int
    end: int
    missing: bool
    kind: str
    top: bool
    """An outermost ERROR node (nested ERROR nodes are counted, not measured)."""


def syntax_errors(root: Node) -> list[_Error]:
    """All ERROR and MISSING nodes under ``root`` (only subtrees holding errors are walked)."""
    found: list[_Error] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, inside = stack.pop()
        if node.is_missing:
            found.append(_Error(node.start_byte, node.end_byte, True, node.type, False))
        elif node.is_error:
            found.append(_Error(node.start_byte, node.end_byte, False, node.type, not inside))
            stack.extend((child, True) for child in node.children)
        elif node.has_error:
            stack.extend((child, inside) for child in node.children)
    return found


def _coverage(errors: list[_Error], lo: int, hi: int) -> int:
    """Bytes covered by outermost ERROR nodes, not counting the inserted bytes ``[lo, hi)``."""
    total = 0
    for err in errors:
        if err.top:
            overlap = max(0, min(err.end, hi) - max(err.start, lo))
            total += err.end - err.start - overlap
    return total


def _point_after(row: int, col: int, data: bytes) -> tuple[int, int]:
    newline = data.rfind(b"\n")
    if newline < 0:
        return row, col + len(data)
    return row + data.count(b"\n"), len(data) - newline - 1


class _Guard:
    """One guard run: the original parsed once, then incremental attempts."""

    def __init__(
        self,
        parser: Parser,
        text: str,
        offset: int,
        replace_end: int,
        candidate: str,
        language: str,
        keep: int,
    ) -> None:
        self.parser = parser
        self.candidate = candidate
        self.language = language
        self.keep = keep
        lo, hi = parse_window(text, offset, replace_end, WINDOW_CHARS // 2, WINDOW_CHARS // 2)
        self.before = text[lo:offset].encode()
        self.rest = text[offset:hi].encode()
        self.replaced = text[offset:replace_end]
        self.replaced_bytes = len(self.replaced.encode())
        line_start = text.rfind("\n", 0, offset) + 1
        self.line_head = text[max(line_start, lo) : offset]
        newline = self.before.rfind(b"\n")
        self.row = self.before.count(b"\n")
        self.col = len(self.before) - newline - 1
        tree = parser.parse(self.before + self.rest)
        self.tree: Tree = tree
        self.errors = syntax_errors(tree.root_node)
        self.parses = 1

    # an attempt: the document with ``insert`` over the replace range
    def attempt(self, insert: str) -> tuple[bool, int | None]:
        data = insert.encode()
        o = len(self.before)
        k = self.replaced_bytes
        edited = self.tree.copy()
        edited.edit(
            start_byte=o,
            old_end_byte=o + k,
            new_end_byte=o + len(data),
            start_point=(self.row, self.col),
            old_end_point=(self.row, self.col + k),
            new_end_point=_point_after(self.row, self.col, data),
        )
        tree = self.parser.parse(self.before + data + self.rest[k:], edited)
        self.parses += 1
        errors = syntax_errors(tree.root_node)
        if not errors:
            return True, None
        ok = len(errors) <= len(self.errors) and _coverage(errors, o, o + len(data)) <= _coverage(
            self.errors, o, o + k
        )
        return ok, self._first_new_error(errors, data, o, k)

    def _first_new_error(self, errors: list[_Error], data: bytes, o: int, k: int) -> int | None:
        """Character index in the inserted text of the first error the splice added."""
        shift = len(data) - k
        old = {
            (e.start + (shift if e.start >= o + k else 0), e.missing, e.kind)
            for e in self.errors
            if e.end <= o or e.start >= o + k
        }
        starts = [
            e.start
            for e in errors
            if (e.start, e.missing, e.kind) not in old and o <= e.start < o + len(data)
        ]
        if not starts:
            return None
        return len(data[: min(starts) - o].decode("utf-8", errors="ignore"))

    def variant(self, length: int) -> str:
        """The candidate cut to ``length`` characters, plus the auto-closed characters of the
        replace range that the cut no longer re-types (so none of them is lost)."""
        prefix = self.candidate[:length].rstrip()
        # only auto-closed characters at the end of the range come back; text before them
        # (the typed part of a selected popup item) is what the kept prefix replaces
        auto_closed = self.replaced[len(self.replaced.rstrip(_AUTO_CLOSED)) :]
        if not auto_closed:
            return prefix
        start_string = scan_brackets(self.line_head + prefix[: self.keep], self.language).string
        closes = scan_brackets(prefix[self.keep :], self.language, start_string).unpaired
        if closes and auto_closed.startswith(closes):
            return prefix + auto_closed[len(closes) :]
        if closes and closes.startswith(auto_closed):
            return prefix
        return prefix + auto_closed

    def cut_points(self) -> list[int]:
        """Where to try cutting, best first: line boundaries, bracket-balanced ones first and
        longest first; then token ends in the first line."""
        text, keep = self.candidate, self.keep
        lines: list[int] = []
        index = text.find("\n", keep)
        while index >= 0:
            cut = index - 1 if index > 0 and text[index - 1] == "\r" else index
            if text[keep:cut].strip():
                lines.append(cut)
            index = text.find("\n", index + 1)
        first_end = text.find("\n", keep)
        first_end = len(text) if first_end < 0 else first_end
        tokens = [
            keep + m.end()
            for m in _TOKEN_END.finditer(text[keep:first_end])
            if keep + m.end() < len(text.rstrip())
        ]
        start_string = scan_brackets(self.line_head + text[:keep], self.language).string

        def order(points: list[int]) -> list[int]:
            def balanced(n: int) -> bool:
                scan = scan_brackets(text[keep:n], self.language, start_string)
                return scan.balanced and scan.string == start_string

            return sorted(set(points), key=lambda n: (not balanced(n), -n))

        return order(lines) + [n for n in order(tokens) if n not in lines]

    def run(self) -> str:
        ok, hint = self.attempt(self.candidate)
        if ok:
            return self.candidate
        tried: set[str] = {self.candidate}
        pending = self.cut_points()
        while pending and self.parses < MAX_PARSES:
            # cuts before the first error the splice added go first; the rest stay in reserve
            # because error recovery sometimes reports an error after its cause
            length = next((n for n in pending if hint is None or n <= hint), pending[0])
            pending.remove(length)
            insert = self.variant(length)
            if insert in tried or not insert[self.keep :].strip():
                continue
            tried.add(insert)
            ok, found = self.attempt(insert)
            if ok:
                logger.debug(
                    "syntax guard cut the candidate to %d of %d chars", length, len(self.candidate)
                )
                return insert
            if found is not None:
                hint = found if hint is None else min(hint, found)
        logger.debug("syntax guard found no valid prefix in %d parses", self.parses)
        return self.candidate[: self.keep]


def guard_syntax(
    text: str,
    offset: int,
    replace_end: int,
    candidate: str,
    language: str | None,
    *,
    keep: int = 0,
) -> str:
    """The longest safe prefix of ``candidate`` inserted over ``[offset, replace_end)``.

    The returned text keeps the same replace range: when the cut drops closing characters
    that the range replaces, they are appended again, so replacing the range never deletes
    user text. ``keep`` characters at the start are never cut (the selected popup item's text);
    when no longer prefix is valid, exactly those come back (usually ``""``: no suggestion).
    Without a grammar for ``language`` the candidate comes back unchanged.
    """
    if not candidate.strip() or language is None:
        return candidate
    if not 0 <= offset <= replace_end <= len(text):
        return candidate
    parser = get_parser(language)
    if parser is None:
        return candidate
    try:
        return _Guard(parser, text, offset, replace_end, candidate, language, keep).run()
    except Exception:  # noqa: BLE001 - a parser failure must not cost the suggestion
        logger.exception("syntax guard failed; candidate left unchecked")
        return candidate
