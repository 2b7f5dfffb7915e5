"""Mistral backend: /v1/fim/completions body (prefix and suffix apart, never templated), Bearer
key, chat-chunk parsing."""

from __future__ import annotations

import pytest

from tests import wire
from tests.loopback import LoopbackServer
from weft.backends.base import FimRequest, collect
from weft.backends.mistral import MistralBackend
from weft.settings import BackendSettings


def make(srv: LoopbackServer) -> MistralBackend:
    return MistralBackend(
        BackendSettings(
            kind="mistral",
            url=srv.url + "/v1",
            model="codestral-latest",
            api_key_env="MISTRAL_TEST_KEY",
        )
    )


@pytest.mark.parametrize("template", [None, "codestral", "starcoder"])
async def test_fim_body_is_never_templated(
    srv: LoopbackServer, monkeypatch: pytest.MonkeyPatch, template: str | None
) -> None:
    monkeypatch.setenv("MISTRAL_TEST_KEY", "ms-1")
    wire.serve_mistral(srv, text="return a + b", chunks=3)
    client = make(srv)
    request = FimRequest(
        "def f(a, b):\n    ",
        "\n",
        max_tokens=20,
        temperature=0.5,
        stop=("\n\n",),
        template=template,
    )
    try:
        assert await collect(client.stream_fim(request)) == "return a + b"
    finally:
        await client.aclose()
    (record,) = srv.requests_to("/v1/fim/completions")
    assert record.headers["Authorization"] == "Bearer ms-1"
    assert record.body == {
        "model": "codestral-latest",
        "prompt": "def f(a, b):\n    ",
        "suffix": "\n",
        "max_tokens": 20,
        "temperature": 0.5,
        "stop": ["\n\n"],
        "stream": True,
    }


async def test_default_model_and_listing(srv: LoopbackServer) -> None:
    responder = wire.serve_mistral(srv, text="x")
    responder.models = ["codestral-latest", "codestral-2405"]
    client = MistralBackend(BackendSettings(kind="mistral", url=srv.url + "/v1"))
    try:
        await collect(client.stream_fim(FimRequest("a", "b")))
        assert await client.list_models() == ["codestral-latest", "codestral-2405"]
    finally:
        await client.aclose()
    assert srv.requests_to("/v1/fim/completions")[-1].body["model"] == "codestral-latest"
