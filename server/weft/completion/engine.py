"""The inline completion pipeline: one code path for the editor and for ``weft complete``.

A request is a document snapshot, a cursor offset and a trigger. The engine

1. answers from the typing-through cache when the user typed characters that match a
   suggestion already produced for this document (no model call);
2. debounces automatic triggers (``completion.debounceMs``); invoked triggers go at once;
3. joins a model call still streaming for the same document when the new request's prefix
   extends it, or aborts that call when it does not (at most one live call per document);
4. builds the window and the request, streams it under the hard deadline and stops the stream
   as soon as the decided extent (one line or one block) is complete;
5. post-processes the candidate (pure functions in ``postprocess``) and guards its syntax
   (``syntax``: parses run in a parse process under a budget; a request whose parse overran
   is answered empty).

Freshness: every request carries a generation number per document; a request that a newer
one superseded is answered empty at once, and a result computed for text that has since
changed is never returned (the handler re-checks the document version).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from weft.backends.base import (
    BackendError,
    CompletionBackend,
    FimRequest,
    RateLimited,
    stream_with_deadline,
)
from weft.completion import crossfile, extent, postprocess, prompt, window
from weft.completion.syntax import BoundedSyntax
from weft.documents import Document, line_ending_of
from weft.index.parse_host import ParseHost, ParseTimeout
from weft.privacy import redactions_for_send
from weft.secrets import redact, redact_around
from weft.settings import Settings

logger = logging.getLogger(__name__)

AUTO_CLOSERS = frozenset(")]}\"'`>")
REUSE_GRACE_S = 0.25
"""How long a cancelled request's model call stays alive for a following request to adopt."""
MAX_RECENT = 4


@dataclass(frozen=True)
class Selected:
    """``selectedCompletionInfo``: the popup item the user has selected, as offsets."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class CompletionRequest:
    """One inline completion request, independent of LSP."""

    doc: Document
    offset: int
    invoked: bool = False
    selected: Selected | None = None
    path: str = ""
    """Workspace-relative path, ``/``-separated (templates that name the file use it)."""
    index: Any = None
    """The workspace index, for cross-file context (``context.crossFile``); None: none."""


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: replace ``[start, end)`` of the document with ``text``."""

    text: str
    start: int
    end: int
    source: str = "model"
    """``model`` (a fresh call), ``stream`` (joined a call in flight) or ``cache`` (typed through)."""


@dataclass
class _Call:
    """A model call for one document, shareable by requests whose prefix extends it."""

    prefix: str
    suffix: str
    multiline: bool
    task: asyncio.Task[str] | None = None
    waiters: int = 0
    grace: asyncio.TimerHandle | None = None
    streamed: str = ""
    """Text received so far (a joining request compares it with what the user typed)."""
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever ``streamed`` grows."""

    def done(self) -> bool:
        return self.task is None or self.task.done()


@dataclass
class _Memory:
    """A finished raw candidate, kept so typing through it costs no model call."""

    prefix: str
    suffix: str
    raw: str
    multiline: bool


@dataclass
class _DocState:
    generation: int = 0
    superseded: asyncio.Event | None = None
    """Set when a newer request for the document begins (replaced by a fresh one each time)."""
    call: _Call | None = None
    recent: list[_Memory] = field(default_factory=list)


@dataclass
class EngineStats:
    """Counters for the status line, tests and benchmarks."""

    requests: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    stream_joins: int = 0
    superseded: int = 0
    aborted_calls: int = 0
    errors: int = 0
    prepare_s: float = 0.0
    """Time spent building windows, prompts and requests."""
    model_s: float = 0.0
    """Time spent waiting for model streams."""
    post_s: float = 0.0
    """Time spent post-processing and syntax-guarding candidates."""


class CompletionEngine:
    """Owns per-document completion state; ``complete`` is the whole pipeline."""

    def __init__(
        self,
        on_backend_error: Callable[[BackendError, str], None] | None = None,
        on_backend_ok: Callable[[str], None] | None = None,
        parse: ParseHost | None = None,
    ) -> None:
        self.syntax = BoundedSyntax(parse)
        """The keystroke path's parses (opener check, syntax guard), in a parse process."""
        self._docs: dict[str, _DocState] = {}
        self._on_error = on_backend_error or (lambda exc, kind: None)
        self._on_ok = on_backend_ok or (lambda kind: None)
        self._blocked_until = 0.0
        self._grace_s = REUSE_GRACE_S
        self.stats = EngineStats()

    # -- public ------------------------------------------------------------------------

    def forget(self, uri: str) -> None:
        """Drop a closed document's state and abort its model call."""
        state = self._docs.pop(uri, None)
        if state and state.call:
            self._abort(state.call)

    def is_current(self, uri: str, generation: int) -> bool:
        state = self._docs.get(uri)
        return state is not None and state.generation == generation

    def begin(self, uri: str) -> int:
        """Start a request for ``uri``: every earlier request for it is now superseded."""
        state = self._docs.setdefault(uri, _DocState())
        state.generation += 1
        if state.superseded is not None:
            state.superseded.set()
        state.superseded = asyncio.Event()
        self.stats.requests += 1
        return state.generation

    async def aclose(self) -> None:
        await self.syntax.aclose()

    async def complete(
        self,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        generation: int | None = None,
    ) -> list[Suggestion]:
        """Suggestions for ``request`` (empty when superseded, stale, or nothing good).

        A parse that overran its budget (a grammar that loops, a pathological text) answers
        this request with nothing; its document is no longer parsed with that grammar.
        """
        try:
            return await self._complete(request, settings, backend, generation)
        except ParseTimeout as exc:
            logger.warning("no completion for %s: %s", request.doc.uri, exc)
            return []

    async def _complete(
        self,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        generation: int | None,
    ) -> list[Suggestion]:
        uri = request.doc.uri
        gen = generation if generation is not None else self.begin(uri)
        state = self._docs.setdefault(uri, _DocState())
        self._grace_s = max(REUSE_GRACE_S, settings.completion.debounce_ms / 1000 + 0.1)
        text, offset = request.doc.text, request.offset
        prefix, suffix = text[:offset], text[offset:]
        multiline = await self.syntax.decide_multiline(
            uri, text, offset, request.doc.language, settings.completion.multiline
        )

        cached = None if request.selected else self._from_memory(state, prefix, suffix)
        if cached is not None and not request.invoked:
            found = await self._finish(request, [cached], multiline, "cache")
            if found:
                self.stats.cache_hits += 1
                return found

        if not request.invoked and settings.completion.debounce_ms:
            await asyncio.sleep(settings.completion.debounce_ms / 1000)
        if not self.is_current(uri, gen):
            self.stats.superseded += 1
            return []
        if time.monotonic() < self._blocked_until:
            logger.info(
                "completion skipped: backend rate limit in force for %.1f s more",
                self._blocked_until - time.monotonic(),
            )
            return []

        if request.selected is not None:
            raws, source = (
                await self._selected_candidates(request, settings, backend, multiline),
                "model",
            )
        else:
            raws, source = await self._candidates(state, request, settings, backend, multiline, gen)
        if not self.is_current(uri, gen):
            self.stats.superseded += 1
            return []
        return await self._finish(request, raws, multiline, source)

    # -- steps -------------------------------------------------------------------------

    async def _selected_candidates(
        self,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        multiline: bool,
    ) -> list[str]:
        """With a popup item selected, the model continues after the item's text (LSP 3.18)."""
        sel = request.selected
        assert sel is not None
        doc = request.doc
        text = doc.text[: sel.start] + sel.text + doc.text[sel.end :]
        view = replace(
            request,
            doc=Document(doc.uri, text, doc.version, doc.language_id, doc.encoding),
            offset=sel.start + len(sel.text),
            selected=None,
        )
        fim = self._fim_request(view, settings, backend, multiline)
        self.stats.model_calls += 1
        try:
            raw = await self._run_model(fim, view, settings, backend, multiline)
        except BackendError:
            return []
        return [raw] if raw else []

    def _from_memory(self, state: _DocState, prefix: str, suffix: str) -> str | None:
        for memory in state.recent:
            typed = _typed_since(memory.prefix, memory.suffix, prefix, suffix)
            if typed is not None and memory.raw.startswith(typed) and len(memory.raw) > len(typed):
                return memory.raw[len(typed) :]
        return None

    async def _candidates(
        self,
        state: _DocState,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        multiline: bool,
        gen: int,
    ) -> tuple[list[str], str]:
        text, offset = request.doc.text, request.offset
        prefix, suffix = text[:offset], text[offset:]
        call = state.call
        if call is not None and not call.done():
            typed = _typed_since(call.prefix, call.suffix, prefix, suffix)
            if typed is not None and not request.invoked:
                raw = await self._wait(call, typed, state.superseded)
                if raw is not None and raw.startswith(typed) and len(raw) > len(typed):
                    self.stats.stream_joins += 1
                    return [raw[len(typed) :]], "stream"
                if not self.is_current(request.doc.uri, gen):
                    return [], "model"
            else:
                self._abort(call)
        if request.invoked:
            return await self._invoked_candidates(request, settings, backend, multiline), "model"
        call = self._start_call(state, request, settings, backend, multiline)
        raw = await self._wait(call, "", state.superseded)
        return ([raw] if raw else []), "model"

    async def _invoked_candidates(
        self,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        multiline: bool,
    ) -> list[str]:
        """An explicit request: up to three candidates, sampled at rising temperatures."""
        base = settings.completion.temperature
        temps = [base, min(2.0, base + 0.4), min(2.0, base + 0.8)]
        fim = self._fim_request(request, settings, backend, multiline)
        self.stats.model_calls += len(temps)
        results = await asyncio.gather(
            *(
                self._run_model(replace(fim, temperature=t), request, settings, backend, multiline)
                for t in temps
            ),
            return_exceptions=True,
        )
        raws = [r for r in results if isinstance(r, str) and r]
        if raws:
            state = self._docs.setdefault(request.doc.uri, _DocState())
            self._remember(
                state,
                request.doc.text[: request.offset],
                request.doc.text[request.offset :],
                raws[0],
                multiline,
            )
        return raws

    def _start_call(
        self,
        state: _DocState,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        multiline: bool,
    ) -> _Call:
        text, offset = request.doc.text, request.offset
        prefix, suffix = text[:offset], text[offset:]
        fim = self._fim_request(request, settings, backend, multiline)
        call = _Call(prefix, suffix, multiline)

        async def run() -> str:
            raw = await self._run_model(fim, request, settings, backend, multiline, call)
            if raw:
                self._remember(state, prefix, suffix, raw, multiline)
            return raw

        self.stats.model_calls += 1
        call.task = asyncio.ensure_future(run())
        call.task.add_done_callback(_consume_exception)
        state.call = call
        return call

    async def _wait(
        self, call: _Call, typed: str = "", superseded: asyncio.Event | None = None
    ) -> str | None:
        """Wait for a shared call's whole answer; None if it fails or diverges from ``typed``.

        A request that joins a call in flight watches the stream: as soon as the text received
        contradicts what the user has typed since the call started, it stops waiting (and the
        call is aborted at once if nobody else waits for it). A cancelled waiter leaves the call
        alive for ``REUSE_GRACE_S`` so that the request that replaces it can adopt it.
        """
        assert call.task is not None
        call.waiters += 1
        if call.grace is not None:
            call.grace.cancel()
            call.grace = None
        diverged = False
        try:
            while not call.task.done():
                if superseded is not None and superseded.is_set():
                    return None  # a newer request took over: answer empty at once
                n = min(len(call.streamed), len(typed))
                if call.streamed[:n] != typed[:n]:
                    diverged = True
                    return None
                # asyncio.wait never cancels what it waits on, so the call outlives this waiter.
                watch: list[asyncio.Future[Any]] = [call.task]
                if superseded is not None:
                    watch.append(asyncio.ensure_future(superseded.wait()))
                if len(call.streamed) < len(typed):
                    call.progress.clear()
                    watch.append(asyncio.ensure_future(call.progress.wait()))
                try:
                    await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in watch[1:]:
                        w.cancel()
            return call.task.result()
        except asyncio.CancelledError:
            if call.task.cancelled():
                return None
            raise
        except BackendError:
            return None
        finally:
            call.waiters -= 1
            if call.waiters == 0 and not call.task.done():
                if diverged:
                    self._abort(call)
                else:
                    loop = asyncio.get_running_loop()
                    call.grace = loop.call_later(self._grace_s, self._abort, call)

    def _abort(self, call: _Call) -> None:
        if not call.done():
            assert call.task is not None
            self.stats.aborted_calls += 1
            call.task.cancel()

    def _fim_request(
        self,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        multiline: bool,
    ) -> FimRequest:
        started = time.perf_counter()
        doc = request.doc
        budget = settings.context.max_prompt_tokens
        extra: tuple[tuple[str, str], ...] = ()
        if settings.context.cross_file and request.index is not None:
            start = max(0, request.offset - crossfile.LOOKBACK_CHARS)
            extra = crossfile.cross_file_snippets(
                doc.text[start : request.offset], request.path, request.index, budget // 5
            )
            budget -= sum(window.estimate_tokens(text) for _, text in extra)
        win = window.build_window(doc.text, request.offset, budget)
        kind = backend.kind
        takes_suffix = kind in ("ollama", "llamacpp", "mistral", "offline")
        template = prompt.resolve_template(
            settings.completion.template,
            getattr(backend, "model", None) or settings.backend.model,
            kind,
            takes_suffix,
        )
        prefix, suffix = win.prefix, win.suffix
        fired: Counter[str] = Counter()
        if settings.privacy.redact_secrets:
            # One pass over both sides: a secret cut by the cursor is still one secret.
            prefix, suffix, fired = redact_around(prefix, suffix)
            redacted = [(path, redact(text)) for path, text in extra]
            for _, result in redacted:
                fired.update(result.fired)
            extra = tuple((path, result.text) for path, result in redacted)
            if fired:
                logger.info("masked %d secret(s) in the prompt", sum(fired.values()))
        fim = FimRequest(
            prefix=prefix,
            suffix=suffix,
            path=request.path or _display_path(doc),
            language=doc.language or doc.language_id,
            max_tokens=settings.completion.max_tokens
            if multiline
            else min(settings.completion.max_tokens, 64),
            temperature=settings.completion.temperature,
            template=template,
            extra=extra,
            redactions=tuple(sorted(fired.elements())),
        )
        self.stats.prepare_s += time.perf_counter() - started
        return fim

    async def _run_model(
        self,
        fim: FimRequest,
        request: CompletionRequest,
        settings: Settings,
        backend: CompletionBackend,
        multiline: bool,
        call: _Call | None = None,
    ) -> str:
        """Stream one candidate, stopping as soon as the decided extent is complete."""
        ctx = postprocess.context_for(request.doc.text, request.offset, request.doc.language)
        parts: list[str] = []
        timeout_s = settings.backend.timeout_ms / 1000
        started = time.perf_counter()
        try:
            with redactions_for_send("completion", Counter(fim.redactions)):
                async for chunk in stream_with_deadline(backend, fim, timeout_s):
                    parts.append(chunk)
                    so_far = "".join(parts)
                    if call is not None:
                        call.streamed = so_far
                        call.progress.set()
                    if extent.extent_complete(so_far, multiline, ctx):
                        break
        except RateLimited as exc:
            self._blocked_until = time.monotonic() + (
                1.0 if exc.retry_after_s is None else exc.retry_after_s
            )
            self.stats.errors += 1
            self._on_error(exc, backend.kind)
            raise
        except BackendError as exc:
            self.stats.errors += 1
            self._on_error(exc, backend.kind)
            raise
        finally:
            self.stats.model_s += time.perf_counter() - started
        self._on_ok(backend.kind)
        return "".join(parts)

    def _remember(
        self, state: _DocState, prefix: str, suffix: str, raw: str, multiline: bool
    ) -> None:
        state.recent.insert(0, _Memory(prefix, suffix, raw, multiline))
        del state.recent[MAX_RECENT:]

    async def _finish(
        self, request: CompletionRequest, raws: list[str], multiline: bool, source: str
    ) -> list[Suggestion]:
        started = time.perf_counter()
        doc, offset = request.doc, request.offset
        ctx = postprocess.context_for(doc.text, offset, doc.language)
        keep = len(request.selected.text) if request.selected is not None else 0
        out: list[Suggestion] = []
        seen: set[str] = set()
        for raw in raws:
            cand = postprocess.postprocess(ctx, raw, multiline, request.selected)
            if cand is not None:
                cand = await self.syntax.guard(doc.uri, ctx, cand, keep)
            if cand is None:
                continue
            text = cand.insert_text
            if not text.strip() or text in seen:
                continue
            seen.add(text)
            out.append(Suggestion(text, cand.start_offset, cand.replace_end_offset, source))
        self.stats.post_s += time.perf_counter() - started
        return out[:3]


def _typed_since(old_prefix: str, old_suffix: str, prefix: str, suffix: str) -> str | None:
    """What was typed at the cursor since (old_prefix, old_suffix), or None if anything else changed.

    Auto-closed characters the editor inserted after the cursor (``(`` → ``()``) are allowed.
    """
    if len(prefix) < len(old_prefix) or not prefix.startswith(old_prefix):
        return None
    if suffix != old_suffix:
        extra = len(suffix) - len(old_suffix)
        if extra <= 0 or not suffix.endswith(old_suffix) or not set(suffix[:extra]) <= AUTO_CLOSERS:
            return None
    return prefix[len(old_prefix) :]


def _display_path(doc: Document) -> str:
    return doc.path.name if doc.path else doc.uri.rsplit("/", 1)[-1]


def _consume_exception(task: asyncio.Task[str]) -> None:
    if not task.cancelled():
        task.exception()


def document_line_ending(doc: Document) -> str:
    return line_ending_of(doc.text)
