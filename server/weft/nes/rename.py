"""Rename propagation: the user retyped an identifier at one place; the other occurrences bound
to the old name in the same scope get the same rename.

The input is the document's edit history. The latest edits that all turn one identifier
``old`` into ``new`` form a *chain* (the user's own edit, then each accepted suggestion); undoing
the whole chain gives the text before the rename, where the scope analysis runs, so accepting
one suggestion leads to the next until none is left. Precision rules (anything else suggests
nothing):

- each edit of the chain is a whole-identifier replacement in code (a name in a string or a
  comment is not an occurrence in the syntax tree);
- the renamed occurrence binds to a variable or class member of this file;
- a lone edit must be at a definition (a parameter, an assignment target, a ``def``/``class``
  name, an import, ``self.x = …``); renaming a mere use needs two of them (a use may have been
  switched to another, existing name on purpose);
- ``new`` is not already used in that scope, or bound around it, and is no keyword;
- a name defined twice as a function or class in one scope (a copy being renamed) is left alone.

Cross-file (Python): a module-level name renamed at its definition, or whose module already
defines the new name and no longer the old one, is also renamed in the files that import it
(``from m import old``, aliases included), found through the workspace index.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from weft.documents import Document
from weft.nes.candidate import Candidate, plural_more
from weft.nes.history import Edit, revert
from weft.nes.scopes import Occurrence, Variable, occurrences, parse_bounded
from weft.nes.text import byte_offset, char_offsets, identifier_around, is_identifier

_SHORTHAND = re.compile(r": ([^\W\d][\w$]*)")
MAX_IMPORTERS = 20
"""Files that import a renamed name examined per prediction."""

KEYWORDS: dict[str, frozenset[str]] = {
    "python": frozenset(keyword.kwlist),
    "javascript": frozenset(
        "break case catch class const continue debugger default delete do else export extends "
        "false finally for function if import in instanceof new null return super switch this "
        "throw true try typeof var void while with yield let static enum await async".split()
    ),
    "go": frozenset(
        "break case chan const continue default defer else fallthrough for func go goto if "
        "import interface map package range return select struct switch type var".split()
    ),
    "rust": frozenset(
        "as break const continue crate else enum extern false fn for if impl in let loop match "
        "mod move mut pub ref return self Self static struct super trait true type unsafe use "
        "where while async await dyn".split()
    ),
}
KEYWORDS["typescript"] = KEYWORDS["tsx"] = KEYWORDS["javascript"] | frozenset(
    "interface type implements private protected public readonly declare namespace".split()
)


class Project(Protocol):
    """What the predictor may read of the rest of the workspace."""

    def document(self, uri: str) -> Document | None:
        """The current text of a file (the open document, else the file on disk)."""

    def importers(self, uri: str) -> list[str]:
        """Files whose imports resolve to ``uri``."""

    def import_sources(self, uri: str, name: str) -> list[str]:
        """Files that ``uri`` imports ``name`` from."""


@dataclass(frozen=True, slots=True)
class Rename:
    old: str
    new: str
    edits: tuple[Edit, ...]
    """The chain, newest first."""


def rename_chain(edits: Sequence[Edit], text: str) -> Rename | None:
    """The latest edits of one document that all rename the same identifier (newest first)."""
    if not edits:
        return None
    first = _identifier_rename(edits[0], text)
    if first is None:
        return None
    chain = [edits[0]]
    for edit in edits[1:]:
        if _identifier_rename(edit, text) != first:
            break
        chain.append(edit)
    return Rename(first[0], first[1], tuple(chain))


def _identifier_rename(edit: Edit, text: str) -> tuple[str, str] | None:
    """(old, new) when ``edit`` turned one whole identifier into another."""
    if edit.opaque or edit.is_noop:
        return None
    shorthand = _SHORTHAND.fullmatch(edit.new_text)
    if shorthand is not None and not edit.old_text:
        # `{old}` became `{old: new}`: an accepted rename of a shorthand property
        lo, _ = identifier_around(text, edit.start, edit.start)
        old = text[lo : edit.start]
        return (old, shorthand.group(1)) if lo < edit.start and is_identifier(old) else None
    lo, hi = identifier_around(text, edit.start, edit.end)
    new = text[lo:hi]
    old = text[lo : edit.start] + edit.old_text + text[edit.end : hi]
    if old == new or not is_identifier(old) or not is_identifier(new):
        return None
    return old, new


def rename_candidates(
    document: Document,
    edits: Sequence[Edit],
    *,
    cursor: int | None = None,
    project: Project | None = None,
) -> list[Candidate]:
    """The remaining renames after the document's latest edits (``edits`` newest first)."""
    language = document.language
    rename = rename_chain(edits, document.text)
    if rename is None or language is None or rename.new in KEYWORDS.get(language, ()):
        return []
    original = revert(document.text, rename.edits)
    analysis = _Analysis.build(original, language, rename)
    if analysis is None:
        return []
    sites = analysis.remaining_sites()
    here = _site_candidates(document, rename, analysis, sites, cursor)
    if here or project is None or language != "python" or analysis.target.kind != "module":
        return here
    return _cross_file(document, rename, analysis, project)


@dataclass
class _Analysis:
    """The rename's scope analysis on the text before the chain."""

    original: str
    rename: Rename
    found: list[Occurrence]
    target: Variable
    anchors: dict[int, int]
    """Byte offset in the original → character offset of the chain edit there."""

    @classmethod
    def build(cls, original: str, language: str, rename: Rename) -> _Analysis | None:
        data = original.encode("utf-8", "surrogatepass")
        tree = parse_bounded(data, language)
        if tree is None:
            return None
        found = occurrences(tree, data, language, rename.old)
        by_start = {occ.start: occ for occ in found}
        every = _anchor_bytes(original, rename)
        newest = by_start.get(max(every, key=lambda b: every[b]))
        if newest is None or newest.variable is None:
            return None  # not a variable of this file (a string, a comment, an attribute, …)
        target = newest.variable
        # older renames to the same names elsewhere (another scope) are not part of this one
        anchors = {
            start: order
            for start, order in every.items()
            if start in by_start and by_start[start].variable == target
        }
        user_edit = by_start[min(anchors, key=lambda b: anchors[b])]
        if len(anchors) == 1 and not _is_definition(user_edit):
            return None
        if _defined_twice(found, target):
            return None
        clashes = occurrences(tree, data, language, rename.new)
        if _clashes(clashes, target):
            return None
        return cls(original, rename, found, target, anchors)

    def remaining_sites(self) -> list[Occurrence]:
        return [
            occ
            for occ in self.found
            if occ.variable == self.target and occ.start not in self.anchors
        ]


def _anchor_bytes(original: str, rename: Rename) -> dict[int, int]:
    """Byte offsets (in the original) of the renamed identifiers → their chain order (0 is the
    user's own first edit)."""
    result: dict[int, int] = {}
    ordered = sorted(rename.edits, key=lambda e: e.start)
    shift = 0
    for edit in ordered:
        start = edit.start - shift
        lo, _hi = identifier_around(original, start, start + len(edit.old_text))
        result[byte_offset(original, lo)] = len(rename.edits) - 1 - rename.edits.index(edit)
        shift += len(edit.new_text) - len(edit.old_text)
    return result


def _is_definition(occ: Occurrence) -> bool:
    if occ.role == "binding":
        return True
    return occ.role == "member" and occ.definition == "attribute"


def _defined_twice(found: list[Occurrence], target: Variable) -> bool:
    definitions = [
        occ for occ in found if occ.variable == target and occ.definition in ("function", "class")
    ]
    return len(definitions) > 1


def _clashes(found: list[Occurrence], target: Variable) -> bool:
    """Whether the new name is already used in the target's scope or bound around it."""
    for occ in found:
        variable = occ.variable
        if target.kind == "member":
            if variable == target:
                return True
            continue
        if occ.role in ("binding", "reference") and (
            target.scope_start <= occ.start < target.scope_end
        ):
            return True
        if variable is not None and variable.kind != "member":
            if (
                variable.scope_start <= target.scope_start
                and target.scope_end <= variable.scope_end
            ):
                return True
    return False


def _site_candidates(
    document: Document,
    rename: Rename,
    analysis: _Analysis,
    sites: list[Occurrence],
    cursor: int | None,
) -> list[Candidate]:
    """Candidates in the current snapshot, the nearest after the cursor first."""
    if not sites:
        return []
    original = analysis.original
    chars = char_offsets(original, [occ.start for occ in sites])
    deltas = sorted((edit.start, len(edit.new_text) - len(edit.old_text)) for edit in rename.edits)
    text = document.text
    placed: list[tuple[int, Occurrence]] = []
    for occ in sites:
        position = chars[occ.start]
        shift = 0
        for start, delta in deltas:
            if start - shift <= position:
                shift += delta
        current = position + shift
        if text[current : current + len(rename.old)] == rename.old:
            placed.append((current, occ))
    pivot = cursor if cursor is not None else rename.edits[0].end
    placed.sort(key=lambda item: (item[0] < pivot, item[0]))
    return [_candidate(document, rename, start, occ, len(placed) - 1) for start, occ in placed]


def _candidate(
    document: Document, rename: Rename, start: int, occ: Occurrence, more: int
) -> Candidate:
    text = f"{rename.old}: {rename.new}" if occ.shorthand else rename.new
    label = f"rename `{rename.old}` → `{rename.new}`{plural_more(more)}"
    return Candidate(document, start, start + len(rename.old), text, label, "rename")


# -- cross-file (Python) -------------------------------------------------------------------


def _cross_file(
    document: Document, rename: Rename, analysis: _Analysis, project: Project
) -> list[Candidate]:
    source = _source_module(document, rename, analysis, project)
    if source is None:
        return []
    result: list[Candidate] = []
    for uri in project.importers(source)[:MAX_IMPORTERS]:
        if uri in (document.uri, source):
            continue
        other = project.document(uri)
        if other is not None and source in project.import_sources(uri, rename.old):
            result.extend(_importer_candidates(other, rename))
    return result


def _source_module(
    document: Document, rename: Rename, analysis: _Analysis, project: Project
) -> str | None:
    """The module defining the renamed name, when its importers should follow the rename."""
    definitions = [
        occ for occ in analysis.found if occ.variable == analysis.target and occ.role == "binding"
    ]
    if any(occ.definition != "import" for occ in definitions):
        user_edit = min(analysis.anchors, key=lambda b: analysis.anchors[b])
        by_start = {occ.start: occ for occ in analysis.found}
        anchor = by_start[user_edit]
        defined_here = anchor.role == "binding" and anchor.definition != "import"
        return document.uri if defined_here else None
    for name in (rename.new, rename.old):
        for uri in project.import_sources(document.uri, name):
            source = project.document(uri)
            if source is not None and _renamed_in(source, rename):
                return uri
    return None


def _renamed_in(source: Document, rename: Rename) -> bool:
    """The module defines ``new`` at its top level and no longer ``old``."""
    language = source.language
    if language != "python":
        return False
    data = source.text.encode("utf-8", "surrogatepass")
    tree = parse_bounded(data, language)
    if tree is None:
        return False

    def defined(name: str) -> bool:
        return any(
            occ.role == "binding" and occ.variable is not None and occ.variable.kind == "module"
            for occ in occurrences(tree, data, language, name)
        )

    return defined(rename.new) and not defined(rename.old)


def _importer_candidates(document: Document, rename: Rename) -> list[Candidate]:
    """The import of the old name in an importing file, and its uses there."""
    language = document.language
    if language != "python":
        return []
    data = document.text.encode("utf-8", "surrogatepass")
    tree = parse_bounded(data, language)
    if tree is None:
        return []
    found = occurrences(tree, data, language, rename.old)
    bindings = {
        occ.variable
        for occ in found
        if occ.definition == "import" and occ.variable is not None and occ.variable.kind == "module"
    }
    sites = [
        occ
        for occ in found
        if occ.definition == "import-remote"
        or (occ.variable is not None and occ.variable in bindings)
    ]
    chars = char_offsets(document.text, [occ.start for occ in sites])
    return [
        _candidate(document, rename, chars[occ.start], occ, len(sites) - 1 - index)
        for index, occ in enumerate(sorted(sites, key=lambda o: o.start))
    ]
