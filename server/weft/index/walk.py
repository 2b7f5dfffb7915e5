"""Listing a workspace: every regular file not excluded by :class:`weft.ignore.WorkspaceFilter`,
with its size and mtime, following symlinks only while they stay inside the root and never
around a loop. Vanished entries and undecodable names are skipped with a log line; an unreadable
folder is skipped with a warning naming it (and reported to ``on_unreadable``, so the server and
the command line can say which).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from weft.ignore import WorkspaceFilter

logger = logging.getLogger(__name__)


class FileStat(NamedTuple):
    rel: str
    size: int
    mtime_ns: int


def _is_inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes: not representable in a URI or cache
        return False
    return True


def walk_workspace(
    root: Path,
    workspace_filter: WorkspaceFilter,
    cancelled: Callable[[], bool] = lambda: False,
    on_unreadable: Callable[[str, str], None] | None = None,
) -> Iterator[FileStat]:
    """Files under ``root`` in a stable order (folders depth-first, names sorted)."""
    root_real = os.path.realpath(root)
    seen_dirs = set()
    try:
        st = os.stat(root_real)
        seen_dirs.add((st.st_dev, st.st_ino))
    except OSError as exc:
        logger.warning("cannot read workspace %s: %s", root, exc)
        return
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        if cancelled():
            return
        path, rel_dir = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            why = exc.strerror or str(exc)
            logger.warning("skipping folder %s: %s", os.path.join(root, rel_dir), why)
            if on_unreadable is not None:
                on_unreadable(rel_dir or ".", why)
            continue
        subdirs = []
        for entry in entries:
            if not _valid_name(entry.name):
                logger.info("skipping %r in %s: name is not UTF-8", entry.name, rel_dir or ".")
                continue
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if not _is_inside(real, root_real):
                        logger.debug("skipping %s: link leaves the workspace", rel)
                        continue
                st = entry.stat()  # follows links
            except OSError as exc:  # dangling link, vanished file, permission
                logger.info("skipping %s: %s", rel, exc.strerror or exc)
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen_dirs:
                    logger.info("skipping %s: folder already visited (symlink loop?)", rel)
                    continue
                if workspace_filter.is_excluded(rel, is_dir=True):
                    continue
                seen_dirs.add(key)
                subdirs.append((entry.path, rel))
            elif stat.S_ISREG(st.st_mode):
                if not workspace_filter.is_excluded(rel, is_dir=False):
                    yield FileStat(rel, st.st_size, st.st_mtime_ns)
            # FIFOs, sockets and devices are never read: opening a FIFO would block
        stack.extend(reversed(subdirs))
