"""``weft fix`` and ``weft refactor``: the editor's agent from a terminal (SPEC §1).

Both run the same :class:`~weft.agent.loop.AgentLoop` as the code actions, print the verified
edit as a unified diff, and with ``--apply`` write it: every file to a temporary file next to
it first, then each moved into place with ``os.replace``, so a file is never half-written.
Bad input is one line on stderr and exit status 2; an agent run that ends without a verified
edit is one line on stderr and exit status 1. Nothing is written unless ``--apply`` is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from weft.agent.context import Diagnostic, Target
from weft.agent.edits import unified_diff
from weft.agent.loop import (
    AgentConfigError,
    AgentLoop,
    AgentResult,
    AgentTask,
    agent_options,
    make_chat_client,
)
from weft.agent.tools import PathRefused, Workspace, workspace_for
from weft.consent import describe, needing_consent

logger = logging.getLogger(__name__)

EXIT_NO_EDIT = 1
"""The agent ran but ended without a verified edit."""
EXIT_BAD_INPUT = 2
"""Bad input, a missing backend included (SPEC §1)."""


def run_fix(args: Any) -> int:
    """``weft fix PATH:LINE [--root DIR] [--message TEXT] [--apply]``."""
    from weft.cli import CliError, find_root, parse_location, read_source

    path, (line,) = parse_location(args.location, 1)
    path = Path(path).resolve()
    text = read_source(path)
    total = len(text.splitlines()) or 1
    if line > total:
        raise CliError(f"line {line} is past the end of {path} ({total} lines)")
    root = Path(args.root).resolve() if getattr(args, "root", None) else find_root(path.parent)
    settings, workspace = _prepare(root, getattr(args, "settings", None))
    try:
        rel = workspace.resolve(os.path.relpath(path, workspace.root), for_write=True)
    except PathRefused as exc:
        raise CliError(f"{path}: {exc}") from exc
    message = (getattr(args, "message", None) or "").strip()
    diagnostics = [Diagnostic(line - 1, message)] if message else []
    task = AgentTask("fix", message, Target(rel, line - 1, line - 1), diagnostics)
    return _run(task, settings, workspace, _write_mode(args))


def _write_mode(args: Any) -> tuple[bool, bool]:
    """(``--apply``, ``--allow-config-edits``)."""
    return bool(getattr(args, "apply", False)), bool(getattr(args, "allow_config_edits", False))


def run_refactor(args: Any) -> int:
    """``weft refactor "INSTRUCTION" [--root DIR] [--apply]``."""
    from weft.cli import CliError

    instruction = (args.instruction or "").strip()
    if not instruction:
        raise CliError("the instruction is empty")
    root = Path(args.root).resolve() if getattr(args, "root", None) else Path.cwd()
    if not root.is_dir():
        raise CliError(f"no such folder: {root}")
    settings, workspace = _prepare(root, getattr(args, "settings", None))
    task = AgentTask("refactor", instruction)
    return _run(task, settings, workspace, _write_mode(args))


def _prepare(root: Path, settings_arg: str | None) -> tuple[Any, Workspace]:
    from weft.cli import CliError, load_settings

    if not root.is_dir():
        raise CliError(f"no such folder: {root}")
    settings, _ = load_settings(root, settings_arg)
    try:
        make_chat_client(settings)  # fail fast, before any work, on a missing chat model
    except AgentConfigError as exc:
        raise CliError(str(exc)) from exc
    return settings, workspace_for(root, settings, index=load_index(root, settings))


def load_index(root: Path, settings: Any) -> Any:
    """The workspace index for one-shot use, built or refreshed from its on-disk cache
    (None when indexing is off or fails: the agent still has its tools)."""
    if not settings.index.enabled:
        return None
    try:
        from weft.index.workspace import WorkspaceIndex

        index = WorkspaceIndex(root, settings)
        index.build()
        return index
    except Exception as exc:  # noqa: BLE001 - without an index the agent still works
        logger.warning("index unavailable: %s", exc)
        return None


def _run(task: AgentTask, settings: Any, workspace: Workspace, mode: tuple[bool, bool]) -> int:
    apply, allow_config_edits = mode
    result = asyncio.run(_agent(task, settings, workspace))
    if result.error is not None or not result.texts:
        sys.stderr.write(f"weft: {result.error or 'the model proposed no change'}\n")
        return EXIT_BAD_INPUT if result.no_backend else EXIT_NO_EDIT
    gated = needing_consent(result.texts)
    if gated and not allow_config_edits:
        if not apply:
            sys.stderr.write(
                f"weft: --apply would leave out {describe(gated)} unless you add "
                "--allow-config-edits\n"
            )
        else:
            sys.stderr.write(
                f"weft: left out {describe(gated)}; read the diff and rerun with "
                "--allow-config-edits to write them too\n"
            )
            result = dataclasses.replace(
                result,
                texts={p: t for p, t in result.texts.items() if p not in gated},
                created=result.created - set(gated),
            )
            if not result.texts:
                return EXIT_NO_EDIT
    diff = "".join(
        unified_diff(path, result.originals.get(path), result.texts[path])
        for path in sorted(result.texts)
    )
    if apply:
        reason = write_atomically(workspace.root, result)
        if reason is not None:
            sys.stderr.write(f"weft: {reason}\n")
            return EXIT_NO_EDIT
    sys.stdout.write(diff)
    sys.stdout.flush()
    return 0


async def _agent(task: AgentTask, settings: Any, workspace: Workspace) -> AgentResult:
    chat = make_chat_client(settings)
    progress = sys.stderr.isatty()

    def report(message: str) -> None:
        if progress:
            sys.stderr.write(f"\r\x1b[K{message[:100]}")
            sys.stderr.flush()

    try:
        return await AgentLoop(workspace, chat, agent_options(settings), report=report).run(task)
    finally:
        await chat.aclose()
        if progress:
            sys.stderr.write("\r\x1b[K")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(root: Path, result: AgentResult) -> str | None:
    """Write every changed file, or none: temp files first, then ``os.replace`` each.

    Refuses (returning the reason) when a file changed on disk since the agent read it.
    """
    for path in sorted(result.texts):
        target = root / path
        current = target.read_text(encoding="utf-8", errors="replace") if target.exists() else None
        if current != result.originals.get(path):
            return f"{path} changed on disk while weft was working; nothing was written"
    staged: list[tuple[str, Path]] = []
    try:
        for path in sorted(result.texts):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".weft", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(result.texts[path])
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            staged.append((tmp, target))
    except OSError as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return f"cannot write {exc.filename}: {exc.strerror}"
    for tmp, target in staged:
        os.replace(tmp, target)
    return None
