"""SEARCH/REPLACE blocks: parsed from a model's answer, applied to file texts, turned into LSP edits.

The format (SPEC §4) is aider's: a path alone on a line, then ``<<<<<<< SEARCH``, the lines as
they are, ``=======``, the lines as they should be, ``>>>>>>> REPLACE``, optionally inside a code
fence (the path then stands before the fence). Matching is exact on whole lines; when nothing
matches exactly, lines that differ only in leading/trailing whitespace are accepted, and the
replacement is re-indented by the same amount. Nothing fuzzier: a block that matches nowhere or in
several places is reported back to the model by number, so that it can try again.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field

from lsprotocol import types

from weft.documents import Document, chars_to_units, line_ending_of, split_lines

logger = logging.getLogger(__name__)

_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class EditBlock:
    """One SEARCH/REPLACE block; ``number`` counts blocks in the answer from 1."""

    number: int
    path: str
    search: str
    replace: str


@dataclass(frozen=True)
class BlockError:
    """Why a block could not be applied, in words meant for the model."""

    number: int
    path: str
    reason: str

    def describe(self) -> str:
        return f"Block {self.number} ({self.path or 'no path'}): {self.reason}"


@dataclass
class ParsedAnswer:
    """The blocks of an answer and any malformed ones."""

    blocks: list[EditBlock] = field(default_factory=list)
    errors: list[BlockError] = field(default_factory=list)


def clean_path_line(line: str) -> str:
    """The path on a line before a block, without the decoration models like to add."""
    text = line.strip().strip("`*").strip()
    if text.startswith("#"):
        text = text.lstrip("#").strip()
    return text.rstrip(":").strip().strip("`*").strip()


def _path_before(lines: list[str], index: int) -> str:
    """The path that stands right before line ``index`` (skipping one opening fence)."""
    j = index - 1
    if j >= 0 and _FENCE.match(lines[j]):
        j -= 1
    if j < 0:
        return ""
    candidate = clean_path_line(lines[j])
    if not candidate or " " in candidate or _FENCE.match(lines[j]) or _REPLACE.match(lines[j]):
        return ""
    return candidate


def parse_edit_blocks(text: str) -> ParsedAnswer:
    """Every SEARCH/REPLACE block in ``text``, in order; unterminated blocks become errors."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = ParsedAnswer()
    previous_path = ""
    i = 0
    number = 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        number += 1
        path = _path_before(lines, i) or previous_path
        search: list[str] = []
        replace: list[str] = []
        j = i + 1
        while j < len(lines) and not _DIVIDER.match(lines[j]) and not _SEARCH.match(lines[j]):
            search.append(lines[j])
            j += 1
        if j >= len(lines) or not _DIVIDER.match(lines[j]):
            out.errors.append(BlockError(number, path, "no ======= line after SEARCH"))
            i = j
            continue
        j += 1
        while j < len(lines) and not _REPLACE.match(lines[j]) and not _SEARCH.match(lines[j]):
            replace.append(lines[j])
            j += 1
        if j >= len(lines) or not _REPLACE.match(lines[j]):
            out.errors.append(BlockError(number, path, "no >>>>>>> REPLACE line to end the block"))
            i = j
            continue
        if not path:
            out.errors.append(
                BlockError(number, "", "no file path on the line before <<<<<<< SEARCH")
            )
        else:
            out.blocks.append(EditBlock(number, path, _join(search), _join(replace)))
            previous_path = path
        i = j + 1
    return out


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


# -- applying -----------------------------------------------------------------------------


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _find_exact(lines: list[str], needle: list[str]) -> list[int]:
    n = len(needle)
    return [i for i in range(len(lines) - n + 1) if lines[i : i + n] == needle]


def _find_loose(lines: list[str], needle: list[str]) -> list[int]:
    stripped = [line.strip() for line in lines]
    want = [line.strip() for line in needle]
    n = len(want)
    return [i for i in range(len(lines) - n + 1) if stripped[i : i + n] == want]


def _reindent(replace: list[str], search: list[str], found: list[str]) -> list[str]:
    """Shift ``replace`` by the indentation difference between ``search`` and what was found."""
    pairs = [(s, f) for s, f in zip(search, found, strict=True) if s.strip()]
    if not pairs:
        return replace
    s_ind, f_ind = _indent(pairs[0][0]), _indent(pairs[0][1])
    out = []
    for line in replace:
        if not line.strip():
            out.append(line)
        elif f_ind.startswith(s_ind):
            out.append(f_ind[len(s_ind) :] + line)
        elif s_ind.startswith(f_ind) and line.startswith(s_ind[len(f_ind) :]):
            out.append(line[len(s_ind) - len(f_ind) :])
        else:
            out.append(line)
    return out


def apply_block(text: str, block: EditBlock) -> tuple[str | None, str]:
    """``text`` with ``block`` applied, or (None, why not)."""
    eol = line_ending_of(text) if text else "\n"
    lines = [_bare(line) for line in split_lines(text)]
    trailing_newline = lines and lines[-1] == ""
    if trailing_newline:
        lines.pop()
    search = [_bare(line) for line in block.search.splitlines()] if block.search else []
    replace = [_bare(line) for line in block.replace.splitlines()] if block.replace else []
    if not any(line.strip() for line in search):
        return None, (
            "the SEARCH part is empty but the file exists; quote the lines the new text goes "
            "next to (an empty SEARCH only creates a file that does not exist yet)"
        )
    hits = _find_exact(lines, search)
    if len(hits) == 1:
        start = hits[0]
    elif len(hits) > 1:
        return None, (
            f"the SEARCH part matches {len(hits)} places (lines "
            f"{', '.join(str(h + 1) for h in hits[:5])}); include more surrounding lines so it "
            "matches exactly one"
        )
    else:
        loose = _find_loose(lines, search)
        if len(loose) != 1:
            why = (
                f"matches {len(loose)} places when whitespace is ignored; include more lines"
                if loose
                else "matches nothing in the file; SEARCH must copy the current lines exactly"
            )
            hint = _closest_hint(lines, search)
            return None, f"the SEARCH part {why}{hint}"
        start = loose[0]
        replace = _reindent(replace, search, lines[start : start + len(search)])
    new_lines = lines[:start] + replace + lines[start + len(search) :]
    result = eol.join(new_lines)
    if new_lines and (trailing_newline or not text):
        result += eol
    return result, ""


def _closest_hint(lines: list[str], search: list[str]) -> str:
    """The file's lines nearest to the SEARCH's first non-blank line, to help the model retry."""
    first = next((line.strip() for line in search if line.strip()), "")
    if not first:
        return ""
    stripped = [line.strip() for line in lines]
    close = difflib.get_close_matches(first, stripped, n=1, cutoff=0.6)
    if not close:
        return ""
    at = stripped.index(close[0])
    snippet = "\n".join(lines[at : at + min(len(search), 8)])
    return f". The closest lines start at line {at + 1}:\n{snippet}"


@dataclass
class ApplyResult:
    """New file texts (path → text) and the blocks that failed."""

    texts: dict[str, str] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    errors: list[BlockError] = field(default_factory=list)


def apply_edit_blocks(originals: dict[str, str | None], blocks: list[EditBlock]) -> ApplyResult:
    """Apply ``blocks`` in order to ``originals`` (path → text, None for a file that does not exist).

    Every block is tried, so that the model hears about all failures at once; texts only include
    files whose blocks all applied.
    """
    result = ApplyResult()
    current: dict[str, str | None] = {}
    failed_paths: set[str] = set()
    for block in blocks:
        text = current.get(block.path, originals.get(block.path))
        if text is None:
            if block.search.strip():
                result.errors.append(
                    BlockError(
                        block.number,
                        block.path,
                        "the file does not exist; to create it, leave the SEARCH part empty",
                    )
                )
                failed_paths.add(block.path)
                continue
            current[block.path] = block.replace
            result.created.add(block.path)
            continue
        new, why = apply_block(text, block)
        if new is None:
            result.errors.append(BlockError(block.number, block.path, why))
            failed_paths.add(block.path)
            continue
        current[block.path] = new
    for path, text in current.items():
        if path in failed_paths or text is None:
            continue
        if path in result.created or text != originals.get(path):
            result.texts[path] = text
    result.created &= set(result.texts)
    return result


# -- LSP edits and diffs ------------------------------------------------------------------


@dataclass(frozen=True)
class LineEdit:
    """Replace [start, end) (line, code-unit character) with ``new_text``."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int
    new_text: str


def line_edits(old: str, new: str, encoding: str = "utf-16") -> list[LineEdit]:
    """Minimal whole-line replacements turning ``old`` into ``new``, positions in ``encoding``."""
    old_lines = split_lines(old)
    new_lines = split_lines(new)
    if old_lines and old_lines[-1] == "":
        old_lines.pop()
    if new_lines and new_lines[-1] == "":
        new_lines.pop()
    edits: list[LineEdit] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        text = "".join(new_lines[b0:b1])
        start = _line_pos(old_lines, a0, encoding)
        end = _line_pos(old_lines, a1, encoding)
        if a0 == a1 == len(old_lines) and old_lines and not _has_eol(old_lines[-1]):
            # Appending after a last line that lacks its newline: add one before the new text.
            text = line_ending_of(old) + text
        edits.append(LineEdit(start[0], start[1], end[0], end[1], text))
    return edits


def _has_eol(line: str) -> bool:
    return line.endswith(("\n", "\r"))


def _line_pos(lines: list[str], index: int, encoding: str) -> tuple[int, int]:
    """Start of line ``index``; past the end, the end of the last line."""
    if index < len(lines):
        return index, 0
    if not lines:
        return 0, 0
    last = lines[-1]
    if _has_eol(last):
        return len(lines), 0
    return len(lines) - 1, chars_to_units(last, len(last), encoding)


def apply_line_edits(old: str, edits: list[LineEdit], encoding: str = "utf-16") -> str:
    """``old`` with ``edits`` applied (used by tests and the CLI to check round trips)."""
    doc = Document("untitled:x", old, 0, "", encoding)
    out = old
    for edit in sorted(edits, key=lambda e: (e.start_line, e.start_char), reverse=True):
        start = doc.offset_at(types.Position(edit.start_line, edit.start_char), strict=False)
        end = doc.offset_at(types.Position(edit.end_line, edit.end_char), strict=False)
        out = out[:start] + edit.new_text + out[end:]
    return out


def unified_diff(path: str, old: str | None, new: str) -> str:
    """A ``git diff``-style unified diff of one file (``old`` None: a new file)."""
    a = split_lines(old) if old else []
    b = split_lines(new)
    a = [line for line in a if line]
    b = [line for line in b if line]
    a = [line if _has_eol(line) else line + "\n\\ No newline at end of file\n" for line in a]
    b = [line if _has_eol(line) else line + "\n\\ No newline at end of file\n" for line in b]
    head = "/dev/null" if old is None else f"a/{path}"
    return "".join(difflib.unified_diff(a, b, head, f"b/{path}"))


def to_workspace_edit(
    texts: dict[str, str],
    originals: dict[str, str | None],
    uris: dict[str, str],
    versions: dict[str, int | None],
    encoding: str = "utf-16",
    annotations: dict[str, str] | None = None,
    change_annotations: dict[str, types.ChangeAnnotation] | None = None,
) -> types.WorkspaceEdit:
    """One ``WorkspaceEdit`` with ``documentChanges`` for a verified result.

    ``uris`` maps each relative path to its URI (an open document's own URI where there is one);
    ``versions`` holds the version of each open document the edit was computed against (closed
    files get ``None``, as ``OptionalVersionedTextDocumentIdentifier`` allows). New files get a
    ``CreateFile`` followed by an edit inserting their text. ``annotations`` (path → annotation
    id, defined in ``change_annotations``) marks the changes of those files.
    """
    changes: list[types.TextDocumentEdit | types.CreateFile] = []
    annotations = annotations or {}
    for path in sorted(texts):
        uri = uris[path]
        old = originals.get(path)
        new = texts[path]
        annotation = annotations.get(path)
        if old is None:
            changes.append(
                types.CreateFile(
                    uri=uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=annotation,
                )
            )
            edits = [LineEdit(0, 0, 0, 0, new)] if new else []
            version = None
        else:
            edits = line_edits(old, new, encoding)
            version = versions.get(path)
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=[_text_edit(e, annotation) for e in edits],
            )
        )
    return types.WorkspaceEdit(
        document_changes=changes, change_annotations=change_annotations or None
    )


def _text_edit(edit: LineEdit, annotation: str | None) -> types.TextEdit | types.AnnotatedTextEdit:
    rng = types.Range(
        types.Position(edit.start_line, edit.start_char),
        types.Position(edit.end_line, edit.end_char),
    )
    if annotation is None:
        return types.TextEdit(range=rng, new_text=edit.new_text)
    return types.AnnotatedTextEdit(range=rng, new_text=edit.new_text, annotation_id=annotation)
