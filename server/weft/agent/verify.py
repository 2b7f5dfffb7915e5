"""Proving an edit before it reaches the editor: re-parse, then the user's verify command.

1. Every changed file is parsed with tree-sitter; an edit may not add ERROR or MISSING nodes
   (files that were already broken may stay as broken as they were, not more).
2. ``agent.verifyCommand`` — an argv from settings, never from the model — runs in a scratch
   copy of the workspace with the edits applied, inside the sandbox of :mod:`weft.sandbox`,
   under ``agent.verifyTimeoutS``. Inside the sandbox the copy sits at the workspace's own path
   (so absolute paths in a virtualenv's scripts or an editable install resolve into the copy)
   and hides the real tree; the project's virtualenvs and ``node_modules`` folders are mounted
   read-only at their places, so its toolchain works. The copy holds no excluded file, whatever
   a symlink points at. The user's tree is never touched. Output is trimmed before it goes back
   to the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from weft import sandbox
from weft.index.languages import get_parser, language_for_path
from weft.index.parse_host import VERIFY_BUDGET_S, ParseHost, ParseUnavailable

logger = logging.getLogger(__name__)

MAX_OUTPUT_CHARS = 4000
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache", ".tox"}


@dataclass(frozen=True)
class SyntaxProblem:
    """An ERROR or MISSING node: 1-based line and column, and what it is."""

    line: int
    column: int
    kind: str


def syntax_problems(
    text: str, language: str | None, limit: int = 200
) -> list[SyntaxProblem] | None:
    """ERROR/MISSING nodes of ``text`` (None when no grammar parses this language)."""
    parser = get_parser(language) if language else None
    if parser is None:
        return None
    tree = parser.parse(text.encode("utf-8", errors="surrogatepass"))
    problems: list[SyntaxProblem] = []
    if not tree.root_node.has_error:
        return problems
    stack = [tree.root_node]
    while stack and len(problems) < limit:
        node = stack.pop()
        if node.is_missing:
            problems.append(
                SyntaxProblem(
                    node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type}"
                )
            )
            continue
        if node.type == "ERROR":
            problems.append(
                SyntaxProblem(node.start_point[0] + 1, node.start_point[1] + 1, "syntax error")
            )
        if node.has_error:
            stack.extend(reversed(node.children))
    problems.sort(key=lambda p: (p.line, p.column))
    return problems


def new_syntax_problems(path: str, old: str | None, new: str) -> list[SyntaxProblem]:
    """Problems the edit added to ``path`` (empty when it added none or there is no grammar).

    Parses in this process; the agent uses :func:`bounded_new_syntax_problems`."""
    language = language_for_path(path)
    after = syntax_problems(new, language)
    if not after:
        return []
    return _added(after, syntax_problems(old, language) if old else [])


async def bounded_new_syntax_problems(
    path: str, old: str | None, new: str, host: ParseHost
) -> list[SyntaxProblem]:
    """:func:`new_syntax_problems` with each parse in ``host`` (a parse process) under
    ``VERIFY_BUDGET_S``. A grammar that overruns it or crashes skips the check for that file,
    as for a language without a grammar (the verify command still runs), with a log line."""
    language = language_for_path(path)
    if language is None:
        return []
    key = (path, language)
    try:
        after = await host.call("problems", (new, language), key, VERIFY_BUDGET_S)
        if not after:
            return []
        before = await host.call("problems", (old, language), key, VERIFY_BUDGET_S) if old else []
    except ParseUnavailable as exc:
        logger.warning("syntax check of %s skipped: %s", path, exc)
        return []
    return _added(after, before)


def _added(after: list[SyntaxProblem], before: list[SyntaxProblem] | None) -> list[SyntaxProblem]:
    if before is not None and len(after) <= len(before):
        return []
    return after


def describe_syntax_problems(path: str, text: str, problems: list[SyntaxProblem]) -> str:
    """A message for the model: where the edit broke the syntax, with the lines around it."""
    lines = text.splitlines()
    parts = [f"{path}: the edit leaves syntax errors (the file no longer parses):"]
    for problem in problems[:3]:
        lo = max(1, problem.line - 2)
        hi = min(len(lines), problem.line + 2)
        excerpt = "\n".join(f"{n:>5}| {lines[n - 1]}" for n in range(lo, hi + 1))
        parts.append(f"- line {problem.line}, column {problem.column}: {problem.kind}\n{excerpt}")
    return "\n".join(parts)


@dataclass(frozen=True)
class CommandResult:
    """What the verify command did: ``ok`` when it exited 0 within its deadline."""

    ok: bool
    returncode: int | None
    output: str
    timed_out: bool = False


def trim_output(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Head and tail of long output (failures tend to be summarised at the end)."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    return text[:head] + f"\n… [{len(text) - limit} characters cut] …\n" + text[-tail:]


def is_toolchain_dir(path: Path) -> bool:
    """A folder the project's tools run from rather than its source: a virtualenv or
    ``node_modules``."""
    return path.name == "node_modules" or (path / "pyvenv.cfg").is_file()


def copy_workspace(root: Path, dest: Path, is_excluded: Callable[[str], bool]) -> list[str]:
    """Copy ``root`` into ``dest`` without excluded files, VCS data or symlinks that escape or
    lead to an excluded file. Returns the toolchain folders found (relative paths), which are
    not copied: the sandbox mounts them read-only instead."""
    real_root = Path(os.path.realpath(root))
    toolchains: list[str] = []
    for dirpath, dirnames, filenames in os.walk(real_root):
        rel_dir = Path(dirpath).relative_to(real_root)
        prefix = "" if str(rel_dir) == "." else rel_dir.as_posix() + "/"
        keep = []
        for d in dirnames:
            full = Path(dirpath) / d
            if d in _SKIP_DIRS or os.path.islink(full) or is_excluded(prefix + d + "/"):
                if not os.path.islink(full) and is_toolchain_dir(full):
                    toolchains.append(prefix + d)
                continue
            if is_toolchain_dir(full):
                toolchains.append(prefix + d)
                continue
            keep.append(d)
        dirnames[:] = keep
        target_dir = dest / rel_dir
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            rel = prefix + name
            source = os.path.join(dirpath, name)
            if is_excluded(rel):
                continue
            real = os.path.realpath(source)
            if not Path(real).is_relative_to(real_root) or not os.path.isfile(real):
                continue
            if real != source and is_excluded(Path(real).relative_to(real_root).as_posix()):
                continue
            with contextlib.suppress(OSError):
                shutil.copy2(real, target_dir / name)
    return toolchains


async def run_verify_command(
    argv: list[str],
    root: Path,
    texts: dict[str, str],
    timeout_s: float,
    is_excluded: Callable[[str], bool] = lambda rel: False,
    sandboxed: bool = True,
) -> CommandResult:
    """Run ``argv`` in a scratch copy of ``root`` with ``texts`` (relative path → text) written
    in. Raises :class:`weft.sandbox.SandboxUnavailable` when ``sandboxed`` and there is none."""
    if sandboxed and (problem := sandbox.availability()) is not None:
        raise sandbox.SandboxUnavailable(problem)
    with tempfile.TemporaryDirectory(prefix="weft-verify-") as tmp:
        copy = Path(tmp) / "workspace"
        toolchains = await asyncio.to_thread(copy_workspace, root, copy, is_excluded)
        for rel, text in texts.items():
            path = copy / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
        real_root = Path(os.path.realpath(root))
        if sandboxed:
            mounts = [sandbox.Mount(copy, real_root, writable=True)]
            mounts += [sandbox.Mount(real_root / rel, real_root / rel) for rel in toolchains]
            cwd = real_root
        else:
            for rel in toolchains:  # unsandboxed: link the toolchains into the copy
                with contextlib.suppress(OSError):
                    (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                    (copy / rel).symlink_to(real_root / rel, target_is_directory=True)
            mounts, cwd = [], copy
        outcome = await sandbox.run(
            argv, cwd, mounts=mounts, timeout_s=timeout_s, sandboxed=sandboxed
        )
    if outcome.timed_out:
        return CommandResult(False, None, f"timed out after {timeout_s:g} s", timed_out=True)
    text = outcome.output + ("\n… [output cut]" if outcome.truncated else "")
    return CommandResult(outcome.ok, outcome.returncode, trim_output(text))
