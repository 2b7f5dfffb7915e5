"""Ollama backend: the exact /api/generate body (suffix vs raw templated), NDJSON parsing,
/api/tags."""

from __future__ import annotations

import pytest

from tests import wire
from tests.loopback import LoopbackServer
from weft.backends.base import BackendProtocolError, FimRequest, collect
from weft.backends.ollama import OllamaBackend
from weft.completion import prompt
from weft.settings import BackendSettings


def backend(srv: LoopbackServer, model: str | None = "qwen2.5-coder:1.5b") -> OllamaBackend:
    return OllamaBackend(BackendSettings(kind="ollama", url=srv.url + "/", model=model))


REQUEST = FimRequest(
    prefix="def add(a, b):\n    ",
    suffix="\n\nprint(add(1, 2))\n",
    path="pkg/m.py",
    language="python",
    max_tokens=64,
    temperature=0.1,
    stop=("\n",),
)


async def test_untemplated_sends_prompt_and_suffix(srv: LoopbackServer) -> None:
    wire.serve_ollama(srv, text="return a + b")
    client = backend(srv)
    try:
        assert await collect(client.stream_fim(REQUEST)) == "return a + b"
    finally:
        await client.aclose()
    (record,) = srv.requests_to("/api/generate")
    assert record.method == "POST"
    assert record.headers["Content-Type"] == "application/json"
    assert "Authorization" not in record.headers
    assert record.body == {
        "model": "qwen2.5-coder:1.5b",
        "stream": True,
        "prompt": "def add(a, b):\n    ",
        "suffix": "\n\nprint(add(1, 2))\n",
        "options": {"num_predict": 64, "temperature": 0.1, "stop": ["\n"]},
    }


@pytest.mark.parametrize("template", ["codellama", "qwen", "deepseek", "starcoder2"])
async def test_templated_sends_raw_prompt_without_suffix(
    srv: LoopbackServer, template: str
) -> None:
    wire.serve_ollama(srv, text="return a + b")
    request = FimRequest(
        **{**REQUEST.__dict__, "template": template, "extra": (("u.py", "X = 1"),)}
    )
    client = backend(srv)
    try:
        assert await collect(client.stream_fim(request)) == "return a + b"
    finally:
        await client.aclose()
    body = srv.requests_to("/api/generate")[-1].body
    expected_prompt = prompt.build_fim_prompt(
        template, REQUEST.prefix, REQUEST.suffix, "pkg/m.py", "python", (("u.py", "X = 1"),)
    )
    assert body == {
        "model": "qwen2.5-coder:1.5b",
        "stream": True,
        "prompt": expected_prompt,
        "raw": True,
        "options": {
            "num_predict": 64,
            "temperature": 0.1,
            "stop": ["\n", *[s for s in prompt.stop_tokens(template) if s != "\n"]],
        },
    }
    assert "suffix" not in body
    assert REQUEST.prefix in body["prompt"] and "print(add(1, 2))" in body["prompt"]
    assert prompt.stop_tokens(template)  # each family has its own stop tokens


async def test_raw_template_setting_means_no_template(srv: LoopbackServer) -> None:
    wire.serve_ollama(srv, text="x")
    client = backend(srv)
    try:
        await collect(client.stream_fim(FimRequest("a", "b", template="raw")))
    finally:
        await client.aclose()
    body = srv.requests_to("/api/generate")[-1].body
    assert body["prompt"] == "a" and body["suffix"] == "b" and "raw" not in body
    assert "stop" not in body["options"]


async def test_untemplated_cross_file_context_goes_above_the_prefix(srv: LoopbackServer) -> None:
    wire.serve_ollama(srv, text="x")
    request = FimRequest("y = ", "", path="a.py", language="python", extra=(("b.py", "Z = 3"),))
    client = backend(srv)
    try:
        await collect(client.stream_fim(request))
    finally:
        await client.aclose()
    body = srv.requests_to("/api/generate")[-1].body
    assert body["prompt"] == prompt.prefix_with_context("y = ", "a.py", "python", request.extra)
    assert body["prompt"].endswith("y = ") and "Z = 3" in body["prompt"]


async def test_text_after_done_is_not_read_as_answer(srv: LoopbackServer) -> None:
    responder = wire.serve_ollama(srv, text="abc", chunks=3)
    responder.terminal = lambda: [  # type: ignore[method-assign]
        '{"response": "", "done": true}\n',
        '{"response": "IGNORED", "done": false}\n',
    ]
    client = backend(srv)
    try:
        assert await collect(client.stream_fim(REQUEST)) == "abc"
    finally:
        await client.aclose()


async def test_non_object_line_is_protocol_error(srv: LoopbackServer) -> None:
    responder = wire.serve_ollama(srv, text="abc")
    responder.terminal = lambda: ["[1, 2]\n"]  # type: ignore[method-assign]
    client = backend(srv)
    try:
        with pytest.raises(BackendProtocolError):
            await collect(client.stream_fim(REQUEST))
    finally:
        await client.aclose()


async def test_list_models_from_tags(srv: LoopbackServer) -> None:
    responder = wire.serve_ollama(srv)
    responder.models = ["qwen2.5-coder:1.5b", "starcoder2:3b"]
    client = backend(srv)
    try:
        assert await client.list_models() == ["qwen2.5-coder:1.5b", "starcoder2:3b"]
    finally:
        await client.aclose()
    assert srv.requests_to("/api/tags")[-1].method == "GET"


async def test_responder_can_compute_the_answer_from_the_request(srv: LoopbackServer) -> None:
    wire.serve_ollama(srv, text=lambda record: record.body["suffix"].strip().upper(), chunks=2)
    client = backend(srv)
    try:
        assert (
            await collect(client.stream_fim(FimRequest("a", " rest of line \n"))) == "REST OF LINE"
        )
    finally:
        await client.aclose()
