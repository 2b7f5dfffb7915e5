"""Runs the checkers for each open document in the background and keeps what they found.

The document listener only (re)arms a timer: nothing here runs on the keystroke path. When the
user pauses for ``checks.delayMs`` the enabled checkers that are present run concurrently (at
most ``MAX_PARALLEL`` processes for the whole server), each bounded by ``checks.timeoutS`` and
an output cap; a newer version of the document cancels the run in flight (its processes are
killed). Findings are kept for the version they were computed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weft.checks.checkers import CHECKERS, Checker, Job, Target, locate
from weft.checks.findings import Finding
from weft.checks.runner import run_checker
from weft.checks.syntax import bounded_syntax_findings
from weft.documents import Document
from weft.index.parse_host import DOCUMENT_BUDGET_S, ParseHost
from weft.sandbox import SandboxUnavailable

logger = logging.getLogger(__name__)

MAX_PARALLEL = 2


@dataclass(frozen=True)
class Checked:
    """The findings for one version of a document."""

    version: int | None
    findings: list[Finding]
    ran: tuple[str, ...]
    """The checkers that ran (tree-sitter included)."""


def settings_key(name: str) -> str:
    """``goVet`` → ``go_vet`` (the settings attribute)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    folder = Path(base) / "weft" / "checks"
    folder.mkdir(parents=True, exist_ok=True)  # the sandbox mounts it: it must exist
    return folder


def chosen(doc: Document, root: Path | None, checks: Any) -> list[tuple[Checker, list[str]]]:
    """The checkers to run on ``doc`` with their argv prefixes (present, enabled, allowed)."""
    if root is None or doc.path is None:
        return []
    out: list[tuple[Checker, list[str]]] = []
    for checker in CHECKERS:
        cfg = getattr(checks, settings_key(checker.name))
        if doc.language not in checker.languages or not cfg.enabled:
            continue
        if checker.runs_project_code and not checks.allow_project_code:
            continue
        if checker.name == "pyflakes" and any(c.name == "ruff" for c, _ in out):
            continue  # ruff includes pyflakes' checks
        exe = locate(checker.tool, root, cfg.command, checks.allow_project_code)
        if exe is not None:
            out.append((checker, exe))
    return out


class ChecksService:
    """Per-document scheduling, cancellation and findings (one per server)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.results: dict[str, Checked] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._runs: dict[str, asyncio.Task[Any]] = {}
        self._slots = asyncio.Semaphore(MAX_PARALLEL)
        self.parser = ParseHost("checks", DOCUMENT_BUDGET_S)
        """The parse process tree-sitter's syntax check runs in (a grammar may never return)."""
        self.on_result: list[Any] = []
        """Called with (uri, Checked) after each finished run (publishing listens here)."""

    # -- scheduling (cheap: runs on every change) ----------------------------------------

    def on_document(self, event: str, uri: str, doc: Document | None) -> None:
        if event == "close":
            self.forget(uri)
        elif doc is not None:
            self.schedule(uri)

    def schedule(self, uri: str, delay_s: float | None = None) -> None:
        checks = self.server.settings.checks
        self._cancel(uri)
        if not checks.enabled:
            return
        delay = checks.delay_ms / 1000 if delay_s is None else delay_s
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(delay, self._start, uri)

    def forget(self, uri: str) -> None:
        self._cancel(uri)
        self.results.pop(uri, None)

    def _cancel(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        run = self._runs.pop(uri, None)
        if run is not None and not run.done():
            run.cancel()  # superseded by a newer version: its processes are killed

    def _start(self, uri: str) -> None:
        self._timers.pop(uri, None)
        doc = self.server.documents.get(uri)
        if doc is None or self._refused(doc):
            return
        self._runs[uri] = self.server.run_task(self._run(doc), "checks")

    def _refused(self, doc: Document) -> bool:
        settings = self.server.settings
        return len(doc.text) > settings.index.max_file_kb * 1024 or self.server.is_private(doc)

    # -- running ---------------------------------------------------------------------------

    async def _run(self, doc: Document) -> None:
        checked = await self.check(doc)
        current = self.server.documents.get(doc.uri)
        if current is None or current.version != doc.version:
            return  # the text moved on: a newer run is scheduled
        self.results[doc.uri] = checked
        for listener in list(self.on_result):
            listener(doc.uri, checked)

    async def check(self, doc: Document) -> Checked:
        """Every present checker on ``doc``'s text, plus tree-sitter; never raises."""
        settings = self.server.settings
        root = self.server.root
        jobs = chosen(doc, root, settings.checks)
        ran: list[str] = []
        found: list[Finding] = []
        if settings.checks.syntax:
            found += await bounded_syntax_findings(
                doc.text, doc.language, str(doc.path or doc.uri), self.parser
            )
            ran.append("tree-sitter")
        if jobs:
            assert root is not None and doc.path is not None
            with tempfile.TemporaryDirectory(prefix="weft-check-") as scratch:
                target = Target(
                    root,
                    doc.path,
                    self.server.relative_path(doc),
                    doc.text,
                    doc.language or "",
                    _on_disk(doc),
                    Path(scratch),
                    cache_dir(),
                )
                results = await asyncio.gather(
                    *(self._one(checker, exe, target) for checker, exe in jobs)
                )
            for (checker, _), result in zip(jobs, results, strict=True):
                if result is not None:
                    ran.append(checker.name)
                    found += result
        return Checked(doc.version, _unique(found), tuple(ran))

    async def _one(self, checker: Checker, exe: list[str], target: Target) -> list[Finding] | None:
        job = checker.plan(target, exe)
        if job is None:
            return None
        async with self._slots:
            return await self._execute(checker, job, (target.scratch, target.cache))

    async def _execute(
        self, checker: Checker, job: Job, writable: tuple[Path, ...]
    ) -> list[Finding] | None:
        timeout = self.server.settings.checks.timeout_s
        try:
            for path, text in job.files.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8", errors="surrogateescape")
            result = await run_checker(
                job.argv,
                job.cwd,
                timeout,
                stdin=job.stdin,
                env=job.env,
                writable=writable,
                sandboxed=self.server.settings.agent.sandbox == "on",
            )
        except SandboxUnavailable as exc:
            self.server.log_once(
                ("checks", "sandbox"), f"the project's checkers do not run: {exc}", "warning"
            )
            return None
        except OSError as exc:
            self.server.log_once(
                ("checks", checker.name, str(exc)), f"{checker.name}: {exc}", "warning"
            )
            return None
        if result.timed_out:
            self.server.log(
                f"{checker.name} took longer than checks.timeoutS ({timeout:g} s)", "warning"
            )
            return None
        try:
            return job.read(result)
        except Exception as exc:  # noqa: BLE001 - a tool's odd output must not stop the others
            logger.exception("reading %s output failed", checker.name)
            self.server.log(f"{checker.name}: its output could not be read: {exc!r}", "warning")
            return None


def _on_disk(doc: Document) -> bool:
    assert doc.path is not None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return doc.path.read_text(encoding="utf-8") == doc.text
    return False


def _unique(found: list[Finding]) -> list[Finding]:
    seen: set[tuple[int, int, str]] = set()
    out = []
    for f in sorted(found, key=lambda f: (f.line, f.col, f.source)):
        key = (f.line, f.col, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
