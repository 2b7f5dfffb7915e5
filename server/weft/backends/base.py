"""The one small interface every completion backend implements, and its error tree.

A backend turns a :class:`FimRequest` into a stream of text deltas over the vendor's real wire
format. The stream ends normally only at the protocol's terminal event (``[DONE]``,
``done: true``, ``stop: true``, ``message_stop``); anything else is a :class:`BackendError`.

Error tree::

    BackendError
    ├── BackendUnavailable      connection refused, DNS, TLS: nothing answered
    ├── BackendTimeout          the whole call passed backend.timeoutMs
    ├── BackendHTTPError        a non-2xx status (``status``, ``body``)
    │   └── RateLimited         429 (``retry_after_s`` from Retry-After, if any)
    ├── BackendProtocolError    invalid JSON, a cut stream, an unexpected shape
    └── UnknownModel            the server does not have ``backend.model``

``stream_with_deadline`` enforces the hard deadline: httpx's read timeout resets on every
chunk, so a slow trickle would otherwise never time out. Cancelling the consumer closes the
generator, which closes the httpx response and frees the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


class BackendError(Exception):
    """A model call failed; ``str(error)`` is a one-line message fit for the user's log."""


class BackendUnavailable(BackendError):
    """Nothing answered at the backend's URL."""


class BackendTimeout(BackendError):
    """The call passed its hard deadline."""


class BackendHTTPError(BackendError):
    """The backend answered with a non-2xx status."""

    def __init__(self, message: str, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RateLimited(BackendHTTPError):
    """429: the caller should wait ``retry_after_s`` (None: unknown) before the next call."""

    def __init__(self, message: str, retry_after_s: float | None, body: str = "") -> None:
        super().__init__(message, 429, body)
        self.retry_after_s = retry_after_s


class BackendProtocolError(BackendError):
    """The answer did not follow the wire format (bad JSON, cut stream, wrong shape)."""


class UnknownModel(BackendError):
    """The backend does not serve the configured model."""


@dataclass(frozen=True)
class FimRequest:
    """One fill-in-the-middle request, independent of any wire format."""

    prefix: str
    """Text before the cursor (already windowed)."""
    suffix: str
    """Text after the cursor (already windowed)."""
    path: str = ""
    """Workspace-relative path of the file, ``/``-separated (templates that name files use it)."""
    language: str = ""
    """LSP language id (``python``, ``typescript``, …)."""
    max_tokens: int = 128
    temperature: float = 0.2
    stop: tuple[str, ...] = ()
    """Extra stop strings (e.g. ``"\\n"`` for single-line); template stop tokens are added by the backend."""
    extra: tuple[tuple[str, str], ...] = ()
    """Cross-file context as (path, text) snippets, most relevant last."""
    template: str | None = None
    """Resolved FIM template family (``starcoder``…), or None to let the endpoint apply its own."""
    n: int = 1
    """Candidates wanted (backends that cannot give several give one)."""
    redactions: tuple[str, ...] = ()
    """The redaction rules that fired building this request, once per secret (audit log)."""


@dataclass
class BackendInfo:
    """What ``weft doctor`` and the status line show about a backend."""

    kind: str
    url: str
    model: str | None
    models: list[str] = field(default_factory=list)
    reachable: bool = False
    error: str | None = None


class CompletionBackend(ABC):
    """A model server that completes code. One instance owns one ``httpx.AsyncClient``."""

    kind: str = "base"

    @abstractmethod
    def stream_fim(self, request: FimRequest) -> AsyncIterator[str]:
        """Yield text deltas of one candidate; return only after the terminal event."""

    async def list_models(self) -> list[str]:
        """Model names the server offers (empty when it cannot tell)."""
        return []

    async def aclose(self) -> None:  # noqa: B027 - optional hook: not every backend holds a client
        """Close the HTTP client."""


async def stream_with_deadline(
    backend: CompletionBackend, request: FimRequest, timeout_s: float
) -> AsyncIterator[str]:
    """``backend.stream_fim(request)`` under a hard deadline for the whole call."""
    deadline = time.monotonic() + timeout_s
    stream = backend.stream_fim(request)
    async with contextlib.aclosing(stream):  # type: ignore[type-var]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BackendTimeout(
                    f"{backend.kind}: no complete answer within {timeout_s * 1000:.0f} ms"
                )
            try:
                async with asyncio.timeout(remaining):
                    chunk = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise BackendTimeout(
                    f"{backend.kind}: no complete answer within {timeout_s * 1000:.0f} ms"
                ) from exc
            yield chunk


async def collect(stream: AsyncIterator[str]) -> str:
    """Join a whole stream."""
    return "".join([chunk async for chunk in stream])
