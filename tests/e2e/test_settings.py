"""Settings flow end to end: weft.toml, initializationOptions, workspace/configuration and
didChangeConfiguration; bad values keep the previous settings with one message."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.e2e.conftest import inline, log_text, open_document
from tests.wire import serve_ollama


@pytest.fixture
def workspace_files():
    return {
        "main.py": "def add(a, b):\n    \n",
        # Safe keys only: an untrusted weft.toml may tune completion and name the model.
        "weft.toml": '[backend]\nmodel = "from-toml"\n[completion]\nmaxTokens = 33\n',
    }


@pytest.fixture
def weft_settings(loopback):
    # initializationOptions and workspace/configuration both get this (the fixture sets both).
    return {
        "backend": {"kind": "ollama", "url": loopback.url, "timeoutMs": 2000},
        "completion": {"debounceMs": 0},
        "index": {"enabled": False},
        "notASetting": True,
    }


async def test_sources_merge_toml_under_client_settings(client, loopback, workspace_root):
    serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    await inline(client, uri, 1, 4)
    body = loopback.requests_to("/api/generate")[-1].body
    assert body["model"] == "from-toml"  # weft.toml, not overridden by the client
    assert body["options"]["num_predict"] == 33
    assert "unknown setting ignored" in log_text(client) and "notASetting" in log_text(client)


async def test_did_change_configuration_repulls_and_applies_to_next_request(
    client, loopback, workspace_root
):
    serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    client.set_configuration(
        {
            "backend": {"kind": "ollama", "url": loopback.url, "model": "changed"},
            "completion": {"debounceMs": 0},
        },
        section="weft",
    )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.3)
    await inline(client, uri, 1, 4)
    assert loopback.requests_to("/api/generate")[-1].body["model"] == "changed"


async def test_invalid_value_keeps_previous_settings_with_one_message(
    client, loopback, workspace_root
):
    serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    client.set_configuration(
        {"backend": {"kind": "ollama", "url": loopback.url, "model": "bad", "timeoutMs": "soon"}},
        section="weft",
    )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.3)
    result = await inline(client, uri, 1, 4)
    assert [i.insert_text for i in result.items] == ["return a + b"]
    assert loopback.requests_to("/api/generate")[-1].body["model"] == "from-toml"
    assert "backend.timeoutMs" in log_text(client)
    await asyncio.sleep(0.2)
    assert sum("backend.timeoutMs" in m.message for m in client.messages) == 1, [
        m.message[:60] for m in client.messages
    ]


async def test_registers_for_configuration_changes(client):
    await asyncio.sleep(0.2)
    methods = [r.method for r in client.registrations]
    assert types.WORKSPACE_DID_CHANGE_CONFIGURATION in methods


async def test_completion_disabled_by_setting(client, loopback, workspace_root):
    serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    client.set_configuration(
        {"backend": {"url": loopback.url}, "completion": {"enabled": False}}, section="weft"
    )
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.3)
    assert (await inline(client, uri, 1, 4)).items == []
    assert loopback.requests_to("/api/generate") == []
