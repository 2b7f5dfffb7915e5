"""Scripted tool-calling chat models on the loopback server, in each wire format weft speaks.

A :class:`ScriptedChat` answers each chat request with the next step of its script — one or
more tool calls, a final message, a hang or an HTTP error — in the real shape of OpenAI
``/v1/chat/completions``, Ollama ``/api/chat`` or Anthropic ``/v1/messages``, and records what
the model was sent. The helpers read those requests back in one neutral shape, so a test can
assert on the context and tool results the model saw whatever the format.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tests.loopback import Exchange, LoopbackServer, Recorded

FORMATS = ("openai", "ollama", "anthropic")
PATHS = {"openai": "/v1/chat/completions", "ollama": "/api/chat", "anthropic": "/v1/messages"}


@dataclass
class Step:
    """One scripted answer: ``calls`` [(name, args)], a ``text``, a ``hang_s`` or an ``status``."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    text: str = ""
    hang_s: float = 0.0
    status: int = 200
    delay_s: float = 0.0
    """Wait this long before answering (for tests that act while the model "thinks")."""


def call(tool: str, /, **args: Any) -> Step:
    return Step(calls=[(tool, args)])


def calls(*pairs: tuple[str, dict[str, Any]]) -> Step:
    return Step(calls=list(pairs))


def final(text: str) -> Step:
    return Step(text=text)


def hang(seconds: float) -> Step:
    return Step(hang_s=seconds)


def slow(step: Step, seconds: float) -> Step:
    step.delay_s = seconds
    return step


def block(path: str, search: str, replace: str, fence: bool = False) -> str:
    """A SEARCH/REPLACE block as a model writes it."""
    body = f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"
    if fence:
        return f"{path}\n```python\n{body}```\n"
    return f"{path}\n{body}"


class ScriptedChat:
    """A chat model that follows a script; ``received`` holds every request body."""

    def __init__(
        self, server: LoopbackServer, fmt: str, steps: list[Step], model: str = "chat-model"
    ) -> None:
        assert fmt in FORMATS
        self.server = server
        self.fmt = fmt
        self.model = model
        self.steps = list(steps)
        self.received: list[Any] = []
        self._ids = itertools.count(1)
        server.route("POST", PATHS[fmt], self._answer)

    @property
    def path(self) -> str:
        return PATHS[self.fmt]

    def backend_settings(self) -> dict[str, Any]:
        """``agent.backend`` settings pointing at this model (base URLs as SPEC §2 has them)."""
        kind = {"openai": "openai", "ollama": "ollama", "anthropic": "anthropic"}[self.fmt]
        url = self.server.url + ("/v1" if self.fmt == "openai" else "")
        return {"kind": kind, "url": url, "model": self.model, "timeoutMs": 20000}

    # -- answering ----------------------------------------------------------------------------

    def _answer(self, record: Recorded, ex: Exchange) -> None:
        self.received.append(record.body)
        if not self.steps:
            ex.error(500, json.dumps({"error": "script exhausted"}))
            return
        step = self.steps.pop(0)
        if step.delay_s:
            time.sleep(step.delay_s)
        if step.hang_s:
            ex.hang(step.hang_s)
            return
        if step.status != 200:
            ex.error(step.status, json.dumps({"error": "scripted failure"}))
            return
        ex.json(getattr(self, f"_{self.fmt}")(step))

    def _openai(self, step: Step) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
        if step.calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for name, args in step.calls
            ]
        reason = "tool_calls" if step.calls else "stop"
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": reason}],
        }

    def _ollama(self, step: Step) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.text}
        if step.calls:
            message["tool_calls"] = [
                {"function": {"name": n, "arguments": a}} for n, a in step.calls
            ]
        return {"model": self.model, "message": message, "done": True, "done_reason": "stop"}

    def _anthropic(self, step: Step) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if step.text:
            content.append({"type": "text", "text": step.text})
        for name, args in step.calls:
            content.append(
                {"type": "tool_use", "id": f"toolu_{next(self._ids)}", "name": name, "input": args}
            )
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": "tool_use" if step.calls else "end_turn",
        }

    # -- reading what the model was sent --------------------------------------------------------

    def system_text(self, index: int = 0) -> str:
        body = self.received[index]
        if self.fmt == "anthropic":
            return str(body.get("system", ""))
        return "\n".join(m["content"] for m in body["messages"] if m["role"] == "system")

    def user_texts(self, index: int = -1) -> list[str]:
        """Plain user messages (not tool results) of request ``index``."""
        out = []
        for msg in self.received[index]["messages"]:
            if msg["role"] == "user" and isinstance(msg["content"], str):
                out.append(msg["content"])
        return out

    def tool_results(self, index: int = -1) -> list[str]:
        """Contents of the tool results in request ``index``, in order."""
        out = []
        for msg in self.received[index]["messages"]:
            if msg["role"] == "tool":
                out.append(msg["content"])
            elif msg["role"] == "user" and isinstance(msg["content"], list):
                out.extend(b["content"] for b in msg["content"] if b.get("type") == "tool_result")
        return out

    def tool_names(self, index: int = 0) -> list[str]:
        """Names of the tools offered in request ``index``."""
        tools = self.received[index].get("tools") or []
        if self.fmt == "anthropic":
            return [t["name"] for t in tools]
        return [t["function"]["name"] for t in tools]

    def everything_sent(self) -> str:
        return "\n".join(json.dumps(body) for body in self.received)
