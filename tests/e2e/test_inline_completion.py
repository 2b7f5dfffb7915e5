"""textDocument/inlineCompletion end to end: the real server, a loopback model server."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.e2e.conftest import inline, open_document
from tests.wire import serve_ollama


@pytest.fixture
def workspace_files():
    return {"main.py": "def add(a, b):\n    \n"}


async def test_ghost_text_from_ollama(client, loopback, workspace_root):
    ollama = serve_ollama(loopback, text="return a + b\n", chunks=3)
    uri = open_document(client, workspace_root, "main.py")
    result = await inline(client, uri, 1, 4)
    assert [item.insert_text for item in result.items] == ["return a + b"]
    body = loopback.requests_to("/api/generate")[-1].body
    assert body["prompt"] == "def add(a, b):\n    "
    assert body["suffix"] == "\n"
    assert body["model"] == "qwen2.5-coder:1.5b"
    assert result.items[0].command.command == "weft.acceptCompletion"
    assert ollama is not None
