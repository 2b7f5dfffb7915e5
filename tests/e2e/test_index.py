"""The workspace index end to end: background build with $/progress percentages, file watchers
registered dynamically, workspace/symbol from the index, open documents, changes on disk and
deletions through didChangeWatchedFiles, and weft.reindex."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lsprotocol import types

from tests.e2e.conftest import open_document

SHAPES = '''"""Shapes."""


class Shape:
    def area(self):
        return 0


def make_shape():
    return Shape()
'''


@pytest.fixture
def workspace_files():
    return {
        "pkg/shapes.py": SHAPES,
        "pkg/util.py": "def helper():\n    pass\n",
        "pkg/intl.py": "class \u00dcn\u00efcode:\n    pass\n",
        "web/app.ts": "export class Widget {\n  render(): void {}\n}\n",
        "ignored/secret.py": "def hidden_function():\n    pass\n",
        ".gitignore": "ignored/\n",
    }


@pytest.fixture
def weft_settings(loopback):
    return {
        "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 2000},
        "index": {"enabled": True, "workspaceSymbols": True},
    }


async def symbols(client, query: str) -> list[types.SymbolInformation]:
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
    return list(result or [])


async def wait_for_symbols(client, query: str, present: bool = True, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in await symbols(client, query) if s.name == query]
        if bool(found) == present or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_build_progress_watchers_and_workspace_symbol(client, workspace_root: Path):
    found = await wait_for_symbols(client, "Shape")
    assert len(found) == 1
    shape = found[0]
    assert shape.kind == types.SymbolKind.Class
    assert shape.location.uri == (workspace_root / "pkg" / "shapes.py").as_uri()
    assert shape.location.range.start == types.Position(3, 6)
    area = await wait_for_symbols(client, "area")
    assert area[0].kind == types.SymbolKind.Method and area[0].container_name == "Shape"
    assert await wait_for_symbols(client, "Widget")
    (intl,) = await wait_for_symbols(client, "\u00dcn\u00efcode")  # columns in UTF-16, not bytes
    assert intl.location.range == types.Range(types.Position(0, 6), types.Position(0, 13))
    assert await symbols(client, "hidden_function") == []  # .gitignore

    methods = {r.method for r in client.registrations}
    assert types.WORKSPACE_DID_CHANGE_WATCHED_FILES in methods
    percentages = [
        p.percentage
        for reports in client.progress_reports.values()
        for p in reports
        if isinstance(p, types.WorkDoneProgressReport) and p.percentage is not None
    ]
    assert percentages and percentages[-1] == 100
    begins = [
        p.title
        for reports in client.progress_reports.values()
        for p in reports
        if isinstance(p, types.WorkDoneProgressBegin)
    ]
    assert "weft: indexing" in begins

    stats = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="weft.reindex")
    )
    assert stats["languages"]["python"] == 3 and stats["kinds"]["class"] == 3


async def test_changes_on_disk_and_in_the_editor(client, workspace_root: Path):
    await wait_for_symbols(client, "Shape")

    created = workspace_root / "pkg" / "fresh.py"
    created.write_text("def freshly_written():\n    pass\n")
    (workspace_root / "pkg" / "util.py").unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=created.as_uri(), type=types.FileChangeType.Created),
                types.FileEvent(
                    uri=(workspace_root / "pkg" / "util.py").as_uri(),
                    type=types.FileChangeType.Deleted,
                ),
            ]
        )
    )
    assert await wait_for_symbols(client, "freshly_written")
    assert await wait_for_symbols(client, "helper", present=False) == []

    uri = open_document(client, workspace_root, "pkg/shapes.py")
    edited = SHAPES + "\n\ndef typed_in_the_editor():\n    pass\n"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    found = await wait_for_symbols(client, "typed_in_the_editor")
    assert found and found[0].location.range.start.line == 12
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    # closed without saving: the file on disk is what counts again
    assert await wait_for_symbols(client, "typed_in_the_editor", present=False) == []


class TestDefaultOff:
    @pytest.fixture
    def weft_settings(self, loopback):
        return {
            "backend": {"kind": "ollama", "url": loopback.url, "model": "m"},
            "index": {"enabled": True},
        }

    async def test_workspace_symbol_is_off_by_default(self, client):
        stats = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="weft.reindex")
        )
        assert stats["kinds"]["class"] == 3  # the index is there ...
        assert await symbols(client, "Shape") == []  # ... but not offered as workspace/symbol
        fresh = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="weft.reindex", arguments=[{"fresh": True}])
        )
        assert fresh["parsed"] == 4 and fresh["reused"] == 0  # dropped and rebuilt


async def test_exclusions_changed_in_settings_apply(client, workspace_root: Path, weft_settings):
    assert await wait_for_symbols(client, "Widget")
    changed = {**weft_settings, "index": {**weft_settings["index"], "exclude": ["web/**"]}}
    client.set_configuration(changed, section="weft")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    assert await wait_for_symbols(client, "Widget", present=False) == []
    assert await wait_for_symbols(client, "Shape")
