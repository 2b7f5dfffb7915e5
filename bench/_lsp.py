"""Shared helpers for the benchmarks: the real ``weft serve`` driven over stdio, and an oracle model.

The client is a small JSON-RPC client of its own (Content-Length framing over the server's
stdin/stdout, plain ``json``), not pygls's: the benchmarks time round trips, and a heavyweight
client would put its own decoding cost into the figures. It answers the requests the server
sends (``workspace/configuration`` with the benchmark's settings, ``client/registerCapability``
and ``window/workDoneProgress/create`` with ``null``), timestamps every answer with
``time.perf_counter()`` the moment it is read, and sends ``$/cancelRequest`` on demand.

The server's stderr goes to a log file (``--log-level warning``), never to the terminal.

:func:`true_continuation` is the oracle model used with ``tests/wire.py``'s loopback Ollama: it
finds where the request's prompt ends in the original file and answers with what really
follows there, up to a few lines and never past the text the request's suffix already holds.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import sysconfig
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _p in (str(REPO / "server"), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

STDLIB = Path(sysconfig.get_paths()["stdlib"])


@dataclass
class Reply:
    """The answer to one request and when it was read."""

    id: int
    result: Any = None
    error: dict[str, Any] | None = None
    received: float = 0.0


class LspClient:
    """A JSON-RPC client over a child process's stdio."""

    def __init__(self, proc: asyncio.subprocess.Process, settings: dict[str, Any]) -> None:
        self.proc = proc
        self.settings = settings
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._reader = asyncio.ensure_future(self._read_loop())

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        settings: dict[str, Any],
        log_path: Path,
        log_level: str = "warning",
        profile: Path | None = None,
        entry: Sequence[str] = ("-m", "weft"),
    ) -> LspClient:
        """``weft serve`` in a child process (under cProfile, writing ``profile``, if given).

        ``entry`` replaces ``-m weft`` (e.g. a script that patches the server for an experiment).
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO / "server"), str(REPO), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        env["XDG_CACHE_HOME"] = str(log_path.parent / "cache")
        env.pop("OLLAMA_HOST", None)
        log = open(log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        wrap = ["-m", "cProfile", "-o", str(profile)] if profile else []
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *wrap,
            *entry,
            "serve",
            "--log-level",
            log_level,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
            cwd=str(REPO),  # never bench/, whose typing.py would shadow the standard library's
            limit=2**24,
        )
        log.close()
        return cls(proc, settings)

    async def initialize(self, root: Path, capabilities: dict[str, Any]) -> dict[str, Any]:
        reply = await self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": capabilities,
                "initializationOptions": self.settings,
            },
        )
        self.notify("initialized", {})
        assert reply.error is None, reply.error
        return reply.result

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.call("shutdown", None), 5)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 5)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        if self.proc.returncode is None:
            self.proc.kill()  # our own child, by its handle
            await self.proc.wait()
        self._reader.cancel()

    # -- messages ----------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> tuple[int, asyncio.Future[Reply]]:
        """Send a request now; its id and a future for the reply."""
        self._next_id += 1
        msg_id = self._next_id
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, future

    async def call(self, method: str, params: Any, timeout: float = 30) -> Reply:
        _, future = self.request(method, params)
        return await asyncio.wait_for(future, timeout)

    def cancel(self, msg_id: int) -> None:
        self.notify("$/cancelRequest", {"id": msg_id})

    async def status(self) -> dict[str, Any]:
        reply = await self.call(
            "workspace/executeCommand", {"command": "weft.status", "arguments": []}
        )
        assert reply.error is None, reply.error
        return dict(reply.result)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux ``/proc``)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def _read_loop(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    for future in self._pending.values():
                        if not future.done():
                            future.set_exception(ConnectionError("the server went away"))
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            data = await out.readexactly(length)
            received = time.perf_counter()
            message = json.loads(data)
            if "method" in message:
                if "id" in message:
                    self._answer_server_request(message)
                else:
                    self.notifications.append(message)
                    del self.notifications[:-200]
                continue
            future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(
                    Reply(message["id"], message.get("result"), message.get("error"), received)
                )

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            items = (message.get("params") or {}).get("items") or [{}]
            result = [self.settings if item.get("section") == "weft" else None for item in items]
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})


# -- documents ---------------------------------------------------------------------------


def position_at(text: str, offset: int) -> dict[str, int]:
    """The LSP position (UTF-16 code units; lines end at ``\\n``) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    piece = text[start:offset]
    character = len(piece) if piece.isascii() else len(piece.encode("utf-16-le")) // 2
    return {"line": line, "character": character}


def insert_change(text: str, offset: int, new: str) -> dict[str, Any]:
    pos = position_at(text, offset)
    return {"range": {"start": pos, "end": pos}, "text": new}


def replace_change(text: str, start: int, end: int, new: str) -> dict[str, Any]:
    return {
        "range": {"start": position_at(text, start), "end": position_at(text, end)},
        "text": new,
    }


def inline_params(uri: str, text: str, offset: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": position_at(text, offset),
        "context": {"triggerKind": 2},  # Automatic
    }


def items_of(result: Any) -> list[dict[str, Any]]:
    if result is None:
        return []
    if isinstance(result, list):
        return result
    return list(result.get("items") or [])


def source_of(item: dict[str, Any]) -> str:
    """``model``, ``stream`` or ``cache``: where the server says the suggestion came from."""
    args = (item.get("command") or {}).get("arguments") or [{}]
    return str(args[0].get("source", "?")) if args and isinstance(args[0], dict) else "?"


# -- capabilities and settings -----------------------------------------------------------


def capabilities(position_encodings: Sequence[str] = ("utf-16",)) -> dict[str, Any]:
    """What a client with inline completion advertises (the parts weft looks at)."""
    return {
        "general": {"positionEncodings": list(position_encodings)},
        "textDocument": {
            "inlineCompletion": {"dynamicRegistration": False},
            "synchronization": {"didSave": True, "dynamicRegistration": False},
        },
        "window": {"workDoneProgress": True},
        "workspace": {
            "configuration": True,
            "didChangeConfiguration": {"dynamicRegistration": True},
        },
    }


def ollama_settings(url: str, debounce_ms: int, timeout_ms: int = 4000) -> dict[str, Any]:
    return {
        "backend": {
            "kind": "ollama",
            "url": url,
            "model": "qwen2.5-coder:1.5b",
            "timeoutMs": timeout_ms,
        },
        "completion": {"debounceMs": debounce_ms},
        "index": {"enabled": False},
    }


# -- the oracle model --------------------------------------------------------------------


@dataclass
class Oracle:
    """A model that knows the original files: answers with the true continuation."""

    originals: list[str] = field(default_factory=list)
    max_lines: int = 4
    misses: int = 0
    answers: list[tuple[float, int, int, str]] = field(default_factory=list)
    """(time, file index, offset in the original, text) for every answer given."""

    def __call__(self, record: Any) -> str:
        body = record.body if isinstance(record.body, dict) else {}
        prompt, suffix = str(body.get("prompt", "")), str(body.get("suffix") or "")
        for index in range(len(self.originals) - 1, -1, -1):
            found = true_continuation(self.originals[index], prompt, suffix, self.max_lines)
            if found is not None:
                offset, text = found
                answer = (time.monotonic(), index, offset, text)
                self.answers.append(answer)
                record.answer = answer  # benchmarks credit shown suggestions to their call
                return text
        self.misses += 1
        return ""


def true_continuation(
    original: str, prompt: str, suffix: str, max_lines: int = 4
) -> tuple[int, str] | None:
    """(offset, text): what follows the prompt's end in ``original``, or None if not found.

    The text runs to the end of the line and up to ``max_lines`` lines in all, and stops where
    the request's suffix begins (a fill-in-the-middle model does not repeat the suffix).
    """
    tail = prompt[-600:]
    if not tail:
        return None
    head = suffix[:200]
    start = original.find(tail)
    while start >= 0:
        offset = start + len(tail)
        stop = original.find(head, offset) if head else len(original)
        if stop >= 0:
            end = offset
            for _ in range(max_lines):
                newline = original.find("\n", end)
                if newline < 0 or newline >= stop:
                    end = stop
                    break
                end = newline + 1
            return offset, original[offset : min(end, stop)]
        start = original.find(tail, start + 1)
    return None


# -- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def stdlib_file(rel: str) -> str:
    return (STDLIB / rel).read_text(encoding="utf-8")


def no_nagle(srv: Any) -> None:
    """Answer with TCP_NODELAY on the loopback model server, as real model servers do.

    Python's ``socketserver`` leaves Nagle's algorithm on: a streamed answer (headers, then
    chunks) then waits for the client's delayed ACK, about 40 ms per answer on Linux, which
    is the test server's cost, not weft's. Ollama (Go) and llama.cpp set TCP_NODELAY.
    """
    srv._httpd.RequestHandlerClass.disable_nagle_algorithm = True
