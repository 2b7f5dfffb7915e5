"""What every HTTP backend shares: one httpx client, error mapping, and stream framing.

:class:`HttpBackend` owns the single ``httpx.AsyncClient`` of a backend instance and runs one
streamed call (:meth:`HttpBackend.stream_text`): it opens the request with
``async with client.stream(...)`` (so closing or cancelling the consumer closes the response
and returns the connection), maps transport failures and non-2xx statuses onto the error tree
of :mod:`weft.backends.base`, splits the body into lines that survive chunks cut anywhere
(inside a UTF-8 sequence or between ``\\r`` and ``\\n``), groups them into SSE events or NDJSON
objects, and insists on the protocol's terminal event: a body that ends before it is a
:class:`BackendProtocolError` ("stream cut"), never a shorter answer.

Servers that ignore ``stream: true`` and answer with one ``application/json`` body are accepted
too (the backend parses the whole object instead of frames). The exchange itself runs in a
task of its own that is cancelled exactly once (see :meth:`HttpBackend.stream_text`).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import email.utils
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from weft import __version__
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
)
from weft.settings import BackendSettings

logger = logging.getLogger(__name__)

Framing = Literal["sse", "ndjson"]

EXCERPT_CHARS = 300
"""Longest body excerpt quoted in an error message."""
ERROR_BODY_BYTES = 8192
"""Most bytes read from a non-2xx body (enough for any vendor's error JSON)."""
DRAIN_S = 0.05
"""After the terminal event, how long to wait for the rest of the body so the connection can be
reused (httpcore closes a connection whose response was not read to the end)."""
CONNECT_TIMEOUT_S = 5.0

_NEWLINE = re.compile(r"\r\n|\r|\n")
_UNKNOWN_MODEL = re.compile(
    r"model[^\n]{0,200}?(not found|does not exist|not exist)|model_not_found|invalid[ _]model"
    r"|no such model|unknown model|not_found_error",
    re.IGNORECASE,
)


# -- framing -----------------------------------------------------------------------------


class LineDecoder:
    """Bytes in, complete text lines out; chunks may be cut at any byte.

    Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (the SSE rule); a ``\\r\\n`` split across
    two chunks counts once. Invalid UTF-8 becomes U+FFFD rather than an exception.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._skip_lf = False

    def feed(self, data: bytes) -> list[str]:
        text = self._decoder.decode(data)
        if not text:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if text.startswith("\n"):
                text = text[1:]
        text = self._buffer + text
        parts = _NEWLINE.split(text)
        self._buffer = parts.pop()
        # A trailing "\r" ended its line; a "\n" at the start of the next chunk belongs to it.
        self._skip_lf = text.endswith("\r")
        return parts

    def finish(self) -> str:
        """The incomplete last line (no line break after it), if any."""
        rest = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        return rest


@dataclass(frozen=True)
class Frame:
    """One unit of a streamed answer: an SSE event or an NDJSON line."""

    data: str
    event: str = ""
    """SSE ``event:`` type ("" when none; ``error`` for an ``error:`` field)."""

    @property
    def done(self) -> bool:
        """OpenAI-style ``data: [DONE]``."""
        return self.data.strip() == "[DONE]"

    def json(self, kind: str) -> Any:
        try:
            return json.loads(self.data)
        except ValueError as exc:
            raise BackendProtocolError(
                f"{kind}: invalid JSON in stream: {excerpt(self.data)}"
            ) from exc


class SseParser:
    """Lines of a ``text/event-stream`` in, events out (WHATWG rules, minus ``id``/``retry``)."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""

    def feed(self, line: str) -> Frame | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment / keep-alive
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "error":
            # llama.cpp has sent errors as an "error:" field instead of an event.
            self._data.append(value)
            self._event = "error"
        return None

    def finish(self) -> Frame | None:
        """A last event whose blank line never came (complete lines only)."""
        return self._dispatch()

    def _dispatch(self) -> Frame | None:
        if not self._data:
            self._event = ""
            return None
        frame = Frame("\n".join(self._data), self._event)
        self._data = []
        self._event = ""
        return frame


class FrameReader:
    """Bytes in, frames out, for one framing."""

    def __init__(self, framing: Framing) -> None:
        self._lines = LineDecoder()
        self._sse = SseParser() if framing == "sse" else None

    def feed(self, data: bytes) -> list[Frame]:
        return [f for line in self._lines.feed(data) if (f := self._frame(line)) is not None]

    def finish(self) -> list[Frame]:
        """Frames still pending at the end of the body.

        An unterminated last line is dropped: it is the part of a stream that was cut.
        """
        self._lines.finish()
        if self._sse is not None:
            frame = self._sse.finish()
            return [frame] if frame else []
        return []

    def _frame(self, line: str) -> Frame | None:
        if self._sse is not None:
            return self._sse.feed(line)
        return Frame(line) if line.strip() else None


# -- error mapping -----------------------------------------------------------------------


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line, at most ``limit`` characters, for messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_message_from_body(body: str) -> str:
    """The human part of a vendor error body (``error.message``, ``error``, ``message``…)."""
    try:
        data = json.loads(body)
    except ValueError:
        return excerpt(body)
    return excerpt(error_text(data) or body)


def error_text(data: Any) -> str:
    """Dig the message out of the usual error shapes."""
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping):
        for key in ("error", "message", "detail"):
            if key in data and data[key]:
                found = error_text(data[key])
                if found:
                    return found
        return ""
    return ""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 asks for; OpenAI's ``retry-after-ms`` wins over ``Retry-After``."""
    millis = headers.get("retry-after-ms")
    if millis:
        with contextlib.suppress(ValueError):
            return max(0.0, float(millis) / 1000)
    return parse_retry_after(headers.get("retry-after"))


def mentions_unknown_model(text: str) -> bool:
    """The text says a model is missing (not just "not found": a wrong URL says that too)."""
    return "model" in text.lower() and bool(_UNKNOWN_MODEL.search(text))


def looks_like_unknown_model(status: int, body: str) -> bool:
    """Vendors say "no such model" with 404 (Ollama, OpenAI, vLLM, Anthropic) or 400 (Mistral)."""
    return status in (400, 404) and mentions_unknown_model(body)


def http_status_error(
    kind: str, url: str, status: int, body: str, headers: Mapping[str, str], model: str | None
) -> BackendError:
    """The error for a non-2xx answer."""
    detail = error_message_from_body(body) if body else ""
    suffix = f": {detail}" if detail else ""
    if status == 429:
        wait = retry_after_seconds(headers)
        hint = f" (retry after {wait:.0f} s)" if wait is not None else ""
        return RateLimited(f"{kind}: rate limited by {url}{hint}{suffix}", wait, excerpt(body))
    if looks_like_unknown_model(status, body):
        return UnknownModel(f"{kind}: model {model!r} is not available at {url}{suffix}")
    if status in (401, 403):
        return BackendHTTPError(
            f"{kind}: HTTP {status} (authentication) from {url}{suffix}", status, excerpt(body)
        )
    return BackendHTTPError(f"{kind}: HTTP {status} from {url}{suffix}", status, excerpt(body))


def transport_error(kind: str, url: str, exc: Exception, *, answered: bool) -> BackendError:
    """Map an httpx exception; ``answered``: the status line had arrived (the body was cut)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return BackendUnavailable(
            f"{kind}: no answer connecting to {url} ({exc.__class__.__name__})"
        )
    if isinstance(exc, httpx.PoolTimeout):
        return BackendTimeout(f"{kind}: no free connection to {url}")
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeout(f"{kind}: {url} went silent ({exc.__class__.__name__})")
    if isinstance(exc, (httpx.ConnectError, httpx.ProxyError)):
        return BackendUnavailable(f"{kind}: cannot connect to {url}: {exc or 'refused'}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError)):
        return BackendUnavailable(f"{kind}: invalid backend URL {url}: {exc}")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        if answered:
            return BackendProtocolError(
                f"{kind}: stream cut by {url}: {exc or 'connection closed'}"
            )
        return BackendProtocolError(f"{kind}: {url} closed the connection without an answer")
    if isinstance(exc, httpx.DecodingError):
        return BackendProtocolError(f"{kind}: undecodable body from {url}: {exc}")
    if isinstance(exc, httpx.TransportError):
        return BackendUnavailable(f"{kind}: cannot reach {url}: {exc}")
    return BackendProtocolError(f"{kind}: {url}: {exc}")


def stream_error(kind: str, payload: Any, model: str | None) -> BackendError:
    """An error the server reported inside a 200 stream (or body)."""
    message = excerpt(error_text(payload) or json.dumps(payload))
    kind_hint = ""
    if isinstance(payload, Mapping):
        inner = payload.get("error", payload)
        if isinstance(inner, Mapping):
            kind_hint = str(inner.get("type") or inner.get("code") or "")
    if "rate_limit" in kind_hint:
        return RateLimited(f"{kind}: rate limited: {message}", None, message)
    if mentions_unknown_model(f"{message} {kind_hint}"):
        return UnknownModel(f"{kind}: model {model!r} is not available: {message}")
    return BackendError(f"{kind}: the server reported an error: {message}")


def stream_cut(kind: str, url: str) -> BackendProtocolError:
    return BackendProtocolError(
        f"{kind}: stream cut: {url} ended the answer before its terminal event"
    )


def normalize_template(template: str | None) -> str | None:
    """None when weft should not apply a template (``raw``/``auto`` mean the same here)."""
    return None if template in (None, "", "raw", "auto") else template


def merge_stops(*groups: Any) -> list[str]:
    """Stop strings in order, without duplicates or empties."""
    seen: list[str] = []
    for group in groups:
        for stop in group or ():
            if stop and stop not in seen:
                seen.append(stop)
    return seen


# -- the shared backend ------------------------------------------------------------------

OnFrame = Callable[[Frame], "tuple[str, bool]"]
"""Turns one frame into (text delta, terminal?) or raises a BackendError."""
OnWhole = Callable[[Any], str]
"""Turns a whole non-streamed JSON answer into the completion text."""


class HttpBackend(CompletionBackend):
    """A backend that talks HTTP through one ``httpx.AsyncClient`` (created here, closed in
    :meth:`aclose`). Subclasses build payloads and parse frames; this class does the rest."""

    kind = "http"

    def __init__(self, settings: BackendSettings, *, limits: httpx.Limits | None = None) -> None:
        self.settings = settings
        self.base_url = settings.base_url()
        self.model = settings.model
        self.timeout_s = settings.timeout_ms / 1000
        # The read timeout resets on every chunk; the hard deadline for the whole call is
        # stream_with_deadline's job. pool=timeout_s so a leaked pool shows as an error.
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, CONNECT_TIMEOUT_S))
        self.client = httpx.AsyncClient(
            timeout=timeout,
            headers=self.default_headers(),
            limits=limits or httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def default_headers(self) -> dict[str, str]:
        """Headers on every request (auth lives here)."""
        return {
            "Accept": "application/json, text/event-stream, application/x-ndjson",
            "User-Agent": f"weft/{__version__}",
        }

    def bearer_headers(self) -> dict[str, str]:
        key = self.settings.api_key()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def url(self, path: str) -> str:
        return self.base_url + path

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()

    async def stream_text(
        self,
        path: str,
        payload: Mapping[str, Any],
        *,
        framing: Framing,
        on_frame: OnFrame,
        on_whole: OnWhole,
    ) -> AsyncGenerator[str, None]:
        """POST ``payload`` to ``path`` and yield text deltas until the terminal frame.

        The HTTP exchange runs in its own task, which this generator cancels exactly once when
        it is closed or cancelled. httpx/httpcore leak a pooled connection when a task is
        cancelled a second time while closing a streamed response (httpx #3782, httpcore
        #1093), and an editor cancels twice easily (superseded, then ``$/cancelRequest``).
        """
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        exchange = self.exchange(path, payload, framing, on_frame, on_whole)
        task = asyncio.create_task(pump(exchange, queue), name=f"weft-{self.kind}-http")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            task.cancel()

    async def exchange(
        self,
        path: str,
        payload: Mapping[str, Any],
        framing: Framing,
        on_frame: OnFrame,
        on_whole: OnWhole,
    ) -> AsyncGenerator[str, None]:
        """The HTTP exchange behind :meth:`stream_text` (run inside its pump task)."""
        url = self.url(path)
        answered = False
        try:
            async with self.client.stream("POST", url, json=payload) as response:
                answered = True
                await self.check_status(response, url)
                ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if ctype == "application/json":
                    text = on_whole(await self.read_json(response, url))
                    if text:
                        yield text
                    return
                if ctype == "text/html":
                    body = await self.read_excerpt(response)
                    raise BackendProtocolError(
                        f"{self.kind}: expected a stream from {url}, got an HTML page: {excerpt(body)}"
                    )
                reader = FrameReader(framing)
                chunks = response.aiter_bytes()
                async with contextlib.aclosing(chunks):  # type: ignore[type-var]
                    async for chunk in chunks:
                        for frame in reader.feed(chunk):
                            text, terminal = on_frame(frame)
                            if terminal:
                                await self.drain(chunks)
                                if text:
                                    yield text
                                return
                            if text:
                                yield text
                for frame in reader.finish():
                    text, terminal = on_frame(frame)
                    if text:
                        yield text
                    if terminal:
                        return
                raise stream_cut(self.kind, url)
        except httpx.HTTPError as exc:
            raise transport_error(self.kind, url, exc, answered=answered) from exc
        except httpx.InvalidURL as exc:
            raise transport_error(self.kind, url, exc, answered=False) from exc

    async def get_json(self, path: str) -> Any:
        """GET ``path`` and return its JSON (list_models and probes)."""
        url = self.url(path)
        try:
            async with self.client.stream("GET", url) as response:
                await self.check_status(response, url)
                return await self.read_json(response, url)
        except httpx.HTTPError as exc:
            raise transport_error(self.kind, url, exc, answered=False) from exc
        except httpx.InvalidURL as exc:
            raise transport_error(self.kind, url, exc, answered=False) from exc

    async def check_status(self, response: httpx.Response, url: str) -> None:
        if response.is_success:
            return
        body = await self.read_excerpt(response)
        error = http_status_error(
            self.kind, url, response.status_code, body, response.headers, self.model
        )
        if response.status_code in (401, 403):
            env = self.settings.api_key_env
            hint = (
                f"the key comes from ${env}, which is {'set' if self.settings.api_key() else 'not set'}"
                if env
                else "backend.apiKeyEnv is not set, so no key was sent"
            )
            error = BackendHTTPError(
                f"{error} ({hint})", response.status_code, body[:EXCERPT_CHARS]
            )
        raise error

    async def read_excerpt(self, response: httpx.Response) -> str:
        """At most ERROR_BODY_BYTES of the body, decoded leniently."""
        data = b""
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= ERROR_BODY_BYTES:
                break
        return data[:ERROR_BODY_BYTES].decode("utf-8", errors="replace")

    async def read_json(self, response: httpx.Response, url: str) -> Any:
        body = await response.aread()
        try:
            return json.loads(body)
        except ValueError as exc:
            text = body[:EXCERPT_CHARS].decode("utf-8", errors="replace")
            raise BackendProtocolError(
                f"{self.kind}: invalid JSON from {url}: {excerpt(text)}"
            ) from exc

    async def drain(self, chunks: AsyncIterator[bytes]) -> None:
        """Read what follows the terminal event, briefly, so the connection can be reused."""
        with contextlib.suppress(TimeoutError, httpx.HTTPError):
            async with asyncio.timeout(DRAIN_S):
                async for _ in chunks:
                    pass


async def pump(
    exchange: AsyncGenerator[str, None], queue: asyncio.Queue[str | BaseException | None]
) -> None:
    """Move ``exchange``'s deltas into ``queue``, then None (the end) or the error it raised."""
    try:
        async with contextlib.aclosing(exchange):
            async for text in exchange:
                queue.put_nowait(text)
    except asyncio.CancelledError:
        # Wakes a consumer still waiting when someone else cancelled us (backend.aclose()).
        queue.put_nowait(BackendError("the model call was cancelled: the backend was closed"))
        raise
    except Exception as exc:  # handed to the consumer, which raises it in its own task
        queue.put_nowait(exc)
        return
    queue.put_nowait(None)


def model_ids(data: Any) -> list[str]:
    """Model names from an OpenAI-style ``{"data": [{"id": …}]}`` listing."""
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        return []
    return [str(item["id"]) for item in data["data"] if isinstance(item, Mapping) and "id" in item]


# -- prompts (weft.completion.prompt builds them; imported lazily to keep the layers apart) --


def templated_prompt(request: FimRequest, template: str) -> tuple[str, list[str]]:
    """Our whole FIM prompt for ``template`` and the stops to send with it."""
    from weft.completion import prompt

    text = prompt.build_fim_prompt(
        template,
        request.prefix,
        request.suffix,
        path=request.path,
        language=request.language,
        extra=request.extra,
    )
    return text, merge_stops(request.stop, prompt.stop_tokens(template))


def chat_fill_messages(request: FimRequest) -> list[dict[str, str]]:
    """The hole-filling chat prompt (system message first, when there is one)."""
    from weft.completion import prompt

    return list(
        prompt.build_chat_fill_messages(
            request.prefix, request.suffix, request.path, request.language, request.extra
        )
    )


def untemplated_prompt(request: FimRequest) -> str:
    """The prefix for endpoints that take prefix and suffix apart (Ollama ``suffix``,
    ``/completions`` ``suffix``, Mistral FIM), with cross-file snippets on top as comments."""
    from weft.completion import prompt

    return str(
        prompt.prefix_with_context(request.prefix, request.path, request.language, request.extra)
    )


def strip_chat_answer(text: str, prefix: str = "") -> str:
    """A chat model's answer without code fences, chatter, or an echo of ``prefix``."""
    from weft.completion import prompt

    return str(prompt.strip_chat_answer(text, prefix))


def chat_stops(request: FimRequest) -> list[str]:
    """Stops for chat prompts: whitespace-only ones are dropped, because chat answers open
    with a code fence line (a ``"\\n"`` stop would end them before the code) and Anthropic
    rejects whitespace-only stop sequences."""
    return [stop for stop in merge_stops(request.stop) if stop.strip()]


async def stream_chat_code(stream: AsyncIterator[str], prefix: str) -> AsyncGenerator[str, None]:
    """The code of a chat model's streamed answer, yielded as soon as it is certain.

    Lines go out as they complete (see ``chat_code_so_far``), so a caller that has what it
    needs (one line, one block) can stop the stream early; the whole-answer clean-up
    (``strip_chat_answer``) has the last word on the rest.
    """
    from weft.completion.prompt import chat_code_so_far, strip_chat_answer

    received: list[str] = []
    emitted = ""
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        async for delta in stream:
            received.append(delta)
            if "\n" not in delta:
                continue  # nothing new is certain until a line completes
            code = chat_code_so_far("".join(received), prefix)
            if code is not None and len(code) > len(emitted) and code.startswith(emitted):
                yield code[len(emitted) :]
                emitted = code
    final = strip_chat_answer("".join(received), prefix)
    if final.startswith(emitted):
        if len(final) > len(emitted):
            yield final[len(emitted) :]
    else:
        logger.debug("chat answer turned out differently from what was streamed; stopping there")
