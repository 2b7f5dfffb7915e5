"""Next-edit prompts in the exact formats of the open next-edit models, and one for chat models.

Each builder is a pure function of a :class:`NesInput` (the document snapshot, the cursor, the
recent edits, cross-file snippets) and returns a :class:`NesPrompt`: the prompt text (or chat
messages), the stop strings and sampling, and the :class:`Region` of the document the answer
rewrites, which :mod:`weft.nes.parse` needs to turn the answer into edits.

- ``sweep``: Sweep Next-Edit 1.5B (``sweepai/sweep-next-edit-1.5B``, Qwen2.5-Coder base). The
  layout of Zed's self-hosted Sweep support (PR #51139, ``sweep_prompt.rs``, whose test follows
  the model card's ``run_model.py`` ordering) and of cursortab.nvim's Sweep provider: related
  files, then the last three changes as ``original:``/``updated:`` blocks, then a fixed 21-line
  window before the latest edit (``original/``), as it is now (``current/``), and the header
  ``updated/`` after which the model writes the window anew. No cursor marker. (Sweep's own
  ``sweep-autocomplete`` server and the v2-7B card use another layout with ``<|cursor|>`` and
  ``:start:end`` suffixes; the 1.5B's public serving recipes all use this one.)
- ``zeta``: Zed's Zeta (``zed-industries/zeta``, Qwen2.5-Coder-7B). The instruction prompt it was
  trained on: ``### Instruction:`` header, ``User edited "path":`` unified diffs (the quoted
  path of Zed's original ``{:?}`` formatting), the excerpt with ``<|editable_region_start|>``,
  ``<|user_cursor_is_here|>`` and ``<|editable_region_end|>``, then ``### Response:``.
- ``chat``: any instruction-following chat model; the answer is the editable region rewritten in
  a fenced block, or ``NO_EDITS``.

Sizes weft chooses (the models' own clients size regions by tokens and syntax): Zeta's editable
region is the cursor line ± ``EDITABLE_LINES`` with ``CONTEXT_LINES`` more on each side.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from weft.completion.window import estimate_tokens
from weft.documents import Document
from weft.nes.diffs import edit_sides, unified_hunks
from weft.nes.history import Edit
from weft.nes.text import splice_slice

FORMATS = ("sweep", "zeta", "chat")

# Sweep Next-Edit
SWEEP_FILE_SEP = "<|file_sep|>"
SWEEP_RESERVED = ("<|file_sep|>", "</s>")
SWEEP_STOPS = ("<|file_sep|>", "</s>", "<|endoftext|>")
SWEEP_LINES_ABOVE = 10
SWEEP_LINES_BELOW = 10
SWEEP_CHANGE_BLOCKS = 3
SWEEP_CHANGE_LINES = 40
SWEEP_MAX_TOKENS = 1024

# Zeta
ZETA_CURSOR = "<|user_cursor_is_here|>"
ZETA_START_OF_FILE = "<|start_of_file|>"
ZETA_REGION_START = "<|editable_region_start|>"
ZETA_REGION_END = "<|editable_region_end|>"
ZETA_INSTRUCTION = (
    "### Instruction:\n"
    "You are a code completion assistant and your task is to analyze user edits and then "
    "rewrite an excerpt that the user provides, suggesting the appropriate edits within the "
    "excerpt, taking into account the cursor location.\n\n"
    "### User Edits:\n\n"
)
ZETA_EXCERPT_HEADER = "\n\n### User Excerpt:\n\n"
ZETA_RESPONSE_HEADER = "\n\n### Response:\n"
ZETA_STOPS = (ZETA_REGION_END,)
ZETA_EVENT_TOKENS = 500
ZETA_MAX_TOKENS = 1024

# Regions for zeta and chat
EDITABLE_LINES = 5
CONTEXT_LINES = 10

# Chat
NO_EDITS = "NO_EDITS"
CHAT_SYSTEM = (
    "You predict the next edit a programmer will make. You are shown their most recent edits "
    "as diffs, related code from other files, and an excerpt of the file they are in. The "
    f"part they may change is between {ZETA_REGION_START} and {ZETA_REGION_END}; their "
    f"cursor is at {ZETA_CURSOR}.\n"
    "Continue the work their recent edits started (finish a rename, make the same change "
    "again, complete what they were writing). Never undo or revert their edits. Change "
    "nothing else.\n"
    "Answer with the editable part rewritten in full, without the markers, in one fenced code "
    f"block and nothing else. If nothing should change, answer {NO_EDITS}."
)
CHAT_EDIT_BLOCKS = 5
CHAT_MAX_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class Region:
    """The part of a snapshot an answer rewrites, as character offsets."""

    document: Document
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.document.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class NesPrompt:
    """A prompt ready for a backend: raw text for completion endpoints, or chat messages."""

    format: str
    region: Region
    cursor: int
    prompt: str = ""
    messages: tuple[ChatMessage, ...] = ()
    stop: tuple[str, ...] = ()
    max_tokens: int = 1024
    temperature: float = 0.0
    latest: Edit | None = None
    """The document's latest edit (an answer that undoes it is dropped)."""


@dataclass(frozen=True)
class NesInput:
    """Everything a prompt is built from."""

    document: Document
    cursor: int
    """Character offset in ``document.text``."""
    path: str
    """The document's workspace-relative path, ``/``-separated."""
    edits: Sequence[Edit] = ()
    """Recent edits across the workspace, newest first (``EditHistory.recent()``)."""
    path_of: Callable[[str], str] = field(default=lambda uri: uri)
    """Workspace-relative path of another document's URI (for the edits' headers)."""
    snippets: Sequence[tuple[str, str]] = ()
    """Cross-file context as (path, text), most relevant last."""

    def shown_edits(self) -> list[Edit]:
        """Edits worth showing a model, newest first."""
        return [e for e in self.edits if not e.opaque and not e.is_noop]

    def latest_here(self) -> Edit | None:
        return next((e for e in self.edits if e.uri == self.document.uri), None)


def build_prompt(fmt: str, source: NesInput) -> NesPrompt | None:
    """The prompt of format ``fmt`` (see :data:`FORMATS`); None when it cannot be built."""
    builder = {"sweep": sweep_prompt, "zeta": zeta_prompt, "chat": chat_prompt}.get(fmt)
    return builder(source) if builder is not None else None


# -- lines ----------------------------------------------------------------------------------


def _line_of(document: Document, offset: int) -> int:
    return bisect.bisect_right(document.line_starts, offset) - 1


def _line_span(document: Document, first: int, last: int) -> tuple[int, int]:
    """Offsets from the start of line ``first`` to the end of line ``last`` (no line break)."""
    first = max(0, first)
    last = min(document.line_count - 1, last)
    start = document.line_starts[first]
    end = document.line_starts[last] + len(document.line_text(last))
    return start, end


# -- Sweep ----------------------------------------------------------------------------------


def sweep_prompt(source: NesInput) -> NesPrompt | None:
    document = source.document
    line = _line_of(document, source.cursor)
    start, end = _line_span(document, line - SWEEP_LINES_ABOVE, line + SWEEP_LINES_BELOW)
    current = document.text[start:end]
    latest = source.latest_here()
    original = _window_before(document.text, start, end, latest)
    related = [(path, text) for path, text in source.snippets]
    changes = [
        (source.path_of(edit.uri), *edit_sides(edit))
        for edit in source.shown_edits()[:SWEEP_CHANGE_BLOCKS]
    ][::-1]
    fields = [source.path, original, current, *(t for pair in related for t in pair)]
    fields += [t for change in changes for t in change]
    if any(token in text for text in fields for token in SWEEP_RESERVED):
        return None
    prompt = "".join(_sweep_block(path, text) for path, text in related)
    for path, before, after in changes:
        original_lines = _clip(before)
        body = f"original:\n{original_lines}" + ("" if original_lines.endswith("\n") else "\n")
        prompt += _sweep_block(f"{path}.diff", body + f"updated:\n{_clip(after)}")
    prompt += _sweep_block(f"original/{source.path}", original)
    prompt += _sweep_block(f"current/{source.path}", current)
    prompt += f"{SWEEP_FILE_SEP}updated/{source.path}\n"
    return NesPrompt(
        "sweep",
        Region(document, start, end),
        source.cursor,
        prompt=prompt,
        stop=SWEEP_STOPS,
        max_tokens=SWEEP_MAX_TOKENS,
        latest=latest,
    )


def _sweep_block(path: str, content: str) -> str:
    return f"{SWEEP_FILE_SEP}{path}\n{content}" + ("" if content.endswith("\n") else "\n")


def _window_before(text: str, start: int, end: int, latest: Edit | None) -> str:
    """The window ``[start, end)`` mapped back to the text before the latest edit."""
    if latest is None or latest.opaque:
        return text[start:end]

    def to_old(offset: int) -> int:
        if offset < latest.start:
            return offset
        if offset < latest.end:
            return latest.start + min(offset - latest.start, len(latest.old_text))
        return offset - (latest.end - latest.start) + len(latest.old_text)

    lo, hi = sorted((to_old(start), to_old(end)))
    return splice_slice(text, latest.start, latest.end, latest.old_text, lo, hi)


def _clip(text: str) -> str:
    """At most SWEEP_CHANGE_LINES lines: the head and the tail around a ``...`` line."""
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    if len(lines) <= SWEEP_CHANGE_LINES:
        return "\n".join(lines)
    head = SWEEP_CHANGE_LINES // 2
    tail = SWEEP_CHANGE_LINES - head - 1
    return "\n".join([*lines[:head], "...", *lines[len(lines) - tail :]])


# -- Zeta -----------------------------------------------------------------------------------


ZETA_RESERVED = (ZETA_CURSOR, ZETA_START_OF_FILE, ZETA_REGION_START, ZETA_REGION_END)


def _holds_markers(source: NesInput) -> bool:
    """The file or the snippets already hold the region markers: an answer could not be read."""
    texts = [source.document.text, *(text for _, text in source.snippets)]
    return any(marker in text for text in texts for marker in ZETA_RESERVED)


def zeta_prompt(source: NesInput) -> NesPrompt | None:
    if _holds_markers(source):
        return None
    region = editable_region(source.document, source.cursor)
    events = zeta_events(source)
    excerpt = _excerpt(source, region)
    return NesPrompt(
        "zeta",
        region,
        source.cursor,
        prompt=ZETA_INSTRUCTION + events + ZETA_EXCERPT_HEADER + excerpt + ZETA_RESPONSE_HEADER,
        stop=ZETA_STOPS,
        max_tokens=ZETA_MAX_TOKENS,
        latest=source.latest_here(),
    )


def editable_region(document: Document, cursor: int) -> Region:
    line = _line_of(document, cursor)
    start, end = _line_span(document, line - EDITABLE_LINES, line + EDITABLE_LINES)
    return Region(document, start, end)


def zeta_events(source: NesInput) -> str:
    """The recent edits, oldest first, as many as fit the budget from the newest back."""
    events: list[str] = []
    budget = ZETA_EVENT_TOKENS
    for edit in source.shown_edits():
        hunks = unified_hunks(edit)
        if not hunks:
            continue
        path = json.dumps(source.path_of(edit.uri), ensure_ascii=False)
        event = f"User edited {path}:\n```diff\n{hunks}\n```"
        cost = estimate_tokens(event)
        if cost > budget:
            break
        budget -= cost
        events.append(event)
    return "\n\n".join(reversed(events))


def _excerpt(source: NesInput, region: Region) -> str:
    document = source.document
    first = _line_of(document, region.start)
    last = _line_of(document, region.end)
    context_start, context_end = _line_span(document, first - CONTEXT_LINES, last + CONTEXT_LINES)
    text = document.text
    cursor = min(max(source.cursor, region.start), region.end)
    head = f"```{source.path}\n" + (f"{ZETA_START_OF_FILE}\n" if context_start == 0 else "")
    return (
        head
        + text[context_start : region.start]
        + f"{ZETA_REGION_START}\n"
        + text[region.start : cursor]
        + ZETA_CURSOR
        + text[cursor : region.end]
        + f"\n{ZETA_REGION_END}"
        + text[region.end : context_end]
        + "\n```"
    )


# -- chat -----------------------------------------------------------------------------------


def chat_prompt(source: NesInput) -> NesPrompt | None:
    if _holds_markers(source):
        return None
    region = editable_region(source.document, source.cursor)
    parts = []
    edits = source.shown_edits()[:CHAT_EDIT_BLOCKS][::-1]
    if edits:
        diffs = [
            f"--- a/{source.path_of(e.uri)}\n+++ b/{source.path_of(e.uri)}\n{unified_hunks(e)}"
            for e in edits
        ]
        parts.append("My recent edits, oldest first:\n\n```diff\n" + "\n".join(diffs) + "\n```")
    if source.snippets:
        related = "\n\n".join(
            f"{path}:\n```\n{text.rstrip()}\n```" for path, text in source.snippets
        )
        parts.append(f"Related code:\n\n{related}")
    parts.append(f"The file I am editing:\n\n{_excerpt(source, region)}")
    parts.append("What is my next edit in the editable part?")
    return NesPrompt(
        "chat",
        region,
        source.cursor,
        messages=(ChatMessage("system", CHAT_SYSTEM), ChatMessage("user", "\n\n".join(parts))),
        max_tokens=CHAT_MAX_TOKENS,
        latest=source.latest_here(),
    )
