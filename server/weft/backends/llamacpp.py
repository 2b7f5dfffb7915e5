"""llama.cpp's own server (``llama-server``): ``POST /infill`` and ``POST /completion``, SSE.

``/infill`` takes the prefix and suffix apart (``input_prefix``, ``input_suffix``) and the
cross-file snippets as ``input_extra: [{"filename", "text"}]``; the server applies the GGUF's
own FIM tokens, including repo-level ones (FIM_REP/FIM_SEP) when the model has them.
``cache_prompt`` lets it reuse the KV cache between keystrokes. When a template is forced,
weft's whole templated prompt goes to ``/completion`` instead, with the template's stop tokens.

Each event is ``data: {"content": …, "stop": false}``; the one with ``stop: true`` ends the
answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from weft.backends.base import BackendHTTPError, BackendProtocolError, FimRequest
from weft.backends.http import (
    Frame,
    HttpBackend,
    merge_stops,
    model_ids,
    normalize_template,
    stream_error,
    templated_prompt,
)

logger = logging.getLogger(__name__)


class LlamaCppBackend(HttpBackend):
    """llama.cpp's native endpoints."""

    kind = "llamacpp"

    def default_headers(self) -> dict[str, str]:
        # llama-server --api-key protects every endpoint with a Bearer key.
        return {**super().default_headers(), **self.bearer_headers()}

    def build_payload(self, request: FimRequest) -> tuple[str, dict[str, Any]]:
        """(path, exact JSON body)."""
        template = normalize_template(request.template)
        payload: dict[str, Any] = {}
        if self.model:
            payload["model"] = self.model  # only used by llama-server's router mode
        if template is None:
            path = "/infill"
            payload["input_prefix"] = request.prefix
            payload["input_suffix"] = request.suffix
            payload["input_extra"] = [
                {"filename": filename, "text": text} for filename, text in request.extra
            ]
            stops = merge_stops(request.stop)
        else:
            path = "/completion"
            payload["prompt"], stops = templated_prompt(request, template)
        payload["n_predict"] = request.max_tokens
        payload["temperature"] = request.temperature
        if stops:
            payload["stop"] = stops
        payload["cache_prompt"] = True
        payload["stream"] = True
        return path, payload

    def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        path, payload = self.build_payload(request)
        return self.stream_text(
            path, payload, framing="sse", on_frame=self._on_frame, on_whole=self._on_whole
        )

    def _on_frame(self, frame: Frame) -> tuple[str, bool]:
        if frame.done:
            return "", True
        data = frame.json(self.kind)
        if frame.event == "error":
            raise stream_error(self.kind, {"error": data}, self.model)
        return self._parse(data)

    def _parse(self, data: Any) -> tuple[str, bool]:
        if not isinstance(data, Mapping):
            raise BackendProtocolError(f"llamacpp: unexpected JSON in answer: {str(data)[:100]}")
        if data.get("error"):
            raise stream_error(self.kind, data, self.model)
        text = data.get("content", "")
        return (text if isinstance(text, str) else ""), bool(data.get("stop"))

    def _on_whole(self, data: Any) -> str:
        return self._parse(data)[0]

    async def list_models(self) -> list[str]:
        """``/v1/models`` (recent servers), else the model file named by ``/props``; an old
        server without either gives []. An unreachable server still raises."""
        try:
            names = model_ids(await self.get_json("/v1/models"))
            if names:
                return names
        except (BackendHTTPError, BackendProtocolError) as exc:
            logger.debug("llamacpp: /v1/models: %s", exc)
        try:
            props = await self.get_json("/props")
        except (BackendHTTPError, BackendProtocolError) as exc:
            logger.debug("llamacpp: /props: %s", exc)
            return []
        if not isinstance(props, Mapping):
            return []
        settings = props.get("default_generation_settings")
        name = props.get("model_path") or (
            settings.get("model") if isinstance(settings, Mapping) else None
        )
        return [str(name)] if name else []
