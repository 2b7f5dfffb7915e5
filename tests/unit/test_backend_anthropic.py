"""Anthropic backend: /v1/messages headers and body (system apart, whitespace stops dropped),
named SSE events, message_stop, error events, fence stripping."""

from __future__ import annotations

import pytest

from tests import wire
from tests.loopback import LoopbackServer
from weft.backends.anthropic import AnthropicBackend
from weft.backends.base import FimRequest, RateLimited, collect
from weft.completion import prompt
from weft.settings import BackendSettings

REQUEST = FimRequest(
    prefix="def add(a, b):\n    ",
    suffix="\n",
    path="m.py",
    language="python",
    max_tokens=100,
    temperature=0.2,
    stop=("\n", "\ndef "),
    extra=(("n.py", "ONE = 1"),),
    template="starcoder",  # ignored: Claude gets a chat prompt
)


def make(srv: LoopbackServer) -> AnthropicBackend:
    return AnthropicBackend(
        BackendSettings(
            kind="anthropic",
            url=srv.url,
            model="claude-haiku-4-5",
            api_key_env="ANTHROPIC_TEST_KEY",
        )
    )


async def run(srv: LoopbackServer, request: FimRequest = REQUEST) -> str:
    client = make(srv)
    try:
        return await collect(client.stream_fim(request))
    finally:
        await client.aclose()


async def test_messages_request(srv: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_TEST_KEY", "sk-ant-1")
    wire.serve_anthropic(srv, text="```python\nreturn a + b\n```", chunks=5)
    assert await run(srv) == "return a + b"
    (record,) = srv.requests_to("/v1/messages")
    assert record.headers["x-api-key"] == "sk-ant-1"
    assert record.headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in record.headers
    messages = prompt.build_chat_fill_messages(
        REQUEST.prefix, REQUEST.suffix, "m.py", "python", REQUEST.extra
    )
    assert messages[0]["role"] == "system"
    assert record.body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "system": messages[0]["content"],
        "messages": messages[1:],
        "temperature": 0.2,
        "stop_sequences": ["\ndef "],
        "stream": True,
    }


async def test_plain_answer_and_whole_json(srv: LoopbackServer) -> None:
    wire.serve_anthropic(srv, text="return a + b")
    assert await run(srv) == "return a + b"
    wire.serve_anthropic(srv, text="return a - b", force_json=True)
    assert await run(srv) == "return a - b"


async def test_rate_limit_error_event(srv: LoopbackServer) -> None:
    responder = wire.serve_anthropic(srv, text="abc")
    responder.fault = "stream_error"
    responder.stream_error_event = lambda: wire.sse(  # type: ignore[method-assign]
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}, "error"
    )
    with pytest.raises(RateLimited, match="slow down"):
        await run(srv)


async def test_events_other_than_text_deltas_are_ignored(srv: LoopbackServer) -> None:
    responder = wire.serve_anthropic(srv, text="ab", chunks=2)
    original = responder.events
    responder.events = lambda pieces: (
        original(pieces)
        + [  # type: ignore[method-assign]
            wire.sse(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": "{"},
                },
                "content_block_delta",
            ),
            wire.sse({"type": "ping"}, "ping"),
        ]
    )
    assert await run(srv) == "ab"


async def test_list_models(srv: LoopbackServer) -> None:
    wire.serve_anthropic(srv, model="claude-haiku-4-5")
    client = make(srv)
    try:
        assert await client.list_models() == ["claude-haiku-4-5"]
    finally:
        await client.aclose()


async def test_temperature_is_clamped_to_the_api_range(srv: LoopbackServer) -> None:
    wire.serve_anthropic(srv, text="x")
    await run(srv, FimRequest("a", "b", temperature=1.6))
    assert srv.requests_to("/v1/messages")[-1].body["temperature"] == 1.0
