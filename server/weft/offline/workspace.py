"""Training the offline engine on a workspace: which files, where the model is kept.

The same ignore rules as the index (.gitignore, .weftignore, index.exclude, privacy.exclude)
decide what is learned, and the model lives next to the index cache, outside the workspace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from weft.ignore import WorkspaceFilter
from weft.index.store import cache_path
from weft.index.walk import walk_workspace
from weft.offline.engine import OfflineEngine
from weft.settings import Settings

logger = logging.getLogger(__name__)


def offline_cache_dir(root: Path | None, settings: Settings) -> Path | None:
    """The folder the offline model is saved in (the index cache folder), or None."""
    if root is None:
        return None
    return cache_path(root, settings.index.cache_dir).parent


def workspace_files(root: Path, settings: Settings, recursive: bool = True) -> list[Path]:
    """Every file the ignore rules allow, in a stable order (only ``root``'s own files when not
    ``recursive``)."""
    flt = WorkspaceFilter(root, settings)
    if recursive:
        return [root / stat.rel for stat in walk_workspace(root, flt)]
    try:
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if e.is_file() and not e.is_symlink())
    except OSError as exc:
        logger.warning("cannot list %s: %s", root, exc.strerror or exc)
        return []
    return [root / name for name in names if not flt.is_excluded(name, False)]


async def train_root(
    engine: OfflineEngine,
    root: Path,
    settings: Settings,
    progress: Callable[[int, int, str], Any] | None = None,
    recursive: bool = True,
) -> dict[str, Any]:
    """Learn (or refresh from the saved model) every allowed file under ``root`` (only its own
    files when not ``recursive``)."""
    import asyncio

    files = await asyncio.to_thread(workspace_files, root, settings, recursive)
    return await engine.train_workspace(
        root, files, None, settings.index.max_file_kb * 1024, progress
    )
