"""Anthropic's Messages API: ``POST {base}/v1/messages`` with ``stream: true`` (SSE).

Claude models have no FIM mode, so the request is weft's hole-filling chat prompt: its system
message becomes ``system`` and the rest go in ``messages``. Headers are ``x-api-key`` (from
``backend.apiKeyEnv``) and ``anthropic-version: 2023-06-01``. Text arrives in
``content_block_delta`` events (``delta.text``); ``message_stop`` ends the answer and an
``error`` event (e.g. ``overloaded_error``) is an error. The answer is collected whole and
cleaned of code fences before it is yielded.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from weft.backends.base import BackendProtocolError, FimRequest
from weft.backends.http import (
    Frame,
    HttpBackend,
    chat_fill_messages,
    chat_stops,
    model_ids,
    stream_chat_code,
    stream_error,
)

logger = logging.getLogger(__name__)

ANTHROPIC_VERSION = "2023-06-01"
ANTHROPIC_MAX_TEMPERATURE = 1.0
"""The Messages API takes temperatures in [0, 1]; weft's setting goes to 2."""


class AnthropicBackend(HttpBackend):
    """Claude through ``/v1/messages``."""

    kind = "anthropic"

    def default_headers(self) -> dict[str, str]:
        headers = {**super().default_headers(), "anthropic-version": ANTHROPIC_VERSION}
        key = self.settings.api_key()
        if key:
            headers["x-api-key"] = key
        return headers

    def build_payload(self, request: FimRequest) -> dict[str, Any]:
        messages = chat_fill_messages(request)
        system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system")
        payload: dict[str, Any] = {"model": self.model or "", "max_tokens": request.max_tokens}
        if system:
            payload["system"] = system
        payload["messages"] = [
            {"role": m["role"], "content": m["content"]}
            for m in messages
            if m.get("role") != "system"
        ]
        payload["temperature"] = min(request.temperature, ANTHROPIC_MAX_TEMPERATURE)
        stops = chat_stops(request)
        if stops:
            payload["stop_sequences"] = stops
        payload["stream"] = True
        return payload

    async def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        stream = self.stream_text(
            "/v1/messages",
            self.build_payload(request),
            framing="sse",
            on_frame=self._on_frame,
            on_whole=self._on_whole,
        )
        async for code in stream_chat_code(stream, request.prefix):
            yield code

    def _on_frame(self, frame: Frame) -> tuple[str, bool]:
        data = frame.json(self.kind)
        if not isinstance(data, Mapping):
            raise BackendProtocolError(f"anthropic: unexpected JSON in stream: {frame.data[:100]}")
        event = frame.event or str(data.get("type", ""))
        if event == "error" or data.get("type") == "error":
            raise stream_error(self.kind, data, self.model)
        if event == "content_block_delta":
            delta = data.get("delta")
            if isinstance(delta, Mapping) and isinstance(delta.get("text"), str):
                return delta["text"], False
            return "", False
        return "", event == "message_stop"

    def _on_whole(self, data: Any) -> str:
        if not isinstance(data, Mapping):
            raise BackendProtocolError("anthropic: unexpected JSON in answer")
        if data.get("type") == "error" or data.get("error"):
            raise stream_error(self.kind, data, self.model)
        content = data.get("content")
        if not isinstance(content, list):
            raise BackendProtocolError("anthropic: the answer has no content")
        return "".join(
            block.get("text", "")
            for block in content
            if isinstance(block, Mapping) and block.get("type") == "text"
        )

    async def list_models(self) -> list[str]:
        return model_ids(await self.get_json("/v1/models"))
