"""JSON-RPC and LSP conformance of the real server over raw bytes (issue 11): every request gets
exactly one answer, framing errors resynchronise, the lifecycle rules hold, client mistakes are
logged without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.raw_client import RawClient, frame

SETTINGS = {
    "backend": {"kind": "ollama", "url": "http://127.0.0.1:9", "model": "m"},
    "index": {"enabled": False},
    "completion": {"debounceMs": 0},
}


@pytest.fixture
async def server(tmp_path: Path):
    client = await RawClient.start(tmp_path / "cache", SETTINGS, log=tmp_path / "server.log")
    yield client
    await client.close()


@pytest.fixture
async def ready(server: RawClient, tmp_path: Path):
    root = tmp_path / "ws"
    root.mkdir()
    await server.initialize(root)
    return server


def code_of(answer: dict) -> int | None:
    return answer.get("error", {}).get("code")


async def probe(client: RawClient, timeout: float = 5.0) -> dict:
    """A request every live server answers at once (``weft.status``)."""
    return await client.request(
        "workspace/executeCommand", {"command": "weft.status", "arguments": []}, timeout
    )


async def test_requests_before_initialize_get_32002_and_notifications_are_dropped(
    server: RawClient, tmp_path: Path
):
    early = await server.request("textDocument/hover", {"x": 1})
    assert code_of(early) == -32002
    await server.notify("textDocument/didOpen", {"textDocument": {}})
    (tmp_path / "ws").mkdir()
    await server.initialize(tmp_path / "ws")
    again = await server.request("initialize", {"processId": None, "capabilities": {}})
    assert code_of(again) == -32600
    assert "result" in await probe(server)
    assert len(server.responses) == 3 + 1  # nothing answered the dropped notification


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"id": "a", "method": "workspace/symbol", "params": {"query": ""}}, -32600),
        ({"jsonrpc": "1.0", "id": "a", "method": "workspace/symbol"}, -32600),
        ({"jsonrpc": "2.0", "id": "a", "method": 7}, -32600),
        ({"jsonrpc": "2.0", "id": "a", "method": "textDocument/didOpen", "params": {}}, -32601),
        ({"jsonrpc": "2.0", "id": "a", "method": "weft/noSuchMethod"}, -32601),
        ({"jsonrpc": "2.0", "id": "a", "method": "workspace/symbol", "params": "x"}, -32602),
        (
            {
                "jsonrpc": "2.0",
                "id": "a",
                "method": "textDocument/inlineCompletion",
                "params": {
                    "context": {"triggerKind": 1},
                    "textDocument": {"uri": "file:///x.py"},
                    "position": {"line": -1, "character": "7"},
                },
            },
            -32602,
        ),
        ({"jsonrpc": "2.0", "id": "a", "method": "codeAction/resolve", "params": None}, -32602),
        (
            {
                "jsonrpc": "2.0",
                "id": "a",
                "method": "codeAction/resolve",
                "params": {"title": "t", "data": {"command": "weft.fix", "arguments": 5}},
            },
            -32602,
        ),
    ],
)
async def test_each_bad_request_gets_one_error_with_its_id(ready: RawClient, message, code):
    await ready.send(message)
    answer = await ready.answer("a")
    assert code_of(answer) == code, answer
    assert "result" in await probe(ready)
    assert len(ready.responses["a"]) == 1


async def test_invalid_utf8_is_answered_with_the_request_id(ready: RawClient):
    body = b'{"jsonrpc":"2.0","id":41,"method":"workspace/symbol","params":{"query":"\xff\xfe"}}'
    await ready.send_bytes(frame(body))
    answer = await ready.answer(41)
    assert code_of(answer) == -32700 and "UTF-8" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [(b'{"jsonrpc": "2.0", "id": ', -32700), (b"[1, 2]", -32600), (b"[" * 100_000, -32700)],
)
async def test_unreadable_messages_are_answered_with_id_null(ready: RawClient, body, code):
    await ready.send_bytes(frame(body))
    answer = await ready.answer(None)
    assert code_of(answer) == code
    assert "result" in await probe(ready)


async def test_ids_that_are_not_integers_or_strings(ready: RawClient):
    await ready.send({"jsonrpc": "2.0", "id": True, "method": "workspace/symbol"})
    assert code_of(await ready.answer(None)) == -32600
    await ready.send(
        {"jsonrpc": "2.0", "id": 7.5, "method": "workspace/symbol", "params": {"query": ""}}
    )
    assert "result" in await ready.answer(7.5)  # JSON-RPC numbers are echoed


def raw_request(msg_id: int) -> bytes:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": msg_id,
            "method": "workspace/executeCommand",
            "params": {"command": "weft.status", "arguments": []},
        }
    ).encode()


async def test_a_short_content_length_resynchronises_on_the_glued_next_header(ready: RawClient):
    cut = raw_request(1001)
    await ready.send_bytes(b"Content-Length: 60\r\n\r\n" + cut + frame(raw_request(1002)))
    assert code_of(await ready.answer(1001)) == -32700  # its id came before the cut
    assert "result" in await ready.answer(1002)


async def test_a_long_content_length_keeps_the_message_it_swallowed(ready: RawClient):
    first, second = raw_request(1011), frame(raw_request(1012))
    await ready.send_bytes(
        b"Content-Length: %d\r\n\r\n" % (len(first) + len(second)) + first + second
    )
    assert "result" in await ready.answer(1011)
    assert "result" in await ready.answer(1012)


async def test_a_long_content_length_then_silence_is_still_answered(ready: RawClient):
    body = raw_request(1021)
    await ready.send_bytes(b"Content-Length: %d\r\n\r\n" % (len(body) + 500) + body)
    assert "result" in await ready.answer(1021, timeout=10)


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Type: application/vscode-jsonrpc\r\n\r\n",  # no Content-Length
        b"Content-Length: abc\r\n\r\n",
        b"Content-Length: -5\r\n\r\n",
        b"Content-Length 12\r\n\r\n",
        b"\x00\x01garbage\r\n\r\n",
    ],
)
async def test_broken_headers_resynchronise_on_the_next_message(ready: RawClient, header):
    await ready.send_bytes(header + raw_request(1031) + frame(raw_request(1032)))
    assert "result" in await ready.answer(1032)
    assert ready.alive


async def test_a_huge_content_length_is_refused_without_reading_it(ready: RawClient):
    body = raw_request(1041)
    await ready.send_bytes(b"Content-Length: 9999999999999999\r\n\r\n" + body)
    assert code_of(await ready.answer(1041)) == -32602  # its id is read from the head
    await ready.send_bytes(frame(raw_request(1042)))
    assert "result" in await ready.answer(1042)


async def test_headers_are_read_leniently(ready: RawClient):
    body = raw_request(1051)
    await ready.send_bytes(
        b"content-type: application/vscode-jsonrpc; charset=utf-8\n"
        b"CONTENT-LENGTH:  %d \n\n" % len(body) + body
    )
    assert "result" in await ready.answer(1051)


async def test_exit_without_shutdown_exits_1(ready: RawClient):
    await ready.notify("exit")
    assert await ready.exit_code() == 1


async def test_after_shutdown_requests_are_invalid_and_exit_exits_0(ready: RawClient):
    assert (await ready.request("shutdown"))["result"] is None
    assert code_of(await probe(ready)) == -32600
    assert code_of(await ready.request("shutdown")) == -32600
    await ready.notify("textDocument/didClose", {"textDocument": {"uri": "file:///x"}})
    await ready.notify("exit")
    assert await ready.exit_code() == 0


async def test_end_of_input_without_exit_ends_the_server(ready: RawClient):
    assert ready.proc.stdin is not None
    ready.proc.stdin.close()
    assert await ready.exit_code() == 1


async def test_client_mistakes_are_logged_without_tracebacks(ready: RawClient, tmp_path: Path):
    mistakes = [
        {"jsonrpc": "2.0", "id": "m1", "method": "textDocument/hover", "params": "x"},
        {"jsonrpc": "2.0", "id": "m2", "method": "weft/nothing"},
        {"jsonrpc": "2.0", "id": "m3", "method": "textDocument/didOpen", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"x": 1}},
        {
            "jsonrpc": "2.0",
            "id": "m4",
            "method": "workspace/executeCommand",
            "params": {"command": "no"},
        },
        {"jsonrpc": "2.0", "id": "m5", "method": "codeAction/resolve", "params": {"title": 3}},
    ]
    for message in mistakes:
        await ready.send(message)
    await ready.send_bytes(b"Content-Length: zz\r\n\r\n{}")
    for msg_id in ("m1", "m2", "m3", "m4", "m5"):
        assert "error" in await ready.answer(msg_id)
    assert "result" in await probe(ready)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and " ERROR " not in log
    assert "refused" in log and "dropped" in log
    errors = [n for n in ready.notifications if n["method"] == "window/logMessage"]
    assert not [n for n in errors if n["params"]["type"] == 1]  # no Error-level log messages


async def test_a_malformed_answer_to_a_server_request_does_not_hang_it(
    server: RawClient, tmp_path: Path
):
    """The client answers ``workspace/configuration`` with something that is not a list."""
    server.answers["workspace/configuration"] = "not a list of settings"
    (tmp_path / "ws").mkdir()
    answer = await server.request(
        "initialize",
        {
            "processId": None,
            "rootUri": (tmp_path / "ws").as_uri(),
            "capabilities": {"workspace": {"configuration": True}},
        },
    )
    assert "result" in answer
    await server.notify("initialized", {})
    assert "result" in await probe(server)
