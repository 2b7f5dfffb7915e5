"""The edit history: what the user changed, from ``didChange`` deltas, in the units a person
thinks in.

Each content change is recorded with what the text-sync hook already has: the document text
just before the change (a reference, never copied), the replaced range as character offsets,
the inserted text and the line of the change's start. Recording costs O(size of the change +
a few context lines + the number of tracked edits of that document): no whole-document diff
and nothing that grows with the document, so it can sit on the keystroke path.

Coalescing: a change that touches (overlaps or abuts) a recent edit of the same document is
merged into it, so typing an identifier character by character, backspacing and retyping it,
or rewriting a line is one :class:`Edit` ("``foo`` → ``bar``"), with the time it started and
the time it was last touched. Several edits touched by one change (a selection across them)
merge into one. An edit that nets out to nothing (an undo, a retype of the same text) stays as
a no-op so that an undone edit is not mistaken for the latest one. Changes elsewhere start a new
edit; multi-cursor changes (several in one ``didChange``) each extend their own edit.

Every tracked edit of a document is kept in the document's current coordinates (offsets and
line numbers move with later changes), so the predictor and the prompts can use them on the
current snapshot directly. Memory is bounded: at most ``per_document`` edits per document and
``workspace`` in all, each at most ``MAX_EDIT_CHARS`` of old plus new text (a bigger one, such
as a paste of a whole file, is kept as an opaque edit: where, not what).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lsprotocol import types

from weft.documents import Document
from weft.nes.text import (
    common_prefix_length,
    common_suffix_length,
    lines_after,
    lines_before,
    splice_slice,
    whole_words,
)

MERGE_GAP_S = 60.0
"""A change touching an edit last changed longer ago than this starts a new edit."""
MAX_EDIT_CHARS = 20_000
"""Old plus new text kept per edit; beyond it the edit is opaque."""
CONTEXT_LINES = 3
"""Unchanged lines kept on each side of an edit (for diffs shown to a model)."""
CONTEXT_CHARS = 600
"""Longest context kept on each side, whatever the lines."""


@dataclass(frozen=True, slots=True)
class TextChange:
    """One content change, in the coordinates of the document just before it."""

    start: int
    end: int
    text: str
    line: int
    """0-based line of ``start`` (LSP ranges carry it for free)."""


@dataclass(frozen=True, slots=True)
class Edit:
    """One coalesced edit, in the coordinates of the document's latest snapshot."""

    uri: str
    start: int
    end: int
    """End of the edit's new text in the current snapshot."""
    old_text: str
    new_text: str
    line: int
    """0-based line of ``start``."""
    context_before: str
    """Unchanged text before ``start``, from the start of a line (up to CONTEXT_LINES lines)."""
    context_after: str
    """Unchanged text after the edit, to the end of a line."""
    started: float
    changed: float
    version: int | None
    """Document version after the edit was last changed."""
    opaque: bool = False
    """Too big to keep: ``old_text`` and ``new_text`` are empty, only the place is known."""

    @property
    def is_noop(self) -> bool:
        return not self.opaque and self.old_text == self.new_text


@dataclass(slots=True)
class _Tracked:
    """A mutable edit of one document (the history's own record)."""

    id: int
    uri: str
    start: int
    length: int
    old_text: str
    new_text: str
    line: int
    context_before: str = ""
    context_after: str = ""
    started: float = 0.0
    changed: float = 0.0
    version: int | None = None
    opaque: bool = False

    @property
    def end(self) -> int:
        return self.start + self.length

    def frozen(self) -> Edit:
        """The edit as a person would describe it: without the text it re-typed unchanged at
        either end (kept here so that typing on at either end still touches the edit)."""
        old, new = self.old_text, self.new_text
        prefix = common_prefix_length(old, new)
        suffix = common_suffix_length(old, new, prefix)
        prefix, suffix = whole_words(old, new, prefix, suffix)
        return Edit(
            self.uri,
            self.start + prefix,
            self.end - suffix,
            old[prefix : len(old) - suffix],
            new[prefix : len(new) - suffix],
            self.line + new.count("\n", 0, prefix),
            self.context_before + new[:prefix],
            new[len(new) - suffix :] + self.context_after,
            self.started,
            self.changed,
            self.version,
            self.opaque,
        )


@dataclass
class EditHistory:
    """The last edits per document and across the workspace (see the module docstring)."""

    per_document: int = 32
    workspace: int = 128
    merge_gap_s: float = MERGE_GAP_S
    _documents: dict[str, list[_Tracked]] = field(default_factory=dict)
    _order: OrderedDict[int, _Tracked] = field(default_factory=OrderedDict)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def record(
        self, uri: str, before: str, change: TextChange, version: int | None, now: float
    ) -> None:
        """Record one content change applied to ``before`` (the text just before it)."""
        removed = before[change.start : change.end]
        if _is_bulk(change, removed):
            change, removed = minimal_change(change, removed)
        if removed == change.text:
            return  # nothing changed (a client re-sent the same text)
        tracked = self._documents.setdefault(uri, [])
        for stale in [e for e in tracked if self._overlaps(e, change) and self._expired(e, now)]:
            self._forget(stale)  # edited again long after: its own record is no longer true
        touched = [e for e in tracked if self._touches(e, change) and not self._expired(e, now)]
        if touched:
            edit = self._merge(touched, before, change, removed)
            for old in touched[1:]:
                self._forget(old)
        else:
            edit = self._new(uri, before, change, removed, now)
            tracked.append(edit)
        self._shift(tracked, edit, change, removed)
        edit.changed = now
        edit.version = version
        self._order[edit.id] = edit
        self._order.move_to_end(edit.id)
        self._evict(tracked)

    def record_lsp(
        self,
        before: Document,
        changes: Iterable[types.TextDocumentContentChangeEvent],
        version: int | None,
        now: float,
    ) -> None:
        """Record a ``didChange``'s content changes against the snapshot they apply to."""
        for text, change in text_changes(before, changes):
            self.record(before.uri, text, change, version, now)

    def forget(self, uri: str) -> None:
        """Drop a document's edits (it was closed)."""
        for edit in self._documents.pop(uri, []):
            self._order.pop(edit.id, None)

    def edits(self, uri: str) -> list[Edit]:
        """A document's edits, the most recently changed first."""
        rank = {key: index for index, key in enumerate(self._order)}
        tracked = self._documents.get(uri, [])
        return [e.frozen() for e in sorted(tracked, key=lambda e: -rank.get(e.id, -1))]

    def recent(self, limit: int | None = None) -> list[Edit]:
        """Edits across the workspace, the most recently changed first."""
        newest = reversed(self._order.values())
        chosen = itertools.islice(newest, limit) if limit is not None else newest
        return [e.frozen() for e in chosen]

    def last(self, uri: str) -> Edit | None:
        edits = self.edits(uri)
        return edits[0] if edits else None

    def __len__(self) -> int:
        return len(self._order)

    # -- internals ------------------------------------------------------------------------

    def _expired(self, edit: _Tracked, now: float) -> bool:
        return now - edit.changed > self.merge_gap_s

    @staticmethod
    def _overlaps(edit: _Tracked, change: TextChange) -> bool:
        return edit.start < change.end and change.start < edit.end

    @staticmethod
    def _touches(edit: _Tracked, change: TextChange) -> bool:
        """Overlapping or abutting (typing right after an edit continues it)."""
        return edit.start <= change.end and change.start <= edit.end

    def _new(self, uri: str, before: str, change: TextChange, removed: str, now: float) -> _Tracked:
        text = change.text
        edit = _Tracked(
            next(self._ids), uri, change.start, len(text), removed, text, change.line, started=now
        )
        self._fill(edit, before, change)
        return edit

    def _merge(
        self, touched: list[_Tracked], before: str, change: TextChange, removed: str
    ) -> _Tracked:
        """One edit covering the change and every edit it touches (``touched`` is non-empty)."""
        touched.sort(key=lambda e: e.start)
        first = touched[0]
        lo = min(change.start, first.start)
        hi = max(change.end, max(e.end for e in touched))
        opaque = any(e.opaque for e in touched)
        pieces: list[str] = []
        position = lo
        for edit in touched:
            pieces.append(before[position : edit.start])
            pieces.append(edit.old_text)
            position = edit.end
        pieces.append(before[position:hi])
        old = "".join(pieces)
        new = before[lo : change.start] + change.text + before[change.end : hi]
        merged = first
        merged.line = first.line if first.start <= change.start else change.line
        merged.start = lo
        merged.old_text = old
        merged.new_text = new
        merged.length = len(new)
        merged.opaque = opaque
        merged.started = min(e.started for e in touched)
        self._fill(merged, before, change)
        return merged

    def _fill(self, edit: _Tracked, before: str, change: TextChange) -> None:
        """Context lines (read from the text after the change) and the size limit."""
        if edit.opaque or len(edit.old_text) + len(edit.new_text) > MAX_EDIT_CHARS:
            edit.opaque = True
            edit.old_text = edit.new_text = ""
            edit.context_before = edit.context_after = ""
            return
        after_len = len(before) - (change.end - change.start) + len(change.text)

        def after(lo: int, hi: int) -> str:
            return splice_slice(before, change.start, change.end, change.text, lo, hi)

        head = after(max(0, edit.start - CONTEXT_CHARS), edit.start)
        cut = lines_before(head, len(head), CONTEXT_LINES)
        edit.context_before = head[cut:]
        tail_lo = edit.start + len(edit.new_text)
        tail = after(tail_lo, min(after_len, tail_lo + CONTEXT_CHARS))
        edit.context_after = tail[: lines_after(tail, 0, CONTEXT_LINES)]

    def _shift(
        self, tracked: list[_Tracked], edit: _Tracked, change: TextChange, removed: str
    ) -> None:
        """Move the document's other edits after the change by its length and lines."""
        delta = len(change.text) - len(removed)
        lines = change.text.count("\n") - removed.count("\n")
        if not delta and not lines:
            return
        for other in tracked:
            if other is not edit and other.start >= change.end:
                other.start += delta
                other.line += lines

    def _forget(self, edit: _Tracked) -> None:
        self._order.pop(edit.id, None)
        tracked = self._documents.get(edit.uri)
        if tracked is not None and edit in tracked:
            tracked.remove(edit)

    def _evict(self, tracked: list[_Tracked]) -> None:
        while len(tracked) > self.per_document:
            oldest = min(tracked, key=lambda e: e.changed)
            self._forget(oldest)
        while len(self._order) > self.workspace:
            _, oldest = next(iter(self._order.items()))
            self._forget(oldest)
            if not self._documents.get(oldest.uri):
                self._documents.pop(oldest.uri, None)


def text_changes(
    before: Document, changes: Iterable[types.TextDocumentContentChangeEvent]
) -> Iterator[tuple[str, TextChange]]:
    """``(text just before, change)`` for each LSP content change, in order.

    One change (the usual case) costs two position look-ups; only a ``didChange`` carrying
    several changes builds the intermediate snapshots (as text sync does anyway).
    """
    pending = list(changes)
    doc = before
    for index, change in enumerate(pending):
        rng = getattr(change, "range", None)
        if rng is None:
            yield doc.text, TextChange(0, len(doc.text), change.text, 0)
        else:
            start = doc.offset_at(rng.start, strict=False)
            end = max(start, doc.offset_at(rng.end, strict=False))
            line = min(rng.start.line, doc.line_count - 1)
            yield doc.text, TextChange(start, end, change.text, line)
        if index + 1 < len(pending):
            doc = doc.with_changes([change], doc.version)


BULK_CHARS = 200
"""Changes replacing more than this, or several lines, are trimmed before they are recorded."""


def _is_bulk(change: TextChange, removed: str) -> bool:
    """A whole-line or whole-document replacement rather than typing: trim it first, or it
    would swallow every edit it spans. (Typing is kept whole, so that the next keystroke at
    its end still touches it.)"""
    if len(removed) + len(change.text) > BULK_CHARS:
        return True
    return ("\n" in removed or "\r" in removed) and ("\n" in change.text or "\r" in change.text)


def minimal_change(change: TextChange, removed: str) -> tuple[TextChange, str]:
    """The change without the text it re-types unchanged at either end (editors that send whole
    lines or whole documents), and what it removes. Costs C-speed comparisons only."""
    prefix = common_prefix_length(removed, change.text)
    suffix = common_suffix_length(removed, change.text, prefix)
    if not prefix and not suffix:
        return change, removed
    trimmed = TextChange(
        change.start + prefix,
        change.end - suffix,
        change.text[prefix : len(change.text) - suffix],
        change.line + removed.count("\n", 0, prefix),
    )
    return trimmed, removed[prefix : len(removed) - suffix]


def revert(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with the given edits of its document undone (they must be disjoint)."""
    result = text
    for edit in sorted(edits, key=lambda e: -e.start):
        result = result[: edit.start] + edit.old_text + result[edit.end :]
    return result
