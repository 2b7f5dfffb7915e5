"""pytest-lsp fixtures: the real ``weft serve`` in a subprocess, a loopback model server.

Tests override these fixtures by name in their module:

- ``weft_settings`` — the ``initializationOptions`` (default: Ollama at the loopback server);
- ``workspace_files`` — ``{relative path: text}`` written into a fresh workspace root;
- ``client_capabilities`` — what the client advertises (default: VS Code-like with inline
  completion, work-done progress, configuration, applyEdit with documentChanges).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[2]


def server_env(tmp_root: Path) -> dict[str, str]:
    """The server's environment: pytest-lsp replaces the whole environment, so start from ours."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "server"), str(REPO), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["XDG_CACHE_HOME"] = str(tmp_root / "cache")
    env["XDG_STATE_HOME"] = str(tmp_root / "state")
    env.pop("OLLAMA_HOST", None)
    return env


def vscode_like_capabilities(
    inline: bool = True, encodings: list[str] | None = None
) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=encodings or [types.PositionEncodingKind.Utf16]
        ),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities() if inline else None,
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(snippet_support=False)
            ),
            code_action=types.CodeActionClientCapabilities(
                resolve_support=types.ClientCodeActionResolveOptions(
                    properties=["edit", "command"]
                ),
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[
                            types.CodeActionKind.QuickFix,
                            types.CodeActionKind.RefactorRewrite,
                        ]
                    )
                ),
            ),
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            configuration=True,
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            did_change_configuration=types.DidChangeConfigurationClientCapabilities(
                dynamic_registration=True
            ),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            ),
        ),
    )


@pytest.fixture
def loopback():
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def weft_settings(loopback: LoopbackServer) -> dict[str, Any]:
    return {
        "backend": {
            "kind": "ollama",
            "url": loopback.url,
            "model": "qwen2.5-coder:1.5b",
            "timeoutMs": 2000,
        },
        "completion": {"debounceMs": 0},
        "index": {"enabled": False},
    }


@pytest.fixture
def workspace_files() -> dict[str, str]:
    return {"main.py": "def add(a, b):\n    return a + b\n"}


@pytest.fixture
def client_capabilities() -> types.ClientCapabilities:
    return vscode_like_capabilities()


@pytest.fixture
def workspace_root(tmp_path: Path, workspace_files: dict[str, str]) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    for rel, text in workspace_files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")
    return root


def client_fixture(server_env: dict[str, str] | None = None) -> Any:
    """The ``client`` fixture: the real server (with ``server_env``, or this process's
    environment) initialized on ``workspace_root``. Modules that need another environment
    (a fake HOME, say) define ``client = client_fixture(env)``."""

    @pytest_lsp.fixture(
        config=ClientServerConfig(
            server_command=[sys.executable, "-m", "weft", "serve"], server_env=server_env
        ),
    )
    async def client(
        lsp_client: LanguageClient,
        workspace_root: Path,
        weft_settings: dict[str, Any],
        client_capabilities: types.ClientCapabilities,
    ):
        async with session(lsp_client, workspace_root, weft_settings, client_capabilities):
            yield lsp_client

    return client


client = client_fixture()


@contextlib.asynccontextmanager
async def session(
    lsp_client: LanguageClient,
    workspace_root: Path,
    weft_settings: dict[str, Any],
    client_capabilities: types.ClientCapabilities,
) -> AsyncIterator[LanguageClient]:
    """Initialize ``lsp_client`` on ``workspace_root`` (for modules that start the server their
    own way, e.g. with another environment) and shut it down afterwards."""
    lsp_client.set_configuration(weft_settings, section="weft")
    lsp_client.applied_edits = []  # type: ignore[attr-defined]
    lsp_client.registrations = []  # type: ignore[attr-defined]

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        lsp_client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=getattr(lsp_client, "apply_result", True))

    lsp_client.init_result = await lsp_client.initialize_session(  # type: ignore[attr-defined]
        types.InitializeParams(
            capabilities=client_capabilities,
            root_uri=workspace_root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace_root.as_uri(), name="ws")],
            initialization_options=weft_settings,
        )
    )
    yield lsp_client
    try:
        await asyncio.wait_for(lsp_client.shutdown_session(), 5)
    except (TimeoutError, Exception):  # noqa: BLE001 - pygls#433: shutdown may hang
        pass


def open_document(
    client: LanguageClient,
    root: Path,
    rel: str,
    text: str | None = None,
    language_id: str = "python",
    version: int = 1,
) -> str:
    """didOpen ``rel`` (with its text on disk unless given); returns its URI."""
    path = root / rel
    uri = path.as_uri()
    if text is None:
        text = path.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language_id, version, text))
    )
    return uri


async def inline(
    client: LanguageClient, uri: str, line: int, character: int, invoked: bool = False
) -> types.InlineCompletionList:
    kind = (
        types.InlineCompletionTriggerKind.Invoked
        if invoked
        else types.InlineCompletionTriggerKind.Automatic
    )
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=kind),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )
    assert result is not None
    items = result if isinstance(result, (list, tuple)) else result.items
    return types.InlineCompletionList(items=list(items))


async def send_raw_request(client: LanguageClient, msg_id: str, method: str, params: Any) -> Any:
    """Send a request exactly as given (bypassing the client's own validation); its result."""
    from concurrent.futures import Future

    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(future), 5)


def log_text(client: LanguageClient) -> str:
    return "\n".join(m.message for m in client.log_messages)
