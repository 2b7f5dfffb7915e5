"""Parsing files in worker processes, each file under a wall-clock budget.

Some grammars never return on some inputs (the language pack's cobol lexer loops on
``hello``) and a deep enough tree can overflow a C stack; either would take the server with it
if parsed in-process, and tree-sitter 0.26 has no timeout that reaches a looping lexer. So files
from disk are read and parsed in worker processes; a worker that overruns its budget is killed
and replaced, one that dies is replaced, and the file is reported as skipped.

:func:`process_job` is the whole of a worker's work and can be called in-process by tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, NamedTuple

logger = logging.getLogger(__name__)

BINARY_SNIFF = 8000  # git's heuristic: a NUL byte in the first 8000 bytes
MINIFIED_AVG_LINE = 300
MINIFIED_MIN_SIZE = 4096
STARTUP_BUDGET_S = 60.0
READY = "ready"


class ParseJob(NamedTuple):
    rel: str
    abs_path: str
    language: str
    max_bytes: int
    known_sha: str | None = None
    size: int = 0  # as listed, for the time budget


class ParseResult(NamedTuple):
    """``status``: ok (parsed), same (content hash unchanged), skip (see ``reason``),
    gone (the file vanished)."""

    rel: str
    status: str
    language: str
    size: int = 0
    mtime_ns: int = 0
    sha: str = ""
    blob: bytes = b""
    defs: int = 0
    refs: int = 0
    reason: str = ""
    kinds: str = ""  # JSON: definition kind -> count


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def looks_minified(data: bytes) -> bool:
    """Generated one-liners (minified JS, data blobs) cost a lot to parse and say little."""
    if len(data) < MINIFIED_MIN_SIZE:
        return False
    return len(data) / (data.count(b"\n") + 1) > MINIFIED_AVG_LINE


def read_source(abs_path: str, max_bytes: int) -> tuple[bytes | None, int, int, str]:
    """(data, size, mtime_ns, reason): data None with a reason when the file is not indexable."""
    try:
        fd = os.open(abs_path, os.O_RDONLY | os.O_NONBLOCK)  # never block on a FIFO
    except FileNotFoundError:
        return None, 0, 0, "gone"
    except OSError as exc:
        return None, 0, 0, f"unreadable ({exc.strerror})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, 0, 0, "not a regular file"
        if st.st_size > max_bytes:
            return None, st.st_size, st.st_mtime_ns, f"over-size ({st.st_size // 1024} KB)"
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return None, 0, 0, f"unreadable ({exc.strerror})"
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return None, len(data), st.st_mtime_ns, "over-size (grew while reading)"
    if b"\0" in data[:BINARY_SNIFF]:
        return None, st.st_size, st.st_mtime_ns, "binary"
    if looks_minified(data):
        return None, st.st_size, st.st_mtime_ns, "minified (very long lines)"
    return data, st.st_size, st.st_mtime_ns, ""


def process_job(job: ParseJob) -> ParseResult:
    """Read, hash, parse and extract one file (the work of a worker process)."""
    from weft.index.extract import extract_file, to_blob

    data, size, mtime_ns, reason = read_source(job.abs_path, job.max_bytes)
    if data is None:
        status = "gone" if reason == "gone" else "skip"
        return ParseResult(job.rel, status, job.language, size, mtime_ns, reason=reason)
    sha = content_hash(data)
    if job.known_sha is not None and sha == job.known_sha:
        return ParseResult(job.rel, "same", job.language, size, mtime_ns, sha)
    symbols = extract_file(data, job.language, budget_s=None)
    if symbols is None:
        return ParseResult(
            job.rel, "skip", job.language, size, mtime_ns, sha, reason="parse timed out"
        )
    refs = sum(len(v) for v in symbols.refs.values())
    kinds = json.dumps(Counter(s.kind for s in symbols.defs), separators=(",", ":"))
    return ParseResult(
        job.rel,
        "ok",
        job.language,
        size,
        mtime_ns,
        sha,
        to_blob(symbols),
        len(symbols.defs),
        refs,
        kinds=kinds,
    )


def _serve(recv: Connection, send: Connection, nice: int) -> None:
    """A worker's loop: parse jobs until told to stop (None) or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    from weft.index import extract  # noqa: F401 - import before saying ready

    serve_jobs(recv, send, _process_safely)


def _process_safely(job: ParseJob) -> ParseResult:
    try:
        return process_job(job)
    except Exception as exc:  # noqa: BLE001 - one bad file must not end the worker
        return ParseResult(job.rel, "skip", job.language, reason=f"error: {exc!r}"[:200])


def serve_jobs(recv: Connection, send: Connection, handle: Callable[[Any], Any]) -> None:
    """A child's loop (``_Worker`` contract): say READY, then answer each job with
    ``handle(job)`` until told to stop (None) or the parent goes away."""
    try:
        send.send(READY)
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            job = recv.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            send.send(handle(job))
        except (BrokenPipeError, OSError):
            return


def _child_env() -> dict[str, str]:
    import weft

    package_parent = str(Path(weft.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    return env


class _Worker:
    """A ``python -m weft.index.workers`` child (or another ``module`` with the same ``main``
    contract) talking pickles over its stdin and stdout.

    A plain subprocess rather than multiprocessing's spawn, which re-runs the parent's
    ``__main__`` (a script without a main guard would start the index again in every worker).
    """

    def __init__(self, nice: int, module: str = "weft.index.workers") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, str(nice)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_child_env(),
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.send_conn = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.recv_conn = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.inflight: deque[ParseJob] = deque()
        self.deadline = 0.0
        self.ready = False  # until the worker has imported the parsers and said so

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.send_conn.send(None)
            except (OSError, ValueError):
                kill = True
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        for conn in (self.send_conn, self.recv_conn):
            try:
                conn.close()
            except OSError:
                pass


class ParsePool:
    """Worker processes that parse :class:`ParseJob` s, each under ``budget_s`` seconds (plus
    time proportional to size, so that a 1 MB file gets longer than a 1 KB one).

    Each worker has up to :attr:`DEPTH` jobs in flight so that it never waits for the parent;
    the budget runs for the job at the head of its queue. Blocking: call :meth:`run` from a
    thread when an event loop must stay free.
    """

    DEPTH = 2

    def __init__(self, workers: int = 2, budget_s: float = 5.0, nice: int = 0) -> None:
        self.size = max(1, workers)
        self.budget_s = budget_s
        self.nice = nice
        self._workers: list[_Worker] = []
        self.crashes = 0
        self.timeouts = 0
        self._failed_starts = 0

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop(kill=bool(worker.inflight))
        self._workers.clear()

    def _budget(self, job: ParseJob) -> float:
        return self.budget_s + job.size / 2_000_000  # tree-sitter parses ≥ 2 MB/s

    def run(
        self,
        jobs: Iterable[ParseJob],
        on_result: Callable[[ParseResult], None],
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Parse every job, calling ``on_result`` (in this thread) as each one finishes."""
        pending = deque(jobs)
        if not pending:
            return
        while len(self._workers) < min(self.size, len(pending)):
            self._workers.append(_Worker(self.nice))
        while True:
            if cancelled():
                pending.clear()
            for worker in list(self._workers):
                self._feed(worker, pending, on_result)
            if self._failed_starts >= 3:
                self._give_up(pending, on_result)
                return
            busy = [w for w in self._workers if w.inflight]
            if not busy:
                if pending:
                    continue  # every worker died taking a job: fed again by their replacements
                return
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.recv_conn for w in busy], timeout=timeout)
            for worker in busy:
                if worker.recv_conn in ready:
                    self._receive(worker, pending, on_result)
                    if self._failed_starts >= 3:
                        self._give_up(pending, on_result)
                        return
                elif time.monotonic() >= worker.deadline:
                    if not worker.ready:
                        self._failed_starts += 1
                        self._replace(worker, pending, "", on_result)
                        continue
                    self.timeouts += 1
                    self._replace(worker, pending, "parse took too long", on_result)

    def _receive(
        self, worker: _Worker, pending: deque[ParseJob], on_result: Callable[[ParseResult], None]
    ) -> None:
        try:
            result = worker.recv_conn.recv()
        except (EOFError, OSError, AttributeError, ValueError, ImportError):
            if not worker.ready:  # died while starting: no job is to blame
                self._failed_starts += 1
                self._replace(worker, pending, "", on_result)
            else:
                self.crashes += 1
                self._replace(worker, pending, "parser process crashed", on_result)
            return
        if result == READY:
            worker.ready = True
            self._failed_starts = 0
            if worker.inflight:  # the budget starts now, not while Python was starting
                worker.deadline = time.monotonic() + self._budget(worker.inflight[0])
            return
        worker.inflight.popleft()
        if worker.inflight:
            worker.deadline = time.monotonic() + self._budget(worker.inflight[0])
        on_result(result)

    def _feed(
        self, worker: _Worker, pending: deque[ParseJob], on_result: Callable[[ParseResult], None]
    ) -> None:
        while pending and len(worker.inflight) < self.DEPTH:
            job = pending.popleft()
            try:
                worker.send_conn.send(job)
            except (OSError, ValueError):
                pending.appendleft(job)
                if worker.ready and worker.inflight:  # it died on the job at its head
                    self.crashes += 1
                    self._replace(worker, pending, "parser process crashed", on_result)
                else:
                    self._failed_starts += not worker.ready
                    self._replace(worker, pending, "", on_result)
                return
            if not worker.inflight:
                budget = self._budget(job) if worker.ready else STARTUP_BUDGET_S
                worker.deadline = time.monotonic() + budget
            worker.inflight.append(job)

    def _give_up(self, pending: deque[ParseJob], on_result: Callable[[ParseResult], None]) -> None:
        """Workers die before doing anything (broken install?): skip the rest, loudly, once."""
        logger.error("parser worker processes keep failing to start; indexing stopped")
        jobs = [job for w in self._workers for job in w.inflight] + list(pending)
        pending.clear()
        self.close()
        for job in jobs:
            on_result(
                ParseResult(job.rel, "skip", job.language, reason="parser workers unavailable")
            )

    def _replace(
        self,
        worker: _Worker,
        pending: deque[ParseJob],
        reason: str,
        on_result: Callable[[ParseResult], None],
    ) -> None:
        """Kill a worker; its head job is skipped with ``reason`` (if any), the rest re-queued."""
        inflight = list(worker.inflight)
        worker.inflight.clear()
        worker.stop(kill=True)
        self._workers[self._workers.index(worker)] = _Worker(self.nice)
        if reason and inflight:
            culprit = inflight.pop(0)
            logger.warning("skipping %s: %s", culprit.rel, reason)
            on_result(ParseResult(culprit.rel, "skip", culprit.language, reason=reason))
        pending.extendleft(reversed(inflight))


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when its parent dies (a worker stuck in a grammar reads no
    EOF and would spin for ever)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main() -> None:
    """Entry point of a worker process: pickled jobs on stdin, results on stdout."""
    _die_with_parent()
    nice = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    protocol_out = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the result stream
    sys.stdout = sys.stderr
    _serve(Connection(0, writable=False), Connection(protocol_out, readable=False), nice)


if __name__ == "__main__":
    # run the imported module's main so that pickled results name weft.index.workers classes,
    # not __main__ ones
    from weft.index import workers

    workers.main()
