"""Inline completion through every real wire format, streamed and as one JSON body, end to end."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import inline, open_document
from tests.wire import SERVERS, backend_json, serve_openai

CASES = [(name, streaming) for name in SERVERS for streaming in (True, False)]


@pytest.fixture
def workspace_files():
    return {"main.py": "def add(a, b):\n    \n"}


@pytest.fixture(params=CASES, ids=[f"{n}-{'stream' if s else 'json'}" for n, s in CASES])
def wire(request, loopback):
    name, streaming = request.param
    responder = SERVERS[name](loopback, text="return a + b\n", chunks=4, force_json=not streaming)
    return name, responder


@pytest.fixture
def weft_settings(wire, loopback):
    name, responder = wire
    return {
        "backend": backend_json(
            name, loopback, responder, timeoutMs=3000, apiKeyEnv="WEFT_E2E_KEY"
        ),
        "completion": {"debounceMs": 0},
        "index": {"enabled": False},
    }


async def test_every_wire_format_gives_the_suggestion(
    client, loopback, workspace_root, wire, monkeypatch
):
    name, responder = wire
    uri = open_document(client, workspace_root, "main.py")
    result = await inline(client, uri, 1, 4)
    assert [i.insert_text for i in result.items] == ["return a + b"]
    (request,) = responder.requests()
    raw = request.raw.decode()
    assert "def add(a, b):" in raw  # the prefix reached the model in this format
    if name == "llamacpp":
        assert request.path == "/infill"
        assert request.body["input_prefix"] == "def add(a, b):\n    "
        assert request.body["input_suffix"] == "\n"
    if name == "anthropic":
        assert request.headers.get("anthropic-version") == "2023-06-01"


class TestTemplatedOpenAI:
    """An OpenAI-compatible /completions server with a known FIM family gets the whole
    templated prompt and no suffix (SPEC §5)."""

    @pytest.fixture
    def wire(self, loopback):
        responder = serve_openai(loopback, text="return a + b\n")
        responder.model = "qwen2.5-coder-7b"
        return "openai", responder

    async def test_qwen_prompt_is_templated(self, client, loopback, workspace_root, wire):
        _, responder = wire
        uri = open_document(client, workspace_root, "main.py")
        result = await inline(client, uri, 1, 4)
        assert [i.insert_text for i in result.items] == ["return a + b"]
        (request,) = responder.requests()
        assert "suffix" not in request.body
        prompt = request.body["prompt"]
        assert prompt.endswith("<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>")
        assert "<|fim_pad|>" in request.body["stop"] or "<|endoftext|>" in request.body["stop"]
