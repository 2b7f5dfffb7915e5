"""OpenAI-compatible backends: /completions (raw suffix vs templated prompt), /chat/completions
(hole-filling prompt, fences stripped), Bearer auth, stop limits, /models."""

from __future__ import annotations

import pytest

from tests import wire
from tests.loopback import LoopbackServer
from weft.backends.base import BackendHTTPError, FimRequest, collect
from weft.backends.openai import OpenAIChatBackend, OpenAICompletionsBackend
from weft.completion import prompt
from weft.settings import BackendSettings

REQUEST = FimRequest(
    prefix="function add(a, b) {\n  ",
    suffix="\n}\n",
    path="src/add.ts",
    language="typescript",
    max_tokens=48,
    temperature=0.0,
    stop=("\n\n",),
)


def settings(srv: LoopbackServer, **extra: object) -> BackendSettings:
    return BackendSettings.model_validate(
        {
            "kind": "openai",
            "url": srv.url + "/v1",
            "model": "m-1",
            "apiKeyEnv": "WEFT_TEST_KEY",
            **extra,
        }
    )


async def run(client: OpenAICompletionsBackend | OpenAIChatBackend, request: FimRequest) -> str:
    try:
        return await collect(client.stream_fim(request))
    finally:
        await client.aclose()


async def test_completions_raw_prefix_and_suffix(
    srv: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEFT_TEST_KEY", "sk-test-123")
    wire.serve_openai(srv, text="return a + b;")
    assert await run(OpenAICompletionsBackend(settings(srv)), REQUEST) == "return a + b;"
    (record,) = srv.requests_to("/v1/completions")
    assert record.headers["Authorization"] == "Bearer sk-test-123"
    assert record.body == {
        "model": "m-1",
        "prompt": "function add(a, b) {\n  ",
        "suffix": "\n}\n",
        "max_tokens": 48,
        "temperature": 0.0,
        "stop": ["\n\n"],
        "stream": True,
    }


async def test_completions_without_suffix_omits_the_field(srv: LoopbackServer) -> None:
    wire.serve_openai(srv, text="x")
    await run(OpenAICompletionsBackend(settings(srv)), FimRequest("a = ", ""))
    body = srv.requests_to("/v1/completions")[-1].body
    assert "suffix" not in body and "stop" not in body and body["prompt"] == "a = "


async def test_no_key_no_authorization_header(
    srv: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEFT_TEST_KEY", raising=False)
    wire.serve_openai(srv, text="x")
    await run(OpenAICompletionsBackend(settings(srv)), REQUEST)
    assert "Authorization" not in srv.requests_to("/v1/completions")[-1].headers


@pytest.mark.parametrize("template", ["starcoder", "deepseek", "codegemma", "qwen"])
async def test_completions_templated_prompt_no_suffix(srv: LoopbackServer, template: str) -> None:
    wire.serve_openai(srv, text="return a + b;")
    request = FimRequest(**{**REQUEST.__dict__, "template": template})
    assert await run(OpenAICompletionsBackend(settings(srv)), request) == "return a + b;"
    body = srv.requests_to("/v1/completions")[-1].body
    assert body["prompt"] == prompt.build_fim_prompt(
        template, REQUEST.prefix, REQUEST.suffix, "src/add.ts", "typescript"
    )
    assert "suffix" not in body
    assert body["stop"] == ["\n\n", *prompt.stop_tokens(template)]


def test_api_openai_com_gets_at_most_four_stops() -> None:
    client = OpenAICompletionsBackend(
        BackendSettings(
            kind="openai", url="https://api.openai.com/v1", model="gpt-3.5-turbo-instruct"
        )
    )
    body = client.build_payload(FimRequest("a", "b", stop=("\n",), template="starcoder"))
    assert body["stop"] == ["\n", *prompt.stop_tokens("starcoder")][:4]
    vllm = OpenAICompletionsBackend(BackendSettings(kind="openai", url="http://gpu:8000/v1"))
    assert len(
        vllm.build_payload(FimRequest("a", "b", stop=("\n",), template="starcoder"))["stop"]
    ) == 1 + len(prompt.stop_tokens("starcoder"))


async def test_done_alone_or_finish_reason_alone_ends_the_stream(srv: LoopbackServer) -> None:
    responder = wire.serve_openai(srv, text="abc", chunks=3)
    responder.terminal = lambda: ["data: [DONE]\n\n"]  # type: ignore[method-assign]
    assert await run(OpenAICompletionsBackend(settings(srv)), REQUEST) == "abc"
    responder.terminal = lambda: [responder._chunk("d", "length")]  # type: ignore[method-assign]
    assert await run(OpenAICompletionsBackend(settings(srv)), REQUEST) == "abcd"


async def test_chunks_without_choices_are_skipped(srv: LoopbackServer) -> None:
    responder = wire.serve_openai(srv, text="abc", chunks=3)
    responder.terminal = lambda: [
        wire.sse({"choices": [], "usage": {"total_tokens": 3}}),
        "data: [DONE]\n\n",
    ]  # type: ignore[method-assign]
    assert await run(OpenAICompletionsBackend(settings(srv)), REQUEST) == "abc"


async def test_chat_hole_filling_prompt_and_fence_stripping(srv: LoopbackServer) -> None:
    wire.serve_openai_chat(srv, text="```typescript\nreturn a + b;\n```", chunks=4)
    request = FimRequest(
        **{
            **REQUEST.__dict__,
            "stop": ("\n", "\n\n", "};"),
            "extra": (("b.ts", "export const B = 1"),),
        }
    )
    client = OpenAIChatBackend(settings(srv, api="chat"))
    assert await run(client, request) == "return a + b;"
    body = srv.requests_to("/v1/chat/completions")[-1].body
    assert body == {
        "model": "m-1",
        "messages": prompt.build_chat_fill_messages(
            REQUEST.prefix, REQUEST.suffix, "src/add.ts", "typescript", request.extra
        ),
        "max_tokens": 48,
        "temperature": 0.0,
        "stop": ["};"],  # whitespace-only stops would cut the answer at its fence line
        "stream": True,
    }
    assert body["messages"][0]["role"] == "system"


async def test_chat_whole_json_answer(srv: LoopbackServer) -> None:
    wire.serve_openai_chat(srv, text="```\nx = 1\n```", force_json=True)
    assert await run(OpenAIChatBackend(settings(srv, api="chat")), REQUEST) == "x = 1"


async def test_list_models(srv: LoopbackServer) -> None:
    responder = wire.serve_openai(srv)
    responder.models = ["m-1", "m-2"]
    client = OpenAICompletionsBackend(settings(srv))
    try:
        assert await client.list_models() == ["m-1", "m-2"]
    finally:
        await client.aclose()
    assert srv.requests_to("/v1/models")[-1].method == "GET"


async def test_401_names_the_key_variable(
    srv: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEFT_TEST_KEY", raising=False)
    srv.route(
        "POST",
        "/v1/completions",
        lambda r, ex: ex.error(401, '{"error": {"message": "Incorrect API key"}}'),
    )
    with pytest.raises(BackendHTTPError) as info:
        await run(OpenAICompletionsBackend(settings(srv)), REQUEST)
    assert info.value.status == 401
    assert "Incorrect API key" in str(info.value) and "$WEFT_TEST_KEY, which is not set" in str(
        info.value
    )


async def test_user_agent(srv: LoopbackServer) -> None:
    wire.serve_openai(srv, text="x")
    await run(OpenAICompletionsBackend(settings(srv)), REQUEST)
    assert srv.requests_to("/v1/completions")[-1].headers["User-Agent"].startswith("weft/")
