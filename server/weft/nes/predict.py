"""The model-free predictor: from the edit history and the current snapshot to candidate next
edits, with no model and no network.

Two kinds of prediction, tried in order, each with strict preconditions so that an ordinary
edit (a new line of code, a changed literal, a comment) predicts nothing:

1. rename propagation (:mod:`weft.nes.rename`);
2. the same call-site edit at the other calls of the same callee (:mod:`weft.nes.repeat`).

The predictor is a pure function of its inputs and stateless: after the user accepts one
candidate the history holds one more edit, and the next call offers the remaining ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from weft.documents import Document
from weft.nes.candidate import Candidate
from weft.nes.history import Edit
from weft.nes.rename import Project, rename_candidates
from weft.nes.repeat import repeat_candidates

logger = logging.getLogger(__name__)

RECENT_EDITS = 3
"""The document's latest edit must be among this many latest edits of the workspace."""


def predict(
    document: Document,
    history: Sequence[Edit],
    *,
    cursor: int | None = None,
    project: Project | None = None,
) -> list[Candidate]:
    """Candidate next edits for ``document`` (its current snapshot), best first.

    ``history`` is the workspace's edit history, newest first (``EditHistory.recent()``). The
    document's latest edit must have been made on this very snapshot (same version) and be one
    of the workspace's latest few; otherwise there is nothing to predict from.
    """
    mine = [edit for edit in history if edit.uri == document.uri]
    if not mine or mine[0].version != document.version or mine[0].is_noop:
        return []
    latest = [edit for edit in history if not edit.is_noop][:RECENT_EDITS]
    if mine[0] not in latest:
        return []
    try:
        found = rename_candidates(document, mine, cursor=cursor, project=project)
        return found or repeat_candidates(document, mine, history, project=project)
    except Exception:  # noqa: BLE001 - a predictor's bug must cost the user nothing
        logger.exception("next-edit prediction failed for %s; nothing suggested", document.uri)
        return []
