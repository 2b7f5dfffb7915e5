"""Raw-prompt completions: a whole prompt sent as it is (no FIM template, no chat template),
the model's continuation back. The next-edit models (Sweep Next-Edit, Zeta) need this: their
prompts are complete documents in the format they were trained on.

- llama.cpp: ``POST /completion`` ``{prompt, n_predict, temperature, stop, cache_prompt}``;
- Ollama: ``POST /api/generate`` with ``raw: true`` (the model's own template is skipped);
- OpenAI-compatible completions (vLLM, LM Studio, llama.cpp's ``/v1``): ``POST {base}/completions``
  with ``prompt`` and no ``suffix``.

Chat-only APIs (Anthropic, Mistral, an OpenAI backend with ``api = "chat"``) cannot take a raw
prompt: :class:`RawPromptUnsupported`. The answer streams in the backend's usual framing and is
parsed by the backend's own frame parsers, under one hard deadline for the whole call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from weft.backends.base import BackendError, BackendTimeout, CompletionBackend
from weft.backends.http import Frame, Framing, OnFrame, OnWhole, merge_stops
from weft.backends.llamacpp import LlamaCppBackend
from weft.backends.ollama import OllamaBackend
from weft.backends.openai import OpenAICompletionsBackend


@dataclass(frozen=True)
class RawRequest:
    """One raw-prompt completion, independent of any wire format."""

    prompt: str
    max_tokens: int
    temperature: float = 0.0
    stop: tuple[str, ...] = ()


class RawPromptUnsupported(BackendError):
    """The backend only speaks a chat API."""


@dataclass(frozen=True)
class RawCall:
    """What to send and how to read the answer."""

    path: str
    payload: dict[str, Any]
    framing: Framing
    on_frame: OnFrame
    on_whole: OnWhole


def raw_call(backend: CompletionBackend, request: RawRequest) -> RawCall:
    """The exact request for ``backend`` (raises :class:`RawPromptUnsupported`)."""
    stops = merge_stops(request.stop)
    if isinstance(backend, LlamaCppBackend):
        payload: dict[str, Any] = {"model": backend.model} if backend.model else {}
        payload.update(prompt=request.prompt, n_predict=request.max_tokens)
        payload.update(temperature=request.temperature)
        if stops:
            payload["stop"] = stops
        payload.update(cache_prompt=True, stream=True)
        # the same SSE events as /infill: the backend's own parsers read them
        return RawCall("/completion", payload, "sse", backend._on_frame, backend._on_whole)
    if isinstance(backend, OllamaBackend):
        options: dict[str, Any] = {
            "num_predict": request.max_tokens,
            "temperature": request.temperature,
        }
        if stops:
            options["stop"] = stops
        payload = {"model": backend.model or "", "prompt": request.prompt, "raw": True}
        payload.update(stream=True, options=options)
        ollama = backend

        def ollama_frame(frame: Frame) -> tuple[str, bool]:
            return ollama._parse(frame.json(ollama.kind))

        return RawCall("/api/generate", payload, "ndjson", ollama_frame, backend._on_whole)
    if isinstance(backend, OpenAICompletionsBackend):
        payload = {"model": backend.model or "", "prompt": request.prompt}
        payload.update(max_tokens=request.max_tokens, temperature=request.temperature)
        if stops:
            payload["stop"] = backend.limit_stops(stops)
        payload["stream"] = True
        openai = backend
        return RawCall(
            "/completions",
            payload,
            "sse",
            lambda frame: openai.parse_chunk(frame, "text"),
            lambda data: openai.parse_whole(data, "text"),
        )
    raise RawPromptUnsupported(
        f"{backend.kind}: this backend only speaks a chat API; next-edit models need a raw "
        "completion endpoint (llamacpp, ollama, or openai with api = completions)"
    )


def stream_raw(backend: CompletionBackend, request: RawRequest) -> AsyncIterator[str]:
    """Text deltas of the model's continuation of ``request.prompt``."""
    call = raw_call(backend, request)
    assert isinstance(backend, LlamaCppBackend | OllamaBackend | OpenAICompletionsBackend)
    return backend.stream_text(
        call.path,
        call.payload,
        framing=call.framing,
        on_frame=call.on_frame,
        on_whole=call.on_whole,
    )


async def complete_raw(backend: CompletionBackend, request: RawRequest, timeout_s: float) -> str:
    """The whole continuation, within ``timeout_s`` for the whole call."""
    try:
        async with asyncio.timeout(timeout_s):
            return "".join([chunk async for chunk in stream_raw(backend, request)])
    except TimeoutError as exc:
        raise BackendTimeout(
            f"{backend.kind}: no complete answer within {timeout_s * 1000:.0f} ms"
        ) from exc
