"""OpenAI-compatible servers (OpenAI, vLLM, LM Studio, llama.cpp's /v1, …), SSE streaming.

``backend.url`` already ends in ``/v1`` (as the OpenAI SDK takes it), so the paths appended are
``/completions``, ``/chat/completions`` and ``/models``. ``backend.api`` picks the class:

- ``completions`` (:class:`OpenAICompletionsBackend`): with a template, the whole templated
  prompt goes in ``prompt`` and no ``suffix`` (plus the template's stop tokens); without one,
  the prefix goes in ``prompt`` and the suffix in ``suffix``, sent only when non-empty because
  several servers (vLLM) refuse the field.
- ``chat`` (:class:`OpenAIChatBackend`): a hole-filling chat prompt; the answer is collected
  whole and cleaned of code fences before it is yielded.

The stream ends at ``data: [DONE]`` (a choice's ``finish_reason`` also counts, for servers that
never send ``[DONE]``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from weft.backends.base import BackendProtocolError, FimRequest
from weft.backends.http import (
    Frame,
    HttpBackend,
    chat_fill_messages,
    chat_stops,
    merge_stops,
    model_ids,
    normalize_template,
    stream_chat_code,
    stream_error,
    templated_prompt,
    untemplated_prompt,
)

logger = logging.getLogger(__name__)

OPENAI_MAX_STOPS = 4
"""api.openai.com rejects more than four stop sequences; other servers take more."""


class OpenAIBackend(HttpBackend):
    """What both OpenAI-compatible APIs share: Bearer auth, SSE choices, ``/models``."""

    kind = "openai"

    def default_headers(self) -> dict[str, str]:
        return {**super().default_headers(), **self.bearer_headers()}

    def limit_stops(self, stops: list[str]) -> list[str]:
        host = urlsplit(self.base_url).hostname or ""
        return stops[:OPENAI_MAX_STOPS] if host.endswith("openai.com") else stops

    def parse_chunk(self, frame: Frame, field: str) -> tuple[str, bool]:
        """One SSE event → (text of choice 0, terminal?); ``field`` picks where text lives."""
        if frame.done:
            return "", True
        data = frame.json(self.kind)
        if frame.event == "error" or (isinstance(data, Mapping) and data.get("error")):
            raise stream_error(self.kind, data, self.model)
        choice = first_choice(data, self.kind)
        if choice is None:
            return "", False  # e.g. a usage-only chunk
        text = dig(choice, field)
        return text, choice.get("finish_reason") is not None

    def parse_whole(self, data: Any, field: str) -> str:
        if isinstance(data, Mapping) and data.get("error"):
            raise stream_error(self.kind, data, self.model)
        choice = first_choice(data, self.kind)
        if choice is None:
            raise BackendProtocolError(f"{self.kind}: the answer has no choices")
        return dig(choice, field)

    async def list_models(self) -> list[str]:
        return model_ids(await self.get_json("/models"))


class OpenAICompletionsBackend(OpenAIBackend):
    """``POST {base}/completions``."""

    def build_payload(self, request: FimRequest) -> dict[str, Any]:
        template = normalize_template(request.template)
        payload: dict[str, Any] = {"model": self.model or ""}
        if template is None:
            payload["prompt"] = untemplated_prompt(request)
            if request.suffix:
                payload["suffix"] = request.suffix
            stops = merge_stops(request.stop)
        else:
            payload["prompt"], stops = templated_prompt(request, template)
        payload["max_tokens"] = request.max_tokens
        payload["temperature"] = request.temperature
        if stops:
            payload["stop"] = self.limit_stops(stops)
        payload["stream"] = True
        return payload

    def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        return self.stream_text(
            "/completions",
            self.build_payload(request),
            framing="sse",
            on_frame=lambda frame: self.parse_chunk(frame, "text"),
            on_whole=lambda data: self.parse_whole(data, "text"),
        )


class OpenAIChatBackend(OpenAIBackend):
    """``POST {base}/chat/completions`` with a hole-filling prompt."""

    def build_payload(self, request: FimRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model or "",
            "messages": chat_fill_messages(request),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        stops = chat_stops(request)
        if stops:
            payload["stop"] = self.limit_stops(stops)
        payload["stream"] = True
        return payload

    async def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        stream = self.stream_text(
            "/chat/completions",
            self.build_payload(request),
            framing="sse",
            on_frame=lambda frame: self.parse_chunk(frame, "delta.content"),
            on_whole=lambda data: self.parse_whole(data, "message.content"),
        )
        async for code in stream_chat_code(stream, request.prefix):
            yield code


def first_choice(data: Any, kind: str) -> Mapping[str, Any] | None:
    """Choice 0 of a chunk or answer (None when the chunk has no choices)."""
    if not isinstance(data, Mapping):
        raise BackendProtocolError(f"{kind}: unexpected JSON in answer: {str(data)[:100]}")
    choices = data.get("choices")
    if not choices:
        return None
    if not isinstance(choices, list):
        raise BackendProtocolError(f"{kind}: 'choices' is not a list")
    for choice in choices:
        if isinstance(choice, Mapping) and choice.get("index", 0) == 0:
            return choice
    return None


def dig(data: Mapping[str, Any], dotted: str) -> str:
    """``data["a"]["b"]`` for ``"a.b"``; "" when absent or null."""
    node: Any = data
    for key in dotted.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(key)
    return node if isinstance(node, str) else ""
