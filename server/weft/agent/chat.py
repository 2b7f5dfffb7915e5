"""Tool-calling chat over the three wire formats the agent speaks (SPEC §4, §5).

A conversation is kept in one neutral shape (:class:`Message`) and written out per format on
each call:

- OpenAI-compatible ``POST {base}/chat/completions`` with ``tools`` and ``tool_calls`` (the base
  URL includes ``/v1``; llama.cpp's server gets ``/v1/chat/completions`` on its bare base);
- Ollama ``POST {base}/api/chat`` with ``tools``, ``stream: false``;
- Anthropic ``POST {base}/v1/messages`` with ``tool_use`` / ``tool_result`` content blocks.

Calls are not streamed: the agent needs the whole answer before acting. Each call has a hard
deadline; cancelling the awaiting task closes the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from weft.agent.tools import ToolSpec
from weft.backends.base import (
    BackendError,
    BackendHTTPError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
    RateLimited,
)
from weft.settings import BackendSettings

logger = logging.getLogger(__name__)

ANTHROPIC_VERSION = "2023-06-01"
MAX_ANSWER_TOKENS = 4096


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for; ``arguments`` is None when its JSON did not parse."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str = ""


@dataclass
class Message:
    """One message in weft's neutral shape: role system | user | assistant | tool."""

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class ChatTurn:
    """The model's answer: text and/or tool calls."""

    text: str
    tool_calls: list[ToolCall]


def wire_format(backend: BackendSettings) -> str:
    """``openai`` | ``ollama`` | ``anthropic`` for a backend kind."""
    if backend.kind == "anthropic":
        return "anthropic"
    if backend.kind in ("openai", "mistral", "llamacpp"):
        return "openai"
    return "ollama"


def chat_url(backend: BackendSettings) -> str:
    """The chat endpoint of a backend, from its base URL as each vendor's SDK takes it."""
    base = backend.base_url()
    fmt = wire_format(backend)
    if fmt == "anthropic":
        return base + "/v1/messages"
    if fmt == "ollama":
        return base + "/api/chat"
    if backend.kind == "llamacpp" and not base.endswith("/v1"):
        return base + "/v1/chat/completions"
    return base + "/chat/completions"


# -- request bodies --------------------------------------------------------------------------


def openai_body(
    model: str, messages: list[Message], tools: list[ToolSpec] | None
) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "tool":
            out.append({"role": "tool", "tool_call_id": msg.tool_call_id, "content": msg.content})
        elif msg.role == "assistant" and msg.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": msg.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": _raw_args(call)},
                        }
                        for call in msg.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": msg.role, "content": msg.content})
    body: dict[str, Any] = {"model": model, "messages": out, "stream": False, "temperature": 0}
    if tools:
        body["tools"] = [_function_tool(spec) for spec in tools]
    return body


def ollama_body(
    model: str, messages: list[Message], tools: list[ToolSpec] | None
) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "tool":
            out.append({"role": "tool", "content": msg.content, "tool_name": msg.name})
        elif msg.role == "assistant" and msg.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": msg.content,
                    "tool_calls": [
                        {"function": {"name": c.name, "arguments": c.arguments or {}}}
                        for c in msg.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": msg.role, "content": msg.content})
    body: dict[str, Any] = {
        "model": model,
        "messages": out,
        "stream": False,
        "options": {"temperature": 0},
    }
    if tools:
        body["tools"] = [_function_tool(spec) for spec in tools]
    return body


def anthropic_body(
    model: str, messages: list[Message], tools: list[ToolSpec] | None
) -> dict[str, Any]:
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    out: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "system":
            continue
        if msg.role == "tool":
            block = {"type": "tool_result", "tool_use_id": msg.tool_call_id, "content": msg.content}
            # Results of one turn's calls share one user message, as the API requires.
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif msg.role == "assistant":
            content: list[dict[str, Any]] = []
            if msg.content:
                content.append({"type": "text", "text": msg.content})
            for call in msg.tool_calls:
                content.append(
                    {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": call.arguments or {},
                    }
                )
            out.append({"role": "assistant", "content": content})
        else:
            out.append({"role": "user", "content": msg.content})
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": MAX_ANSWER_TOKENS,
        "messages": out,
        "temperature": 0,
    }
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [
            {"name": s.name, "description": s.description, "input_schema": s.parameters}
            for s in tools
        ]
    return body


def _function_tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
        },
    }


def _raw_args(call: ToolCall) -> str:
    return call.raw_arguments or json.dumps(call.arguments or {})


# -- responses -------------------------------------------------------------------------------


def _parse_args(raw: Any) -> tuple[dict[str, Any] | None, str]:
    if isinstance(raw, dict):
        return raw, json.dumps(raw)
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return None, raw
        return (value if isinstance(value, dict) else None), raw
    return None, json.dumps(raw)


def parse_openai(data: Any) -> ChatTurn:
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendProtocolError("chat answer has no choices[0].message") from exc
    return _function_call_turn(message)


def _function_call_turn(message: dict[str, Any]) -> ChatTurn:
    """OpenAI and Ollama share the message shape: ``content`` and ``tool_calls[].function``."""
    calls = []
    for raw in message.get("tool_calls") or []:
        fn = raw.get("function") or {}
        args, text = _parse_args(fn.get("arguments"))
        calls.append(ToolCall(raw.get("id") or _new_id(), str(fn.get("name", "")), args, text))
    return ChatTurn(str(message.get("content") or ""), calls)


def parse_ollama(data: Any) -> ChatTurn:
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise BackendProtocolError("chat answer has no message")
    return _function_call_turn(message)


def parse_anthropic(data: Any) -> ChatTurn:
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise BackendProtocolError("messages answer has no content list")
    texts, calls = [], []
    for block in content:
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use":
            args, text = _parse_args(block.get("input"))
            calls.append(
                ToolCall(str(block.get("id") or _new_id()), str(block.get("name", "")), args, text)
            )
    return ChatTurn("".join(texts), calls)


def _new_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


_BODIES = {"openai": openai_body, "ollama": ollama_body, "anthropic": anthropic_body}
_PARSERS = {"openai": parse_openai, "ollama": parse_ollama, "anthropic": parse_anthropic}


class ChatClient:
    """One agent run's connection to its chat model."""

    def __init__(
        self,
        backend: BackendSettings,
        timeout_s: float,
        client: httpx.AsyncClient | None = None,
        audit: Any = None,
    ) -> None:
        self.backend = backend
        self.format = wire_format(backend)
        self.url = chat_url(backend)
        self.timeout_s = timeout_s
        hooks = audit.hooks(backend.model) if audit is not None else None
        """An ``weft.privacy.AuditLog`` (or None) records every request this client sends."""
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=5.0), event_hooks=hooks
        )
        self._owns_client = client is None

    def headers(self) -> dict[str, str]:
        key = self.backend.api_key()
        headers = {"Content-Type": "application/json"}
        if self.format == "anthropic":
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if key:
                headers["x-api-key"] = key
        elif key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    async def complete(self, messages: list[Message], tools: list[ToolSpec] | None) -> ChatTurn:
        """One model turn; raises a :class:`BackendError` on any failure."""
        body = _BODIES[self.format](self.backend.model or "", messages, tools)
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._client.post(self.url, json=body, headers=self.headers())
        except TimeoutError as exc:
            raise BackendTimeout(
                f"chat model did not answer within {self.timeout_s:.0f} s"
            ) from exc
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"chat model timed out: {exc}") from exc
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"cannot reach chat model at {self.url}: {exc}") from exc
        if response.status_code == 429:
            raise RateLimited(
                "chat model rate-limited (429)", _retry_after(response), response.text[:500]
            )
        if response.status_code >= 400:
            raise BackendHTTPError(
                f"chat model answered HTTP {response.status_code}: {response.text[:200]}",
                response.status_code,
                response.text[:2000],
            )
        try:
            data = response.json()
        except ValueError as exc:
            raise BackendProtocolError("chat model answered with invalid JSON") from exc
        return _PARSERS[self.format](data)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


__all__ = [
    "BackendError",
    "ChatClient",
    "ChatTurn",
    "Message",
    "ToolCall",
    "chat_url",
    "wire_format",
]
