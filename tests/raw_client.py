"""A byte-level LSP client for tests and ``bench/fuzz.py``: it runs the real ``weft serve`` and
sends whatever bytes a test wants (broken framing, invalid UTF-8, bad params), which pygls's
own client refuses to produce.

It reads the server's output strictly (a framing error there fails the test), records every
response by id with the time it arrived, answers the requests the server sends
(``workspace/configuration`` with the given settings, everything else with ``null``), and keeps
the notifications.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def frame(body: bytes | str | dict[str, Any]) -> bytes:
    """``Content-Length`` framing around a body (a dict is JSON-encoded)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def server_env(cache: Path, server_path: Path | None = None) -> dict[str, str]:
    """The server's environment: this checkout's ``server/`` first (or ``server_path``, to
    measure another checkout), the cache under ``cache``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(server_path or REPO / "server"), str(REPO), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["XDG_CACHE_HOME"] = str(cache)
    env.pop("OLLAMA_HOST", None)
    return env


class RawClient:
    """The server process and what it said."""

    def __init__(self, proc: asyncio.subprocess.Process, settings: dict[str, Any]) -> None:
        self.proc = proc
        self.settings = settings
        self.responses: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        self.arrived: dict[Any, float] = {}
        self.notifications: list[dict[str, Any]] = []
        self.output_errors: list[str] = []
        self._waiters: dict[Any, asyncio.Event] = {}
        self.answers: dict[str, Any] = {}
        """Raw results for requests the server sends, by method (instead of the defaults)."""
        self._next_id = 0
        self._reader = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def start(
        cls,
        cache: Path,
        settings: dict[str, Any] | None = None,
        log: Path | None = None,
        server_path: Path | None = None,
    ) -> RawClient:
        stderr = open(log, "ab") if log is not None else asyncio.subprocess.DEVNULL  # noqa: SIM115
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "weft",
            "serve",
            "--log-level",
            "info",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=server_env(cache, server_path),
            limit=1 << 24,
        )
        if log is not None:
            stderr.close()  # type: ignore[union-attr]
        return cls(proc, settings or {})

    # -- sending ------------------------------------------------------------------------------

    async def send_bytes(self, data: bytes) -> None:
        """Write to the server (nothing when it has gone: ``alive`` tells)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_bytes(frame(message))

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def request(
        self, method: str, params: Any = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send a well-formed request and wait for its (first) answer."""
        msg_id = self.new_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.answer(msg_id, timeout)

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def answer(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The first answer to ``msg_id``; raises TimeoutError when none comes in time."""
        key = _key(msg_id)
        if not self.responses.get(key):
            event = self._waiters.setdefault(key, asyncio.Event())
            await asyncio.wait_for(event.wait(), timeout)
        return self.responses[key][0]

    async def initialize(self, root: Path, capabilities: dict[str, Any] | None = None) -> None:
        answer = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": capabilities
                or {
                    "textDocument": {"inlineCompletion": {}},
                    "workspace": {"configuration": True},
                },
                "initializationOptions": self.settings,
            },
            timeout=60,
        )
        assert "result" in answer, answer
        await self.notify("initialized", {})

    async def exit_code(self, timeout: float = 20.0) -> int:
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    # -- reading ------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = None
                for line in header.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    self.output_errors.append(f"no Content-Length in {header!r}")
                    return
                body = await stdout.readexactly(length)
                self._dispatch(json.loads(body))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        except Exception as exc:  # noqa: BLE001 - recorded for the test to fail on
            self.output_errors.append(repr(exc))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            asyncio.ensure_future(self._answer_server(message))
        elif "method" in message:
            self.notifications.append(message)
        else:
            key = _key(message.get("id"))
            self.responses[key].append(message)
            self.arrived.setdefault(key, time.monotonic())
            event = self._waiters.get(key)
            if event is not None:
                event.set()

    async def _answer_server(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] in self.answers:
            result = self.answers[message["method"]]
        elif message["method"] == "workspace/configuration":
            items = message.get("params", {}).get("items", [])
            result = [self.settings for _ in items]
        await self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def shown_messages(self) -> list[dict[str, Any]]:
        return [n for n in self.notifications if n["method"] == "window/showMessage"]


def _key(msg_id: Any) -> Any:
    """Response keys: ids as JSON gives them back (1 and 1.0 are the same key)."""
    if isinstance(msg_id, float) and msg_id.is_integer():
        return int(msg_id)
    return msg_id
