"""What the agent knows before its first model call, under a token budget.

In order of priority: the diagnostics, the code around the target (its enclosing function or
class, from the index), the definitions of the names that code uses (with signatures), the files
that import the target, and a compact map of the repository — files and their most important
symbols, ranked the way aider's repo map ranks them: a graph of files (an edge from each file
that references a name to each file that defines it, weighted by how often and how specific the
name is), personalised PageRank seeded at the target file, each file's rank then shared out over
the definitions its referencers use.
"""

from __future__ import annotations

import builtins
import keyword
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from weft.agent.repomap import RepoMapCache, rank_tags, render_map
from weft.agent.tools import PathRefused, Workspace, definition_rows, number_lines

logger = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
DEFAULT_BUDGET_TOKENS = 6000
MAX_NAMES = 30
WINDOW_LINES = 25
MAX_TARGET_LINES = 160

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMON = set(keyword.kwlist) | set(dir(builtins)) | {
    "self", "cls", "this", "true", "false", "null", "nil", "None", "True", "False",
    "const", "let", "var", "func", "fn", "pub", "impl", "struct", "return", "import", "from",
    "int", "str", "float", "bool", "string", "void", "new", "public", "private", "static",
}  # fmt: skip


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class Diagnostic:
    """A diagnostic as the agent shows it: 0-based line, message, source/code if any."""

    line: int
    message: str
    source: str = ""


@dataclass(frozen=True)
class Target:
    """Where the agent was asked to work: a workspace-relative path and 0-based lines."""

    path: str
    start_line: int
    end_line: int
    column: int = 0


@dataclass
class ContextSection:
    title: str
    body: str
    required: bool = False


@dataclass
class GatheredContext:
    """The sections that fit the budget, and what the agent learnt while gathering them."""

    sections: list[ContextSection] = field(default_factory=list)
    target_lines: tuple[int, int] | None = None
    names: list[str] = field(default_factory=list)

    def render(self) -> str:
        return "\n\n".join(f"## {s.title}\n{s.body.rstrip()}" for s in self.sections)


def gather_context(
    workspace: Workspace,
    target: Target | None,
    diagnostics: list[Diagnostic],
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    mentioned: Iterable[str] = (),
    repo_cache: RepoMapCache | None = None,
) -> GatheredContext:
    """All context sections for one run, cut to ``budget_tokens``."""
    out = GatheredContext()
    index = workspace.index
    text: str | None = None
    if target is not None:
        try:
            text = workspace.read_raw(target.path)
        except PathRefused as exc:
            out.sections.append(ContextSection("Target", f"{target.path}: refused: {exc}", True))
    if diagnostics and target is not None:
        body = "\n".join(
            f"- {target.path}:{d.line + 1}: {d.message}" + (f" [{d.source}]" if d.source else "")
            for d in diagnostics
        )
        out.sections.append(ContextSection("Diagnostics", body, True))
    region = ""
    if target is not None and text is not None:
        lo, hi = _target_span(index, target, text)
        out.target_lines = (lo, hi)
        lines = text.splitlines()
        region = "\n".join(lines[lo : hi + 1])
        body = f"{target.path}, lines {lo + 1}-{hi + 1} of {len(lines)}:\n" + number_lines(
            lines[lo : hi + 1], lo + 1
        )
        out.sections.append(ContextSection("Code at the target", body, True))
    if region and index is not None:
        out.names = used_names(region)
        defs = definitions_section(workspace, out.names, target.path if target else "")
        if defs:
            out.sections.append(ContextSection("Definitions of names used there", defs))
        importers = _safe(index, "importers_of", target.path if target else "") or []
        paths = [str(p) for p in importers if workspace._allowed(str(p))]
        if paths:
            out.sections.append(
                ContextSection("Files that import it", "\n".join(sorted(paths)[:40]))
            )
    used = sum(estimate_tokens(s.body) + 8 for s in out.sections)
    _fit(out.sections, budget_tokens)
    remaining = budget_tokens - sum(estimate_tokens(s.body) + 8 for s in out.sections)
    if remaining > 200 and index is not None and repo_cache is not None:
        seeds = {target.path} if target else set()
        try:
            graph = repo_cache.get(index, workspace._allowed)
            ranked = rank_tags(graph, seeds, set(out.names) | set(mentioned))
            repo_map = render_map(ranked, remaining, workspace.for_prompt)
        except Exception:  # the map is a hint; an index error must not stop the run
            logger.exception("repository map failed")
            repo_map = ""
        if repo_map:
            out.sections.append(
                ContextSection("Repository map (files and their key symbols)", repo_map)
            )
    logger.debug("context: %d sections, ~%d tokens before the map", len(out.sections), used)
    return out


def _target_span(index: Any, target: Target, text: str) -> tuple[int, int]:
    """0-based first and last line to show: the enclosing symbol, else a window."""
    total = max(1, len(text.splitlines()))
    symbol = _safe(index, "enclosing_symbol", target.path, target.start_line, target.column)
    if symbol is not None:
        lo, hi = int(symbol.start_line), int(symbol.end_line)
        if 0 <= hi - lo < MAX_TARGET_LINES:
            return max(0, lo), min(total - 1, max(hi, target.end_line))
    lo = max(0, target.start_line - WINDOW_LINES)
    hi = min(total - 1, max(target.end_line, target.start_line) + WINDOW_LINES)
    return lo, hi


def used_names(code: str) -> list[str]:
    """Identifiers in ``code`` worth looking up, most frequent first."""
    counts = Counter(m.group(0) for m in _IDENT.finditer(code))
    names = [n for n, _ in counts.most_common() if n not in _COMMON and len(n) > 1]
    return names[: MAX_NAMES * 2]


def definitions_section(workspace: Workspace, names: list[str], target_path: str) -> str:
    """``path:line (kind) signature`` for the definitions of ``names`` the index knows."""
    rows: list[str] = []
    for name in names:
        if len(rows) >= MAX_NAMES:
            break
        try:
            found = definition_rows(workspace, name, limit=3)
        except Exception:
            logger.exception("index.find_definitions failed")
            continue
        for row in found:
            rows.append(f"{row['path']}:{row['line']} ({row['kind']}) {row['signature']}")
    return "\n".join(dict.fromkeys(rows))


def _safe(index: Any, method: str, *args: Any) -> Any:
    """Call an index method if it exists; an index error costs context, never the run."""
    fn = getattr(index, method, None) if index is not None else None
    if fn is None:
        return None
    try:
        return fn(*args)
    except Exception:
        logger.exception("index.%s failed", method)
        return None


def _fit(sections: list[ContextSection], budget_tokens: int) -> None:
    """Cut optional sections (last first), then required ones, until they fit."""

    def total() -> int:
        return sum(estimate_tokens(s.body) + 8 for s in sections)

    order = sorted(range(len(sections)), key=lambda i: (sections[i].required, -i))
    for section in (sections[i] for i in order):
        excess = total() - budget_tokens
        if excess <= 0:
            break
        keep = max(0, len(section.body) - excess * CHARS_PER_TOKEN)
        lines = section.body[:keep].splitlines()
        section.body = "\n".join(lines[:-1] if keep < len(section.body) else lines) + "\n[…]"
    sections[:] = [s for s in sections if s.body.strip() != "[…]"]
