"""The workspace index: every file's definitions, references and imports, held in memory as
plain dicts for millisecond answers and mirrored in an SQLite cache for fast restarts.

Building (:meth:`WorkspaceIndex.build`) lists the workspace, takes unchanged files (same size
and mtime, or same content hash) from the cache, and parses the rest in worker processes. It
blocks, so the server runs it in a thread; queries and open-document updates may run at the
same time from the event loop (one lock guards the in-memory state).

Open documents are indexed from the editor's text (:meth:`update_document`) and win over the
disk until closed. Paths are workspace-relative with ``/``; lines are 0-based and columns UTF-8
byte offsets.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from weft.ignore import WorkspaceFilter, compile_rule, last_match, normalize_rel
from weft.index.extract import (
    EMPTY,
    FileSymbols,
    Symbol,
    blob_is_sound,
    from_blob,
    has_tags_query,
    unpack_ref,
)
from weft.index.imports import Import, resolve_import
from weft.index.incremental import IncrementalDocument
from weft.index.languages import has_grammar, language_for_path
from weft.index.store import FileRow, Store, cache_path
from weft.index.walk import FileStat, walk_workspace
from weft.index.workers import ParseJob, ParsePool, ParseResult
from weft.settings import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, message)
FLUSH_EVERY = 256
UNSAFE_STATUSES = ("skip:parse took too long", "skip:parser process crashed")


class SymbolHit(NamedTuple):
    path: str
    symbol: Symbol


class Reference(NamedTuple):
    path: str
    name: str
    line: int
    col: int
    kind: str


class ResolvedImport(NamedTuple):
    module: str
    names: tuple[str, ...]
    line: int
    paths: tuple[str, ...]  # workspace files it names (empty: outside the workspace)


class OpenTarget(NamedTuple):
    """An open document the index takes symbols for."""

    rel: str
    language: str
    parse: bool
    """False for a language without a tags query: nothing to parse (recorded already)."""


class FileEntry(NamedTuple):
    language: str | None
    status: str  # ok | listed (no grammar) | skip:<reason>
    symbols: FileSymbols


@dataclass
class BuildStats:
    files: int = 0
    parsed: int = 0
    reused: int = 0
    removed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cancelled: bool = False
    unreadable: list[str] = field(default_factory=list)
    """Folders that could not be listed (relative path and reason)."""


class WorkspaceIndex:
    """Symbols of a workspace. See the module docstring for the threading rules."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        settings: Settings | None = None,
        *,
        cache_file: Path | None | bool = True,
        workers: int = 2,
        file_budget_s: float = 5.0,
        nice: int = 0,
        in_memory: bool = True,
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = settings or Settings()
        self.filter = WorkspaceFilter(self.root, self.settings)
        if cache_file is True:
            cache_file = cache_path(self.root, self.settings.index.cache_dir)
        self.store = Store(cache_file or None)
        self.workers = workers
        self.file_budget_s = file_budget_s
        self.nice = nice
        self.in_memory = in_memory
        """False: build only the on-disk cache (``weft index``); queries then answer nothing."""
        self.last_build = BuildStats()
        self._lock = threading.RLock()
        self._build_lock = threading.Lock()
        self._docs_lock = threading.Lock()
        self._files: dict[str, FileEntry] = {}
        self._defs_by_name: dict[str, set[str]] = {}
        self._refs_by_name: dict[str, set[str]] = {}
        self._open: dict[str, str] = {}
        """Open documents (relative path → language): their symbols win over the disk."""
        self._local_docs: dict[str, IncrementalDocument] = {}
        """Trees of documents indexed in this process (``update_document``)."""
        self._loaded = False
        self._sorted_names: list[str] | None = None
        self._ref_counts: dict[str, int] | None = None
        self._importers: dict[str, set[str]] | None = None
        self._language_ok: dict[str, bool] = {}

    def close(self) -> None:
        self.store.close()

    def set_settings(self, settings: Settings) -> None:
        """New settings (exclusions may differ): the next build re-lists with a new filter."""
        with self._lock:
            self.settings = settings
            self.filter = WorkspaceFilter(self.root, settings)

    def clear(self) -> None:
        """Forget everything, on disk too (``weft.reindex`` with ``fresh``)."""
        with self._build_lock, self._lock:
            self.store.write((), list(self.store.rows()))
            for path in list(self._files):
                if path not in self._open:
                    self._drop(path)
            self._loaded = False

    # -- paths -----------------------------------------------------------------------------

    def rel(self, path: str | os.PathLike[str]) -> str | None:
        """Workspace-relative ``/`` path of an absolute or relative path; None outside."""
        text = os.fspath(path)
        if os.path.isabs(text):
            try:
                text = os.path.relpath(text, self.root)
            except ValueError:
                return None
        rel = normalize_rel(text)
        return rel or None

    def language_of(self, rel: str, language_id: str | None = None) -> str | None:
        """The weft language of a file when a grammar for it is installed."""
        from weft.index.languages import normalize_language

        language = normalize_language(language_id, rel) if language_id else language_for_path(rel)
        if language is None:
            return None
        ok = self._language_ok.get(language)
        if ok is None:
            ok = self._language_ok[language] = has_grammar(language)
        return language if ok else None

    # -- building --------------------------------------------------------------------------

    def build(
        self, progress: Progress | None = None, cancelled: Callable[[], bool] = lambda: False
    ) -> BuildStats:
        """List the workspace and bring the index up to date (blocking; use a thread)."""
        with self._build_lock:
            started = time.monotonic()
            stats = BuildStats()
            stored = self.store.rows()
            first = not self._loaded
            current: dict[str, FileStat] = {}
            jobs: list[ParseJob] = []
            rows: list[FileRow] = []
            reuse: list[str] = []
            max_bytes = self.settings.index.max_file_kb * 1024

            def unreadable(rel: str, why: str) -> None:
                stats.unreadable.append(f"{rel} ({why})")

            for fs in walk_workspace(self.root, self.filter, cancelled, unreadable):
                current[fs.rel] = fs
                language = self.language_of(fs.rel)
                row = stored.get(fs.rel)
                if (
                    row is not None
                    and row.language == language
                    and (row.size, row.mtime_ns) == (fs.size, fs.mtime_ns)
                ):
                    reuse.append(fs.rel)
                elif language is None:
                    rows.append(FileRow(fs.rel, None, fs.size, fs.mtime_ns, "", "listed"))
                elif fs.size > max_bytes:
                    reason = f"over-size ({fs.size // 1024} KB > index.maxFileKb)"
                    logger.info("skipping %s: %s", fs.rel, reason)
                    rows.append(
                        FileRow(fs.rel, language, fs.size, fs.mtime_ns, "", "skip:" + reason)
                    )
                else:
                    known = row.sha if row is not None and row.status == "ok" else None
                    jobs.append(
                        ParseJob(
                            fs.rel, str(self.root / fs.rel), language, max_bytes, known, fs.size
                        )
                    )
            if cancelled():
                stats.cancelled = True
                return stats
            removed = [path for path in stored if path not in current]
            with self._lock:
                removed.extend(
                    p
                    for p in self._files
                    if p not in current and p not in stored and p not in self._open
                )
            self.store.write(rows, removed)
            with self._lock:
                for path in removed:
                    self._drop(path)
                for row in rows:
                    self._apply_disk(row.path, FileEntry(row.language, row.status, EMPTY))
            stats.removed = len(removed)
            stats.reused = len(reuse)
            if not self.in_memory:
                jobs.extend(self._damaged(reuse, stored, max_bytes))
            elif first or any(p not in self._files for p in reuse):
                jobs.extend(self._load_reused(reuse, stored, current, max_bytes))
            self._loaded = True
            self._parse(jobs, current, stats, progress, cancelled)
            stats.files = len(current)
            stats.seconds = time.monotonic() - started
            self.last_build = stats
            return stats

    def _damaged(
        self, reuse: list[str], stored: dict[str, FileRow], max_bytes: int
    ) -> list[ParseJob]:
        """Without memory, rows that need re-parsing: from an older writer (no kind counts), or
        whose symbols blob fails its digest (damage is found row by row, at the cost of a hash)."""
        ok = [p for p in reuse if stored[p].status == "ok"]
        wanted = set(ok)
        sound = {
            path
            for path, blob in self.store.blobs(None if len(ok) > 64 else ok)
            if path in wanted and blob_is_sound(blob)
        }
        damaged = [p for p in ok if not stored[p].kinds or p not in sound]
        if damaged:
            logger.info(
                "index cache: %d of %d rows damaged; re-parsing them", len(damaged), len(ok)
            )
        return [
            ParseJob(
                p, str(self.root / p), stored[p].language or "", max_bytes, None, stored[p].size
            )
            for p in damaged
        ]

    def _load_reused(
        self,
        reuse: list[str],
        stored: dict[str, FileRow],
        current: dict[str, FileStat],
        max_bytes: int,
    ) -> list[ParseJob]:
        """Bring unchanged files into memory from the cache; damaged rows become parse jobs."""
        missing = [p for p in reuse if p not in self._files]
        wanted = set(missing)
        jobs = []
        loaded = set()
        for path, blob in self.store.blobs(None if len(wanted) > 64 else wanted):
            if path not in wanted:
                continue
            try:
                symbols = from_blob(blob)
            except (ValueError, EOFError, TypeError) as exc:
                logger.info("cache entry for %s unreadable (%s); re-parsing it", path, exc)
                continue
            row = stored[path]
            with self._lock:
                if path not in self._open:
                    self._put(path, FileEntry(row.language, row.status, symbols))
            loaded.add(path)
        for path in missing:
            if path in loaded:
                continue
            row = stored[path]
            if row.status == "ok":
                jobs.append(
                    ParseJob(
                        path, str(self.root / path), row.language or "", max_bytes, None, row.size
                    )
                )
            else:
                with self._lock:
                    self._put(path, FileEntry(row.language, row.status, EMPTY))
        return jobs

    def _parse(
        self,
        jobs: list[ParseJob],
        current: dict[str, FileStat],
        stats: BuildStats,
        progress: Progress | None,
        cancelled: Callable[[], bool],
    ) -> None:
        if not jobs:
            if progress is not None:
                progress(0, 0, "up to date")
            return
        jobs.sort(key=lambda job: -job.size)  # big files first: no straggler at the end
        batch: list[FileRow] = []
        gone: list[str] = []
        done = 0
        last_flush = time.monotonic()

        def on_result(result: ParseResult) -> None:
            nonlocal done, last_flush
            done += 1
            fs = current.get(result.rel)
            size = result.size or (fs.size if fs else 0)
            mtime = result.mtime_ns or (fs.mtime_ns if fs else 0)
            if result.status == "gone":
                gone.append(result.rel)
            elif result.status == "same":
                self.store.touch(result.rel, size, mtime)
                stats.reused += 1
            elif result.status == "skip":
                logger.info("skipping %s: %s", result.rel, result.reason)
                stats.skipped[result.reason.split(" (")[0]] += 1
                row = FileRow(
                    result.rel, result.language, size, mtime, result.sha, "skip:" + result.reason
                )
                batch.append(row)
                self._apply_disk(row.path, FileEntry(row.language, row.status, EMPTY))
            else:
                stats.parsed += 1
                row = FileRow(
                    result.rel,
                    result.language,
                    size,
                    mtime,
                    result.sha,
                    "ok",
                    result.defs,
                    result.refs,
                    result.kinds,
                    result.blob,
                )
                batch.append(row)
                if self.in_memory:  # (skip unmarshalling for the cache-only CLI)
                    self._apply_disk(
                        row.path, FileEntry(row.language, "ok", from_blob(result.blob))
                    )
            now = time.monotonic()
            if len(batch) >= FLUSH_EVERY or now - last_flush > 1.0:
                self.store.write(batch, gone)
                batch.clear()
                gone.clear()
                last_flush = now
            if progress is not None:
                progress(done, len(jobs), result.rel)

        with ParsePool(min(self.workers, len(jobs)), self.file_budget_s, self.nice) as pool:
            pool.run(jobs, on_result, cancelled)
        self.store.write(batch, gone)
        with self._lock:
            for path in gone:
                self._drop(path)
        stats.cancelled = cancelled()

    def refresh(self, paths: Iterable[str | os.PathLike[str]]) -> BuildStats:
        """Re-read files that changed on disk (created, changed or deleted), blocking.

        A folder that appeared means a re-scan (:meth:`build`, cheap when warm); a path that
        vanished takes everything under it along (a deleted folder is one event).
        """
        paths = list(paths)
        if any((self.root / rel).is_dir() for rel in map(self.rel, paths) if rel is not None):
            return self.build()
        stats = BuildStats()
        started = time.monotonic()
        current: dict[str, FileStat] = {}
        jobs: list[ParseJob] = []
        rows: list[FileRow] = []
        deletes: list[str] = []
        max_bytes = self.settings.index.max_file_kb * 1024
        for path in paths:
            rel = self.rel(path)
            if rel is None:
                continue
            try:
                st = os.stat(self.root / rel)
            except OSError:
                st = None
            if (
                st is None
                or not os.path.isfile(self.root / rel)
                or self.filter.is_excluded(rel, False)
            ):
                deletes.append(rel)
                if st is None:
                    with self._lock:
                        deletes.extend(p for p in self._files if p.startswith(rel + "/"))
                continue
            fs = current[rel] = FileStat(rel, st.st_size, st.st_mtime_ns)
            language = self.language_of(rel)
            if language is None:
                rows.append(FileRow(rel, None, fs.size, fs.mtime_ns, "", "listed"))
            elif fs.size > max_bytes:
                logger.info("skipping %s: over-size (%d KB)", rel, fs.size // 1024)
                rows.append(FileRow(rel, language, fs.size, fs.mtime_ns, "", "skip:over-size"))
            else:
                jobs.append(ParseJob(rel, str(self.root / rel), language, max_bytes, None, fs.size))
        self.store.write(rows, deletes)
        with self._lock:
            for rel in deletes:
                self._drop(rel)
            for row in rows:
                self._apply_disk(row.path, FileEntry(row.language, row.status, EMPTY))
        stats.removed = len(deletes)
        with self._build_lock:
            self._parse(jobs, current, stats, None, lambda: False)
        stats.files = len(current)
        stats.seconds = time.monotonic() - started
        return stats

    # -- changes -------------------------------------------------------------------------

    def open_document_target(
        self, path: str | os.PathLike[str], text: str, language_id: str | None = None
    ) -> OpenTarget | None:
        """Where an open document's symbols go; None when the path is not indexed (outside the
        root, excluded, no grammar, over ``index.maxFileKb``, or it hung or crashed a worker).
        A language without a tags query needs no parse (``parse`` False): it is recorded here.
        """
        rel = self.rel(path)
        if rel is None or self.filter.is_excluded(rel, False):
            return None
        language = self.language_of(rel, language_id)
        if language is None:
            return None
        if len(text) > self.settings.index.max_file_kb * 1024:
            return None
        with self._lock:
            known = self._files.get(rel)
        if known is not None and known.status.startswith(UNSAFE_STATUSES):
            return None  # it hung or crashed a worker: never parse it again
        if not has_tags_query(language):
            with self._lock:
                if known is None:
                    self._put(rel, FileEntry(language, "ok", EMPTY))
            return OpenTarget(rel, language, False)
        return OpenTarget(rel, language, True)

    def put_open_document(self, rel: str, language: str, symbols: FileSymbols) -> None:
        """An open document's fresh symbols (they win over the disk until it is closed)."""
        with self._lock:
            self._open[rel] = language
            self._put(rel, FileEntry(language, "ok", symbols))

    def update_document(
        self,
        path: str | os.PathLike[str],
        text: str,
        language_id: str | None = None,
        full: bool = False,
    ) -> bool:
        """Index an open document from the editor's text, parsing in this process (tests and
        ``bench/index.py``; the server parses in a parse process, see
        ``features/index_feature.py``). False when the path is not indexed or parsing ran out
        of time."""
        target = self.open_document_target(path, text, language_id)
        if target is None or not target.parse:
            return target is not None
        with self._docs_lock:  # parse outside the query lock: queries never wait for a parse
            doc = self._local_docs.get(target.rel)
            if doc is None or doc.language != target.language:
                doc = self._local_docs[target.rel] = IncrementalDocument(target.language)
            symbols = doc.update(text, full=full)
        if symbols is None:
            logger.info("indexing open document %s ran out of time; kept its symbols", target.rel)
            return False
        self.put_open_document(target.rel, target.language, symbols)
        return True

    def close_document(self, path: str | os.PathLike[str]) -> None:
        """Forget an open document's tree; the file falls back to its state on disk."""
        rel = self.rel(path)
        if rel is None:
            return
        with self._docs_lock, self._lock:
            self._local_docs.pop(rel, None)
            if self._open.pop(rel, None) is None:
                return
            for blob_path, blob in self.store.blobs([rel]):
                try:
                    entry = self._files.get(blob_path)
                    language = entry.language if entry else self.language_of(rel)
                    self._put(rel, FileEntry(language, "ok", from_blob(blob)))
                    return
                except (ValueError, EOFError, TypeError):
                    break
            if not (self.root / rel).is_file():
                self._drop(rel)

    def remove(self, path: str | os.PathLike[str]) -> None:
        rel = self.rel(path)
        if rel is None:
            return
        self.store.write((), [rel])
        with self._lock:
            self._open.pop(rel, None)
            self._local_docs.pop(rel, None)
            self._drop(rel)

    def rename(self, old: str | os.PathLike[str], new: str | os.PathLike[str]) -> None:
        """A file moved: keep its symbols under the new path (re-parse if its language changed
        or the new path is excluded)."""
        old_rel, new_rel = self.rel(old), self.rel(new)
        if old_rel is None or new_rel is None:
            return
        excluded = self.filter.is_excluded(new_rel, False)
        with self._docs_lock, self._lock:
            entry = self._files.get(old_rel)
            doc = self._open.pop(old_rel, None)
            local = self._local_docs.pop(old_rel, None)
            moved = (
                entry is not None and not excluded and entry.language == self.language_of(new_rel)
            )
            self._drop(old_rel)
            if moved:
                assert entry is not None
                self._put(new_rel, entry)
                if doc is not None:
                    self._open[new_rel] = doc
                if local is not None:
                    self._local_docs[new_rel] = local
        if moved:
            self.store.rename(old_rel, new_rel)
            return
        self.store.write((), [old_rel])
        if not excluded:
            self.refresh([new_rel])  # outside the locks: this parses in a worker

    def _apply_disk(self, rel: str, entry: FileEntry) -> None:
        if not self.in_memory:
            return
        with self._lock:
            if rel not in self._open:
                self._put(rel, entry)

    def _put(self, rel: str, entry: FileEntry) -> None:
        """Replace a file's entry, updating the name maps by difference (cheap per keystroke)."""
        old = self._files.get(rel)
        self._files[rel] = entry
        old_symbols = old.symbols if old is not None else EMPTY
        new_symbols = entry.symbols
        old_defs = {s.name for s in old_symbols.defs}
        new_defs = {s.name for s in new_symbols.defs}
        if old_defs != new_defs:
            if not (new_defs - old_defs) <= self._defs_by_name.keys() or any(
                len(self._defs_by_name.get(n, ())) == 1 for n in old_defs - new_defs
            ):
                self._sorted_names = None
            _unlink(self._defs_by_name, old_defs - new_defs, rel)
            _link(self._defs_by_name, new_defs - old_defs, rel)
        old_refs, new_refs = old_symbols.refs.keys(), new_symbols.refs.keys()
        if old_refs != new_refs:
            _unlink(self._refs_by_name, old_refs - new_refs, rel)
            _link(self._refs_by_name, new_refs - old_refs, rel)
        if old_symbols.refs is not new_symbols.refs:
            self._ref_counts = None
        if old is None or _import_keys(old_symbols.imports) != _import_keys(new_symbols.imports):
            self._importers = None

    def _drop(self, rel: str) -> None:
        old = self._files.pop(rel, None)
        if old is None:
            return
        _unlink(self._defs_by_name, {s.name for s in old.symbols.defs}, rel)
        _unlink(self._refs_by_name, old.symbols.refs.keys(), rel)
        self._sorted_names = None
        self._ref_counts = None
        self._importers = None

    # -- queries -------------------------------------------------------------------------

    def find_definitions(
        self, name: str, prefix: bool = False, limit: int | None = None
    ) -> list[SymbolHit]:
        """Definitions named ``name`` (or starting with it), by path and line."""
        with self._lock:
            if prefix:
                names = self._names_with_prefix(name)
            else:
                names = [name] if name in self._defs_by_name else []
            hits = [
                SymbolHit(path, symbol)
                for n in names
                for path in self._defs_by_name.get(n, ())
                for symbol in self._files[path].symbols.defs
                if symbol.name == n
            ]
        hits.sort(key=lambda h: (h.path, h.symbol.line, h.symbol.col))
        return hits[:limit] if limit is not None else hits

    def _names_with_prefix(self, prefix: str) -> list[str]:
        import bisect

        if self._sorted_names is None:
            self._sorted_names = sorted(self._defs_by_name)
        names = self._sorted_names
        start = bisect.bisect_left(names, prefix)
        end = bisect.bisect_left(names, prefix + "\U0010ffff")
        return names[start:end]

    def search_definitions(self, query: str, limit: int = 200) -> list[SymbolHit]:
        """Definitions whose name contains ``query`` (case-insensitive): exact matches first,
        then prefixes, then the rest, shorter names first (for ``workspace/symbol``)."""
        needle = query.lower()
        if not needle:
            return []
        with self._lock:
            if self._sorted_names is None:
                self._sorted_names = sorted(self._defs_by_name)
            names = [n for n in self._sorted_names if needle in n.lower()]
        names.sort(
            key=lambda n: (
                n != query,
                n.lower() != needle,
                not n.lower().startswith(needle),
                len(n),
                n,
            )
        )
        hits: list[SymbolHit] = []
        for name in names:
            hits.extend(self.find_definitions(name))
            if len(hits) >= limit:
                break
        return hits[:limit]

    def references_in(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """Name → number of uses in one file (for a repo map's ranking)."""
        rel = self.rel(path)
        with self._lock:
            entry = self._files.get(rel) if rel else None
            if entry is None:
                return {}
            return {name: len(positions) for name, positions in entry.symbols.refs.items()}

    def find_references(self, name: str, limit: int | None = None) -> list[Reference]:
        """Uses of ``name`` (calls, types, base classes, imports), by path and position."""
        with self._lock:
            refs = [
                Reference(path, name, *unpack_ref(packed))
                for path in sorted(self._refs_by_name.get(name, ()))
                for packed in self._files[path].symbols.refs.get(name, ())
            ]
        return refs[:limit] if limit is not None else refs

    def symbols_in(self, path: str | os.PathLike[str]) -> list[Symbol]:
        rel = self.rel(path)
        with self._lock:
            entry = self._files.get(rel) if rel else None
            return list(entry.symbols.defs) if entry else []

    def enclosing_symbol(
        self, path: str | os.PathLike[str], line: int, col: int = 0
    ) -> Symbol | None:
        """The innermost definition whose range holds (line, col)."""
        best = None
        for symbol in self.symbols_in(path):
            if not (symbol.start_line <= line <= symbol.end_line):
                continue
            if line == symbol.end_line and col > symbol.end_col:
                continue
            if best is None or (symbol.start_line, -symbol.end_line) >= (
                best.start_line,
                -best.end_line,
            ):
                best = symbol
        return best

    def imports_of(self, path: str | os.PathLike[str]) -> list[ResolvedImport]:
        rel = self.rel(path)
        with self._lock:
            entry = self._files.get(rel) if rel else None
            if entry is None or rel is None:
                return []
            return [
                ResolvedImport(
                    imp.module,
                    imp.names,
                    imp.line,
                    tuple(resolve_import(rel, entry.language or "", imp, self._files)),
                )
                for imp in entry.symbols.imports
            ]

    def importers_of(self, path: str | os.PathLike[str]) -> list[str]:
        """Files whose imports resolve to ``path``."""
        rel = self.rel(path)
        with self._lock:
            if self._importers is None:
                importers: dict[str, set[str]] = {}
                for importer, entry in self._files.items():
                    for imp in entry.symbols.imports:
                        for target in resolve_import(
                            importer, entry.language or "", imp, self._files
                        ):
                            importers.setdefault(target, set()).add(importer)
                self._importers = importers
            return sorted(self._importers.get(rel or "", ()))

    def list_files(self, glob: str | None = None) -> list[str]:
        """Workspace files (gitignore-style glob: ``*.py`` matches at any depth)."""
        with self._lock:
            paths = list(self._files)
        if glob:
            rule = compile_rule(glob)
            if rule is None:
                return []
            paths = [p for p in paths if last_match([rule], p, False) is not None]
        return sorted(paths)

    def reference_counts(self) -> dict[str, int]:
        """Name → number of references across the workspace (for ranking, as aider's repo map)."""
        with self._lock:
            if self._ref_counts is None:
                counts: Counter[str] = Counter()
                for entry in self._files.values():
                    for name, positions in entry.symbols.refs.items():
                        counts[name] += len(positions)
                self._ref_counts = dict(counts)
            return self._ref_counts

    def file_language(self, path: str | os.PathLike[str]) -> str | None:
        rel = self.rel(path)
        with self._lock:
            entry = self._files.get(rel) if rel else None
            return entry.language if entry else None

    def stats(self) -> dict[str, object]:
        """Counts for ``weft index --json`` and ``weft doctor``."""
        by_language: dict[str, Counter[str]] = {}
        skipped: Counter[str] = Counter()
        references = listed = 0
        files: Counter[str] = Counter()
        rows: list[tuple[str | None, str, FileRow | FileSymbols]]
        if self.in_memory:
            with self._lock:
                rows = [(e.language, e.status, e.symbols) for e in self._files.values()]
        else:
            rows = [(r.language, r.status, r) for r in self.store.rows().values()]
        for language, status, data in rows:
            if status == "listed":
                listed += 1
            elif status.startswith("skip:"):
                skipped[status[5:].split(" (")[0]] += 1
            else:
                name = language or "?"
                files[name] += 1
                counts = by_language.setdefault(name, Counter())
                if isinstance(data, FileRow):
                    references += data.refs
                    counts.update(json.loads(data.kinds) if data.kinds else {})
                else:
                    references += sum(len(v) for v in data.refs.values())
                    counts.update(s.kind for s in data.defs)
        kinds: Counter[str] = sum(by_language.values(), Counter())
        return {
            "files": sum(files.values()),
            "symbols": sum(kinds.values()),
            "kinds": dict(kinds.most_common()),
            "references": references,
            "languages": dict(files.most_common()),
            "kindsByLanguage": {k: dict(v.most_common()) for k, v in by_language.items() if v},
            "listed": listed,
            "skipped": dict(skipped),
            "seconds": round(self.last_build.seconds, 3),
            "reused": self.last_build.reused,
            "parsed": self.last_build.parsed,
            "unreadable": list(self.last_build.unreadable),
            "cache": str(self.store.path) if self.store.path else None,
            "queries": sorted(name for name in files if has_tags_query(name)),
        }


def _link(index: dict[str, set[str]], names: Iterable[str], rel: str) -> None:
    for name in names:
        paths = index.get(name)
        if paths is None:
            index[name] = {rel}
        else:
            paths.add(rel)


def _unlink(index: dict[str, set[str]], names: Iterable[str], rel: str) -> None:
    for name in names:
        paths = index.get(name)
        if paths is not None:
            paths.discard(rel)
            if not paths:
                del index[name]


def _import_keys(imports: list[Import]) -> list[tuple[str, tuple[str, ...]]]:
    return [(i.module, i.names) for i in imports]
