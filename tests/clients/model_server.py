"""A loopback model server for the editor-client tests that run outside pytest (node, Neovim).

Starts :class:`tests.loopback.LoopbackServer` with the real wire formats from ``tests/wire.py``
(Ollama ``/api/generate`` NDJSON for completions) and ``tests/chat_wire.py`` (a scripted OpenAI
``/v1/chat/completions`` for the agent), prints one JSON line ``{"url": ...}`` and serves until
its stdin closes. ``GET /_requests`` returns what it has received, so a client test in another
language can assert on the prompt the model saw.

    python -m tests.clients.model_server '{"completion": "a + b", "chat": [{"text": "..."}]}'

Chat steps: ``{"text": str}`` (a final message) or ``{"calls": [[name, {args}], ...]}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.chat_wire import ScriptedChat, Step
from tests.loopback import Exchange, LoopbackServer, Recorded
from tests.wire import serve_ollama


def build(srv: LoopbackServer, config: dict[str, Any]) -> None:
    """Install the routes ``config`` asks for on ``srv``."""
    serve_ollama(
        srv, text=str(config.get("completion", "")), model=config.get("model", "test-model")
    )
    steps = [
        Step(
            calls=[(name, args) for name, args in step.get("calls", [])], text=step.get("text", "")
        )
        for step in config.get("chat", [])
    ]
    ScriptedChat(srv, "openai", steps, model=config.get("chatModel", "chat-model"))

    def dump(record: Recorded, ex: Exchange) -> None:
        seen = [
            {"method": r.method, "path": r.path, "body": r.body}
            for r in srv.requests
            if r.path != "/_requests"
        ]
        ex.json(seen)

    srv.route("GET", "/_requests", dump)


def main(argv: list[str]) -> int:
    config = json.loads(argv[0]) if argv else {}
    with LoopbackServer() as srv:
        build(srv, config)
        sys.stdout.write(json.dumps({"url": srv.url}) + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # serve until the test closes our stdin (or dies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
