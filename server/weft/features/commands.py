"""``workspace/executeCommand`` for completion: ``weft.acceptCompletion`` and ``weft.status``.

``weft.acceptCompletion`` is set as every item's ``command``, so every client (Neovim included,
which sends no other accept event) tells the server when a suggestion was taken. ``weft.status``
returns what the status bar shows: which backend serves, whether it is healthy, counters.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from weft.features.inline_completion import ACCEPT_COMMAND

logger = logging.getLogger(__name__)


def status_of(ls: Any) -> dict[str, Any]:
    backend = ls.completion_backend()
    stats = ls.engine.stats
    info: dict[str, Any] = {
        "backend": backend.kind,
        "configured": ls.settings.backend.kind,
        "model": ls.settings.backend.model,
        "healthy": ls.backend_outage is None,
        "error": ls.backend_outage,
        "requests": stats.requests,
        "modelCalls": stats.model_calls,
        "cacheHits": stats.cache_hits,
        "accepted": len(ls.accepted),
        "superseded": stats.superseded,
        "streamJoins": stats.stream_joins,
        "abortedCalls": stats.aborted_calls,
        "timingsMs": {
            "prepare": round(stats.prepare_s * 1000, 3),
            "model": round(stats.model_s * 1000, 3),
            "post": round(stats.post_s * 1000, 3),
        },
    }
    if backend.kind == "offline" and ls.offline is not None:
        info["offline"] = ls.offline.status()
        info["hint"] = (
            "the built-in offline engine is serving; set backend.kind, backend.url and "
            "backend.model to use a model server"
        )
    return info


def register(server: Any) -> None:
    @server.command(ACCEPT_COMMAND)
    def accept_completion(ls: Any, *args: Any) -> None:
        info = args[0] if args and isinstance(args[0], dict) else {}
        ls.accepted.append({**info, "time": time.time()})
        del ls.accepted[:-200]
        logger.info("suggestion accepted: %s", info)

    @server.command("weft.status")
    def status(ls: Any, *args: Any) -> dict[str, Any]:
        return status_of(ls)
