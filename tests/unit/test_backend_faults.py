"""Every backend against every fault, over the real wire formats on a loopback server.

Parametrised over the six wire formats of tests/wire.py: streamed and whole answers, bytes cut
anywhere, refused connections, 500, 429 (both Retry-After forms), hangs and trickles past the
deadline, bad JSON, cut streams, unknown models, cancellation freeing the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests import wire
from tests.loopback import LoopbackServer, Recorded
from weft.backends.base import (
    BackendError,
    BackendHTTPError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
    CompletionBackend,
    FimRequest,
    RateLimited,
    UnknownModel,
    collect,
    stream_with_deadline,
)
from weft.backends.registry import create_backend

NAMES = list(wire.SERVERS)
TEXT = "return a + b  # Σ €\n    # 😀 done"
REQUEST = FimRequest(prefix="def add(a, b):\n    ", suffix="\n", path="m.py", language="python")


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LoopbackServer]:
    # One server per module: stopping one waits out serve_forever's 0.5 s poll.
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def srv(shared_server: LoopbackServer) -> LoopbackServer:
    shared_server.clear()
    return shared_server


@contextlib.asynccontextmanager
async def backend_for(
    name: str, srv: LoopbackServer, *, url: str | None = None, limits: httpx.Limits | None = None,
    timeout_ms: int = 3000, **responder_args: Any,
) -> AsyncIterator[tuple[wire.Responder, CompletionBackend]]:  # fmt: skip
    responder = wire.SERVERS[name](srv, text=TEXT, **responder_args)
    settings = wire.backend_settings(name, srv, responder, timeoutMs=timeout_ms)
    if url is not None:
        settings = settings.model_copy(update={"url": url})
    backend = create_backend(settings, limits=limits)
    try:
        yield responder, backend
    finally:
        await backend.aclose()


async def eventually(predicate: Callable[[], bool], limit_s: float = 5.0) -> bool:
    """Poll until ``predicate`` holds (the server thread notices disconnects by polling)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def last(responder: wire.Responder) -> Recorded:
    return responder.requests()[-1]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunks", [1, 5])
async def test_streamed_answer(name: str, chunks: int, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, chunks=chunks) as (responder, backend):
        assert await collect(backend.stream_fim(REQUEST)) == TEXT
        assert last(responder).body["stream"] is True


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("byte_split", [1, 2, 3, 7])
async def test_body_cut_at_any_byte(name: str, byte_split: int, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, chunks=6, byte_split=byte_split) as (_, backend):
        assert await collect(backend.stream_fim(REQUEST)) == TEXT


@pytest.mark.parametrize("name", NAMES)
async def test_whole_json_answer_accepted(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, force_json=True) as (_, backend):
        assert await collect(backend.stream_fim(REQUEST)) == TEXT


@pytest.mark.parametrize("name", NAMES)
async def test_refused(name: str, srv: LoopbackServer) -> None:
    url = wire.closed_url()
    async with backend_for(name, srv, url=url) as (_, backend):
        with pytest.raises(BackendUnavailable, match="127.0.0.1") as info:
            await collect(backend.stream_fim(REQUEST))
        assert url in str(info.value)


@pytest.mark.parametrize("name", NAMES)
async def test_http_500(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="http500") as (_, backend):
        with pytest.raises(BackendHTTPError) as info:
            await collect(backend.stream_fim(REQUEST))
        assert info.value.status == 500 and not isinstance(info.value, RateLimited)
        assert "internal server error" in str(info.value)


@pytest.mark.parametrize("name", NAMES)
async def test_rate_limited_seconds(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="rate_limit", retry_after="7") as (_, backend):
        with pytest.raises(RateLimited) as info:
            await collect(backend.stream_fim(REQUEST))
        assert info.value.retry_after_s == 7.0 and info.value.status == 429


async def test_rate_limited_http_date(srv: LoopbackServer) -> None:
    date = email.utils.formatdate(time.time() + 120, usegmt=True)
    async with backend_for("openai", srv, fault="rate_limit", retry_after=date) as (_, backend):
        with pytest.raises(RateLimited) as info:
            await collect(backend.stream_fim(REQUEST))
        assert info.value.retry_after_s is not None and 100 < info.value.retry_after_s <= 120


@pytest.mark.parametrize("name", NAMES)
async def test_hang_past_deadline_aborts_the_call(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="hang", hang_s=20) as (responder, backend):
        with pytest.raises(BackendTimeout):
            await collect(stream_with_deadline(backend, REQUEST, 0.3))
        assert await eventually(lambda: last(responder).aborted)


@pytest.mark.parametrize("name", NAMES)
async def test_trickle_past_deadline(name: str, srv: LoopbackServer) -> None:
    # Each chunk arrives well within httpx's read timeout (3 s), so only the deadline can end it.
    async with backend_for(name, srv, chunks=40, delay_s=0.1) as (responder, backend):
        with pytest.raises(BackendTimeout, match="within 500 ms"):
            await collect(stream_with_deadline(backend, REQUEST, 0.5))
        assert await eventually(lambda: last(responder).aborted)


async def test_read_timeout_alone_maps_to_timeout(srv: LoopbackServer) -> None:
    async with backend_for("ollama", srv, fault="hang", hang_s=20, timeout_ms=200) as (_, backend):
        with pytest.raises(BackendTimeout):
            await collect(backend.stream_fim(REQUEST))


@pytest.mark.parametrize("name", NAMES)
async def test_invalid_json(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="bad_json") as (_, backend):
        with pytest.raises(BackendProtocolError, match="invalid JSON"):
            await collect(backend.stream_fim(REQUEST))


@pytest.mark.parametrize("name", NAMES)
async def test_invalid_json_whole_body(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="bad_json", force_json=True) as (_, backend):
        with pytest.raises(BackendProtocolError, match="invalid JSON"):
            await collect(backend.stream_fim(REQUEST))


@pytest.mark.parametrize("name", NAMES)
async def test_cut_stream_is_an_error_not_a_short_answer(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="cut", chunks=4) as (_, backend):
        received: list[str] = []
        with pytest.raises(BackendProtocolError, match="stream cut"):
            async for piece in backend.stream_fim(REQUEST):
                received.append(piece)
        assert TEXT.startswith("".join(received)) and "".join(received) != TEXT


async def test_cut_stream_with_clean_chunked_end_is_still_cut(srv: LoopbackServer) -> None:
    """A body that ends properly at the HTTP level but has no terminal event."""
    responder = wire.serve_ollama(srv, text=TEXT)
    responder.terminal = list  # type: ignore[method-assign]
    backend = create_backend(wire.backend_settings("ollama", srv, responder))
    try:
        with pytest.raises(BackendProtocolError, match="before its terminal event"):
            await collect(backend.stream_fim(REQUEST))
    finally:
        await backend.aclose()


@pytest.mark.parametrize("name", NAMES)
async def test_unknown_model(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="unknown_model") as (_, backend):
        with pytest.raises(UnknownModel, match="test-model"):
            await collect(backend.stream_fim(REQUEST))


@pytest.mark.parametrize("name", NAMES)
async def test_html_instead_of_a_stream(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="html") as (_, backend):
        with pytest.raises(BackendProtocolError, match="HTML"):
            await collect(backend.stream_fim(REQUEST))


@pytest.mark.parametrize("name", NAMES)
async def test_connection_dropped_without_answer(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="close") as (_, backend):
        with pytest.raises(BackendProtocolError):
            await collect(backend.stream_fim(REQUEST))


@pytest.mark.parametrize("name", NAMES)
async def test_error_event_in_stream(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv, fault="stream_error") as (_, backend):
        with pytest.raises(BackendError) as info:
            await collect(backend.stream_fim(REQUEST))
        assert not isinstance(info.value, BackendProtocolError)
        assert "reported an error" in str(info.value)


@pytest.mark.parametrize("name", NAMES)
async def test_next_call_works_after_each_fault(name: str, srv: LoopbackServer) -> None:
    async with backend_for(name, srv) as (responder, backend):
        for fault in wire.FAULTS:
            responder.fault = fault
            responder.hang_s = 0.5
            with pytest.raises(BackendError):
                await collect(stream_with_deadline(backend, REQUEST, 0.3))
            responder.fault = None
            assert await collect(backend.stream_fim(REQUEST)) == TEXT


@pytest.mark.parametrize("name", NAMES)
async def test_cancelling_the_consumer_closes_the_connection(
    name: str, srv: LoopbackServer
) -> None:
    async with backend_for(name, srv, chunks=50, delay_s=0.1) as (responder, backend):
        started = asyncio.Event()

        async def consume() -> None:
            async for _ in stream_with_deadline(backend, REQUEST, 30):
                started.set()

        task = asyncio.create_task(consume())
        if name in ("openai-chat", "anthropic"):
            # Chat answers are collected whole before anything is yielded: cancel mid-stream.
            assert await eventually(lambda: bool(responder.requests()))
            await asyncio.sleep(0.15)
        else:
            await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await eventually(lambda: last(responder).aborted)
        responder.delay_s = 0
        assert await collect(backend.stream_fim(REQUEST)) == TEXT


@pytest.mark.parametrize("name", ["ollama", "openai", "anthropic"])
async def test_pool_survives_many_aborted_calls(name: str, srv: LoopbackServer) -> None:
    """With one connection allowed, a single leaked connection would make the last call fail
    with a pool timeout (httpx #1461/#3782, httpcore #1093)."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with backend_for(name, srv, limits=limits, timeout_ms=2000, chunks=20, delay_s=0.02) as (
        responder,
        backend,
    ):
        for round_ in range(16):
            mode = round_ % 4
            if mode == 0:  # the consumer stops reading (generator closed early)
                stream = backend.stream_fim(REQUEST)
                async with contextlib.aclosing(stream):  # type: ignore[type-var]
                    await anext(stream)
            elif mode == 1:  # the request task is cancelled
                task = asyncio.create_task(collect(backend.stream_fim(REQUEST)))
                await asyncio.sleep(0.05)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif mode == 2:  # the deadline fires mid-stream
                with pytest.raises(BackendTimeout):
                    await collect(stream_with_deadline(backend, REQUEST, 0.05))
            else:  # cancelled again while handling the first cancellation (httpx #3782)
                task = asyncio.create_task(collect(backend.stream_fim(REQUEST)))
                await asyncio.sleep(0.05)
                task.cancel()
                await asyncio.sleep(0)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        responder.delay_s = 0
        assert await collect(stream_with_deadline(backend, REQUEST, 5)) == TEXT


@pytest.mark.parametrize("name", ["ollama", "anthropic"])
async def test_closing_the_backend_ends_calls_in_flight(name: str, srv: LoopbackServer) -> None:
    """Settings changed mid-call: the old backend is closed and its callers get an error."""
    async with backend_for(name, srv, chunks=50, delay_s=0.1) as (responder, backend):
        task = asyncio.create_task(collect(backend.stream_fim(REQUEST)))
        assert await eventually(lambda: bool(responder.requests()))
        await asyncio.sleep(0.05)
        await backend.aclose()
        with pytest.raises(BackendError, match="closed"):
            await asyncio.wait_for(task, 5)
        assert await eventually(lambda: last(responder).aborted)
