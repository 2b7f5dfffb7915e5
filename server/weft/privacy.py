"""What may leave the machine: secret redaction (detection lives in :mod:`weft.secrets`),
privacy exclusion globs, and the audit log of every request sent to a model server.

``redact_secrets`` masks credentials in text; the masked text keeps its line count, so it stays
useful as code. ``exclusion_of`` is the one decision, shared by the server and the command
line, of whether a file may be read into a prompt at all.

``is_excluded_by_privacy`` matches workspace-relative paths against gitignore-style globs,
case-insensitively (a missed match leaks a file; a false one only loses context).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from weft.ignore import Rule, compile_rules, matches_rules
from weft.secrets import KEY_MASK, MASK, redact
from weft.settings import PrivacySettings, Settings

logger = logging.getLogger(__name__)

__all__ = ["KEY_MASK", "MASK", "AuditLog", "redact_secrets", "redact_counting"]


def redact_secrets(text: str) -> tuple[str, int]:
    """``text`` with secrets masked, and how many were masked. Line count is kept."""
    result = redact(text)
    return result.text, result.count


def redact_counting(text: str, fired: Counter[str]) -> str:
    """``text`` with secrets masked; the rules that fired are added to ``fired``."""
    result = redact(text)
    fired.update(result.fired)
    return result.text


def is_excluded_by_privacy(rel_path: str, globs: list[str] | tuple[str, ...]) -> bool:
    """Whether a workspace-relative path matches the gitignore-style ``globs`` (last matching
    pattern wins, ``!`` negates, ``#`` comments, a matched folder covers its contents), ignoring
    case. The same rules as :class:`weft.ignore.WorkspaceFilter` applies to privacy.exclude."""
    return matches_rules(_privacy_rules(tuple(globs)), rel_path.replace("\\", "/"))


@functools.lru_cache(maxsize=64)
def _privacy_rules(globs: tuple[str, ...]) -> list[Rule]:
    return compile_rules(globs, source="privacy.exclude", ignore_case=True)


def is_private_name(rel_path: str, privacy: PrivacySettings) -> bool:
    """Whether a path is excluded by the privacy rules alone (the built-in deny list minus
    ``excludeRemove``, then ``privacy.exclude``, each list on its own): for files outside any
    workspace, where no ignore file applies."""
    return is_excluded_by_privacy(rel_path, privacy.default_denies()) or is_excluded_by_privacy(
        rel_path, privacy.exclude
    )


def exclusion_of(
    root: Path | None, path: Path | None, settings: Settings, file_filter: Any = None
) -> str | None:
    """Why the file at ``path`` may not be read into a prompt (its exclusion reason), or None.

    The one decision the server and the command line share: inside ``root`` the workspace's
    ignore files and privacy rules apply to the lexical and the real path; outside it (or with
    no root) the privacy rules apply to the path's name and to its real name.
    """
    if path is None:
        return None
    if root is not None:
        try:
            rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
        except ValueError:
            rel = None
        if rel is None:
            try:
                rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
            except ValueError:
                rel = None
        if rel is not None:
            if file_filter is None:
                from weft.ignore import WorkspaceFilter

                file_filter = WorkspaceFilter(root, settings)
            return file_filter.exclusion_reason(rel, is_dir=False)  # type: ignore[no-any-return]
    for name in (Path(path).name, Path(os.path.realpath(path)).name):
        if is_private_name(name, settings.privacy):
            return "privacy.exclude"
    return None


SEND_REDACTIONS: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar(
    "weft_send_redactions", default=None
)
"""The redactions made in building the request about to be sent (set by the caller around the
send with :func:`redactions_for_send`; read by the audit hook)."""
SEND_KIND: contextvars.ContextVar[str] = contextvars.ContextVar("weft_send_kind", default="probe")


@contextmanager
def redactions_for_send(kind: str, fired: Counter[str]) -> Iterator[None]:
    """Label the HTTP requests sent inside this block (and in tasks started from it)."""
    kind_token = SEND_KIND.set(kind)
    fired_token = SEND_REDACTIONS.set(fired)
    try:
        yield
    finally:
        SEND_KIND.reset(kind_token)
        SEND_REDACTIONS.reset(fired_token)


class AuditLog:
    """Appends one JSON line per HTTP request sent to a model server: time, method, endpoint,
    model, body size in bytes, what the request was for, and which redactions fired.

    It is hooked into every ``httpx`` client weft creates (:meth:`hooks`), so the count is
    exact: probes, retries of the caller and every candidate of an invoked completion each get
    their line. It never records the body itself (that would be a second copy of the code).
    The file is created with mode 0600; each record is one ``write`` on an ``O_APPEND``
    descriptor under a lock, so lines never interleave. Failures are logged, never raised.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path: Path | None = None
        self._lock = threading.Lock()
        self.set_path(path)

    def set_path(self, path: str | os.PathLike[str] | None) -> None:
        """Point the log at ``path`` (None: off); the hooks follow at once."""
        self.path = Path(os.path.expanduser(os.fspath(path))) if path else None

    def hooks(self, model: str | None) -> dict[str, list[Any]]:
        """``event_hooks`` for an ``httpx.AsyncClient`` whose requests go to ``model``."""

        async def on_request(request: Any) -> None:
            self.record_request(request.method, str(request.url), model, len(request.content))

        return {"request": [on_request]}

    def record_request(self, method: str, url: str, model: str | None, size: int) -> None:
        if self.path is None:
            return
        fired = SEND_REDACTIONS.get()
        self.record(
            {
                "method": method,
                "endpoint": _URL_SECRET_PARAM.sub(r"\1" + MASK, redact_secrets(url)[0]),
                "model": model,
                "bytes": size,
                "kind": SEND_KIND.get(),
                "redactions": dict(sorted((fired or {}).items())),
            }
        )

    def record(self, fields: dict[str, Any]) -> None:
        """Append one line: the time, then ``fields``."""
        if self.path is None:
            return
        try:
            line = json.dumps(
                {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields},
                ensure_ascii=False,
                default=str,
            )
            with self._lock:
                self._append(line + "\n")
        except Exception as exc:  # noqa: BLE001 - never let auditing break a request
            logger.warning("audit log %s: %s", self.path, exc)

    def _append(self, line: str) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "surrogatepass"))
        finally:
            os.close(fd)


_URL_SECRET_PARAM = re.compile(r"(?i)([?&](?:key|api_?key|token|access_token|sig)=)[^&#]+")
