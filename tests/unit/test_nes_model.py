"""Model-backed next edits over the real wire formats, on the loopback model server: the raw
completion call (llama.cpp ``/completion``, Ollama ``/api/generate`` raw, OpenAI-compatible
``/completions``) with its exact body, chat prompts through the chat client (OpenAI-compatible,
Ollama, Anthropic), and each format end to end: prompt sent byte for byte as pinned, the
model's answer parsed into the next edit."""

from __future__ import annotations

import pytest

from tests import chat_wire, wire
from tests.loopback import LoopbackServer
from tests.unit.test_nes_prompts import SWEEP, ZETA, geo_input
from weft.agent.chat import ChatClient
from weft.backends.base import BackendHTTPError, BackendTimeout
from weft.backends.raw import RawPromptUnsupported, RawRequest, complete_raw
from weft.backends.registry import create_backend
from weft.nes.parse import parse_answer
from weft.nes.prompts import build_prompt
from weft.nes.send import ask_chat, ask_completion
from weft.settings import BackendSettings

REQUEST = RawRequest("<|file_sep|>a.py\nx = 1\n", 64, 0.0, ("<|file_sep|>", "</s>"))


async def run(backend, request: RawRequest, timeout_s: float = 5.0) -> str:
    try:
        return await complete_raw(backend, request, timeout_s)
    finally:
        await backend.aclose()


async def test_llamacpp_completion_body(srv: LoopbackServer) -> None:
    wire.serve_llamacpp(srv, text="x = 2\n")
    backend = create_backend(BackendSettings(kind="llamacpp", url=srv.url))
    assert await run(backend, REQUEST) == "x = 2\n"
    (record,) = srv.requests_to("/completion")
    assert record.body == {
        "prompt": REQUEST.prompt,
        "n_predict": 64,
        "temperature": 0.0,
        "stop": ["<|file_sep|>", "</s>"],
        "cache_prompt": True,
        "stream": True,
    }
    assert srv.requests_to("/infill") == []


async def test_ollama_generate_raw_body(srv: LoopbackServer) -> None:
    responder = wire.serve_ollama(srv, text="x = 2\n")
    backend = create_backend(wire.backend_settings("ollama", srv, responder))
    assert await run(backend, REQUEST) == "x = 2\n"
    (record,) = srv.requests_to("/api/generate")
    assert record.body == {
        "model": "test-model",
        "prompt": REQUEST.prompt,
        "raw": True,
        "stream": True,
        "options": {"num_predict": 64, "temperature": 0.0, "stop": ["<|file_sep|>", "</s>"]},
    }


async def test_openai_completions_body(srv: LoopbackServer) -> None:
    responder = wire.serve_openai(srv, text="x = 2\n")
    backend = create_backend(wire.backend_settings("openai", srv, responder))
    assert await run(backend, REQUEST) == "x = 2\n"
    (record,) = srv.requests_to("/v1/completions")
    assert record.body == {
        "model": "test-model",
        "prompt": REQUEST.prompt,
        "max_tokens": 64,
        "temperature": 0.0,
        "stop": ["<|file_sep|>", "</s>"],
        "stream": True,
    }


@pytest.mark.parametrize("name", ["anthropic", "mistral", "openai-chat"])
async def test_chat_only_backends_refuse_raw_prompts(srv: LoopbackServer, name: str) -> None:
    responder = wire.SERVERS[name](srv, text="x")
    backend = create_backend(wire.backend_settings(name, srv, responder))
    with pytest.raises(RawPromptUnsupported, match="chat API"):
        await run(backend, REQUEST)
    assert responder.requests() == []


async def test_backend_faults_surface_as_backend_errors(srv: LoopbackServer) -> None:
    responder = wire.serve_llamacpp(srv, text="x", fault="http500")
    backend = create_backend(BackendSettings(kind="llamacpp", url=srv.url))
    with pytest.raises(BackendHTTPError):
        await run(backend, REQUEST)
    responder.fault = "hang"
    responder.hang_s = 5.0
    backend = create_backend(BackendSettings(kind="llamacpp", url=srv.url))
    with pytest.raises(BackendTimeout):
        await run(backend, REQUEST, timeout_s=0.3)


def next_window(fmt: str) -> str:
    """The region the prompt asks for, with the rename carried one step further."""
    prompt = build_prompt(fmt, geo_input())
    assert prompt is not None
    return prompt.region.text.replace("return width", "return w", 1)


@pytest.mark.parametrize("name", ["llamacpp", "ollama", "openai"])
async def test_sweep_end_to_end(srv: LoopbackServer, name: str) -> None:
    answer = next_window("sweep") + "\n"
    responder = wire.SERVERS[name](srv, text=answer)
    backend = create_backend(wire.backend_settings(name, srv, responder))
    prompt = build_prompt("sweep", geo_input())
    assert prompt is not None
    try:
        text = await ask_completion(backend, prompt, 5.0)
    finally:
        await backend.aclose()
    (record,) = responder.requests()
    assert record.body["prompt"] == SWEEP  # byte for byte as pinned
    (candidate,) = parse_answer(prompt, text)
    assert (candidate.old_text, candidate.text, candidate.version) == ("width", "w", 2)


async def test_zeta_end_to_end_over_ollama(srv: LoopbackServer) -> None:
    answer = "```src/geo.py\n<|editable_region_start|>\n" + next_window("zeta") + "\n"
    responder = wire.serve_ollama(srv, text=answer)
    backend = create_backend(wire.backend_settings("ollama", srv, responder))
    prompt = build_prompt("zeta", geo_input())
    assert prompt is not None
    try:
        text = await ask_completion(backend, prompt, 5.0)
    finally:
        await backend.aclose()
    (record,) = responder.requests()
    assert record.body["prompt"] == ZETA and record.body["raw"] is True
    assert record.body["options"]["stop"] == ["<|editable_region_end|>"]
    (candidate,) = parse_answer(prompt, text)
    assert (candidate.old_text, candidate.text) == ("width", "w")


@pytest.mark.parametrize("fmt", chat_wire.FORMATS)
async def test_chat_end_to_end(loopback: LoopbackServer, fmt: str) -> None:
    answer = f"```python\n{next_window('chat')}\n```"
    model = chat_wire.ScriptedChat(loopback, fmt, [chat_wire.final(answer)])
    settings = BackendSettings.model_validate(model.backend_settings())
    prompt = build_prompt("chat", geo_input())
    assert prompt is not None
    client = ChatClient(settings, 5.0)
    try:
        text = await ask_chat(client, prompt)
    finally:
        await client.aclose()
    assert model.system_text() == prompt.messages[0].content
    assert model.user_texts() == [prompt.messages[1].content]
    (candidate,) = parse_answer(prompt, text)
    assert (candidate.old_text, candidate.text) == ("width", "w")
