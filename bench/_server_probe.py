"""``weft serve`` with a freshness probe, for ``bench/typing.py``.

Every non-empty ``textDocument/inlineCompletion`` answer is checked at the moment pygls writes
it: if the server already holds a newer version of the document than the one the answer was
computed for, the answer is stale by the server's own knowledge (a bug); otherwise any
staleness the client sees is a change the server had not read yet. One line per answer goes to
stderr (the server log): ``PROBE fresh id=…`` or ``PROBE stale id=… answered vN server has vM``.

    python bench/_server_probe.py serve [weft serve options]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
_BENCH = Path(__file__).resolve().parent
# bench/typing.py would shadow the standard library's ``typing``: drop this folder.
sys.path[:] = [str(REPO / "server"), str(REPO)] + [
    p for p in sys.path if Path(p or ".").resolve() != _BENCH
]

from pygls.protocol import JsonRPCProtocol  # noqa: E402

from weft.features import inline_completion  # noqa: E402

_answered: dict[int, tuple[str, int | None]] = {}
_to_items = inline_completion.to_inline_items
_send_response = JsonRPCProtocol._send_response


def _items(answer: Any) -> Any:
    items = _to_items(answer)
    if items:
        _answered[id(items[0])] = (answer.doc.uri, answer.doc.version)
    return items


def _send(self: Any, msg_id: Any, result: Any = None, error: Any = None) -> Any:
    items = getattr(result, "items", None)
    if isinstance(items, list) and items:
        key = _answered.pop(id(items[0]), None)
        if key is not None:
            uri, version = key
            doc = self._server.documents.get(uri)
            held = doc.version if doc is not None else None
            state = "fresh" if held == version else "stale"
            sys.stderr.write(f"PROBE {state} id={msg_id} answered v{version} server has v{held}\n")
            sys.stderr.flush()
    return _send_response(self, msg_id, result=result, error=error)


inline_completion.to_inline_items = _items
JsonRPCProtocol._send_response = _send  # type: ignore[method-assign]

if __name__ == "__main__":
    from weft.cli import main

    sys.exit(main(sys.argv[1:]))
