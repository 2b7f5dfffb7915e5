"""Candidate next edits as what each kind of client can show.

- ``textDocument/copilotInlineEdit`` (GitHub Copilot language server's method, which
  sidekick.nvim, copilot-lsp and copilot.el speak): ``{"edits": [...]}``, never null, with at
  most one edit (sidekick applies every edit of a response at once; the others show the first),
  the request's URI echoed byte for byte and its version (copilot.el and sidekick drop anything
  else), and a ``command`` that the server lists in ``executeCommandProvider`` (Neovim refuses to
  send a command the server did not list).
- ``textDocument/inlineCompletion``: an item with a replace range, when the edit is on the
  cursor's line and reads as ghost text from the cursor.
- ``textDocument/codeAction``: "Next edit: …" with a versioned ``WorkspaceEdit``, for any
  editor's menu, the edit anywhere in the workspace.

Positions are in the snapshot's negotiated encoding (``Document.position_at``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from weft.documents import Document
from weft.nes.candidate import Candidate

COPILOT_INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW_INLINE_EDIT = "textDocument/didShowInlineEdit"
ACCEPT_COMMAND = "weft.acceptNextEdit"
ACCEPT_TITLE = "Accept next edit"
CODE_ACTION_KIND = "refactor.rewrite.nextEdit"
"""Under ``refactor.rewrite``, which weft already advertises."""


@dataclass(frozen=True, slots=True)
class InlineEditRequest:
    """A ``textDocument/copilotInlineEdit`` request's parameters."""

    uri: str
    version: int | None
    position: types.Position


def parse_inline_edit_request(params: Any) -> InlineEditRequest | None:
    """The request's document, version and position; None when they are missing or malformed.

    pygls hands custom methods their parameters as attribute objects with camelCase names;
    plain mappings are accepted too. Unknown fields (``context``, ``diagnostics``) are ignored.
    """
    document = _get(params, "textDocument")
    position = _get(params, "position")
    uri = _get(document, "uri")
    version = _get(document, "version")
    line, character = _get(position, "line"), _get(position, "character")
    if not isinstance(uri, str) or not _is_int(line) or not _is_int(character):
        return None
    if version is not None and not _is_int(version):
        return None
    return InlineEditRequest(uri, version, types.Position(line=line, character=character))


def copilot_inline_edit_result(
    candidates: Sequence[Candidate], request: InlineEditRequest, document: Document, edit_id: str
) -> dict[str, Any]:
    """The result for ``request``, answered from ``document`` (the snapshot the server holds for
    the request's URI): the first candidate in that very document and version, or no edit."""
    if request.version is None or request.version != document.version:
        return {"edits": []}
    for candidate in candidates:
        if candidate.is_fresh(document):
            return {"edits": [_inline_edit(candidate, request, edit_id)]}
    return {"edits": []}


def _inline_edit(candidate: Candidate, request: InlineEditRequest, edit_id: str) -> dict[str, Any]:
    return {
        "text": candidate.text,
        "textDocument": {"uri": request.uri, "version": request.version},
        "range": _range_json(candidate),
        "command": {"title": ACCEPT_TITLE, "command": ACCEPT_COMMAND, "arguments": [edit_id]},
    }


def _range_json(candidate: Candidate) -> dict[str, Any]:
    rng = candidate_range(candidate)
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def candidate_range(candidate: Candidate) -> types.Range:
    document = candidate.document
    return types.Range(
        start=document.position_at(candidate.start), end=document.position_at(candidate.end)
    )


def inline_completion_item(
    candidate: Candidate,
    document: Document,
    position: types.Position,
    command: types.Command | None = None,
) -> types.InlineCompletionItem | None:
    """The candidate as ghost text at the cursor, when it can be one: on the cursor's line, and
    either starting at or after the cursor or re-typing the text between its start and the
    cursor. None otherwise (offer it as a code action or an inline edit instead)."""
    if not candidate.is_fresh(document) or not 0 <= position.line < document.line_count:
        return None
    text = document.text
    cursor = document.offset_at(position, strict=False)
    line_start = document.line_starts[position.line]
    line_end = line_start + len(document.line_text(position.line))
    if not (line_start <= candidate.start and candidate.end <= line_end) or candidate.end < cursor:
        return None
    if candidate.start >= cursor:
        insert = text[cursor : candidate.start] + candidate.text
        start = cursor
    elif candidate.text.startswith(text[candidate.start : cursor]):
        insert, start = candidate.text, candidate.start
    else:
        return None
    rng = types.Range(start=document.position_at(start), end=document.position_at(candidate.end))
    return types.InlineCompletionItem(insert_text=insert, range=rng, command=command)


def next_edit_code_action(
    candidate: Candidate, edit_id: str, *, document_changes: bool = True
) -> types.CodeAction:
    """ "Next edit: …" applying the candidate to its own document version, then telling the
    server it was accepted. ``document_changes=False`` for clients without versioned edits."""
    edit = types.TextEdit(range=candidate_range(candidate), new_text=candidate.text)
    if document_changes:
        workspace_edit = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=candidate.uri, version=candidate.version
                    ),
                    edits=[edit],
                )
            ]
        )
    else:
        workspace_edit = types.WorkspaceEdit(changes={candidate.uri: [edit]})
    return types.CodeAction(
        title=f"Next edit: {candidate.label}",
        kind=CODE_ACTION_KIND,
        edit=workspace_edit,
        command=types.Command(title=ACCEPT_TITLE, command=ACCEPT_COMMAND, arguments=[edit_id]),
    )


def shown_edit_id(params: Any) -> str | None:
    """The edit id in a ``textDocument/didShowInlineEdit`` notification
    (``{"item": {"command": {"arguments": [id]}}}``)."""
    arguments = _get(_get(_get(params, "item"), "command"), "arguments")
    return accepted_edit_id(arguments)


def accepted_edit_id(arguments: Any) -> str | None:
    """The edit id in the accept command's arguments (``[id]``)."""
    if isinstance(arguments, Sequence) and not isinstance(arguments, str) and arguments:
        first = arguments[0]
        return first if isinstance(first, str) and first else None
    return None


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
