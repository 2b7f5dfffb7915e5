"""weft's checks in the server: findings behind "Fix with weft", the client's diagnostics.

* Every open document is checked in the background (``service``).
* ``weft/clientDiagnostics`` (a notification from the client; the Neovim plugin sends it):
  ``{uri, diagnostics: Diagnostic[]}``, every diagnostic the editor shows for the document,
  from every source, replacing the previous set. Editors send a server only its own
  diagnostics in ``textDocument/codeAction`` (Neovim, Helix, eglot), so without this weft
  never sees pyright's or ruff's errors there.
* A code-action request whose range has no client diagnostics (neither in its context nor
  forwarded) gets weft's own findings there, so "Fix with weft: <message>" is offered for them.
* With ``checks.publish`` the findings are also published as diagnostics (off by default: users
  of pyright or ruff servers would see everything twice).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import converters, types

from weft.checks.findings import Finding
from weft.checks.service import Checked, ChecksService
from weft.documents import Document

logger = logging.getLogger(__name__)

CLIENT_DIAGNOSTICS = "weft/clientDiagnostics"
MAX_CLIENT_DIAGNOSTICS = 1000
"""Most diagnostics kept per document from the client (the rest are dropped)."""

_converter = converters.get_converter()


def to_diagnostic(doc: Document, f: Finding) -> types.Diagnostic:
    """A finding as an LSP diagnostic in the document's position encoding."""

    def position(line: int, col: int) -> types.Position:
        line = min(max(0, line), doc.line_count - 1)
        col = min(col, len(doc.line_text(line)))
        return doc.position_at(doc.line_starts[line] + col)

    start = position(f.line, f.col)
    end = position(f.end_line, f.end_col)
    return types.Diagnostic(
        range=types.Range(start, end),
        message=f.message,
        severity=types.DiagnosticSeverity(f.severity),
        source=f"weft: {f.source}",
        code=f.code,
    )


def _plain(value: Any) -> Any:
    """pygls hands a custom method's params over as nested namedtuples: back to JSON values."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def parse_client_diagnostics(params: Any) -> tuple[str, list[types.Diagnostic]] | None:
    """``(uri, diagnostics)`` from the notification's params; None when they are malformed.
    Single malformed diagnostics are dropped."""
    raw = _plain(params)
    if not isinstance(raw, dict) or not isinstance(raw.get("uri"), str):
        return None
    items = raw.get("diagnostics")
    if not isinstance(items, list):
        return None
    out: list[types.Diagnostic] = []
    for item in items[:MAX_CLIENT_DIAGNOSTICS]:
        try:
            out.append(_converter.structure(item, types.Diagnostic))
        except Exception:  # noqa: BLE001 - one bad entry must not drop the others
            continue
    return raw["uri"], out


def _on_lines(diag: types.Diagnostic, rng: types.Range) -> bool:
    return diag.range.start.line <= rng.end.line and rng.start.line <= diag.range.end.line


def known_diagnostics(ls: Any, uri: str, rng: types.Range) -> list[types.Diagnostic]:
    """What weft knows about the lines of ``rng`` besides the request's own context: the
    client's forwarded diagnostics there, else weft's own findings there."""
    forwarded = [d for d in ls.client_diagnostics.get(uri, []) if _on_lines(d, rng)]
    if forwarded:
        return forwarded
    doc = ls.documents.get(uri)
    checked = ls.checks.results.get(uri)
    if doc is None or checked is None or checked.version != doc.version:
        return []
    own = [to_diagnostic(doc, f) for f in checked.findings]
    return [d for d in own if _on_lines(d, rng)]


def with_known_diagnostics(ls: Any, params: types.CodeActionParams) -> types.CodeActionParams:
    """``params`` whose context holds weft's known diagnostics when the client sent none."""
    if params.context.diagnostics or getattr(ls, "checks", None) is None:
        return params
    extra = known_diagnostics(ls, params.text_document.uri, params.range)
    if not extra:
        return params
    context = types.CodeActionContext(
        diagnostics=extra, only=params.context.only, trigger_kind=params.context.trigger_kind
    )
    return types.CodeActionParams(
        text_document=params.text_document,
        range=params.range,
        context=context,
        work_done_token=params.work_done_token,
        partial_result_token=params.partial_result_token,
    )


def _publish(ls: Any, uri: str, checked: Checked | None) -> None:
    doc = ls.documents.get(uri)
    diagnostics = [to_diagnostic(doc, f) for f in checked.findings] if doc and checked else []
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri, diagnostics=diagnostics, version=doc and doc.version
        )
    )


def register(server: Any) -> None:
    server.checks = ChecksService(server)
    server.client_diagnostics = {}
    server.document_listeners.append(server.checks.on_document)

    def published(uri: str, checked: Checked) -> None:
        if server.settings.checks.publish:
            _publish(server, uri, checked)

    server.checks.on_result.append(published)

    def closed(event: str, uri: str, doc: Document | None) -> None:
        if event == "close":
            server.client_diagnostics.pop(uri, None)
            if server.settings.checks.publish:
                _publish(server, uri, None)

    server.document_listeners.append(closed)

    @server.feature(CLIENT_DIAGNOSTICS)
    def client_diagnostics(ls: Any, params: Any) -> None:
        parsed = parse_client_diagnostics(params)
        if parsed is None:
            ls.log_once(
                ("clientDiagnostics", "bad"),
                f"{CLIENT_DIAGNOSTICS}: malformed params ignored",
                "warning",
            )
            return
        uri, diagnostics = parsed
        ls.client_diagnostics[uri] = diagnostics
