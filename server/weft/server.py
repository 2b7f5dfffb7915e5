"""The language server object: it owns settings, documents, backends, the index and tasks.

``create_server()`` builds a :class:`WeftServer` and lets each feature module register its
handlers. Handlers stay thin: they take snapshots from here and call pure functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer

import weft
from weft.backends.base import BackendError, CompletionBackend
from weft.completion.engine import CompletionEngine
from weft.documents import Document
from weft.privacy import AuditLog
from weft.protocol import WeftProtocol
from weft.settings import BackendSettings, Settings
from weft.trust import EditorTrust, RepoConfig

logger = logging.getLogger(__name__)

OFFLINE = BackendSettings.model_validate({"kind": "offline"})

AUTO_REPROBE_S = 5.0
"""How often ``auto`` re-probes a model server that stopped answering."""
OUTAGE_QUIET_S = 300.0
"""A backend failure starts a new outage (and may show a message) only after this long
without failures of that backend: a flapping server is one outage, whatever its errors say."""

MESSAGE_TYPES = {
    "error": types.MessageType.Error,
    "warning": types.MessageType.Warning,
    "info": types.MessageType.Info,
    "debug": types.MessageType.Log,
}
"""weft's log levels → LSP message types."""


class ProgressReporter:
    """What ``server.progress`` yields: ``report(message, percentage)`` and ``cancelled``."""

    def __init__(self, server: WeftServer, token: str | None) -> None:
        self._server = server
        self.token = token

    @property
    def cancelled(self) -> bool:
        if self.token is None:
            return False
        future = self._server.work_done_progress.tokens.get(self.token)
        return bool(future is not None and future.cancelled())

    def __call__(self, message: str | None = None, percentage: int | None = None) -> None:
        if self.token is not None:
            self._server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )


class WeftServer(LanguageServer):
    """weft's language server."""

    def __init__(self) -> None:
        super().__init__("weft", weft.__version__, protocol_cls=WeftProtocol)
        self.settings = Settings()
        """The settings in force, swapped whole when a source changes."""
        self.sources: dict[str, dict[str, Any] | None] = {}
        """Raw settings per source name (``weft.toml``, ``initializationOptions``, …)."""
        self.settings_error: str | None = None
        """The last invalid-settings message shown (not repeated while it persists)."""
        self.root: Path | None = None
        """The workspace root folder."""
        self.documents: dict[str, Document] = {}
        """Open documents by URI, as weft's own snapshots."""
        self.position_encoding = "utf-16"
        self.engine = CompletionEngine(self._backend_failed, self._backend_ok)
        """The completion pipeline."""
        self.index: Any = None
        """The workspace index (``weft.index``), once built."""
        self.offline: Any = None
        """The offline engine, created on first use."""
        self._backends: dict[BackendSettings, CompletionBackend] = {}
        self._auto_backend: BackendSettings | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._filter: tuple[Any, Any] | None = None
        self._logged: set[Any] = set()
        self._outage: str | None = None
        self._outage_kind: str | None = None
        self._last_failure: tuple[float, str] | None = None
        """When the backend last failed, and which kind of backend it was."""
        self.inline_supported = False
        """Whether the client advertised ``textDocument.inlineCompletion``."""
        self.accepted: list[dict[str, Any]] = []
        """Recent ``weft.acceptCompletion`` calls (for acceptance figures)."""
        self.document_listeners: list[Callable[[str, str, Document | None], None]] = []
        """Called on open/change/save/close of a document (see features/text_sync.py)."""
        self.last_edit_offset: dict[str, int] = {}
        """Where the latest change of each open document landed (features/text_sync.py)."""
        self.document_listeners.append(self._offline_listener)
        self.initialized_listeners: list[Callable[[], Awaitable[Any]]] = []
        """Awaited after ``initialized`` has pulled the settings (pygls allows one handler)."""
        self.editor_trust = EditorTrust()
        """What the editor said about trusting the workspace (``initializationOptions``)."""
        self.repo_config = RepoConfig()
        """The workspace's ``weft.toml`` under its trust (``features/workspace_trust.py``)."""
        self.audit = AuditLog()
        """``privacy.auditLog``: one line per HTTP request any of the server's clients sends."""
        self.initialized_listeners.append(self._start_parse_process)

    async def _start_parse_process(self) -> None:
        """Start the syntax guard's parse process before the first keystroke needs it."""
        self.engine.syntax.host.report = lambda message: self.log(message, "warning")
        service = getattr(self, "index_service", None)
        if service is not None:
            service.documents.report = lambda message: self.log(message, "warning")
        self.run_task(self.engine.syntax.host.start(), "starting the parse process")

    def shutdown(self) -> None:
        """The connection is over: stop pygls's machinery and the parse processes."""
        super().shutdown()
        self.engine.syntax.host.close_now()
        service = getattr(self, "index_service", None)
        if service is not None:
            service.documents.close_now()
        checks = getattr(self, "checks", None)
        if checks is not None:
            checks.parser.close_now()

    def notify_document(self, event: str, uri: str) -> None:
        """Tell every document listener; a failing listener is logged, not raised."""
        doc = self.documents.get(uri)
        for listener in list(self.document_listeners):
            try:
                listener(event, uri, doc)
            except Exception as exc:  # noqa: BLE001 - one feature's bug must not stop sync
                logger.exception("document listener failed: %s", exc)

    # -- logging and errors ---------------------------------------------------------------

    def log(self, message: str, level: str = "info") -> None:
        """Log to stderr/--log-file and to the client's log (``window/logMessage``)."""
        getattr(logger, level if level in MESSAGE_TYPES else "info")(message)
        kind = MESSAGE_TYPES.get(level, types.MessageType.Info)
        with contextlib.suppress(Exception):
            if self.protocol.writer is not None:
                self.window_log_message(types.LogMessageParams(kind, message))

    def log_once(self, key: Any, message: str, level: str = "info") -> None:
        """``log`` unless the same ``key`` was logged before (refusals repeat per keystroke)."""
        if key in self._logged:
            return
        if len(self._logged) > 1000:
            self._logged.clear()
        self._logged.add(key)
        self.log(message, level)

    def show(self, message: str, level: str = "warning") -> None:
        """One ``window/showMessage`` (kept for what the user must see: outages, bad settings)."""
        kind = MESSAGE_TYPES.get(level, types.MessageType.Warning)
        with contextlib.suppress(Exception):
            if self.protocol.writer is not None:
                self.window_show_message(types.ShowMessageParams(kind, message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Our bugs go to the log, never to a dialog, and never stop the server.

        (pygls's default shows a dialog and then shuts the thread pool and the server down.)
        """
        logger.error(
            "internal error (%s): %s", getattr(source, "__name__", source), error, exc_info=error
        )
        with contextlib.suppress(Exception):
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"weft internal error: {error}")
            )

    def _backend_failed(self, exc: BackendError, kind: str) -> None:
        """A failed model call. The outage is a state (``weft.status`` and the clients' status
        bars show it); the user gets one ``window/showMessage`` when it starts, none while the
        backend keeps failing or flapping, whatever each error says."""
        self.log(f"model backend: {exc}", "warning")
        now = time.monotonic()
        last, self._last_failure = self._last_failure, (now, kind)
        ongoing = last is not None and last[1] == kind and now - last[0] < OUTAGE_QUIET_S
        starting = self._outage is None
        self._outage, self._outage_kind = str(exc), kind
        auto = self.settings.backend.kind == "auto" and kind != "offline"
        if not ongoing:
            meanwhile = (
                "the built-in offline engine serves completions until it is back"
                if auto
                else "completions are paused until it is back"
            )
            self.show(
                f"weft: the model backend is not answering ({exc}); {meanwhile}. "
                "Details in the weft log; the status shows when it is back.",
                "warning",
            )
        if starting and auto:
            self.run_task(self._reprobe_auto(), "watching for the model server")

    def _backend_ok(self, kind: str) -> None:
        if self._outage is not None and kind == self._outage_kind:
            self.log("model backend answers again")
            self._outage = None

    async def _reprobe_auto(self) -> None:
        """``auto`` during an outage: probe the model server until it answers, then switch back."""
        from weft.backends.registry import probe

        while self._outage is not None and self.settings.backend.kind == "auto":
            await asyncio.sleep(AUTO_REPROBE_S)
            cfg = self._auto_backend
            if cfg is None or cfg.kind == "offline":
                return
            info = await probe(cfg, self.audit)
            if info.reachable and info.models:
                self.log(f"{cfg.kind} at {info.url} answers again; completions come from it again")
                self._outage = None

    # -- tasks and progress ---------------------------------------------------------------

    def run_task(self, coro: Awaitable[Any], name: str = "task") -> asyncio.Task[Any]:
        """Run ``coro`` in the background, keeping a reference and logging its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.log(f"{name} failed: {t.exception()!r}", "error")

        task.add_done_callback(done)
        return task

    @contextlib.asynccontextmanager
    async def progress(  # type: ignore[override]
        self, title: str, cancellable: bool = False
    ) -> AsyncIterator[ProgressReporter]:
        """Work-done progress when the client supports it; a no-op reporter otherwise.

        (This replaces pygls's raw ``progress(ProgressParams)`` notification helper, which
        weft never calls directly; pygls's own ``work_done_progress`` does not use it.)
        """
        token: str | None = None
        if get_capability(self.client_capabilities, "window.work_done_progress", False):
            token = str(uuid.uuid4())
            try:
                await asyncio.wait_for(self.work_done_progress.create_async(token), 5)
                self.work_done_progress.begin(
                    token,
                    types.WorkDoneProgressBegin(title=title, cancellable=cancellable, percentage=0),
                )
            except Exception as exc:  # noqa: BLE001 - a client refusing progress is not fatal
                logger.info("progress not available: %s", exc)
                token = None
        reporter = ProgressReporter(self, token)
        try:
            yield reporter
        finally:
            if token is not None:
                with contextlib.suppress(Exception):
                    self.work_done_progress.end(token, types.WorkDoneProgressEnd())

    async def register_dynamically(self, capability: str, method: str, options: Any) -> bool:
        """Register ``method`` with the client when it supports that dynamically
        (``capability`` is the dotted client-capability path); False otherwise."""
        if not get_capability(self.client_capabilities, capability, False):
            return False
        registration = types.Registration(
            id=str(uuid.uuid4()), method=method, register_options=options
        )
        try:
            await self.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
        except Exception as exc:  # noqa: BLE001 - a client refusing is not fatal
            self.log(f"could not register {method}: {exc}", "warning")
            return False
        return True

    # -- backends -------------------------------------------------------------------------

    def completion_backend(self) -> CompletionBackend:
        """The backend for inline completion under the settings in force."""
        cfg = self.settings.backend
        if cfg.kind == "auto":
            cfg = self._auto_backend or OFFLINE
            if self._outage is not None and self._outage_kind == cfg.kind:
                cfg = OFFLINE  # the model server is down: the offline engine serves meanwhile
        return self.backend_for(cfg)

    def backend_for(self, cfg: BackendSettings) -> CompletionBackend:
        backend = self._backends.get(cfg)
        if backend is None:
            backend = self._backends[cfg] = make_backend(cfg, self)
        return backend

    async def resolve_auto_backend(self) -> None:
        """``backend.kind = auto``: Ollama on localhost if it answers with a model, else offline."""
        if self.settings.backend.kind != "auto":
            return
        from weft.backends.registry import model_listed, probe

        cfg = self.settings.backend.model_copy(update={"kind": "ollama"})
        info = await probe(cfg, self.audit)
        if info.reachable and info.models:
            model = (
                cfg.model if cfg.model and model_listed(cfg.model, info.models) else info.models[0]
            )
            self._auto_backend = cfg.model_copy(update={"model": model})
            self.log(f"backend auto: using Ollama at {info.url} with model {model}")
        else:
            self._auto_backend = OFFLINE
            self.log(
                "backend auto: no Ollama model server answered; the built-in offline engine "
                "is serving completions. Set backend.kind, backend.url and backend.model "
                "to use a model server."
            )

    async def close_backends(self, keep: set[BackendSettings] | None = None) -> None:
        for cfg, backend in list(self._backends.items()):
            if keep and cfg in keep:
                continue
            self._backends.pop(cfg, None)
            with contextlib.suppress(Exception):
                await backend.aclose()

    def offline_engine(self) -> Any:
        """The built-in offline engine, created on first use and trained in the background."""
        if self.offline is None:
            from weft.offline.engine import OfflineEngine
            from weft.offline.workspace import offline_cache_dir

            self.offline = OfflineEngine(cache_dir=offline_cache_dir(self.root, self.settings))
            if self.root is not None:
                self.run_task(self._train_offline(), "training the offline engine")
        return self.offline

    async def _train_offline(self) -> None:
        from weft.offline.workspace import train_root

        assert self.root is not None and self.offline is not None
        async with self.progress("weft: learning the workspace (offline engine)") as report:

            def progress(done: int, total: int, message: str) -> None:
                report(f"{done}/{total} files", int(100 * done / total) if total else None)

            summary = await train_root(self.offline, self.root, self.settings, progress)
        self.log(
            f"{self.offline.describe()}; learned {summary.get('learned', 0)} files, "
            f"reused {summary.get('reused', 0)} in {summary.get('seconds', 0):.1f} s"
        )

    def _offline_listener(self, event: str, uri: str, doc: Document | None) -> None:
        """Keep the offline engine current: saves update it, edits feed its cache."""
        if self.offline is None or doc is None or doc.path is None or self.is_private(doc):
            return
        if event == "save":
            self.run_task(
                asyncio.to_thread(self.offline.update_file, doc.path, doc.text),
                "updating the offline engine",
            )
        elif event == "change":
            at = self.last_edit_offset.get(uri)
            if at is not None:
                self.offline.note_edit(doc.path, doc.text[max(0, at - 2000) : at + 1000])

    @property
    def backend_outage(self) -> str | None:
        """The error of the current backend outage, None while the backend answers."""
        return self._outage

    def relative_path(self, doc: Document) -> str:
        """The document's path relative to the root, ``/``-separated (its name if outside)."""
        return relative_path(self.root, doc)

    def workspace_filter(self) -> Any:
        """The ignore rules in force (.gitignore, .weftignore, index.exclude, privacy.exclude)."""
        privacy = self.settings.privacy
        key = (self.root, self.settings.index.exclude, privacy.exclude, privacy.exclude_remove)
        if self._filter is None or self._filter[0] != key:
            from weft.ignore import WorkspaceFilter

            self._filter = (key, WorkspaceFilter(self.root, self.settings) if self.root else None)
        return self._filter[1]

    def is_private(self, doc: Document, rel: str | None = None) -> bool:
        """Whether the document must never be read into a prompt (lexical and real path,
        ignore files and privacy rules: the same decision ``weft complete`` makes)."""
        from weft.privacy import exclusion_of, is_private_name

        if doc.path is None:
            return is_private_name(rel or self.relative_path(doc), self.settings.privacy)
        return exclusion_of(self.root, doc.path, self.settings, self.workspace_filter()) is not None


def relative_path(root: Path | None, doc: Document) -> str:
    """``doc``'s path relative to ``root`` with ``/`` (``../`` prefixed when outside it)."""
    if doc.path is None:
        return doc.uri.rsplit("/", 1)[-1]
    if root is not None:
        try:
            return doc.path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return "../" + doc.path.name
    return doc.path.name


def make_backend(
    cfg: BackendSettings, server: WeftServer | None = None, audit: AuditLog | None = None
) -> CompletionBackend:
    """A backend object for one backend configuration (its requests go to ``audit``, or to the
    server's audit log)."""
    if cfg.kind == "offline":
        if server is not None:
            return server.offline_engine().backend()
        from weft.offline.engine import OfflineEngine

        return OfflineEngine(cache_dir=None).backend()
    from weft.backends.registry import create_backend

    return create_backend(cfg, audit=audit or (server.audit if server is not None else None))


FeatureRegistrar = Callable[[WeftServer], None]


def create_server() -> WeftServer:
    """A new server with every feature registered."""
    from weft.features import (
        commands,
        completion,
        inline_completion,
        lifecycle,
        text_sync,
        workspace_trust,
    )

    server = WeftServer()
    registrars: list[FeatureRegistrar] = [
        lifecycle.register,
        text_sync.register,
        inline_completion.register,
        completion.register,
        commands.register,
        workspace_trust.register,
    ]
    for optional in (
        "weft.features.code_actions",
        "weft.features.index_feature",
        "weft.checks.feature",
    ):
        try:
            module = __import__(optional, fromlist=["register"])
        except ImportError as exc:
            logger.warning("feature %s not available: %s", optional, exc)
            continue
        registrars.append(module.register)
    for register in registrars:
        register(server)
    return server
