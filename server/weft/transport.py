"""LSP's Content-Length framing over stdio or TCP, read on the event loop (no reader thread).

pygls reads stdin in a thread, one ``readline`` and one ``read(n)`` per message, trusts
``Content-Length`` whatever it says (``9999999999999999`` ends in ``MemoryError``; a short one
leaves the rest of the body to be taken for headers, and the server waits for ever), and only
knows the exact header spelling. This reader:

- reads whatever the pipe has (64 KB at a time) into one buffer and cuts frames out of it;
- takes headers case-insensitively, in any order, ``\\r\\n`` or ``\\n``; ignores unknown ones;
  the last ``Content-Length`` wins;
- on a framing error (no ``Content-Length`` before the blank line, one it cannot read, one over
  :data:`FRAME_CAP`, junk where a header should be) logs one line and resynchronises on the
  next ``Content-Length`` header, even one glued to the end of a body that was announced too
  short; a request whose id can be read from what arrived is still answered;
- never holds more than :data:`FRAME_CAP` bytes for one message; an oversized body is skipped
  as it streams past;
- when a body stops arriving for :data:`BODY_STALL_S` (a ``Content-Length`` longer than what
  the client sent), takes what arrived as the message instead of waiting for ever;
- hands what a body holds beyond its first JSON value (a ``Content-Length`` too long, covering
  the next message) back to the buffer.

``serve_stdio`` / ``serve_tcp`` return the process's exit status: the one ``exit`` asked for
(see ``weft.protocol``), or 1 when the client went away without ``shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

FRAME_CAP = 64 << 20
"""The largest message body weft reads (VS Code hides files over 50 MB from extensions)."""
CHUNK = 1 << 16
HEADER_LINE_CAP = 8 << 10
"""A header line longer than this is junk."""
HEAD_SNIFF = 4 << 10
"""How much of a refused body is kept to find its request id."""
BODY_STALL_S = 2.0
"""A body that stops arriving for this long was announced longer than it is."""

_HEADER = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTENT_LENGTH = b"content-length:"


class FrameReader:
    """Frames out of a byte stream; ``read`` returns the next chunk (``b""`` at the end)."""

    def __init__(
        self,
        read: Callable[[], Awaitable[bytes]],
        on_error: Callable[[str, bytes, int], None] = lambda reason, head, code: None,
        cap: int = FRAME_CAP,
        stall_s: float = BODY_STALL_S,
    ) -> None:
        self._read = read
        self._on_error = on_error
        self.cap = cap
        self.stall_s = stall_s
        self._buf = bytearray()
        self._eof = False
        self._resyncing = False
        self.framing_errors = 0

    def push_back(self, data: bytes) -> None:
        """Bytes a body held beyond its message: read them again as the stream's next bytes."""
        self._buf[:0] = data

    async def next_frame(self) -> bytes | None:
        """The next message body, or None at the end of the stream."""
        while True:
            length = await self._headers()
            if length is None:
                return None
            if length > self.cap:
                head = await self._peek(HEAD_SNIFF)
                reason = f"Content-Length {length} is over the {self.cap >> 20} MiB cap"
                self._error(reason, head, -32602)
                continue  # that body is skipped as junk, line by line, up to the next header
            body = await self._take(length)
            self._resyncing = False
            return body

    # -- headers ----------------------------------------------------------------------------

    async def _headers(self) -> int | None:
        length: int | None = None
        problem: str | None = None
        seen = False
        while True:
            line = await self._line()
            if line is None:
                return None
            stripped = line.strip()
            if not stripped:
                if length is not None and problem is None:
                    return length
                if seen:
                    self._error(problem or "headers without Content-Length", b"")
                length, problem, seen = None, None, False
                continue
            at = line.lower().find(_CONTENT_LENGTH)
            name, colon, value = stripped.partition(b":")
            if at <= 0 and colon and _HEADER.fullmatch(name):
                seen = True
                if name.lower() == b"content-length":
                    length, problem = _content_length(value)
                continue
            if at > 0:  # a header glued to the end of a body announced too short
                self.push_back(line[at:])
            self._error(f"junk where a header was expected: {bytes(stripped[:40])!r}", b"")
            length, problem, seen = None, None, False

    async def _line(self) -> bytes | None:
        """The next line (ending in ``\\n``, or the last bytes of the stream); a line longer
        than :data:`HEADER_LINE_CAP` is dropped as it arrives, keeping a header inside it."""
        searched = 0
        while True:
            end = self._buf.find(b"\n", searched)
            if end >= 0:
                line = bytes(self._buf[: end + 1])
                del self._buf[: end + 1]
                return line
            searched = len(self._buf)
            if len(self._buf) > HEADER_LINE_CAP:
                self._drop_junk()
                searched = 0
            if self._eof:
                if not self._buf:
                    return None
                line = bytes(self._buf)
                self._buf.clear()
                return line
            await self._fill()

    def _drop_junk(self) -> None:
        at = self._buf.lower().find(_CONTENT_LENGTH)
        if at > 0:
            del self._buf[:at]
            return
        if at < 0:
            keep = len(_CONTENT_LENGTH)  # a header may be cut at the chunk's end
            del self._buf[:-keep]
        self._error("junk where a header was expected (a long line)", b"")

    # -- bodies -----------------------------------------------------------------------------

    async def _peek(self, length: int) -> bytes:
        """Up to ``length`` bytes of what has arrived (waiting briefly for some), left in place:
        they may hold the next messages."""
        while len(self._buf) < length and not self._eof:
            if not await self._fill_within(0.05):
                break
        return bytes(self._buf[:length])

    async def _take(self, length: int) -> bytes:
        """``length`` bytes; fewer when the stream ends or stalls for ``stall_s``."""
        while len(self._buf) < length and not self._eof:
            if not await self._fill_within(self.stall_s):
                self._error(f"Content-Length {length} but only {len(self._buf)} bytes arrived", b"")
                break
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return body

    async def _fill_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._fill(), seconds)
        except TimeoutError:
            return False
        return True

    async def _fill(self) -> None:
        if self._eof:
            return
        chunk = await self._read()
        if chunk:
            self._buf += chunk
        else:
            self._eof = True

    def _error(self, reason: str, head: bytes, code: int = -32700) -> None:
        """One log line per episode (junk is skipped line by line); ``head``: the start of a
        refused body, in which the protocol looks for a request id to answer ``code``."""
        self.framing_errors += 1
        if not self._resyncing:
            logger.info("framing error: %s; resynchronising on the next header", reason)
        self._resyncing = True
        self._on_error(reason, head, code)


def _content_length(value: bytes) -> tuple[int | None, str | None]:
    text = value.strip()
    if not text.isdigit() or len(text) > 18:
        return None, f"unreadable Content-Length {bytes(text[:20])!r}"
    return int(text), None


# -- serving ------------------------------------------------------------------------------


async def serve_frames(reader: FrameReader, protocol: Any) -> int:
    """Feed frames to ``protocol`` until ``exit`` or the end of the stream; the exit status."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[int] = loop.create_future()

    def on_exit(code: int) -> None:
        if not stop.done():
            stop.set_result(code)

    async def pump() -> None:
        while not stop.done():
            body = await reader.next_frame()
            if body is None:
                logger.info("the client closed the connection")
                on_exit(0 if getattr(protocol, "state", "") == "shutdown" else 1)
                return
            leftover = protocol.receive(body)
            if leftover:
                reader.push_back(leftover)

    protocol.on_exit = on_exit
    task = asyncio.ensure_future(pump())
    try:
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
    finally:
        task.cancel()
    if task.done() and not task.cancelled() and task.exception() is not None:
        logger.error("reading messages failed", exc_info=task.exception())
        return 1
    return stop.result() if stop.done() else 1


def _framing_error_handler(protocol: Any) -> Callable[[str, bytes, int], None]:
    def handle(reason: str, head: bytes, code: int) -> None:
        framing_error = getattr(protocol, "framing_error", None)
        if framing_error is not None:
            framing_error(reason, head, code)

    return handle


class _PipeWriter:
    """pygls's writer interface over an asyncio write transport (writes never block the loop)."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.transport.close()

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait (briefly) until everything written has gone to the client."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.transport.get_write_buffer_size() and loop.time() < deadline:
            await asyncio.sleep(0.01)


class _FileWriter:
    """Blocking writes, for a stdout that is a regular file (asyncio cannot watch those)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.stream.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.flush()

    async def flush(self, timeout: float = 2.0) -> None:
        self.close()


async def _stdin_reads(stdin: BinaryIO) -> Callable[[], Awaitable[bytes]]:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=CHUNK)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except (ValueError, OSError):  # a regular file: read it from a thread
        fd = stdin.fileno()
        return lambda: asyncio.to_thread(os.read, fd, CHUNK)
    return lambda: stream.read(CHUNK)


async def _stdout_writer(stdout: BinaryIO) -> _PipeWriter | _FileWriter:
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.connect_write_pipe(asyncio.Protocol, stdout)
    except (ValueError, OSError):
        return _FileWriter(stdout)
    return _PipeWriter(transport)  # type: ignore[arg-type]


async def serve_stdio_async(
    protocol: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
) -> int:
    writer = await _stdout_writer(stdout or sys.stdout.buffer)
    protocol.set_writer(writer)
    reads = await _stdin_reads(stdin or sys.stdin.buffer)
    reader = FrameReader(reads, _framing_error_handler(protocol))
    try:
        return await serve_frames(reader, protocol)
    finally:
        await writer.flush()
        writer.close()


def serve_stdio(server: Any) -> int:
    """Serve LSP over stdin/stdout until ``exit`` or end of input; the exit status."""
    try:
        return asyncio.run(serve_stdio_async(server.protocol))
    except KeyboardInterrupt:
        return 130
    finally:
        server.shutdown()


async def serve_tcp_async(protocol: Any, host: str, port: int, ready: Any = None) -> int:
    """Accept one client on ``host:port`` and serve it; the exit status. Raises OSError when
    the port cannot be listened on."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()

    async def client(stream: asyncio.StreamReader, stream_writer: asyncio.StreamWriter) -> None:
        if done.done() or getattr(protocol, "writer", None) is not None:
            stream_writer.close()  # one client per server, as with stdio
            return
        writer = _PipeWriter(stream_writer.transport)  # type: ignore[arg-type]
        protocol.set_writer(writer)
        reader = FrameReader(lambda: stream.read(CHUNK), _framing_error_handler(protocol))
        try:
            code = await serve_frames(reader, protocol)
        finally:
            await writer.flush()
            writer.close()
        if not done.done():
            done.set_result(code)

    listener = await asyncio.start_server(client, host, port)
    logger.info("listening on %s:%s", host, port)
    if ready is not None:
        ready()
    async with listener:
        return await done


def serve_tcp(server: Any, host: str, port: int) -> int:
    try:
        return asyncio.run(serve_tcp_async(server.protocol, host, port))
    except KeyboardInterrupt:
        return 130
    finally:
        server.shutdown()
