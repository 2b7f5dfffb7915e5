"""Freshness end to end (issue 3): typing through a suggestion costs no model call, a burst of
requests that are never cancelled (Neovim 0.12) keeps one live model call, and a result for an
old document version is never returned."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.e2e.conftest import inline, open_document
from tests.wire import serve_ollama

GENERATE = "/api/generate"


@pytest.fixture
def workspace_files():
    return {"main.py": "def add(a, b):\n    \n"}


@pytest.fixture
def weft_settings(loopback):
    return {
        "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 4000},
        "completion": {"debounceMs": 30},
        "index": {"enabled": False},
    }


async def warm(client, uri: str, ollama) -> None:
    """One request first, so the server's first-request start-up cost is not in the burst."""
    delay, ollama.first_delay_s = ollama.first_delay_s, 0
    await inline(client, uri, 0, 0)
    ollama.first_delay_s = delay
    ollama.srv.clear()


def type_text(client, uri: str, version: int, line: int, character: int, text: str) -> None:
    pos = types.Position(line, character)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text=text)
            ],
        )
    )


async def test_typing_through_a_suggestion_makes_no_model_call(client, loopback, workspace_root):
    serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    first = await inline(client, uri, 1, 4)
    assert [i.insert_text for i in first.items] == ["return a + b"]
    assert len(loopback.requests_to(GENERATE)) == 1
    version, col = 1, 4
    for ch in "return a":
        version += 1
        type_text(client, uri, version, 1, col, ch)
        col += 1
        result = await inline(client, uri, 1, col)
        assert [i.insert_text for i in result.items] == ["return a + b"[col - 4 :]]
    assert len(loopback.requests_to(GENERATE)) == 1  # every keystroke served from the cache


async def test_partial_accept_keeps_the_rest(client, loopback, workspace_root):
    serve_ollama(loopback, text="return a + b\n")
    uri = open_document(client, workspace_root, "main.py")
    await inline(client, uri, 1, 4)
    type_text(client, uri, 2, 1, 4, "return ")  # VS Code's "accept word"
    result = await inline(client, uri, 1, 11)
    assert [i.insert_text for i in result.items] == ["a + b"]
    assert len(loopback.requests_to(GENERATE)) == 1


async def test_burst_without_cancellation_keeps_one_live_call(client, loopback, workspace_root):
    ollama = serve_ollama(loopback, text="return a + b\n", first_delay_s=0.4)
    uri = open_document(client, workspace_root, "main.py")
    await warm(client, uri, ollama)
    pending = [asyncio.ensure_future(inline(client, uri, 1, 4))]
    await asyncio.sleep(0.1)  # the first call is now live at the model server
    version, col = 1, 4
    for ch in "ret":  # typed faster than the model answers; nothing is ever cancelled
        version += 1
        type_text(client, uri, version, 1, col, ch)
        col += 1
        pending.append(asyncio.ensure_future(inline(client, uri, 1, col)))
        await asyncio.sleep(0.05)
    results = await asyncio.gather(*pending)
    assert [r.items for r in results[:-1]] == [[], [], []], results  # superseded: answered empty
    assert [i.insert_text for i in results[-1].items] == ["urn a + b"], [
        (r.body["prompt"], r.body.get("suffix")) for r in ollama.requests()
    ]
    assert loopback.max_concurrent(GENERATE) == 1
    assert len(ollama.requests()) == 1  # the later requests joined the stream in flight


async def test_typing_that_contradicts_the_stream_aborts_it(client, loopback, workspace_root):
    ollama = serve_ollama(loopback, text="return a + b\n", chunks=4, first_delay_s=0.3, delay_s=0.3)
    uri = open_document(client, workspace_root, "main.py")
    await warm(client, uri, ollama)
    first = asyncio.ensure_future(inline(client, uri, 1, 4))
    await asyncio.sleep(0.15)
    type_text(client, uri, 2, 1, 4, "x")  # the stream will start "ret": it cannot be used
    ollama.text = " = a * b\n"
    second = await inline(client, uri, 1, 5)
    assert (await first).items == []
    assert [i.insert_text for i in second.items] == [" = a * b"]
    await asyncio.sleep(0.4)
    calls = ollama.requests()
    assert len(calls) == 2
    assert calls[0].aborted  # dropped as soon as its first chunk contradicted the typing


async def test_edit_elsewhere_aborts_the_call_at_once(client, loopback, workspace_root):
    ollama = serve_ollama(loopback, text="return a + b\n", first_delay_s=2)
    uri = open_document(client, workspace_root, "main.py")
    await warm(client, uri, ollama)
    first = asyncio.ensure_future(inline(client, uri, 1, 4))
    await asyncio.sleep(0.2)
    type_text(client, uri, 2, 0, 0, "# note\n")
    ollama.first_delay_s = 0
    second = await inline(client, uri, 2, 4)
    assert (await first).items == []
    assert [i.insert_text for i in second.items] == ["return a + b"]
    await asyncio.sleep(0.3)
    calls = ollama.requests()
    assert len(calls) == 2 and calls[0].aborted and calls[0].finished
    assert loopback.max_concurrent(GENERATE) <= 2


async def test_result_for_an_old_version_is_never_returned(client, loopback, workspace_root):
    serve_ollama(loopback, text="return a + b\n", first_delay_s=0.4)
    uri = open_document(client, workspace_root, "main.py")
    request = asyncio.ensure_future(inline(client, uri, 1, 4))
    await asyncio.sleep(0.1)
    # The user edits elsewhere while the model answers; the editor sends no new request.
    type_text(client, uri, 2, 0, 0, "# note\n")
    result = await request
    assert result.items == []


async def test_cancel_request_aborts_the_model_call(client, loopback, workspace_root):
    ollama = serve_ollama(loopback, text="return a + b\n", first_delay_s=3)
    uri = open_document(client, workspace_root, "main.py")
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(1, 4),
    )
    task = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="ic-1"
        )
    )
    await asyncio.sleep(0.3)
    client.cancel_request(types.CancelParams(id="ic-1"))
    from pygls.exceptions import JsonRpcRequestCancelled

    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 3)
    await asyncio.sleep(0.8)  # past the short grace in which a following request could adopt it
    (call,) = ollama.requests()
    assert call.aborted and call.finished
