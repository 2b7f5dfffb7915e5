"""Text synchronisation: weft keeps its own snapshots of open documents.

pygls keeps a copy too, but splits lines with ``str.splitlines`` (wrong at form feeds and
other separators LSP does not treat as line ends); completion uses ``server.documents``.
pygls allows one handler per notification, so other features (the index, the offline engine)
subscribe through ``server.document_listeners``: callables ``(event, uri, document | None)``
with event ``open``, ``change``, ``save`` or ``close``.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from weft.documents import Document, PositionError

logger = logging.getLogger(__name__)


def register(server: Any) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Any, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.documents[item.uri] = Document(
            item.uri, item.text, item.version, item.language_id, ls.position_encoding
        )
        ls.notify_document("open", item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Any, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.documents.get(uri)
        if doc is None:
            ls.log_once((uri, "didChange"), f"didChange for a document that is not open: {uri}")
            return
        try:
            new = doc.with_changes(params.content_changes, params.text_document.version)
            last = params.content_changes[-1] if params.content_changes else None
            if last is not None and getattr(last, "range", None) is not None:
                start = new.offset_at(last.range.start, strict=False)  # type: ignore[union-attr]
                ls.last_edit_offset[uri] = start + len(last.text)
            ls.documents[uri] = new
        except PositionError as exc:
            ls.log(f"didChange for {uri} ignored: {exc}")  # the client's mistake: info
            return
        ls.notify_document("change", uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: Any, params: types.DidSaveTextDocumentParams) -> None:
        ls.notify_document("save", params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Any, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.pop(params.text_document.uri, None)
        ls.engine.forget(params.text_document.uri)
        ls.last_edit_offset.pop(params.text_document.uri, None)
        ls.notify_document("close", params.text_document.uri)
