"""Training the offline engine on a workspace: which files, where the model is kept.

The same ignore rules as the index (.gitignore, .weftignore, index.exclude, privacy.exclude)
decide what is learned, and the model lives next to the index cache, outside the workspace.
"""

from __future__ import annotations

import logging
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


def workspace_files(root: Path, settings: Settings) -> list[Path]:
    """Every file the ignore rules allow, in a stable order."""
    flt = WorkspaceFilter(root, settings)
    return [root / stat.rel for stat in walk_workspace(root, flt)]


async def train_root(
    engine: OfflineEngine,
    root: Path,
    settings: Settings,
    progress: Callable[[int, int, str], Any] | None = None,
) -> dict[str, Any]:
    """Learn (or refresh from the saved model) every allowed file under ``root``."""
    import asyncio

    files = await asyncio.to_thread(workspace_files, root, settings)
    return await engine.train_workspace(
        root, files, None, settings.index.max_file_kb * 1024, progress
    )
