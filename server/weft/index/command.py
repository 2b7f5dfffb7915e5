"""``weft index [ROOT] [--json]``: build or refresh the on-disk index of a workspace.

Prints a summary (or, with ``--json``, one object: files, symbols, kinds, references,
languages, seconds, reused, …). A progress bar goes to stderr when stderr is a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from weft.settings import Settings

logger = logging.getLogger(__name__)

BAR_WIDTH = 30


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most 20 times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, message: str) -> None:
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.05:
            return
        self._last = now
        filled = BAR_WIDTH * done // total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        label = message[-40:]
        self.stream.write(f"\r[{bar}] {100 * done // total:3d}% {done}/{total} {label:<40}")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * (BAR_WIDTH + 60) + "\r")
            self.stream.flush()


def run(root: str | None, as_json: bool, settings: Settings) -> int:
    """The command; returns the exit status (2 for bad input, 130 when interrupted)."""
    from weft.index.workspace import WorkspaceIndex

    folder = Path(root) if root else Path.cwd()
    if not folder.is_dir():
        sys.stderr.write(f"weft index: {folder} is not a folder\n")
        return 2
    bar = ProgressBar(sys.stderr)
    cancelled = False
    try:
        index = WorkspaceIndex(folder, settings, in_memory=False)
    except OSError as exc:
        sys.stderr.write(f"weft index: cannot open the index of {folder}: {exc}\n")
        return 2
    try:
        index.build(progress=bar, cancelled=lambda: cancelled)
    except KeyboardInterrupt:
        cancelled = True
        bar.finish()
        sys.stderr.write("weft index: interrupted\n")
        return 130
    finally:
        bar.finish()
    stats = index.stats()
    index.close()
    out = sys.stdout
    if as_json:
        out.write(json.dumps(stats, sort_keys=False) + "\n")
    else:
        out.write(format_summary(stats, os.fspath(folder)))
    return 0


def format_summary(stats: dict[str, object], root: str) -> str:
    """The human-readable summary ``weft index`` prints without ``--json``."""
    kinds = stats.get("kinds") or {}
    languages = stats.get("languages") or {}
    skipped = stats.get("skipped") or {}
    assert isinstance(kinds, dict) and isinstance(languages, dict) and isinstance(skipped, dict)
    lines = [
        f"indexed {root}: {stats['files']} files, {stats['symbols']} definitions, "
        f"{stats['references']} references in {stats['seconds']} s "
        f"({stats['reused']} reused from the cache, {stats['parsed']} parsed)",
    ]
    if kinds:
        lines.append("kinds: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
    if languages:
        lines.append("languages: " + ", ".join(f"{k} {v}" for k, v in languages.items()))
    if skipped:
        lines.append("skipped: " + ", ".join(f"{k} {v}" for k, v in skipped.items()))
    unreadable = stats.get("unreadable") or []
    if unreadable:
        assert isinstance(unreadable, list)
        lines.append("unreadable folders (skipped): " + ", ".join(unreadable))
    lines.append(f"cache: {stats.get('cache') or 'in memory (cache folder not writable)'}")
    return "\n".join(lines) + "\n"
