"""Ollama: ``POST /api/generate`` streaming NDJSON, ``GET /api/tags`` for the model list.

Without a template the prefix goes in ``prompt`` and the suffix in ``suffix``, and the model's
own Ollama template turns them into FIM tokens. With a template weft builds the whole prompt and
sends it with ``raw: true`` and no ``suffix`` (Ollama refuses ``suffix`` in raw mode), adding the
template's stop tokens. Each line is one JSON object; ``done: true`` ends the answer and a line
with ``error`` is an error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from weft.backends.base import BackendProtocolError, FimRequest
from weft.backends.http import (
    HttpBackend,
    merge_stops,
    normalize_template,
    stream_error,
    templated_prompt,
    untemplated_prompt,
)

logger = logging.getLogger(__name__)


class OllamaBackend(HttpBackend):
    """Ollama's native API."""

    kind = "ollama"

    def build_payload(self, request: FimRequest) -> dict[str, Any]:
        """The exact JSON body of ``/api/generate``."""
        template = normalize_template(request.template)
        options: dict[str, Any] = {
            "num_predict": request.max_tokens,
            "temperature": request.temperature,
        }
        payload: dict[str, Any] = {"model": self.model or "", "stream": True}
        if template is None:
            payload["prompt"] = untemplated_prompt(request)
            payload["suffix"] = request.suffix
            stops = merge_stops(request.stop)
        else:
            payload["prompt"], stops = templated_prompt(request, template)
            payload["raw"] = True
        if stops:
            options["stop"] = stops
        payload["options"] = options
        return payload

    def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        return self.stream_text(
            "/api/generate",
            self.build_payload(request),
            framing="ndjson",
            on_frame=lambda frame: self._parse(frame.json(self.kind)),
            on_whole=self._on_whole,
        )

    def _parse(self, data: Any) -> tuple[str, bool]:
        """One NDJSON object → (text, done)."""
        if not isinstance(data, Mapping):
            raise BackendProtocolError(f"ollama: unexpected line in stream: {str(data)[:100]}")
        if data.get("error"):
            raise stream_error(self.kind, data, self.model)
        text = data.get("response", "")
        return (text if isinstance(text, str) else ""), bool(data.get("done"))

    def _on_whole(self, data: Any) -> str:
        text, done = self._parse(data)
        if not done:
            raise BackendProtocolError("ollama: the answer is not marked done")
        return text

    async def list_models(self) -> list[str]:
        data = await self.get_json("/api/tags")
        models = data.get("models") if isinstance(data, Mapping) else None
        if not isinstance(models, list):
            raise BackendProtocolError("ollama: /api/tags did not list models")
        return [
            str(item.get("name") or item.get("model"))
            for item in models
            if isinstance(item, Mapping) and (item.get("name") or item.get("model"))
        ]
