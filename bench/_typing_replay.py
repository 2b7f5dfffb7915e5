"""Realistic typing against the real ``weft serve``, as VS Code and as Neovim 0.12 drive it.

The implementation of ``bench/typing.py`` (run that).

A region of real code (a function from its ``def``, 300–340 characters by default) is cut out of a standard-library file
and typed back character by character into the open document, at random 30–150 ms intervals
(fixed seed), with occasional thinking pauses (after a line, sometimes after a word). Enter is
one keystroke that also inserts the next line's indentation, as editors auto-indent. The model
is a loopback Ollama with 150 ms latency (first chunk after 150 ms, 4 chunks 10 ms apart) that
answers with the true continuation of the file at the prompt's end: the rest of the line and up
to 3 more lines, never past the text the suffix already holds. It is an oracle: every suggestion
is right, so the cache figures are the best case a real model allows.

The two clients, modelled on their source:

* **VS Code** (``InlineCompletionsSource``): every change cancels the request in flight
  (``$/cancelRequest``) and starts a new fetch after its own 50 ms debounce
  (``InlineCompletionsDebounce`` min = max = 50 ms), which a further keystroke also cancels.
  ``didChange`` goes out at once. A cancelled request's answer is never shown.
* **Neovim 0.12** (``runtime/lua/vim/lsp/inline_completion.lua`` @ c2c5a02): on ``InsertEnter``
  and every ``CursorMovedI`` the 200 ms ``defer_fn`` timer is reset and, when it fires, an
  automatic request is sent; requests are never cancelled (only on ``InsertLeave``). Every
  answer is shown: an empty one hides the ghost text, a non-empty one is drawn at the cursor
  whatever the buffer version. ``didChange`` is rate-limited by ``debounce_text_changes``
  (150 ms since the last flush, ``_changetracking.lua``) and flushed before each request.

* **burst** (stress, not a real client): Neovim without the timer reset, i.e. one request
  200 ms after *every* keystroke, none ever cancelled, the reading of Neovim in the issue. It
  piles requests up on purpose, to check that superseded ones are answered empty at once and
  that the model server never sees more than one live call.

All modes show the ghost text client-side while the user types characters that match it.

Figures per mode: model calls per keystroke; keystrokes whose answer came from the
typing-through cache; typed-through keystrokes (the character typed matched the suggestion on
screen) and how their requests were answered; model calls wasted (never shown: aborted, or
finished and discarded); stale answers (a non-empty answer for a document version that was no longer current when
it arrived, with how long before it the change was sent) and how many the client would show;
latency from keystroke and from request to a suggestion on screen. The server runs under
``bench/_server_probe.py``, which checks each non-empty answer as it is written: an answer
computed for a version older than the one the server holds at that moment is stale by the
server's own knowledge, the figure that must be 0 (the others are changes still on the wire).
Targets: ≤ 0.15 model calls per keystroke, every typed-through keystroke served from the cache,
0 stale.

    python bench/typing.py [--quick] [--mode vscode|neovim|burst|both|all] [--seed 7]
                           [--files 3] [--min-chars 300] [--max-chars 340] [--no-pauses]
                           [--debounce-ms N] [--no-probe]

Prints figures; never fails on a missed target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _lsp import (
    LspClient,
    Oracle,
    Reply,
    capabilities,
    insert_change,
    items_of,
    no_nagle,
    ollama_settings,
    percentile,
    source_of,
    stdlib_file,
)
from tests.loopback import LoopbackServer
from tests.wire import serve_ollama

GENERATE = "/api/generate"
FILES = ("textwrap.py", "json/decoder.py", "configparser.py", "csv.py", "string.py")
MODEL_LATENCY_S = 0.15
VSCODE_DEBOUNCE_S = 0.05
NVIM_DEFER_S = 0.2
NVIM_TEXT_CHANGES_S = 0.15
SETTLE_S = 1.0
CLOSE_LAG_MS = 12.0


# -- the script: what is typed, when ---------------------------------------------------


@dataclass(frozen=True)
class Region:
    name: str
    original: str
    start: int
    end: int

    @property
    def typed(self) -> str:
        return self.original[self.start : self.end]


def pick_region(name: str, rng: random.Random, lo: int, hi: int) -> Region:
    """A function of ``lo``–``hi`` characters from its ``def`` to its last line (or to the last
    line end within ``hi`` characters: typing the start of a longer function)."""
    text = stdlib_file(name)
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    found = []
    for i, line in enumerate(lines):
        m = re.match(r"( *)def ", line)
        if not m:
            continue
        indent = len(m.group(1))
        j = i + 1
        while j < len(lines) and (
            not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
        ):
            j += 1
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1
        start, end = starts[i] + indent, starts[j] - 1
        if end - start > hi:  # the function's first lines, cut at a line end
            end = text.rfind("\n", start, start + hi + 1)
        if lo <= end - start <= hi and text[start:end].isascii():
            found.append(Region(name, text, start, end))
    return rng.choice(found)


@dataclass(frozen=True)
class Key:
    text: str
    at: float
    """Seconds after the file's first keystroke."""


def keystrokes(typed: str, rng: random.Random, pauses: bool) -> list[Key]:
    """One key per character; Enter also inserts the next line's indentation (auto-indent)."""
    keys: list[Key] = []
    at, i = 0.0, 0
    while i < len(typed):
        if typed[i] == "\n":
            j = i + 1
            while j < len(typed) and typed[j] in " \t":
                j += 1
            text = typed[i:j]
        else:
            text = typed[i]
        i += len(text)
        keys.append(Key(text, at))
        at += rng.uniform(0.03, 0.15)
        if pauses and text.startswith("\n") and rng.random() < 0.35:
            at += rng.uniform(0.3, 0.9)  # reading the line just written
        elif pauses and text == " " and rng.random() < 0.06:
            at += rng.uniform(0.25, 0.7)  # thinking of the next word
    return keys


# -- the client --------------------------------------------------------------------------


@dataclass
class Request:
    id: int
    version: int
    cursor: int
    """Cursor offset in the original file (typing keeps the document a prefix of it)."""
    sent: float
    cancelled: bool = False
    reply: Reply | None = None


@dataclass
class Stats:
    keys: int = 0
    requests: int = 0
    cancelled: int = 0
    by_version: dict[int, str] = field(default_factory=dict)
    """Per keystroke (document version): the source of the last answer for it the client took
    (``model``, ``stream``, ``cache`` or ``empty``)."""
    typed_through_versions: set[int] = field(default_factory=set)
    typed_through: int = 0
    stale: int = 0
    """Non-empty answers for a version that was no longer the client's when they arrived."""
    stale_unsent: int = 0
    """... of which the newer text had not been sent yet (Neovim buffers didChange)."""
    stale_before_cancel: int = 0
    """... of which the request had been cancelled and the server answered it anyway: it had
    finished before it read the cancel, which the client sent before the change."""
    stale_shown: int = 0
    stale_gaps_ms: list[float] = field(default_factory=list)
    """For the other stale answers: how long before the answer arrived the change was sent."""
    empty_superseded: int = 0
    from_key_ms: list[float] = field(default_factory=list)
    from_request_ms: dict[str, list[float]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    """Typed-through keystrokes whose request was not answered from the cache (details)."""
    shown: list[tuple[float, int, int, str]] = field(default_factory=list)
    """(time, file index, cursor in the original, text) of every suggestion put on screen."""


class Editor:
    """One client typing into one document: VS Code's or Neovim's request policy."""

    def __init__(self, client: LspClient, mode: str, stats: Stats) -> None:
        self.client, self.mode, self.stats = client, mode, stats
        self.loop = asyncio.get_running_loop()
        self.uri = ""
        self.file_index = 0
        self.text = ""
        self.version = 0
        self.base = 0
        """Where the typed region starts, in the original and in the document."""
        self.typed = 0
        self.ghost: str | None = None
        self.key_time: dict[int, float] = {}
        self.sent: list[tuple[int, float]] = []
        """(version, time) of every didChange sent."""
        self.in_flight: Request | None = None
        self.requests: dict[int, Request] = {}
        self.timer: asyncio.TimerHandle | None = None
        # Neovim's change tracking
        self.pending: list[dict[str, Any]] = []
        self.last_flush = -1e9
        self.flush_timer: asyncio.TimerHandle | None = None

    # -- document ------------------------------------------------------------------------

    def open(self, uri: str, file_index: int, region: Region) -> None:
        self.uri, self.file_index = uri, file_index
        self.text = region.original[: region.start] + region.original[region.end :]
        self.base, self.typed, self.ghost = region.start, 0, None
        self.version += 1
        self.sent.append((self.version, time.perf_counter()))
        self.client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": self.version,
                    "text": self.text,
                }
            },
        )
        if self.mode != "vscode":
            self._schedule(NVIM_DEFER_S, self.send_request)  # InsertEnter

    def close(self) -> None:
        for handle in (self.timer, self.flush_timer):
            if handle is not None:
                handle.cancel()
        self.flush()
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": self.uri}})

    @property
    def cursor(self) -> int:
        return self.base + self.typed

    def type_key(self, key: str) -> None:
        now = time.perf_counter()
        self.stats.keys += 1
        if self.mode == "vscode" and self.in_flight is not None:
            self.client.cancel(self.in_flight.id)
            self.in_flight.cancelled = True
            self.stats.cancelled += 1
            self.in_flight = None
        change = insert_change(self.text, self.cursor, key)
        self.text = self.text[: self.cursor] + key + self.text[self.cursor :]
        self.version += 1
        self.typed += len(key)
        self.key_time[self.version] = now
        if self.ghost is not None and self.ghost.startswith(key):
            self.ghost = self.ghost[len(key) :] or None
            if self.ghost is not None:  # typing its last character leaves nothing to serve
                self.stats.typed_through += 1
                self.stats.typed_through_versions.add(self.version)
        else:
            self.ghost = None
        if self.mode == "vscode":
            self._send_changes([change])
            self._schedule(VSCODE_DEBOUNCE_S, self.send_request)
        else:
            self.pending.append(change)
            wait = NVIM_TEXT_CHANGES_S - (now - self.last_flush)
            if self.flush_timer is not None:
                self.flush_timer.cancel()
                self.flush_timer = None
            if wait <= 0:
                self.flush()
            else:
                self.flush_timer = self.loop.call_later(wait, self.flush)
            if self.mode == "burst":  # no timer reset: one request per keystroke
                self.loop.call_later(NVIM_DEFER_S, self.send_request)
            else:
                self._schedule(NVIM_DEFER_S, self.send_request)  # CursorMovedI

    def _schedule(self, delay: float, fn: Any) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.loop.call_later(delay, fn)

    def flush(self) -> None:
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        if self.pending:
            self.last_flush = time.perf_counter()
            changes, self.pending = self.pending, []
            self._send_changes(changes)

    def _send_changes(self, changes: list[dict[str, Any]]) -> None:
        self.sent.append((self.version, time.perf_counter()))
        self.client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": self.uri, "version": self.version}, "contentChanges": changes},
        )

    # -- requests ------------------------------------------------------------------------

    def send_request(self) -> None:
        self.timer = None
        if self.mode != "vscode":
            self.flush()
        params = {
            "textDocument": {"uri": self.uri},
            "position": _position(self.text, self.cursor),
            "context": {"triggerKind": 2},
        }
        msg_id, future = self.client.request("textDocument/inlineCompletion", params)
        req = Request(msg_id, self.version, self.cursor, time.perf_counter())
        self.requests[msg_id] = req
        self.stats.requests += 1
        if self.mode == "vscode":
            self.in_flight = req
        future.add_done_callback(lambda f: self._on_reply(req, f))

    def _on_reply(self, req: Request, future: asyncio.Future[Reply]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        reply = future.result()
        req.reply = reply
        if self.in_flight is req:
            self.in_flight = None
        if reply.error is not None:
            return  # a cancelled request answered with RequestCancelled
        items = items_of(reply.result)
        current = req.version == self.version  # versions never repeat, across files too
        if items and not current:
            self.stats.stale += 1
            changed = min((t for v, t in self.sent[-50:] if v > req.version), default=None)
            if changed is None or changed > reply.received:
                self.stats.stale_unsent += 1
            elif req.cancelled:
                self.stats.stale_before_cancel += 1
            else:
                self.stats.stale_gaps_ms.append((reply.received - changed) * 1000)
            if not req.cancelled:
                self.stats.stale_shown += 1  # Neovim draws it at the cursor, whatever changed
                self.ghost = None
            return
        if not current:
            self.stats.empty_superseded += 1
            return
        if req.cancelled:
            return  # VS Code drops the answer of a cancelled request
        source = source_of(items[0]) if items else "empty"
        self.stats.by_version[req.version] = source
        if req.version in self.stats.typed_through_versions:
            if source != "cache":
                self.stats.misses.append(
                    f"{self.mode} v{req.version}: {self.text[max(0, self.cursor - 40) : self.cursor]!r}"
                    f" | ghost before {self.ghost!r} -> {source} {items[:1]}"
                )
        if not items:
            if self.mode != "vscode":
                self.ghost = None  # Completor:select finds no item and hides the ghost text
            return
        ghost = _ghost_text(items[0], self.text, self.cursor)
        self.ghost = ghost or None
        if ghost:
            self.stats.shown.append((reply.received, self.file_index, req.cursor, ghost))
            self.stats.from_key_ms.append(
                (reply.received - self.key_time.get(req.version, req.sent)) * 1000
            )
            self.stats.from_request_ms.setdefault(source, []).append(
                (reply.received - req.sent) * 1000
            )


def _position(text: str, offset: int) -> dict[str, int]:
    line = text.count("\n", 0, offset)
    return {"line": line, "character": offset - (text.rfind("\n", 0, offset) + 1)}


def _offset(text: str, pos: dict[str, int]) -> int:
    start = 0
    for _ in range(pos["line"]):
        start = text.index("\n", start) + 1
    return start + pos["character"]


def _ghost_text(item: dict[str, Any], text: str, cursor: int) -> str:
    """What the item shows after the cursor (its range may start before the cursor)."""
    insert = item.get("insertText")
    insert = insert if isinstance(insert, str) else (insert or {}).get("value", "")
    rng = item.get("range")
    if rng is None:
        return str(insert)
    start = _offset(text, rng["start"])
    return str(insert)[max(0, cursor - start) :]


# -- one run ------------------------------------------------------------------------------


async def run_mode(
    mode: str,
    regions: list[Region],
    scripts: list[list[Key]],
    debounce_ms: int | None,
    server_script: Path | None = None,
    probe: bool = True,
) -> tuple[Stats, dict[str, Any], dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix=f"weft-bench-typing-{mode}-"))
    root = work / "ws"
    root.mkdir()
    stats = Stats()
    oracle = Oracle([r.original for r in regions], max_lines=4)

    with LoopbackServer() as srv:
        no_nagle(srv)
        serve_ollama(srv, text=oracle, chunks=4, first_delay_s=MODEL_LATENCY_S, delay_s=0.01)
        settings = ollama_settings(srv.url, debounce_ms if debounce_ms is not None else 75)
        if debounce_ms is None:
            del settings["completion"]["debounceMs"]  # the shipped default
        entry = (str(server_script),) if server_script else ("-m", "weft")
        if server_script is None and probe:
            entry = (str(Path(__file__).resolve().parent / "_server_probe.py"),)
        client = await LspClient.start(settings, work / "server.log", entry=entry)
        try:
            encodings = ("utf-16",) if mode == "vscode" else ("utf-8", "utf-16", "utf-32")
            await client.initialize(root, capabilities(encodings))
            editor = Editor(client, mode, stats)
            for index, (region, keys) in enumerate(zip(regions, scripts, strict=True)):
                path = root / region.name.replace("/", "_")
                path.write_text(region.original, encoding="utf-8")
                editor.open(path.as_uri(), index, region)
                await asyncio.sleep(0.5)
                start = time.perf_counter()
                for key in keys:
                    delay = start + key.at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    editor.type_key(key.text)
                await asyncio.sleep(SETTLE_S)
                assert editor.text == region.original, "the document drifted from the original"
                editor.close()
            await asyncio.sleep(0.3)
            status = await client.status()
        finally:
            await client.stop()
        calls = [r for r in srv.requests_to(GENERATE)]
        model = {
            "calls": len(calls),
            "cut": sum(1 for r in calls if r.aborted),
            "max_concurrent": srv.max_concurrent(GENERATE),
            "overlaps": overlaps(calls),
            "oracle_misses": oracle.misses,
            "unused": unused_calls(calls, stats, oracle),
            "log": work / "server.log",
        }
        log = (work / "server.log").read_text(encoding="utf-8", errors="replace")
        model["probe_fresh"] = log.count("PROBE fresh ")
        model["probe_stale"] = log.count("PROBE stale ")
    return stats, status, model


def overlaps(calls: list[Any]) -> list[tuple[float, bool, str]]:
    """Model calls that overlapped the one before: (overlap in ms, was the earlier one closed
    by the client before its end, the later call's prompt tail)."""
    out = []
    ordered = sorted(calls, key=lambda r: r.time)
    for before, after in zip(ordered, ordered[1:], strict=False):
        end = before.ended if before.ended is not None else float("inf")
        if end > after.time:
            tail = str((after.body or {}).get("prompt", ""))[-30:]
            out.append(((end - after.time) * 1000, bool(before.aborted), tail))
    return out


def unused_calls(calls: list[Any], stats: Stats, oracle: Oracle) -> int:
    """Calls whose text never reached the screen (directly, joined, or from the cache).

    Each suggestion shown is credited to the latest call that had ended by then and whose
    answer covers it (same file, started at or before the cursor, text matching). A call weft
    stopped early (the decided extent was complete) or aborted counts as ended.
    """
    done = [r for r in calls if r.ended is not None and getattr(r, "answer", None) is not None]
    used: set[int] = set()
    for _when, file_index, cursor, ghost in stats.shown:
        best = None
        for r in done:
            _, index, offset, text = r.answer
            if index != file_index or offset > cursor:
                continue
            covered = oracle.originals[index][offset:cursor] + ghost
            if text.startswith(covered) or covered.startswith(text):
                if best is None or r.ended > best.ended:
                    best = r
        if best is not None:
            used.add(id(best))
    return sum(1 for r in done if id(r) not in used)


def print_mode(mode: str, stats: Stats, status: dict[str, Any], model: dict[str, Any]) -> None:
    keys = stats.keys or 1
    print(f"\n== {mode} ==")
    print(
        f"  keystrokes {stats.keys}, requests {stats.requests}"
        f" ({stats.cancelled} cancelled by the client)"
    )
    print(
        f"  model calls {model['calls']} = {model['calls'] / keys:.3f} per keystroke"
        f"   (server: modelCalls {status['modelCalls']}, streamJoins {status['streamJoins']},"
        f" cacheHits {status['cacheHits']}, superseded {status['superseded']},"
        f" abortedCalls {status['abortedCalls']}); at most {model['max_concurrent']} live"
    )
    # The loopback notices a closed stream at its next 10 ms poll: an overlap that short after
    # weft closed the earlier stream is that lag, not two calls weft kept alive.
    lag = [o for o in model["overlaps"] if o[1] and o[0] <= CLOSE_LAG_MS]
    for ms, cut, tail in [o for o in model["overlaps"] if o not in lag][:5]:
        print(
            f"    two live calls for {ms:.1f} ms (the earlier one closed by weft: {cut});"
            f" the later one's prompt ends {tail!r}"
        )
    if lag:
        print(
            f"    ({len(lag)} overlap(s) of at most {max(o[0] for o in lag):.1f} ms right after weft"
            f" closed the earlier stream: the loopback server notices a close at its next 10 ms"
            f" poll)"
        )
    wasted = model["unused"]
    print(
        f"  calls wasted {wasted} ({100 * wasted / max(1, model['calls']):.0f} % of calls):"
        f" never shown, directly, joined or from the cache; weft aborted"
        f" {status['abortedCalls']} calls in all; {model['cut']} streams were closed early"
        f" (extent complete, or aborted)"
    )
    answers = dict(sorted(Counter(stats.by_version.values()).items()))
    cache = answers.get("cache", 0)
    print(
        f"  keystrokes answered from the typing-through cache {cache}/{stats.keys}"
        f" = {100 * cache / keys:.1f} %   (answers for current versions: {answers};"
        f" the rest got no request or a superseded one)"
    )
    tt = dict(
        sorted(
            Counter(
                stats.by_version[v] for v in stats.typed_through_versions if v in stats.by_version
            ).items()
        )
    )
    tt_requested = sum(tt.values())
    tt_cache = tt.get("cache", 0)
    print(
        f"  typed-through keystrokes {stats.typed_through}; with an answered request"
        f" {tt_requested}, of which from the cache {tt_cache}"
        f" ({100 * tt_cache / max(1, tt_requested):.0f} %)  {tt}"
    )
    gaps = ", ".join(f"{g:.1f}" for g in sorted(stats.stale_gaps_ms)[-8:])
    print(
        f"  stale answers {stats.stale}, shown by the client {stats.stale_shown}:"
        f" {stats.stale_before_cancel} finished before the server read the cancel (a race on the"
        f" wire; VS Code drops them), {stats.stale_unsent} for text the client had not sent yet,"
        f" {len(stats.stale_gaps_ms)} others"
        + (f" (change sent {gaps} ms before the answer arrived)" if gaps else "")
    )
    probed = model["probe_fresh"] + model["probe_stale"]
    if probed:
        print(
            f"  non-empty answers written while the server already held a newer version:"
            f" {model['probe_stale']} of {probed} (server-side probe; must be 0)"
        )
    print(f"  empty answers to superseded requests {stats.empty_superseded}")
    fk = stats.from_key_ms
    print(
        f"  keystroke → suggestion on screen: p50 {percentile(fk, 50):.0f} ms,"
        f" p95 {percentile(fk, 95):.0f} ms ({len(fk)} suggestions; includes the client's"
        f" debounce)"
    )
    for source, values in sorted(stats.from_request_ms.items()):
        print(
            f"  request → suggestion, {source:<6}: p50 {percentile(values, 50):6.1f} ms,"
            f" p95 {percentile(values, 95):6.1f} ms ({len(values)})"
        )
    for line in stats.misses[:5]:
        print(f"    not from the cache: {line}")
    print(f"  server log: {model['log']}")
    if model["oracle_misses"]:
        print(f"  (the oracle could not place {model['oracle_misses']} prompts)")
    avoidable = model["probe_stale"] if probed else len(stats.stale_gaps_ms)
    ok = model["calls"] / keys <= 0.15 and avoidable == 0 and tt_cache == tt_requested
    print(
        f"  targets (≤ 0.15 calls/keystroke, typed-through all from cache, 0 stale the server"
        f" had been told about):"
        f" {'met' if ok else 'MISSED'}"
    )


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    files = FILES[:1] if args.quick else FILES[: args.files]
    lo, hi = (150, 250) if args.quick else (args.min_chars, args.max_chars)
    regions = [pick_region(name, rng, lo, hi) for name in files]
    scripts = [keystrokes(r.typed, rng, not args.no_pauses) for r in regions]
    total_keys = sum(len(s) for s in scripts)
    typing_s = sum(s[-1].at for s in scripts)
    print(
        f"typing {sum(len(r.typed) for r in regions)} characters ({total_keys} keystrokes)"
        f" from {', '.join(f'{r.name} ({len(r.typed)})' for r in regions)};"
        f" {typing_s:.0f} s of typing per mode; model latency {MODEL_LATENCY_S * 1000:.0f} ms;"
        f" server completion.debounceMs "
        f"{args.debounce_ms if args.debounce_ms is not None else 'default (75)'}"
    )
    modes = {"both": ("vscode", "neovim"), "all": ("vscode", "neovim", "burst")}.get(
        args.mode, (args.mode,)
    )
    for mode in modes:
        stats, status, model = await run_mode(
            mode, regions, scripts, args.debounce_ms, args.server_script, not args.no_probe
        )
        print_mode(mode, stats, status, model)
    load = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load[0]:.2f}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one region of 150-250 characters")
    parser.add_argument(
        "--mode",
        choices=("vscode", "neovim", "burst", "both", "all"),
        default="both",
        help="both: vscode + neovim; all: also burst",
    )
    parser.add_argument("--files", type=int, default=3, help="regions to type (max 5)")
    parser.add_argument(
        "--server-script",
        type=Path,
        default=None,
        help="run this script instead of `-m weft` (experiments that patch weft)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-chars", type=int, default=300, help="shortest region to type")
    parser.add_argument("--max-chars", type=int, default=340, help="longest region to type")
    parser.add_argument(
        "--no-pauses",
        action="store_true",
        help="only 30–150 ms intervals (Neovim then sends almost no request)",
    )
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="run plain `weft serve`, without bench/_server_probe.py",
    )
    parser.add_argument(
        "--debounce-ms",
        type=int,
        default=None,
        help="server completion.debounceMs (default: weft's default)",
    )
    asyncio.run(main(parser.parse_args()))
