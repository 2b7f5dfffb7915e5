"""Never stall, always answer (issue 11): each input that used to freeze the server, sent to the
real server while a probe (``weft.status``) must be answered within a second.

The second is the one timing these tests hold the server to: a probe that waits behind the
hostile input (a grammar that never returns, a quadratic query, a backtracking regex, cattrs
walking a 100 KB string) takes many seconds without the fix; an idle server answers in
milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.chat_wire import ScriptedChat, block, call, final
from tests.e2e.conftest import inline, log_text, open_document
from tests.loopback import LoopbackServer
from tests.raw_client import RawClient
from tests.wire import serve_ollama

PROBE_DEADLINE_S = 1.0

# the language pack's COBOL scanner loops for ever on words it does not know
HELLO_COB = "display hello\nstop run\nend\n"
# 195 KB of JavaScript: 100,000 open parentheses, then on the next line 95,000 closing ones
NESTED_JS = "(" * 100_000 + "\n" + ")" * 95_000


async def probe(client: LanguageClient) -> dict[str, Any]:
    """``weft.status``, which must come back within :data:`PROBE_DEADLINE_S`."""
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="weft.status", arguments=[])
        ),
        PROBE_DEADLINE_S,
    )


async def probe_until_done(client: LanguageClient, work: asyncio.Future[Any]) -> int:
    """Probe again and again while ``work`` runs; how many probes were answered."""
    answered = 0
    while not work.done():
        await probe(client)
        answered += 1
        await asyncio.sleep(0.05)
    return answered


async def wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class TestGrammarThatNeverReturns:
    @pytest.fixture
    def workspace_files(self) -> dict[str, str]:
        return {"hello.cob": HELLO_COB}

    async def test_completion_in_cobol_is_answered_and_the_file_quarantined(
        self, client: LanguageClient, loopback: LoopbackServer, workspace_root: Path
    ):
        serve_ollama(loopback, text="world\n")
        uri = open_document(client, workspace_root, "hello.cob", language_id="cobol")
        request = asyncio.ensure_future(inline(client, uri, 0, 13))
        await probe(client)  # while the syntax guard's parse is stuck in the grammar
        first = await asyncio.wait_for(request, 10)
        assert first.items == []  # the request that met the loop is answered empty...
        await wait_until(lambda: "quarantined" in log_text(client), 5, "the log line")
        assert "cobol grammar took longer than its budget on " + uri in log_text(client)
        # ...and later requests are not guarded with that grammar any more: a suggestion
        second = await asyncio.wait_for(inline(client, uri, 0, 13), 10)
        assert [item.insert_text for item in second.items] == ["world"]
        await probe(client)


class TestDeepNesting:
    @pytest.fixture
    def workspace_files(self) -> dict[str, str]:
        return {"nested.js": NESTED_JS, "ok.js": "function alive() { return 1 }\n"}

    @pytest.fixture
    def weft_settings(self, loopback: LoopbackServer) -> dict[str, Any]:
        return {
            "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 2000},
            "completion": {"debounceMs": 0},
            "index": {"enabled": True, "workspaceSymbols": True},
        }

    async def test_editing_a_file_of_100000_open_parentheses_never_holds_the_server(
        self, client: LanguageClient, workspace_root: Path
    ):
        uri = open_document(client, workspace_root, "nested.js", language_id="javascript")
        await probe(client)
        for version in range(2, 6):  # each edit re-indexes the open document
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(types.Position(0, 8), types.Position(0, 8)),
                            text="(",
                        )
                    ],
                )
            )
            for _ in range(4):
                await probe(client)
                await asyncio.sleep(0.1)
        open_document(client, workspace_root, "ok.js", language_id="javascript")

        async def indexed() -> list[str]:
            symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams("alive"))
            return [s.name for s in symbols or []]

        deadline = time.monotonic() + 30
        while "alive" not in await indexed():  # the indexer is alive and current
            assert time.monotonic() < deadline
            await probe(client)
            await asyncio.sleep(0.1)


class TestModelChosenRegex:
    @pytest.fixture
    def workspace_files(self) -> dict[str, str]:
        return {
            "shop.py": "def total(items):\n    return sum(items)\n",
            "data.txt": ("a" * 5_000 + "!\n") * 20,
        }

    @pytest.fixture
    def weft_settings(self, loopback: LoopbackServer) -> dict[str, Any]:
        chat = ScriptedChat(loopback, "openai", []).backend_settings()
        return {
            "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 2000},
            "agent": {"backend": chat, "maxSteps": 4},
            "index": {"enabled": False},
        }

    async def test_a_backtracking_pattern_is_answered_and_the_server_stays_free(
        self, client: LanguageClient, loopback: LoopbackServer, workspace_root: Path
    ):
        edit = block("shop.py", "    return sum(items)\n", "    return sum(items, 0)\n")
        model = ScriptedChat(
            loopback,
            "openai",
            [
                call("search_text", pattern="(a+)+$"),
                call("search_text", pattern=r"(a)\1"),
                final(edit),
            ],
        )
        run = asyncio.ensure_future(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="weft.refactor", arguments=[{"instruction": "start the sum at 0"}]
                )
            )
        )
        await probe_until_done(client, run)
        result = json.loads(json.dumps(await run, default=lambda o: o.__dict__))
        assert result["applied"] is True, result
        backtracking, invalid = model.tool_results(1)[0], model.tool_results(2)[-1]
        assert json.loads(backtracking) == []  # no line ends in "a": searched to the end
        assert invalid.startswith("error: invalid regular expression") and "RE2" in invalid


# -- params that cost cattrs seconds: raw bytes, since pygls's client refuses to send them -----


@pytest.fixture
async def raw(tmp_path: Path):
    client = await RawClient.start(
        tmp_path / "cache",
        {"backend": {"kind": "ollama", "url": "http://127.0.0.1:9", "model": "m"}},
        log=tmp_path / "server.log",
    )
    (tmp_path / "ws").mkdir()
    await client.initialize(tmp_path / "ws")
    yield client
    await client.close()


async def raw_probe(client: RawClient) -> dict[str, Any]:
    return await client.request(
        "workspace/executeCommand",
        {"command": "weft.status", "arguments": []},
        timeout=PROBE_DEADLINE_S,
    )


async def test_a_100kb_string_as_content_changes_is_dropped_at_once(raw: RawClient, tmp_path: Path):
    uri = (tmp_path / "ws" / "a.py").as_uri()
    item = {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}
    await raw.notify("textDocument/didOpen", {"textDocument": item})
    hostile = {"textDocument": {"uri": uri, "version": 2}, "contentChanges": "x" * 100_000}
    for _ in range(3):
        await raw.notify("textDocument/didChange", hostile)
        assert "result" in await raw_probe(raw)
    log = (tmp_path / "server.log").read_text()
    assert "contentChanges must be an array" in log
    assert log.count("textDocument/didChange dropped") == 3  # one line each, no traceback
    assert "Traceback" not in log


async def test_a_string_as_code_action_diagnostics_is_refused_at_once(raw: RawClient):
    params = {
        "textDocument": {"uri": "file:///x.py"},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": "d" * 100_000},
    }
    msg_id = raw.new_id()
    await raw.send(
        {"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/codeAction", "params": params}
    )
    answer = await raw.answer(msg_id, timeout=PROBE_DEADLINE_S)
    assert answer["error"]["code"] == -32602
    assert "diagnostics must be an array" in answer["error"]["message"]
    assert "result" in await raw_probe(raw)


# -- a flapping backend ----------------------------------------------------------------------


async def test_a_flapping_backend_shows_one_message_whatever_its_errors_say(
    client: LanguageClient, loopback: LoopbackServer, workspace_root: Path
):
    ollama = serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    faults = ["http500", None, "close", "bad_json", None, "cut", "unknown_model", None, "http500"]
    for fault in faults * 3:
        ollama.fault = fault
        await inline(client, uri, 1, 4)
    await probe(client)
    assert len(client.messages) == 1  # window/showMessage: once for the outage
    status = await probe(client)
    assert status["healthy"] is False and status["error"]  # the state carries the rest
    ollama.fault = None
    await inline(client, uri, 1, 4)
    assert (await probe(client))["healthy"] is True
