"""Tree-sitter work on text nobody chose to make small, in a child process under a time budget.

Some grammars never return on some inputs (the language pack's COBOL scanner loops on
``hello``), and py-tree-sitter holds the GIL for the whole of a parse. Its progress callback
stops tree-sitter's own parse loop, but it is never consulted while a grammar's external
scanner runs (measured: parsing ``hello`` as COBOL never calls it), so a parse in the server
process can freeze every request, and a thread does not help. Deep nesting has the same
effect on a smaller scale: every tree-sitter call holds the event loop for its whole length.

So the syntax guard, the multi-line decision, the open-document indexer and the agent's
verification re-parse run their tree-sitter calls through a :class:`ParseHost`: one long-lived
child process (``python -m weft.index.parse_host``) that runs :data:`TASKS`, plain functions
of picklable arguments. Each call has a budget. A call that overruns it (or crashes the child)
has the child killed and replaced, its (file, grammar) pair quarantined for the rest of the
session, so later calls for it are refused at once as if the language had no grammar, and the
caller gets :class:`ParseTimeout`. The event loop only ever waits on a pipe.

The child keeps the open documents' trees between calls, for incremental re-parses; a new
child starts without them and parses in full.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from weft.index.workers import READY

logger = logging.getLogger(__name__)

KEYSTROKE_BUDGET_S = 0.5
"""The syntax guard and the multi-line decision (windows of at most ~14 KB; ~5 ms usually)."""
DOCUMENT_BUDGET_S = 2.0
"""One open-document update (up to ``index.maxFileKb``; a 1 MB file parses in ~0.3 s)."""
VERIFY_BUDGET_S = 5.0
"""One re-parse of a file the agent edited."""
STARTUP_BUDGET_S = 30.0
"""A child process that has not said it is ready by then is broken."""
STARVED_EXTENSIONS = 3
"""How many more budgets a call may wait when its child used less than half of the last one in
CPU time: on a loaded machine the child waited for a core, it did not loop."""

Key = tuple[str, str]
"""(file, grammar): what a quarantine covers."""


class ParseUnavailable(Exception):
    """No parse: the (file, grammar) pair is quarantined, or no child process can run."""


class ParseTimeout(ParseUnavailable):
    """The call overran its budget (or crashed the child); its pair is now quarantined."""


class ParseHost:
    """One child process running parse tasks one at a time, each under a budget."""

    def __init__(self, name: str = "parser", budget_s: float = KEYSTROKE_BUDGET_S) -> None:
        self.name = name
        self.budget_s = budget_s
        self.quarantined: dict[Key, str] = {}
        """Pairs that overran or crashed, with the reason (kept for the session)."""
        self.timeouts = 0
        self.crashes = 0
        self._worker: Any = None
        self._lock: asyncio.Lock | None = None
        self._seq = 0
        self._orphan: tuple[int, float, Key | None] | None = None
        self._failed_starts = 0
        self._closed = False
        self.report: Callable[[str], None] = logger.warning
        """Where a quarantine is announced (the server sends it to the client's log too)."""

    # -- calls ------------------------------------------------------------------------------

    def is_quarantined(self, key: Key | None) -> bool:
        return key is not None and key in self.quarantined

    async def call(
        self,
        task: str,
        args: tuple[Any, ...],
        key: Key | None = None,
        budget_s: float | None = None,
    ) -> Any:
        """``TASKS[task](*args)`` in the child, within ``budget_s`` (default: the host's).

        Raises :class:`ParseTimeout` when it overran (the child is replaced, ``key``
        quarantined), :class:`ParseUnavailable` when ``key`` is quarantined or no child runs,
        and ``RuntimeError`` when the task itself raised (a bug, logged in the child).
        """
        if key is not None and key in self.quarantined:
            raise ParseUnavailable(f"{key[1]} is quarantined for {key[0]}")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            worker = await self._ready_worker()
            if self._orphan is not None:
                worker = await self._settle_orphan(worker)
            self._seq += 1
            seq = self._seq
            budget = self.budget_s if budget_s is None else budget_s
            deadline = time.monotonic() + budget
            try:
                worker.send_conn.send((seq, task, args))
            except (OSError, ValueError) as exc:
                self._discard("the parser process died")
                raise ParseUnavailable("the parser process died") from exc
            try:
                return await self._answer(worker, seq, deadline, key, budget)
            except asyncio.CancelledError:
                self._orphan = (seq, deadline, key)  # the next call waits for it, within budget
                raise

    async def start(self) -> None:
        """Start the child now, so that the first call does not wait for it."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._ready_worker()

    async def close(self) -> None:
        """Stop the child; calls in flight and later calls get :class:`ParseUnavailable`."""
        self._closed = True
        if self._worker is not None:
            worker, self._worker = self._worker, None
            await asyncio.to_thread(worker.stop, True)

    def close_now(self) -> None:
        """Kill the child without waiting (process exit, tests)."""
        self._closed = True
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.process.kill()

    # -- the child --------------------------------------------------------------------------

    async def _ready_worker(self) -> Any:
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        if self._closed:
            raise ParseUnavailable(f"the {self.name} is closed")
        if self._failed_starts >= 3:
            raise ParseUnavailable("the parser process cannot start")
        from weft.index.workers import _Worker

        self._worker = worker = _Worker(0, module="weft.index.parse_host")
        if await _readable(worker.recv_conn, STARTUP_BUDGET_S):
            try:
                if worker.recv_conn.recv() == READY:
                    self._failed_starts = 0
                    return worker
            except (EOFError, OSError, ValueError):
                pass
        self._failed_starts += 1
        self._discard("the parser process did not start")
        raise ParseUnavailable("the parser process did not start")

    async def _answer(
        self, worker: Any, seq: int, deadline: float, key: Key | None, budget: float
    ) -> Any:
        extensions = 0
        cpu = _cpu_seconds(worker.process.pid)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await _readable(worker.recv_conn, remaining):
                now_cpu = _cpu_seconds(worker.process.pid)
                starved = cpu is not None and now_cpu is not None and now_cpu - cpu < budget / 2
                if starved and extensions < STARVED_EXTENSIONS:
                    extensions += 1  # not looping, waiting for a core: wait another budget
                    deadline, cpu = time.monotonic() + budget, now_cpu
                    continue
                self.timeouts += 1
                self._blame(key, "took longer than its budget")
                raise ParseTimeout(f"parse of {_describe(key)} took longer than its budget")
            try:
                reply = worker.recv_conn.recv()
            except (EOFError, OSError, ValueError) as exc:
                if self._closed:
                    raise ParseUnavailable(f"the {self.name} is closed") from exc
                self.crashes += 1
                self._blame(key, "crashed the parser process")
                raise ParseTimeout(f"parse of {_describe(key)} crashed the parser") from exc
            if reply[0] != seq:
                continue  # the answer to an abandoned call
            if reply[1] == "ok":
                return reply[2]
            raise RuntimeError(f"{self.name} task failed: {reply[2]}")

    async def _settle_orphan(self, worker: Any) -> Any:
        """Wait for a cancelled call's answer within its own budget; on overrun it, not the
        next caller, is blamed."""
        assert self._orphan is not None
        seq, deadline, key = self._orphan
        self._orphan = None
        try:
            await self._answer(worker, seq, deadline, key, self.budget_s)
        except (ParseUnavailable, RuntimeError):
            pass
        return await self._ready_worker()

    def _blame(self, key: Key | None, why: str) -> None:
        self._discard(why)
        if key is not None:
            self.quarantined[key] = why
            self.report(
                f"the {key[1]} grammar {why} on {key[0]}: weft no longer parses that file "
                "with it (quarantined until weft restarts)"
            )

    def _discard(self, why: str) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            logger.info("%s process replaced: %s", self.name, why)
            worker.process.kill()
            try:
                worker.process.wait(timeout=5)
            except Exception:  # noqa: BLE001 - a zombie is reaped by the next wait
                pass
            for conn in (worker.send_conn, worker.recv_conn):
                try:
                    conn.close()
                except OSError:
                    pass


async def _readable(conn: Connection, timeout: float) -> bool:
    """Whether ``conn`` has something to read within ``timeout`` (the event loop waits on the
    pipe; no thread)."""
    if conn.poll(0):
        return True
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[bool] = loop.create_future()
    fd = conn.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(True)

    loop.add_reader(fd, wake)
    try:
        await asyncio.wait_for(ready, timeout)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _describe(key: Key | None) -> str:
    return f"{key[0]} as {key[1]}" if key is not None else "a text"


# -- the tasks (run in the child; plain functions, tested in process) -------------------------


_DOCUMENTS: dict[str, Any] = {}
"""The child's open documents (``IncrementalDocument`` by path)."""


def guard_task(
    text: str, offset: int, replace_end: int, candidate: str, language: str, keep: int
) -> str:
    from weft.completion.syntax_guard import guard_syntax

    return guard_syntax(text, offset, replace_end, candidate, language, keep=keep)


def opener_task(text: str, opener: int, language: str) -> bool:
    from weft.completion.extent import opener_is_code

    return opener_is_code(text, opener, language)


def problems_task(text: str, language: str | None) -> Any:
    from weft.agent.verify import syntax_problems

    return syntax_problems(text, language)


def document_task(path: str, language: str, text: str, full: bool, budget_s: float) -> Any:
    """An open document's symbols (a ``to_blob`` blob) after a change, or None when its own
    budget ran out (the progress callback works for well-behaved grammars)."""
    from weft.index.extract import to_blob
    from weft.index.incremental import IncrementalDocument

    doc = _DOCUMENTS.get(path)
    if doc is None or doc.language != language:
        doc = _DOCUMENTS[path] = IncrementalDocument(language, budget_s)
    symbols = doc.update(text, full=full)
    return None if symbols is None else to_blob(symbols)


def close_task(path: str) -> None:
    _DOCUMENTS.pop(path, None)


TASKS: dict[str, Callable[..., Any]] = {
    "guard": guard_task,
    "opener": opener_task,
    "problems": problems_task,
    "document": document_task,
    "close": close_task,
}


def _serve(recv: Connection, send: Connection) -> None:
    # everything a task needs is imported before saying ready, so that a first call's budget
    # is not spent importing
    from weft.agent import verify  # noqa: F401
    from weft.completion import extent, syntax_guard  # noqa: F401
    from weft.index import extract, incremental  # noqa: F401
    from weft.index.workers import serve_jobs

    serve_jobs(recv, send, _run_task)


def _run_task(job: tuple[int, str, tuple[Any, ...]]) -> tuple[int, str, Any]:
    seq, task, args = job
    try:
        return seq, "ok", TASKS[task](*args)
    except Exception as exc:  # noqa: BLE001 - one bad call must not end the child
        logger.exception("parse task %s failed", task)
        return seq, "error", repr(exc)[:500]


def main() -> None:
    """Entry point of the child: jobs on stdin, answers on stdout (see ``index/workers.py``)."""
    from weft.index.workers import _die_with_parent

    _die_with_parent()
    faulthandler.enable()  # a grammar that crashes leaves its C stack in the server's log
    protocol_out = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    _serve(Connection(0, writable=False), Connection(protocol_out, readable=False))


if __name__ == "__main__":
    from weft.index import parse_host

    parse_host.main()
