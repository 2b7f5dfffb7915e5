"""llama.cpp backend: /infill with input_extra and cache_prompt, /completion when a template is
forced, SSE ``stop: true``, model listing with and without /v1/models."""

from __future__ import annotations

import pytest

from tests import wire
from tests.loopback import LoopbackServer
from weft.backends.base import BackendError, BackendUnavailable, FimRequest, collect
from weft.backends.llamacpp import LlamaCppBackend
from weft.completion import prompt
from weft.settings import BackendSettings

REQUEST = FimRequest(
    prefix="fn add(a: i32, b: i32) -> i32 {\n    ",
    suffix="\n}\n",
    path="src/lib.rs",
    language="rust",
    max_tokens=32,
    temperature=0.3,
    stop=("\n",),
    extra=(
        ("src/util.rs", "pub fn one() -> i32 { 1 }\n"),
        ("src/two.rs", "pub const TWO: i32 = 2;"),
    ),
)


async def run(client: LlamaCppBackend, request: FimRequest) -> str:
    try:
        return await collect(client.stream_fim(request))
    finally:
        await client.aclose()


async def test_infill_body(srv: LoopbackServer) -> None:
    wire.serve_llamacpp(srv, text="a + b")
    client = LlamaCppBackend(BackendSettings(kind="llamacpp", url=srv.url))
    assert await run(client, REQUEST) == "a + b"
    (record,) = srv.requests_to("/infill")
    assert record.body == {
        "input_prefix": REQUEST.prefix,
        "input_suffix": REQUEST.suffix,
        "input_extra": [
            {"filename": "src/util.rs", "text": "pub fn one() -> i32 { 1 }\n"},
            {"filename": "src/two.rs", "text": "pub const TWO: i32 = 2;"},
        ],
        "n_predict": 32,
        "temperature": 0.3,
        "stop": ["\n"],
        "cache_prompt": True,
        "stream": True,
    }
    assert "Authorization" not in record.headers


async def test_model_and_key_sent_when_configured(
    srv: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_KEY", "k1")
    wire.serve_llamacpp(srv, text="a + b")
    client = LlamaCppBackend(
        BackendSettings(kind="llamacpp", url=srv.url, model="qwen", api_key_env="LLAMA_KEY")
    )
    await run(client, REQUEST)
    record = srv.requests_to("/infill")[-1]
    assert record.body["model"] == "qwen" and record.headers["Authorization"] == "Bearer k1"


async def test_forced_template_goes_to_completion(srv: LoopbackServer) -> None:
    wire.serve_llamacpp(srv, text="a + b")
    request = FimRequest(**{**REQUEST.__dict__, "template": "codellama"})
    client = LlamaCppBackend(BackendSettings(kind="llamacpp", url=srv.url))
    assert await run(client, request) == "a + b"
    assert not srv.requests_to("/infill")
    body = srv.requests_to("/completion")[-1].body
    assert body == {
        "prompt": prompt.build_fim_prompt(
            "codellama", REQUEST.prefix, REQUEST.suffix, "src/lib.rs", "rust", REQUEST.extra
        ),
        "n_predict": 32,
        "temperature": 0.3,
        "stop": ["\n", *prompt.stop_tokens("codellama")],
        "cache_prompt": True,
        "stream": True,
    }


async def test_llama_error_field_in_stream(srv: LoopbackServer) -> None:
    responder = wire.serve_llamacpp(srv, text="abc")
    responder.terminal = lambda: ['error: {"code": 500, "message": "slot unavailable"}\n\n']  # type: ignore[method-assign]
    client = LlamaCppBackend(BackendSettings(kind="llamacpp", url=srv.url))
    with pytest.raises(BackendError, match="slot unavailable"):
        await run(client, REQUEST)


async def test_list_models_v1_then_props_then_nothing(srv: LoopbackServer) -> None:
    responder = wire.LlamaCppResponder("x", model="qwen2.5-coder-1.5b")
    responder.install(srv)
    client = LlamaCppBackend(BackendSettings(kind="llamacpp", url=srv.url))
    try:
        assert await client.list_models() == ["qwen2.5-coder-1.5b"]
        srv.route("GET", "/v1/models", lambda r, ex: ex.error(404, "Not Found"))
        assert await client.list_models() == ["/models/qwen2.5-coder-1.5b.gguf"]
        srv.route("GET", "/props", lambda r, ex: ex.error(404, "Not Found"))
        assert await client.list_models() == []
    finally:
        await client.aclose()


async def test_list_models_unreachable_raises() -> None:
    client = LlamaCppBackend(BackendSettings(kind="llamacpp", url=wire.closed_url()))
    try:
        with pytest.raises(BackendUnavailable):
            await client.list_models()
    finally:
        await client.aclose()
