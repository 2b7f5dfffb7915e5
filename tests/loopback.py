"""A real HTTP model server on 127.0.0.1 for tests, speaking whatever routes a test registers.

It runs in a thread of the test process, so both in-process tests and the weft server started
by pytest-lsp (a subprocess) can reach it through ``server.url``. Every request is recorded
(method, path, headers, JSON body) so tests can assert on the exact prompt that was sent.

A route handler gets the :class:`Recorded` request and the ``Exchange`` to answer on:
``ex.json(obj, status)``, ``ex.error(status, body, headers)``, ``ex.stream(chunks, content_type,
delay_s)`` (chunked transfer, flushed per chunk), ``ex.hang(seconds)``, ``ex.close()``
(drop the connection without a reply). Wire-format responders live in
``tests/wire.py`` (completion APIs) and ``tests/chat_wire.py`` (tool-calling chat).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    time: float = field(default_factory=time.monotonic)
    finished: bool = False
    """True once the handler finished answering (False: still streaming or aborted)."""
    aborted: bool = False
    """True when the client went away before the answer was complete."""
    ended: float | None = None
    """``time.monotonic()`` when the handler finished."""


class Exchange:
    """The answering side of one request."""

    def __init__(
        self, handler: BaseHTTPRequestHandler, record: Recorded, stop: threading.Event
    ) -> None:
        self._h = handler
        self.record = record
        self._stop = stop

    def json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self._h.send_response(status)
        self._h.send_header("Content-Type", "application/json")
        self._h.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self._h.send_header(key, value)
        self._h.end_headers()
        self._h.wfile.write(data)

    def error(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self._h.send_response(status)
        self._h.send_header(
            "Content-Type", "application/json" if body.startswith("{") else "text/plain"
        )
        self._h.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self._h.send_header(key, value)
        self._h.end_headers()
        self._h.wfile.write(data)

    def raw_body(
        self, body: bytes, status: int = 200, content_type: str = "application/json"
    ) -> None:
        self._h.send_response(status)
        self._h.send_header("Content-Type", content_type)
        self._h.send_header("Content-Length", str(len(body)))
        self._h.end_headers()
        self._h.wfile.write(body)

    def stream(
        self,
        chunks: Iterable[str | bytes],
        content_type: str = "text/event-stream",
        delay_s: float = 0.0,
        first_delay_s: float = 0.0,
        cut: bool = False,
    ) -> None:
        """Chunked transfer, one chunk per item; ``cut`` drops the connection without the final chunk."""
        self._h.send_response(200)
        self._h.send_header("Content-Type", content_type)
        self._h.send_header("Transfer-Encoding", "chunked")
        self._h.end_headers()
        if first_delay_s and not self._wait(first_delay_s):
            return
        try:
            for index, chunk in enumerate(chunks):
                if index and delay_s and not self._wait(delay_s):
                    return
                data = chunk.encode() if isinstance(chunk, str) else chunk
                if not data:
                    continue
                self._h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self._h.wfile.flush()
            if cut:
                self.close()
                return
            self._h.wfile.write(b"0\r\n\r\n")
            self._h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.record.aborted = True

    def hang(self, seconds: float) -> None:
        """Answer nothing for ``seconds`` (or until the server stops), then drop the connection."""
        self._wait(seconds)
        self.close()

    def close(self) -> None:
        self._h.close_connection = True
        try:
            self._h.connection.shutdown(2)
        except OSError:
            pass

    def _wait(self, seconds: float) -> bool:
        """Sleep, noticing a client that went away; False if it did or the server stops."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self._stop.wait(min(0.01, max(0.0, end - time.monotonic()))):
                return False
            if self._peer_closed():
                self.record.aborted = True
                return False
        return True

    def _peer_closed(self) -> bool:
        import select
        import socket

        sock = self._h.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


Handler = Callable[[Recorded, Exchange], None]


class _QuietServer(ThreadingHTTPServer):
    """A client dropping a keep-alive connection is normal here, not worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LoopbackServer:
    """``with LoopbackServer() as srv: srv.route("POST", "/api/generate", fn)``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._make_handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` with ``handler`` (replacing any earlier handler)."""
        self._routes[(method.upper(), path)] = handler

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def live(self, path: str | None = None) -> list[Recorded]:
        """Requests still being answered."""
        return [r for r in self.requests if not r.finished and (path is None or r.path == path)]

    def max_concurrent(self, path: str) -> int:
        """The most requests to ``path`` that were being answered at the same time."""
        events = []
        for r in self.requests_to(path):
            events.append((r.time, 1))
            events.append((r.ended if r.ended is not None else float("inf"), -1))
        live = peak = 0
        for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
            live += delta
            peak = max(peak, live)
        return peak

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each streamed chunk waits for a delayed ACK

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = self.path.split("?", 1)[0]
                record = Recorded(self.command, path, dict(self.headers.items()), body, raw)
                with server._lock:
                    server.requests.append(record)
                handler = server._routes.get((self.command, path))
                ex = Exchange(self, record, server._stop)
                try:
                    if handler is None:
                        ex.error(404, json.dumps({"error": f"no route {self.command} {path}"}))
                    else:
                        handler(record, ex)
                except (BrokenPipeError, ConnectionResetError):
                    record.aborted = True
                finally:
                    record.ended = time.monotonic()
                    record.finished = True

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return _Handler
