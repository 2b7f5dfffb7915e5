"""Test-wide setup: servers started by tests import this checkout and cache under a temp dir."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# pytest-lsp starts `python -m weft serve` with this process's environment.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO / "server"), str(REPO), os.environ.get("PYTHONPATH", "")) if p
)
os.environ.setdefault("WEFT_TEST", "1")
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="weft-test-cache-")
# The trust store and notices live here: tests never read or write the user's own.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="weft-test-state-")
os.environ.pop("OLLAMA_HOST", None)
