"""Mistral's FIM API (Codestral): ``POST {base}/fim/completions``, SSE like OpenAI chat chunks.

The endpoint takes ``prompt`` (the prefix) and ``suffix`` apart and applies Codestral's own
suffix-first tokens, so weft never templates here (``request.template`` is ignored). Chunks
carry ``choices[0].delta.content``; ``data: [DONE]`` (or a ``finish_reason``) ends the answer.
The key is a Bearer token from ``backend.apiKeyEnv``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from weft.backends.base import FimRequest
from weft.backends.http import merge_stops, untemplated_prompt
from weft.backends.openai import OpenAIBackend

logger = logging.getLogger(__name__)


class MistralBackend(OpenAIBackend):
    """``/v1/fim/completions``; shares OpenAI's chunk parsing and ``/models`` listing."""

    kind = "mistral"

    def limit_stops(self, stops: list[str]) -> list[str]:
        return stops

    def build_payload(self, request: FimRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model or "codestral-latest",
            "prompt": untemplated_prompt(request),
            "suffix": request.suffix,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        stops = merge_stops(request.stop)
        if stops:
            payload["stop"] = stops
        payload["stream"] = True
        return payload

    def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        return self.stream_text(
            "/fim/completions",
            self.build_payload(request),
            framing="sse",
            on_frame=lambda frame: self.parse_chunk(frame, "delta.content"),
            on_whole=lambda data: self.parse_whole(data, "message.content"),
        )
