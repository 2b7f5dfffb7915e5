"""``workspace/executeCommand`` for completion: ``weft.acceptCompletion`` and ``weft.status``.

``weft.acceptCompletion`` is set as every item's ``command``, so every client (Neovim included,
which sends no other accept event) tells the server when a suggestion was taken. ``weft.status``
returns what the status bar shows: which backend serves, whether it is healthy, counters; with
the argument ``{"probe": true}`` it also asks the configured backend now (``probe``).
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
    async def status(ls: Any, *args: Any) -> dict[str, Any]:
        info = status_of(ls)
        options = args[0] if args and isinstance(args[0], dict) else {}
        if options.get("probe") is True:
            info["probe"] = await probe_backend(ls.settings.backend)
        return info


async def probe_backend(cfg: Any) -> dict[str, Any]:
    """``weft.status`` with ``{"probe": true}``: ask the configured backend now (bounded by the
    probe's own deadline), for ``:checkhealth`` and the like, rather than wait for a completion
    to fail."""
    from weft.backends.registry import probe

    found = await probe(cfg)
    out: dict[str, Any] = {
        "kind": cfg.kind,
        "url": found.url,
        "reachable": found.reachable,
        "error": found.error,
        "models": len(found.models),
    }
    if cfg.kind == "auto" and found.error is not None:
        out["fallback"] = "offline"  # auto: the built-in offline engine serves meanwhile
    return out
