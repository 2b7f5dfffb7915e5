"""The on-disk index: one SQLite file per workspace under the cache folder, one row per file
(path, language, size, mtime, content hash, status, the marshalled symbols).

Writes happen in transactions, so a crash leaves the previous state or the next one, never half
of a file. A cache that cannot be read, or was written by another format version, is deleted
and rebuilt with a log line. A cache weft may not write (a read-only mount, another user's
file) is never deleted: it is read as it is and changes stay in memory. Damage inside a row is
found by the symbols blob's digest (``extract.blob_is_sound``) and costs that row a re-parse.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger(__name__)

FORMAT_VERSION = "weft-index-3"  # 3: symbols blobs carry a digest

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    language TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha TEXT NOT NULL,
    status TEXT NOT NULL,
    defs INTEGER NOT NULL DEFAULT 0,
    refs INTEGER NOT NULL DEFAULT 0,
    kinds TEXT NOT NULL DEFAULT '',
    data BLOB
);
"""


class FileRow(NamedTuple):
    """A file as the cache knows it. ``status``: ok, listed (no grammar), or ``skip:<why>``."""

    path: str
    language: str | None
    size: int
    mtime_ns: int
    sha: str
    status: str
    defs: int = 0
    refs: int = 0
    kinds: str = ""  # JSON: definition kind -> count
    data: bytes | None = None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "weft"


def cache_path(root: Path, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the index of ``root`` lives: ``<cache>/<name>-<hash of the real root>.sqlite3``.

    A relative ``cache_dir`` (from settings) is taken relative to the workspace root.
    """
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    if not folder.is_absolute():
        folder = root / folder
    real = os.path.realpath(root)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(real).name)[:40] or "root"
    return folder / f"{name}-{digest}.sqlite3"


class Store:
    """One workspace's cache. Thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.read_only = False
        """True for a cache weft may read but not write: writes are skipped."""
        self._lock = threading.Lock()
        self._conn = self._open()

    def _connect(self) -> sqlite3.Connection:
        if self.path is None:
            return sqlite3.connect(":memory:", check_same_thread=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _open(self) -> sqlite3.Connection:
        if self.path is not None and self.path.exists() and not _writable(self.path):
            return self._open_read_only(self.path)
        try:
            conn = self._connect()
            conn.executescript(SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row is None:
                count = conn.execute("SELECT count(*) FROM files").fetchone()[0]
                if count:
                    raise sqlite3.DatabaseError("no format version")
                with conn:
                    conn.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT_VERSION,))
            elif row[0] != FORMAT_VERSION:
                raise sqlite3.DatabaseError(f"format {row[0]!r}, expected {FORMAT_VERSION!r}")
            return conn
        except (sqlite3.DatabaseError, OSError) as exc:
            return self._rebuild(exc)

    def _open_read_only(self, path: Path) -> sqlite3.Connection:
        uri = path.resolve().as_uri()
        for flags in ("mode=ro", "mode=ro&immutable=1"):  # WAL without a -shm needs immutable
            try:
                conn = sqlite3.connect(f"{uri}?{flags}", uri=True, check_same_thread=False)
                row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is None or row[0] != FORMAT_VERSION:
                    conn.close()
                    raise sqlite3.DatabaseError(f"format {row[0] if row else None!r}")
                conn.execute("SELECT count(*) FROM files").fetchone()
            except sqlite3.DatabaseError as exc:
                reason: Exception = exc
                if "format" in str(exc):
                    break
                continue
            logger.info("index cache %s is read-only: read as it is, changes kept in memory", path)
            self.read_only = True
            return conn
        logger.warning(
            "index cache %s is read-only and unusable (%s); index kept in memory", path, reason
        )
        return self._memory()

    def _memory(self) -> sqlite3.Connection:
        self.path = None
        self.read_only = False
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.executescript(SCHEMA)
        return conn

    def _rebuild(self, reason: Exception) -> sqlite3.Connection:
        if self.path is None:
            raise reason
        logger.warning("index cache %s unusable (%s); rebuilding it", self.path, reason)
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.warning(
                    "cannot remove %s%s: %s; index kept in memory", self.path, suffix, exc
                )
                self.path = None
        try:
            conn = self._connect()
            conn.executescript(SCHEMA)
            with conn:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT_VERSION,))
            return conn
        except (sqlite3.DatabaseError, OSError) as exc:
            logger.warning(
                "cannot create index cache %s (%s); index kept in memory", self.path, exc
            )
            return self._memory()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def rows(self) -> dict[str, FileRow]:
        """Every file's row without its symbols (for change detection)."""
        with self._lock:
            try:
                cursor = self._conn.execute(
                    "SELECT path, language, size, mtime_ns, sha, status, defs, refs, kinds FROM files"
                )
                return {row[0]: FileRow(*row) for row in cursor}
            except sqlite3.DatabaseError as exc:
                self._conn.close()
                self._conn = self._rebuild(exc) if not self.read_only else self._memory()
                return {}

    def blobs(self, paths: Iterable[str] | None = None) -> Iterator[tuple[str, bytes]]:
        """(path, symbols blob) of indexed files (all, or the given ones)."""
        with self._lock:
            try:
                if paths is None:
                    result = self._conn.execute(
                        "SELECT path, data FROM files WHERE status = 'ok'"
                    ).fetchall()
                else:
                    result = []
                    for path in paths:
                        row = self._conn.execute(
                            "SELECT path, data FROM files WHERE path = ? AND status = 'ok'", (path,)
                        ).fetchone()
                        if row is not None:
                            result.append(row)
            except sqlite3.DatabaseError as exc:
                logger.warning("index cache read failed: %s", exc)
                result = []
        yield from result

    def write(self, rows: Iterable[FileRow] = (), deletes: Iterable[str] = ()) -> None:
        """Upsert and delete in one transaction (all or nothing)."""
        rows, deletes = list(rows), list(deletes)
        if (not rows and not deletes) or self.read_only:
            return
        with self._lock:
            try:
                with self._conn:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                    )
                    self._conn.executemany(
                        "DELETE FROM files WHERE path = ?", ((p,) for p in deletes)
                    )
            except sqlite3.DatabaseError as exc:
                logger.warning("index cache write failed (%s); continuing in memory", exc)

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """Record a new size and mtime for a file whose content hash did not change."""
        if self.read_only:
            return
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute(
                        "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                        (size, mtime_ns, path),
                    )
            except sqlite3.DatabaseError as exc:
                logger.warning("index cache write failed: %s", exc)

    def rename(self, old: str, new: str) -> None:
        if self.read_only:
            return
        with self._lock:
            try:
                with self._conn:
                    self._conn.execute("DELETE FROM files WHERE path = ?", (new,))
                    self._conn.execute("UPDATE files SET path = ? WHERE path = ?", (new, old))
            except sqlite3.DatabaseError as exc:
                logger.warning("index cache write failed: %s", exc)


def _writable(path: Path) -> bool:
    """Whether weft may write the cache file and, for SQLite's journal, its folder."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
