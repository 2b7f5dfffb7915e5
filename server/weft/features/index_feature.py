"""The workspace index in the server: built in the background after ``initialized`` (with
``$/progress``), kept current from open documents (debounced, incremental), saves and
``workspace/didChangeWatchedFiles`` (registered dynamically), rebuilt by ``weft.reindex``, and
answering ``workspace/symbol`` when ``index.workspaceSymbols`` is on.

Everything slow runs in threads or processes; the event loop only schedules. Files on disk are
parsed by the index's worker pool; open documents by a parse process (``index/parse_host.py``)
that keeps their trees, each update under :data:`DOCUMENT_BUDGET_S`: a document whose grammar
overruns it (or crashes the process) is quarantined and keeps its last symbols.
:class:`IndexService` holds the state; ``register`` wires the handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from weft.index.parse_host import DOCUMENT_BUDGET_S, ParseHost, ParseUnavailable

logger = logging.getLogger(__name__)

REINDEX_COMMAND = "weft.reindex"
EDIT_DEBOUNCE_S = 0.15
SETTLE_S = 1.0  # a full re-extract of an open document once typing pauses
WATCH_DEBOUNCE_S = 0.2
IGNORE_FILES = (".gitignore", ".weftignore")
MAX_WORKSPACE_SYMBOLS = 200

SYMBOL_KINDS = {
    "class": types.SymbolKind.Class,
    "struct": types.SymbolKind.Struct,
    "interface": types.SymbolKind.Interface,
    "enum": types.SymbolKind.Enum,
    "enum_member": types.SymbolKind.EnumMember,
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "variable": types.SymbolKind.Variable,
    "constant": types.SymbolKind.Constant,
    "field": types.SymbolKind.Field,
    "type": types.SymbolKind.TypeParameter,
    "module": types.SymbolKind.Module,
    "namespace": types.SymbolKind.Namespace,
    "macro": types.SymbolKind.Function,
}


class IndexService:
    """One server's index: building, watching, open documents."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._edit_tasks: dict[str, asyncio.Task[None]] = {}
        self._edit_lock = asyncio.Lock()
        self._changed: set[str] = set()
        self._watch_task: asyncio.Task[None] | None = None
        self._build_task: asyncio.Task[Any] | None = None
        self._start_task: asyncio.Future[None] | None = None
        self._settings_key: Any = None
        self._closing = False
        self.documents = ParseHost("document indexer", DOCUMENT_BUDGET_S)
        """Parses open documents (and keeps their trees between edits)."""

    @property
    def index(self) -> Any:
        return self.server.index

    # -- building ------------------------------------------------------------------------

    def ensure_started(self) -> asyncio.Future[None]:
        """Create and build the index once (after ``initialized``, or on ``weft.reindex`` if
        that comes first)."""
        if self._start_task is None or (self._start_task.done() and self.index is None):
            self._start_task = asyncio.ensure_future(self._start())
        return self._start_task

    async def _start(self) -> None:
        server = self.server
        if server.root is None or not server.settings.index.enabled:
            return
        from weft.index.workspace import WorkspaceIndex

        self._settings_key = _settings_key(server.settings)
        try:
            server.index = await asyncio.to_thread(
                WorkspaceIndex, server.root, server.settings, nice=5
            )
        except Exception as exc:  # noqa: BLE001 - no index is a degraded mode, not a failure
            server.log(f"workspace index unavailable: {exc}", "warning")
            return
        await self.rebuild()

    async def rebuild(self, fresh: bool = False) -> dict[str, Any]:
        """Bring the index up to date with the disk; returns its stats."""
        if self._build_task is not None and not self._build_task.done():
            await asyncio.shield(self._build_task)
        self._build_task = asyncio.ensure_future(self._rebuild(fresh))
        return await asyncio.shield(self._build_task)

    async def _rebuild(self, fresh: bool) -> dict[str, Any]:
        index = self.index
        if index is None:
            return {
                "error": "the index is disabled (index.enabled) or there is no workspace folder"
            }
        index.filter.invalidate()
        loop = asyncio.get_running_loop()
        async with self.server.progress("weft: indexing", cancellable=True) as report:
            last = [-1]

            def progress(done: int, total: int, message: str) -> None:
                percentage = 100 * done // total if total else 100
                if percentage != last[0]:
                    last[0] = percentage
                    loop.call_soon_threadsafe(report, f"{done}/{total} files", percentage)

            def cancelled() -> bool:
                return self._closing or report.cancelled

            stats = await asyncio.to_thread(self._build_blocking, fresh, progress, cancelled)
        summary = await asyncio.to_thread(index.stats)  # counts ~10^5 symbols: not on the loop
        state = "cancelled" if stats.cancelled else "ready"
        if stats.unreadable:
            self.server.log(
                "index: skipped unreadable folders: " + ", ".join(stats.unreadable), "warning"
            )
        self.server.log(
            f"index {state}: {summary['files']} files, {summary['symbols']} definitions, "
            f"{summary['references']} references in {stats.seconds:.1f} s "
            f"({stats.reused} from the cache, {stats.parsed} parsed)"
        )
        return summary

    def _build_blocking(self, fresh: bool, progress: Any, cancelled: Any) -> Any:
        if fresh:
            self.index.clear()
        return self.index.build(progress=progress, cancelled=cancelled)

    async def on_configuration(self) -> None:
        """After ``workspace/didChangeConfiguration`` was applied: start, or re-filter."""
        if (
            self.index is None
            and self.server.settings.index.enabled
            and self._start_task is not None
        ):
            self._start_task = None  # index.enabled was switched on
            self.server.run_task(self.ensure_started(), "building the workspace index")
            return
        self.settings_changed()

    def settings_changed(self) -> None:
        """Exclusion settings changed: re-list the workspace with the new filter."""
        key = _settings_key(self.server.settings)
        if self.index is None or key == self._settings_key:
            return
        self._settings_key = key
        self.index.set_settings(self.server.settings)
        self.server.run_task(self.rebuild(), "re-indexing after a settings change")

    async def close(self) -> None:
        self._closing = True
        for task in list(self._edit_tasks.values()):
            task.cancel()
        await self.documents.close()
        if self.index is not None:
            with contextlib.suppress(Exception):
                self.index.close()

    # -- open documents ------------------------------------------------------------------

    def on_document(self, event: str, uri: str, doc: Any) -> None:
        """A document listener (see features/text_sync.py)."""
        if self.index is None:
            return
        self.settings_changed()
        if event in ("open", "change") and doc is not None:
            self._schedule_edit(uri, EDIT_DEBOUNCE_S if event == "change" else 0.0)
        elif event == "save":
            path = _path_of(uri)
            if path is not None:
                self.file_changed(path)
        elif event == "close":
            task = self._edit_tasks.pop(uri, None)
            if task is not None:
                task.cancel()
            path = _path_of(uri)
            if path is not None:
                self.server.run_task(self._close(path), "closing an indexed document")

    def _schedule_edit(self, uri: str, delay: float) -> None:
        pending = self._edit_tasks.get(uri)
        if pending is not None:
            pending.cancel()  # debounce: the newest text wins
        self._edit_tasks[uri] = asyncio.ensure_future(self._index_document(uri, delay))

    async def _index_document(self, uri: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            await self._update(uri, full=False)
            await asyncio.sleep(SETTLE_S)
            await self._update(uri, full=True)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - a bad document must not stop indexing
            logger.exception("indexing %s failed: %s", uri, exc)
        finally:
            if self._edit_tasks.get(uri) is asyncio.current_task():
                del self._edit_tasks[uri]

    async def _update(self, uri: str, full: bool) -> None:
        from weft.index.extract import from_blob

        doc = self.server.documents.get(uri)
        if doc is None or doc.path is None or self.index is None:
            return
        target = self.index.open_document_target(doc.path, doc.text, doc.language_id)
        if target is None or not target.parse:
            return
        async with self._edit_lock:  # updates of a document go in order
            try:
                blob = await self.documents.call(
                    "document",
                    (target.rel, target.language, doc.text, full, DOCUMENT_BUDGET_S * 0.8),
                    (target.rel, target.language),
                )
            except ParseUnavailable as exc:
                logger.info("open document %s not re-indexed: %s", target.rel, exc)
                return
        if blob is None:
            logger.info("indexing open document %s ran out of time; kept its symbols", target.rel)
            return
        self.index.put_open_document(target.rel, target.language, from_blob(blob))

    async def _close(self, path: str) -> None:
        rel = self.index.rel(path)
        async with self._edit_lock:
            if rel is not None:
                with contextlib.suppress(ParseUnavailable, RuntimeError):
                    await self.documents.call("close", (rel,))
            await asyncio.to_thread(self.index.close_document, path)
        self.file_changed(path)

    # -- files on disk -------------------------------------------------------------------

    def file_changed(self, path: str | os.PathLike[str]) -> None:
        """A file was created, changed or deleted on disk: re-read it soon (batched)."""
        if self.index is None:
            return
        if Path(path).name in IGNORE_FILES:
            self.server.run_task(self.rebuild(), "re-indexing after an ignore file changed")
            return
        self._changed.add(os.fspath(path))
        if self._watch_task is None or self._watch_task.done():
            self._watch_task = asyncio.ensure_future(self._flush_changes())

    async def _flush_changes(self) -> None:
        await asyncio.sleep(WATCH_DEBOUNCE_S)
        while self._changed and not self._closing:
            paths, self._changed = sorted(self._changed), set()
            try:
                await asyncio.to_thread(self.index.refresh, paths)
            except Exception as exc:  # noqa: BLE001
                self.server.log(f"re-indexing changed files failed: {exc}", "warning")

    def on_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = _path_of(change.uri)
            if path is not None:
                self.file_changed(path)

    def on_renamed(self, params: types.RenameFilesParams) -> None:
        if self.index is None:
            return
        for item in params.files:
            old, new = _path_of(item.old_uri), _path_of(item.new_uri)
            if old is not None and new is not None:
                if Path(new).is_dir():
                    self.server.run_task(self.rebuild(), "re-indexing after a folder rename")
                    return
                self.index.rename(old, new)

    async def register_watchers(self) -> None:
        # Without watchers, saves and open documents still keep the index current.
        await self.server.register_dynamically(
            "workspace.did_change_watched_files.dynamic_registration",
            types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
            ),
        )

    # -- workspace/symbol ----------------------------------------------------------------

    def workspace_symbols(self, query: str) -> list[types.SymbolInformation]:
        if self.index is None or not self.server.settings.index.workspace_symbols:
            return []
        needle = query.lower()
        hits = self.index.search_definitions(needle, limit=MAX_WORKSPACE_SYMBOLS)
        out = []
        lines = _LineReader(self.server, self.index.root)
        for hit in hits:
            symbol = hit.symbol
            start = lines.units(hit.path, symbol.line, symbol.col)
            end = lines.units(hit.path, symbol.line, symbol.col + len(symbol.name.encode()))
            container = symbol.qualname.rpartition(".")[0] or None
            out.append(
                types.SymbolInformation(
                    name=symbol.name,
                    kind=SYMBOL_KINDS.get(symbol.kind, types.SymbolKind.Variable),
                    location=types.Location(
                        uri=from_fs_path(str(self.index.root / hit.path)) or "",
                        range=types.Range(
                            types.Position(symbol.line, start), types.Position(symbol.line, end)
                        ),
                    ),
                    container_name=container,
                )
            )
        return out


class _LineReader:
    """UTF-8 byte columns → the negotiated position encoding, reading each file once."""

    def __init__(self, server: Any, root: Path) -> None:
        self.server = server
        self.root = root
        self._lines: dict[str, list[bytes]] = {}

    def units(self, rel: str, line: int, byte_col: int) -> int:
        lines = self._lines.get(rel)
        if lines is None:
            try:
                lines = (self.root / rel).read_bytes().split(b"\n")
            except OSError:
                lines = []
            self._lines[rel] = lines
        text = lines[line] if line < len(lines) else b""
        prefix = text[:byte_col].decode("utf-8", "replace")
        if self.server.position_encoding == "utf-8":
            return byte_col
        if self.server.position_encoding == "utf-32":
            return len(prefix)
        return len(prefix.encode("utf-16-le")) // 2


def _path_of(uri: str) -> str | None:
    try:
        return to_fs_path(uri) if uri.startswith("file:") else None
    except Exception:  # noqa: BLE001 - a malformed URI is not a file
        return None


def _settings_key(settings: Any) -> Any:
    return (
        tuple(settings.index.exclude),
        tuple(settings.privacy.exclude),
        tuple(settings.privacy.exclude_remove),
        settings.index.max_file_kb,
        settings.index.enabled,
    )


def _after(server: Any, method: str, hook: Any) -> None:
    """Run ``hook`` after whoever else handles ``method`` (pygls allows one handler per
    notification or request; ``lifecycle`` owns ``initialized`` and ``shutdown``).

    Uses ``server.initialized_listeners`` for ``initialized`` when the server offers it;
    otherwise chains onto the registered handler, keeping its result.
    """
    listeners = getattr(server, "initialized_listeners", None)
    if method == types.INITIALIZED and isinstance(listeners, list):
        listeners.append(hook)
        return
    features = server.protocol.fm.features
    previous = features.get(method)

    async def chained(params: Any) -> Any:
        result = previous(params) if previous is not None else None
        if asyncio.iscoroutine(result):
            result = await result
        await hook()
        return result

    features[method] = chained


def register(server: Any) -> None:
    service = IndexService(server)
    server.index_service = service

    async def after_initialized() -> None:
        await service.register_watchers()
        server.run_task(service.ensure_started(), "building the workspace index")

    _after(server, types.INITIALIZED, after_initialized)
    _after(server, types.SHUTDOWN, service.close)
    _after(server, types.WORKSPACE_DID_CHANGE_CONFIGURATION, service.on_configuration)
    server.document_listeners.append(service.on_document)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: Any, params: types.DidChangeWatchedFilesParams) -> None:
        service.on_watched_files(params)

    @server.feature(
        types.WORKSPACE_DID_RENAME_FILES,
        types.FileOperationRegistrationOptions(
            filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*"))]
        ),
    )
    def did_rename_files(ls: Any, params: types.RenameFilesParams) -> None:
        service.on_renamed(params)

    @server.command(REINDEX_COMMAND)
    async def reindex(ls: Any, *args: Any) -> dict[str, Any]:
        options = args[0] if args and isinstance(args[0], dict) else {}
        await asyncio.shield(service.ensure_started())
        return await service.rebuild(fresh=bool(options.get("fresh")))

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: Any, params: types.WorkspaceSymbolParams
    ) -> list[types.SymbolInformation]:
        return await asyncio.to_thread(service.workspace_symbols, params.query)
