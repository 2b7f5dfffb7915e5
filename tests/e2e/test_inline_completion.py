"""textDocument/inlineCompletion end to end: the real server, a loopback model server.

Covers the happy path in each position encoding and line-ending style, the backend faults of
issue 2 (each answered empty before the deadline with a log line, one showMessage per outage,
and recovery), and bad input (never an exception to the client).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types

from tests.e2e.conftest import (
    inline,
    log_text,
    open_document,
    send_raw_request,
    vscode_like_capabilities,
)
from tests.wire import closed_url, serve_ollama

TIMEOUT_MS = 700


@pytest.fixture
def workspace_files():
    return {"main.py": "def add(a, b):\n    \n"}


@pytest.fixture
def weft_settings(loopback):
    return {
        "backend": {
            "kind": "ollama",
            "url": loopback.url,
            "model": "qwen2.5-coder:1.5b",
            "timeoutMs": TIMEOUT_MS,
        },
        "completion": {"debounceMs": 0},
        "index": {"enabled": False},
    }


async def test_ghost_text_from_ollama_with_the_exact_request(client, loopback, workspace_root):
    serve_ollama(loopback, text="return a + b\n", chunks=3)
    uri = open_document(client, workspace_root, "main.py")
    result = await inline(client, uri, 1, 4)
    assert [item.insert_text for item in result.items] == ["return a + b"]
    # an empty range where the request was made, so clients match typed-through text against it
    assert result.items[0].range == types.Range(types.Position(1, 4), types.Position(1, 4))
    body = loopback.requests_to("/api/generate")[-1].body
    assert body["prompt"] == "def add(a, b):\n    "
    assert body["suffix"] == "\n"
    assert body["model"] == "qwen2.5-coder:1.5b"
    assert body["stream"] is True
    cmd = result.items[0].command
    assert cmd.command == "weft.acceptCompletion"
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=cmd.command, arguments=list(cmd.arguments))
    )
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="weft.status", arguments=[])
    )
    assert status["accepted"] == 1 and status["backend"] == "ollama"


async def test_capabilities_advertise_inline_and_not_the_fallback(client):
    caps = client.init_result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert "weft.acceptCompletion" in caps.execute_command_provider.commands


async def test_crlf_document_gets_crlf_suggestion(client, loopback, workspace_root):
    serve_ollama(loopback, text="total = a + b\n    return total\n")
    text = "def add(a, b):\r\n    \r\n"
    uri = open_document(client, workspace_root, "main.py", text=text)
    result = await inline(client, uri, 1, 4)
    assert [i.insert_text for i in result.items] == ["total = a + b\r\n    return total"]
    assert loopback.requests_to("/api/generate")[-1].body["prompt"] == "def add(a, b):\r\n    "


async def test_form_feed_and_astral_text_keep_positions_exact(client, loopback, workspace_root):
    serve_ollama(loopback, text="return 1\n")
    text = "s = '𝄞'\n\f\ndef f():\n    \n"
    uri = open_document(client, workspace_root, "main.py", text=text)
    result = await inline(client, uri, 3, 4)
    assert [i.insert_text for i in result.items] == ["return 1"]
    assert loopback.requests_to("/api/generate")[-1].body["prompt"] == "s = '𝄞'\n\f\ndef f():\n    "


class TestUtf8Encoding:
    @pytest.fixture
    def client_capabilities(self):
        return vscode_like_capabilities(encodings=[types.PositionEncodingKind.Utf8])

    async def test_utf8_columns_count_bytes(self, client, loopback, workspace_root):
        serve_ollama(loopback, text="1)\n")
        text = "x = ('é', \n"
        uri = open_document(client, workspace_root, "main.py", text=text)
        # 'é' is 2 bytes in UTF-8, so the cursor after ", " is byte column 11, character 10.
        result = await inline(client, uri, 0, 11)
        assert [i.insert_text for i in result.items] == ["1)"]
        assert loopback.requests_to("/api/generate")[-1].body["prompt"] == "x = ('é', "


class TestFallbackClient:
    """A client without inline completion gets textDocument/completion instead."""

    @pytest.fixture
    def client_capabilities(self):
        return vscode_like_capabilities(inline=False)

    async def test_only_the_fallback_is_advertised(self, client):
        caps = client.init_result.capabilities
        assert caps.inline_completion_provider is None
        assert caps.completion_provider is not None

    async def test_completion_items_insert_the_whole_suggestion(
        self, client, loopback, workspace_root
    ):
        serve_ollama(loopback, text="ult = a + b\n")
        uri = open_document(client, workspace_root, "main.py", text="def add(a, b):\n    res\n")
        result = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(1, 7))
        )
        assert result.is_incomplete is True
        (item,) = result.items
        assert item.label == "result = a + b"
        assert item.text_edit.new_text == "result = a + b"
        assert item.text_edit.range == types.Range(types.Position(1, 4), types.Position(1, 7))
        assert item.command.command == "weft.acceptCompletion"
        assert item.documentation == "result = a + b"  # no Markdown: the client did not declare it


FAULT_LOG = {
    "http500": "500",
    "rate_limit": "rate limit",
    "hang": "within",
    "bad_json": "json",
    "cut": "cut",
    "unknown_model": "model",
}


@pytest.mark.parametrize("fault", sorted(FAULT_LOG))
async def test_backend_fault_gives_empty_answer_log_and_recovery(
    client, loopback, workspace_root, fault
):
    ollama = serve_ollama(loopback, text="return a + b\n", fault=fault, retry_after="0")
    uri = open_document(client, workspace_root, "main.py")
    started = time.monotonic()
    result = await inline(client, uri, 1, 4)
    elapsed = time.monotonic() - started
    assert result.items == []
    # Functional bound, not a benchmark: the hang fault would otherwise hold the request 30 s.
    assert elapsed < TIMEOUT_MS / 1000 + 5
    await asyncio.sleep(0.1)
    assert FAULT_LOG[fault] in log_text(client).lower()
    assert len(client.messages) == 1  # one window/showMessage for the outage

    second = await inline(client, uri, 1, 4)
    assert second.items == []
    assert len(client.messages) == 1  # still the same outage: no second dialog

    ollama.fault = None
    await asyncio.sleep(0.05)
    recovered = await inline(client, uri, 1, 4)
    assert [i.insert_text for i in recovered.items] == ["return a + b"]


class TestRefusedConnection:
    @pytest.fixture
    def weft_settings(self):
        return {
            "backend": {
                "kind": "ollama",
                "url": closed_url(),
                "model": "m",
                "timeoutMs": TIMEOUT_MS,
            },
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
        }

    async def test_refused_connection_is_logged_and_shown_once(self, client, workspace_root):
        uri = open_document(client, workspace_root, "main.py")
        assert (await inline(client, uri, 1, 4)).items == []
        assert (await inline(client, uri, 1, 4)).items == []
        await asyncio.sleep(0.1)
        assert "connect" in log_text(client).lower() or "refused" in log_text(client).lower()
        assert len(client.messages) == 1


async def test_rate_limit_pauses_calls_for_retry_after(client, loopback, workspace_root):
    ollama = serve_ollama(loopback, text="return a + b\n", fault="rate_limit", retry_after="30")
    uri = open_document(client, workspace_root, "main.py")
    assert (await inline(client, uri, 1, 4)).items == []
    ollama.fault = None
    assert (await inline(client, uri, 1, 4)).items == []
    assert len(ollama.requests()) == 1  # the second request did not reach the server


async def test_document_never_opened_is_empty_and_logged_once(client, workspace_root):
    uri = (workspace_root / "main.py").as_uri()
    assert (await inline(client, uri, 0, 0)).items == []
    assert (await inline(client, uri, 0, 0)).items == []
    await asyncio.sleep(0.05)
    assert log_text(client).count("not open") == 1


async def test_position_out_of_range_is_empty_and_logged(client, loopback, workspace_root):
    serve_ollama(loopback, text="x")
    uri = open_document(client, workspace_root, "main.py")
    assert (await inline(client, uri, 99, 0)).items == []
    await asyncio.sleep(0.05)
    assert "outside the document" in log_text(client)
    assert loopback.requests_to("/api/generate") == []


async def test_file_over_max_size_is_empty_and_logged(client, loopback, workspace_root):
    serve_ollama(loopback, text="x")
    big = "x = 1\n" * 200_000  # 1.2 MB > index.maxFileKb (1024)
    uri = open_document(client, workspace_root, "main.py", text=big)
    assert (await inline(client, uri, 0, 0)).items == []
    await asyncio.sleep(0.05)
    assert "maxFileKb" in log_text(client)
    assert loopback.requests_to("/api/generate") == []


async def test_text_that_is_not_unicode_is_empty_and_logged(client, loopback, workspace_root):
    serve_ollama(loopback, text="x")
    # A lone surrogate is what undecodable bytes become when a client escapes them.
    uri = open_document(client, workspace_root, "main.py", text="s = '\udc80'\n")
    assert (await inline(client, uri, 1, 0)).items == []
    await asyncio.sleep(0.05)
    assert "unicode" in log_text(client).lower()


async def test_private_file_never_reaches_the_model(client, loopback, workspace_root):
    serve_ollama(loopback, text="x")
    (workspace_root / ".env").write_text("TOKEN=")
    uri = open_document(client, workspace_root, ".env", language_id="dotenv")
    assert (await inline(client, uri, 0, 6)).items == []
    assert loopback.requests_to("/api/generate") == []


async def test_request_with_undecodable_params_gets_an_error_reply(client):
    from pygls.exceptions import JsonRpcException

    with pytest.raises(JsonRpcException) as info:
        await send_raw_request(
            client,
            "bad-1",
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": "file:///x.py"},
                "position": {"line": -1, "character": "7"},
                "context": {"triggerKind": 1},
            },
        )
    assert info.value.code == -32602
    with pytest.raises(JsonRpcException) as info:
        await send_raw_request(client, "bad-2", "textDocument/inlineCompletion", None)
    assert info.value.code == -32602


class TestPrivacy:
    @pytest.fixture
    def weft_settings(self, loopback, tmp_path):
        return {
            "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 2000},
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
            "privacy": {"auditLog": str(tmp_path / "audit.jsonl")},
        }

    async def test_secrets_are_masked_and_every_prompt_is_audited(
        self, client, loopback, workspace_root, tmp_path
    ):
        serve_ollama(loopback, text="return key\n")
        secret = "sk-ant-api03-" + "a1B2c3D4e5" * 8
        text = f'API_KEY = "{secret}"\ndef f():\n    \n'
        uri = open_document(client, workspace_root, "main.py", text=text)
        result = await inline(client, uri, 2, 4)
        assert [i.insert_text for i in result.items] == ["return key"]
        sent = loopback.requests_to("/api/generate")[-1]
        assert secret not in sent.raw.decode()
        assert "API_KEY = " in sent.body["prompt"]
        audit = (tmp_path / "audit.jsonl").read_text().splitlines()
        assert len(audit) == 1 and secret not in audit[0] and '"completion"' in audit[0]
