"""Backend registry: construction per kind, and probing for doctor and ``auto``."""

from __future__ import annotations

import pytest

from tests import wire
from tests.loopback import LoopbackServer
from weft.backends.anthropic import AnthropicBackend
from weft.backends.llamacpp import LlamaCppBackend
from weft.backends.mistral import MistralBackend
from weft.backends.ollama import OllamaBackend
from weft.backends.openai import OpenAIChatBackend, OpenAICompletionsBackend
from weft.backends.registry import create_backend, model_listed, probe
from weft.settings import BackendSettings


@pytest.mark.parametrize(
    ("kind", "api", "cls", "url"),
    [
        ("ollama", "completions", OllamaBackend, "http://127.0.0.1:11434"),
        ("openai", "completions", OpenAICompletionsBackend, "https://api.openai.com/v1"),
        ("openai", "chat", OpenAIChatBackend, "https://api.openai.com/v1"),
        ("llamacpp", "completions", LlamaCppBackend, "http://127.0.0.1:8080"),
        ("mistral", "completions", MistralBackend, "https://api.mistral.ai/v1"),
        ("anthropic", "completions", AnthropicBackend, "https://api.anthropic.com"),
    ],
)
async def test_create_backend(kind: str, api: str, cls: type, url: str) -> None:
    backend = create_backend(BackendSettings.model_validate({"kind": kind, "api": api}))
    try:
        assert type(backend) is cls
        assert backend.kind == kind
        assert backend.base_url == url  # type: ignore[attr-defined]
    finally:
        await backend.aclose()


@pytest.mark.parametrize("kind", ["auto", "offline"])
def test_create_backend_refuses_non_http_kinds(kind: str) -> None:
    with pytest.raises(ValueError, match=kind):
        create_backend(BackendSettings.model_validate({"kind": kind}))


async def test_probe_ollama_lists_models(srv: LoopbackServer) -> None:
    responder = wire.serve_ollama(srv)
    responder.models = ["qwen2.5-coder:1.5b", "llama3:latest"]
    info = await probe(BackendSettings(kind="ollama", url=srv.url, model="llama3"))
    assert info.reachable and info.error is None
    assert info.models == ["qwen2.5-coder:1.5b", "llama3:latest"]
    assert info.url == srv.url and info.kind == "ollama"


async def test_probe_reports_missing_model(srv: LoopbackServer) -> None:
    wire.serve_ollama(srv)
    info = await probe(BackendSettings(kind="ollama", url=srv.url, model="nope"))
    assert info.reachable and info.error is not None and "'nope'" in info.error


async def test_probe_auto_needs_a_model(srv: LoopbackServer) -> None:
    responder = wire.serve_ollama(srv)
    info = await probe(BackendSettings(kind="auto", url=srv.url))
    assert info.reachable and info.models == ["test-model"] and info.error is None
    assert srv.requests_to("/api/tags")
    responder.models = []
    info = await probe(BackendSettings(kind="auto", url=srv.url))
    assert info.reachable and not info.models and info.error is not None


async def test_probe_unreachable() -> None:
    url = wire.closed_url()
    info = await probe(BackendSettings(kind="openai", url=url + "/v1"))
    assert not info.reachable and info.error is not None and url in info.error


async def test_probe_offline() -> None:
    info = await probe(BackendSettings(kind="offline"))
    assert info.reachable and info.kind == "offline" and info.models == []


@pytest.mark.parametrize("name", list(wire.SERVERS))
async def test_probe_every_kind(name: str, srv: LoopbackServer) -> None:
    responder = wire.SERVERS[name](srv)
    info = await probe(wire.backend_settings(name, srv, responder))
    assert info.reachable and info.models and responder.model in info.models[0]


def test_model_listed_latest_tag() -> None:
    assert model_listed("qwen", ["qwen:latest"])
    assert model_listed("qwen:latest", ["qwen"])
    assert not model_listed("qwen:7b", ["qwen:latest"])


async def test_probe_has_a_hard_deadline(srv: LoopbackServer) -> None:
    """A server that accepts and then says nothing: the probe ends with an error, not a hang."""
    srv.route("GET", "/api/tags", lambda record, ex: ex.hang(20))
    info = await probe(BackendSettings(kind="ollama", url=srv.url, timeout_ms=300))
    assert not info.reachable and info.error is not None
