"""The offline engine behind the ordinary backend interface.

No server and no wire format: the prediction is computed in-process (a few milliseconds) and
yielded as one delta, so the completion pipeline (freshness checks, reuse while typing,
post-processing) treats it like any model. A request whose ``stop`` contains a line break gets
one line; otherwise a repeated block may follow.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from weft.backends.base import CompletionBackend, FimRequest

if TYPE_CHECKING:
    from weft.offline.engine import OfflineEngine

logger = logging.getLogger(__name__)


def cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    """``text`` up to the first stop string."""
    end = len(text)
    for stop in stops:
        if stop:
            at = text.find(stop)
            if at >= 0:
                end = min(end, at)
    return text[:end]


class OfflineBackend(CompletionBackend):
    """Completions from the workspace's own statistics (``backend.kind = "offline"``)."""

    kind = "offline"

    def __init__(self, engine: OfflineEngine) -> None:
        self.engine = engine

    async def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        multiline = not any("\n" in stop for stop in request.stop)
        text = self.engine.complete(
            request.prefix,
            request.suffix,
            path=request.path,
            multiline=multiline,
            language=request.language,
        )
        text = cut_at_stop(text, request.stop)
        if text:
            yield text

    async def list_models(self) -> list[str]:
        return ["offline"]
