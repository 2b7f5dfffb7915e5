"""``textDocument/inlineCompletion`` (LSP 3.18): ghost text from the completion pipeline.

Advertised with ``InlineCompletionOptions`` only to clients that advertise
``textDocument.inlineCompletion`` (others get ``features/completion.py``). The handler is
``async`` so ``$/cancelRequest`` cancels it at its await; bad input (a document never opened,
a position outside it, text that cannot be encoded) is logged and answered with an empty list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from weft.completion.engine import CompletionRequest, Selected, Suggestion
from weft.documents import Document, PositionError

logger = logging.getLogger(__name__)

ACCEPT_COMMAND = "weft.acceptCompletion"


@dataclass(frozen=True)
class Answer:
    """Suggestions for one request and the snapshot they were computed on."""

    doc: Document
    offset: int
    suggestions: list[Suggestion]


def _refusal(ls: Any, doc: Document | None, uri: str, rel: str) -> str | None:
    """Why no completion may be computed for ``uri`` (None: go ahead)."""
    settings = ls.settings
    if not settings.completion.enabled:
        return "completion disabled (completion.enabled = false)"
    if doc is None:
        return f"no completion: {uri} is not open"
    if len(doc.text) > settings.index.max_file_kb * 1024:
        return (
            f"no completion: {uri} is larger than index.maxFileKb ({settings.index.max_file_kb} KB)"
        )
    if ls.is_private(doc, rel):
        return f"no completion: {uri} is excluded (privacy.exclude, .gitignore or .weftignore)"
    return None


async def suggest(
    ls: Any,
    uri: str,
    position: types.Position,
    invoked: bool,
    selected: types.SelectedCompletionInfo | None = None,
) -> Answer | None:
    """Run the pipeline for an LSP request; None when there is nothing to show.

    A passive feature: whatever goes wrong is logged and answered with nothing.
    """
    try:
        return await _suggest(ls, uri, position, invoked, selected)
    except Exception as exc:  # noqa: BLE001 - never an exception to the client
        logger.exception("completion failed")
        ls.log(f"completion failed: {exc!r}", "error")
        return None


async def _suggest(
    ls: Any,
    uri: str,
    position: types.Position,
    invoked: bool,
    selected: types.SelectedCompletionInfo | None,
) -> Answer | None:
    doc = ls.documents.get(uri)
    rel = ls.relative_path(doc) if doc is not None else ""
    reason = _refusal(ls, doc, uri, rel)
    if reason is not None:
        ls.log_once((uri, reason), reason, "info")
        return None
    assert doc is not None
    try:
        offset = doc.offset_at(position)
        sel = None
        if selected is not None:
            sel = Selected(
                doc.offset_at(selected.range.start),
                doc.offset_at(selected.range.end),
                selected.text,
            )
    except PositionError as exc:
        ls.log(f"no completion for {uri}: {exc}", "info")  # the client's mistake
        return None
    generation = ls.engine.begin(uri)
    request = CompletionRequest(doc, offset, invoked, sel, rel, ls.index)
    try:
        suggestions = await ls.engine.complete(
            request, ls.settings, ls.completion_backend(), generation
        )
    except UnicodeEncodeError:
        ls.log(
            f"no completion for {uri}: the text around the cursor is not valid Unicode", "warning"
        )
        return None
    except Exception as exc:  # noqa: BLE001 - passive feature: log and answer empty
        if type(exc).__name__ == "CancelledError":
            raise
        if not _is_backend_error(exc):
            logger.exception("completion failed")
            ls.log(f"completion failed: {exc!r}", "error")
        return None
    current = ls.documents.get(uri)
    if current is None or current.version != doc.version:
        return None  # the text changed while the model answered: never show a stale result
    return Answer(doc, offset, suggestions) if suggestions else None


def _is_backend_error(exc: BaseException) -> bool:
    from weft.backends.base import BackendError

    return isinstance(exc, BackendError)


def to_inline_items(answer: Answer) -> list[types.InlineCompletionItem]:
    """Every item carries its range, even an empty one at the cursor.

    Clients keep showing an item while the user types on (Neovim 0.12 until its next request,
    200 ms after the last keystroke). A range anchors the item where the request was made, so
    the client's own prefix matching skips what was typed since: typing ``ret`` over
    ``return a + b`` shows ``urn a + b``. Without one Neovim draws the whole item at the new
    cursor (``retreturn a + b``) and pastes it there on accept.
    """
    items = []
    for s in answer.suggestions:
        rng = types.Range(answer.doc.position_at(s.start), answer.doc.position_at(s.end))
        items.append(
            types.InlineCompletionItem(
                insert_text=s.text,
                range=rng,
                command=types.Command(
                    title="weft: accepted",
                    command=ACCEPT_COMMAND,
                    arguments=[{"uri": answer.doc.uri, "source": s.source, "length": len(s.text)}],
                ),
            )
        )
    return items


def enable(server: Any) -> None:
    """Register the handler (called from ``initialize`` when the client supports it)."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: Any, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        answer = await suggest(
            ls,
            params.text_document.uri,
            params.position,
            invoked,
            params.context.selected_completion_info,
        )
        return types.InlineCompletionList(items=to_inline_items(answer) if answer else [])


def register(server: Any) -> None:
    """Nothing at start-up: ``enable`` runs at ``initialize`` for clients with inline completion."""
