"""weft.offline: the built-in completion engine that needs no model server.

A statistical model of the workspace's code tokens (``tokenizer``, ``model``), a predictor that
completes the line and repeated blocks from it plus a cache of nearby text (``predict``), and
``OfflineEngine`` (``engine``), which learns the workspace in the background, persists the
model, and hands out an ``OfflineBackend`` (``weft.backends.offline``) for the ordinary
completion pipeline.
"""

from __future__ import annotations

from weft.offline.engine import OfflineEngine
from weft.offline.predict import PredictOptions

__all__ = ["OfflineEngine", "PredictOptions"]
