"""A predicted next edit, tied to the document snapshot it was computed on."""

from __future__ import annotations

from dataclasses import dataclass

from weft.documents import Document


@dataclass(frozen=True, slots=True)
class Candidate:
    """Replace ``[start, end)`` (character offsets in ``document.text``) with ``text``."""

    document: Document
    start: int
    end: int
    text: str
    label: str
    """What a menu shows: ``rename `foo` → `bar` (3 more)``."""
    kind: str
    """``rename`` | ``repeat`` (the same call-site edit again) | ``model``."""

    @property
    def uri(self) -> str:
        return self.document.uri

    @property
    def version(self) -> int | None:
        return self.document.version

    @property
    def old_text(self) -> str:
        return self.document.text[self.start : self.end]

    def applied(self) -> str:
        """The snapshot's text with this edit applied."""
        text = self.document.text
        return text[: self.start] + self.text + text[self.end :]

    def is_fresh(self, document: Document) -> bool:
        """Whether the candidate may still be offered against ``document``: only ever on the
        very version it was computed on."""
        return document.uri == self.uri and document.version == self.version


def plural_more(count: int) -> str:
    """`` (3 more)`` for a label, or nothing."""
    return f" ({count} more)" if count > 0 else ""
