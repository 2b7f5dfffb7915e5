"""weft's own checks through the real server: findings behind "Fix with weft", forwarded
client diagnostics, publishing as a setting, a newer version superseding an older run."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import open_document

UNUSED = "import os\n\n\ndef f(a):\n    return a\n"
BROKEN = "def f(a):\n    return (a +\n\nx = 1\n"


@pytest.fixture
def workspace_files() -> dict[str, str]:
    return {"mod.py": UNUSED, "broken.py": BROKEN, "pyproject.toml": "[tool.ruff]\n"}


@pytest.fixture
def publish() -> bool:
    return False


@pytest.fixture
def weft_settings(loopback: Any, publish: bool) -> dict[str, Any]:
    return {
        "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 2000},
        "index": {"enabled": False},
        "checks": {"delayMs": 0, "publish": publish},
    }


def line_range(line: int) -> types.Range:
    return types.Range(types.Position(line, 0), types.Position(line, 0))


async def fixes(client: LanguageClient, uri: str, line: int) -> list[str]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=line_range(line),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a.title for a in actions or [] if a.title.startswith("Fix with weft")]


async def until(probe: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_ruff_finding_is_offered_when_the_client_sends_no_diagnostics(
    client: LanguageClient, workspace_root: Path
) -> None:
    uri = open_document(client, workspace_root, "mod.py")
    titles = await until(lambda: fixes(client, uri, 0), "ruff's finding")
    assert titles == ["Fix with weft: `os` imported but unused"]
    assert await fixes(client, uri, 4) == []  # nothing wrong there
    assert client.diagnostics.get(uri) in (None, [])  # publishing is off by default


async def test_tree_sitter_reports_syntax_errors_and_a_fix_removes_them(
    client: LanguageClient, workspace_root: Path
) -> None:
    uri = open_document(client, workspace_root, "broken.py")

    async def syntax() -> list[str]:
        return [t for line in range(4) for t in await fixes(client, uri, line) if "yntax" in t]

    assert await until(syntax, "a syntax finding")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument("def f(a):\n    return a\n")
            ],
        )
    )

    async def gone() -> bool:
        return not await syntax()

    assert await until(gone, "the finding of the old version to go")


async def test_forwarded_client_diagnostics_back_the_fix(
    client: LanguageClient, workspace_root: Path
) -> None:
    uri = open_document(client, workspace_root, "mod.py")
    diagnostic = {
        "range": {"start": {"line": 4, "character": 11}, "end": {"line": 4, "character": 12}},
        "message": 'Type "int" is not assignable to return type "str"',
        "severity": 1,
        "source": "Pyright",
    }
    client.protocol.notify(
        "weft/clientDiagnostics", {"uri": uri, "diagnostics": [diagnostic, {"bad": 1}]}
    )
    titles = await until(lambda: fixes(client, uri, 4), "the forwarded diagnostic")
    assert titles == ['Fix with weft: Type "int" is not assignable to return type "str"']
    client.protocol.notify("weft/clientDiagnostics", {"uri": 3})  # malformed: logged, ignored
    client.protocol.notify("weft/clientDiagnostics", {"uri": uri, "diagnostics": []})
    assert await until(lambda: fixes(client, uri, 0), "ruff's own finding, still there")


@pytest.mark.parametrize("publish", [True])
async def test_publishing_is_a_setting(
    client: LanguageClient, workspace_root: Path, publish: bool
) -> None:
    uri = open_document(client, workspace_root, "mod.py")

    async def published() -> Any:
        return client.diagnostics.get(uri)

    diagnostics = await until(published, "published diagnostics")
    assert [(d.range.start.line, d.source, d.message) for d in diagnostics] == [
        (0, "weft: ruff", "`os` imported but unused")
    ]
