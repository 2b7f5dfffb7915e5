"""Triggers end to end (issue 3): debounce for automatic requests only, up to three distinct
candidates for an invoked request, selectedCompletionInfo honoured, single vs multi-line."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.e2e.conftest import inline, open_document
from tests.wire import serve_ollama

GENERATE = "/api/generate"


@pytest.fixture
def workspace_files():
    return {"main.py": "def add(a, b):\n    \n", "app.ts": "const xs = [1, 2];\nxs.\n"}


@pytest.fixture
def weft_settings(loopback):
    return {
        "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 3000},
        "completion": {"debounceMs": 250},
        "index": {"enabled": False},
    }


async def test_automatic_requests_inside_the_debounce_never_reach_the_model(
    client, loopback, workspace_root
):
    serve_ollama(
        loopback,
        text=lambda r: "eturn a + b\n" if r.body["prompt"].endswith("r") else "return a + b\n",
    )
    uri = open_document(client, workspace_root, "main.py")
    first = asyncio.ensure_future(inline(client, uri, 1, 4))
    await asyncio.sleep(0.05)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(1, 4), types.Position(1, 4)), text="r"
                )
            ],
        )
    )
    second = await inline(client, uri, 1, 5)
    assert (await first).items == []
    assert [i.insert_text for i in second.items] == ["eturn a + b"]
    assert len(loopback.requests_to(GENERATE)) == 1  # the first never got past its debounce


async def test_invoked_request_gives_up_to_three_distinct_candidates(
    client, loopback, workspace_root
):
    answers = {0.2: "return a + b\n", 0.6: "return b + a\n", 1.0: "return a + b\n"}
    serve_ollama(
        loopback, text=lambda r: answers.get(round(r.body["options"]["temperature"], 1), "x\n")
    )
    uri = open_document(client, workspace_root, "main.py")
    result = await inline(client, uri, 1, 4, invoked=True)
    assert sorted(i.insert_text for i in result.items) == ["return a + b", "return b + a"]
    temps = sorted(
        round(r.body["options"]["temperature"], 1) for r in loopback.requests_to(GENERATE)
    )
    assert temps == [0.2, 0.6, 1.0]


async def test_selected_completion_info_is_extended_over_the_same_range(
    client, loopback, workspace_root
):
    serve_ollama(loopback, text="(3);\n")
    uri = open_document(client, workspace_root, "app.ts", language_id="typescript")
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic,
            selected_completion_info=types.SelectedCompletionInfo(
                range=types.Range(types.Position(1, 3), types.Position(1, 3)), text="push"
            ),
        ),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(1, 3),
    )
    result = await client.text_document_inline_completion_async(params)
    items = result.items if hasattr(result, "items") else result
    (item,) = items
    assert item.insert_text == "push(3);"
    assert item.range == types.Range(types.Position(1, 3), types.Position(1, 3))
    assert loopback.requests_to(GENERATE)[-1].body["prompt"].endswith("xs.push")


async def test_mid_line_is_single_line_and_block_opener_is_multi_line(
    client, loopback, workspace_root
):
    ollama = serve_ollama(loopback, text="a + b\n    return total\n")
    uri = open_document(client, workspace_root, "main.py", text="def add(a, b):\n    total = \n")
    mid = await inline(client, uri, 1, 12, invoked=True)
    assert {i.insert_text for i in mid.items} == {"a + b"}
    ollama.text = "\n    total = a + b\n    return total\n\nprint(add(1, 2))\n"
    uri2 = open_document(client, workspace_root, "other.py", text="def add(a, b):\n", version=1)
    block = await inline(client, uri2, 0, 14, invoked=True)
    assert {i.insert_text for i in block.items} == {"\n    total = a + b\n    return total"}
