"""The offline completion engine: learns the workspace in the background, answers meanwhile.

``OfflineEngine`` owns one ``TokenModel`` and ``Predictor`` per language family (Python's
statistics must not complete TypeScript: measured on a mixed tree, they did), chosen by file
extension when learning and by the request's language id or path when completing; files of
unknown languages share a "text" model. ``train_workspace`` reads files
in batches on a worker thread (the event loop stays free; each batch is bounded in bytes), skips
excluded, oversized, binary and minified files, reuses what the persisted model already knows
(same size and mtime), forgets files that disappeared, and saves the model under the cache
directory. ``complete`` may run while training: it reads the arrays without locks and answers
with whatever has been learned so far.

The persisted file is a versioned pickled header followed by the raw int arrays; anything
unreadable, cut short, of another version or inconsistent is discarded and the workspace
retrained.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import pickle
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weft.index.languages import language_for_path, normalize_language
from weft.offline.model import TokenModel
from weft.offline.predict import PredictOptions, Predictor

if TYPE_CHECKING:
    from weft.backends.offline import OfflineBackend

logger = logging.getLogger(__name__)

STATE_VERSION = 1
_BATCH_BYTES = 512 * 1024
_RECENT_EDITS = 12
_RECENT_EDIT_CHARS = 3000
_MAX_AVG_LINE = 400  # longer average lines: minified or generated, not worth learning

# languages that share statistics (the same tokens mean the same things in them)
_FAMILIES = {"typescript": "javascript", "tsx": "javascript", "cpp": "c", "objc": "c"}


def language_family(path: str) -> str:
    """The model a file belongs to: its language by extension, grouped; "text" if unknown."""
    name = language_for_path(path)
    return _FAMILIES.get(name, name) if name else "text"


ProgressCallback = Callable[[int, int, str], Any]
"""``progress(done_files, total_files, message)``; called on the event loop."""


def read_source(path: Path, max_file_bytes: int) -> str | None:
    """The file's text, or None for unreadable, oversized, binary or minified files."""
    try:
        if path.stat().st_size > max_file_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > max_file_bytes or b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text and len(text) / (text.count("\n") + 1) > _MAX_AVG_LINE:
        return None
    return text


class OfflineEngine:
    """A statistical completion engine learned from the workspace; no model server needed."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        options: PredictOptions | None = None,
        tokenizer: Callable[[str], list[str]] | None = None,
    ) -> None:
        """``tokenizer`` replaces the regex tokenizer (for measurements; not persisted)."""
        self.cache_dir = cache_dir
        self._tokenizer = tokenizer
        self._options = options or PredictOptions()
        self.models: dict[str, TokenModel] = {}
        self._predictors: dict[str, Predictor] = {}
        self._bulk = False
        self._cache_only = Predictor(TokenModel(), self._options)
        self._owner: dict[str, str] = {}
        """File key -> the family whose model learned it."""
        self.root: Path | None = None
        self.ready = False
        self.training = False
        self._signatures: dict[str, tuple[int, int]] = {}
        self._recent: deque[tuple[str, str]] = deque(maxlen=_RECENT_EDITS)
        self._write_lock = threading.Lock()
        self._loaded_for: Path | None = None
        self._backend: OfflineBackend | None = None

    # ---- surface for the server -----------------------------------------------------------

    def backend(self) -> OfflineBackend:
        from weft.backends.offline import OfflineBackend

        if self._backend is None:
            self._backend = OfflineBackend(self)
        return self._backend

    def status(self) -> dict[str, Any]:
        models = list(self.models.values())
        return {
            "files": sum(len(m.spans) for m in models),
            "tokens": sum(m.token_count for m in models),
            "vocabulary": sum(len(m.words) - 1 for m in models),
            "languages": sorted(family for family, m in self.models.items() if m.spans),
            "ready": self.ready,
            "training": self.training,
        }

    def model_for(self, family: str) -> TokenModel:
        """The model of a language family (created empty on first use)."""
        model = self.models.get(family)
        if model is None:
            tokenizer = self._tokenizer
            model = TokenModel(tokenizer=tokenizer) if tokenizer else TokenModel()
            model.bulk = self._bulk
            self._install(family, model)
        return model

    def _install(self, family: str, model: TokenModel) -> None:
        self.models[family] = model
        self._predictors[family] = Predictor(model, self._options)

    def describe(self) -> str:
        """One line for the status bar and log."""
        status = self.status()
        state = "learning" if status["training"] else "serving"
        return (
            f"offline engine {state} ({status['files']} files learned); "
            "set backend.kind/url/model for a model server"
        )

    def complete(
        self,
        prefix: str,
        suffix: str = "",
        path: str = "",
        multiline: bool = True,
        language: str = "",
    ) -> str:
        """Predicted text at the cursor; "" when there is nothing confident to say.

        ``language`` (an LSP language id) or else ``path`` picks the model; with neither, the
        model of the most recently edited file, else the largest one.
        """
        family = self._family_for_request(language, path)
        predictor = self._predictors.get(family) if family else self._largest()
        if predictor is None:
            predictor = self._cache_only  # nothing learned for this language: the cache alone
        recent = tuple(
            text for key, text in self._recent if language_family(key) == family or not family
        )  # newest last: preferred by the cache
        try:
            return predictor.complete(prefix, suffix, recent, multiline=multiline)
        except Exception:  # noqa: BLE001 - a passive feature: log and answer empty
            logger.exception("offline completion failed for %s", path or "<buffer>")
            return ""

    # ---- incremental learning -------------------------------------------------------------

    def _key(self, path: str | Path) -> str:
        p = Path(path)
        if self.root is not None and p.is_absolute():
            try:
                return p.relative_to(self.root).as_posix()
            except ValueError:
                pass
        return p.as_posix()

    def _family_for_request(self, language: str, path: str) -> str | None:
        if language or path:
            name = normalize_language(language or None, path or None)
            return _FAMILIES.get(name, name) if name else "text"
        if self._recent:
            return language_family(self._recent[-1][0])
        return None

    def _largest(self) -> Predictor | None:
        if not self.models:
            return None
        family = max(self.models, key=lambda f: self.models[f].token_count)
        return self._predictors[family]

    def add_file(self, path: str | Path, text: str) -> None:
        key = self._key(path)
        with self._write_lock:
            self._learn(key, text)

    def _learn(self, key: str, text: str | None) -> int:
        """(Re)learn one file under the write lock; None forgets it. Returns tokens learned."""
        family = language_family(key)
        owner = self._owner.pop(key, None)
        if owner is not None and owner != family:
            self.models[owner].remove_file(key)
        model = self.model_for(family)
        if text is None:
            model.remove_file(key)
            return 0
        learned = model.add_file(key, text)
        if learned:
            self._owner[key] = family
        return learned

    def update_file(self, path: str | Path, text: str) -> None:
        """Subtract what the old text taught and learn the new text."""
        self.add_file(path, text)

    def remove_file(self, path: str | Path) -> None:
        key = self._key(path)
        with self._write_lock:
            self._learn(key, None)
            self._signatures.pop(key, None)

    def note_edit(self, path: str | Path, text_around_cursor: str) -> None:
        """Remember recently edited text: the cache favours it in later predictions.

        One snippet per file (the latest replaces the previous one, so calling this on every
        change does not count the same region many times), for the last few files edited.
        """
        key = self._key(path)
        for i, (old_key, _) in enumerate(self._recent):
            if old_key == key:
                del self._recent[i]
                break
        self._recent.append((key, text_around_cursor[-_RECENT_EDIT_CHARS:]))

    # ---- background training --------------------------------------------------------------

    async def train_workspace(
        self,
        root: Path,
        files: Iterable[Path],
        is_excluded: Callable[[Path], bool] | None = None,
        max_file_bytes: int = 1024 * 1024,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Learn (or refresh) the workspace; returns a summary (files, learned, reused, removed,
        skipped, tokens, seconds).

        ``files`` is consumed on a worker thread (pass a list, or an iterable that is safe
        there); ``is_excluded`` is called there too. ``progress`` runs on the event loop after
        each batch. Cancelling the task stops between batches; what was learned stays.
        """
        started = time.perf_counter()
        self.training = True
        try:
            root = Path(root)
            if self._loaded_for != root:
                self.root = root
                await asyncio.to_thread(self._load)
                self._loaded_for = root
            self._set_bulk(True)
            work = await asyncio.to_thread(self._plan, root, files, is_excluded, max_file_bytes)
            total = len(work["todo"])
            if progress:
                progress(0, total, f"learning {total} files")
            done = skipped = 0
            for batch in work["batches"]:
                skipped += await asyncio.to_thread(self._learn_batch, batch, max_file_bytes)
                done += len(batch)
                if progress:
                    progress(done, total, f"{done}/{total} files")
            self._set_bulk(False)
            for model in list(self.models.values()):
                await asyncio.to_thread(model.prepare)
            self.ready = True
            if work["changed"] or done:
                await asyncio.to_thread(self.save)
            status = self.status()
            summary = {
                "files": status["files"],
                "learned": done - skipped,
                "reused": work["reused"],
                "removed": work["removed"],
                "skipped": skipped + work["skipped"],
                "tokens": status["tokens"],
                "languages": status["languages"],
                "seconds": round(time.perf_counter() - started, 3),
            }
            logger.info("offline engine: %s", summary)
            return summary
        finally:
            self._set_bulk(False)
            self.training = False

    def _set_bulk(self, bulk: bool) -> None:
        self._bulk = bulk
        for model in self.models.values():
            model.bulk = bulk

    def _plan(
        self,
        root: Path,
        files: Iterable[Path],
        is_excluded: Callable[[Path], bool] | None,
        max_file_bytes: int,
    ) -> dict[str, Any]:
        """Decide which files to (re)learn and which to forget; runs on the worker thread."""
        todo: list[tuple[Path, str, tuple[int, int]]] = []
        seen: set[str] = set()
        reused = skipped = 0
        expected_bytes: dict[str, int] = {}
        for path in files:
            path = Path(path)
            try:
                if is_excluded is not None and is_excluded(path):
                    continue
                st = path.stat()
            except (OSError, ValueError):
                skipped += 1
                continue
            if st.st_size > max_file_bytes or not path.is_file():
                skipped += 1
                continue
            key = self._key(path)
            seen.add(key)
            signature = (st.st_mtime_ns, st.st_size)
            if self._signatures.get(key) == signature:
                # unchanged since it was learned (or found unlearnable)
                if key in self._owner:
                    reused += 1
                else:
                    skipped += 1
                continue
            todo.append((path, key, signature))
            family = language_family(key)
            expected_bytes[family] = expected_bytes.get(family, 0) + st.st_size
        gone = [key for key in self._owner if key not in seen]
        with self._write_lock:
            for key in gone:
                self._learn(key, None)
            self._signatures = {k: v for k, v in self._signatures.items() if k in seen}
            for family, size in expected_bytes.items():
                model = self.model_for(family)
                model.bulk = self._bulk
                model.reserve(model.token_count + size // 4)
        batches: list[list[tuple[Path, str, tuple[int, int]]]] = []
        size = 0
        for item in todo:
            if not batches or size > _BATCH_BYTES:
                batches.append([])
                size = 0
            batches[-1].append(item)
            size += item[2][1]
        return {
            "todo": todo,
            "batches": batches,
            "reused": reused,
            "removed": len(gone),
            "skipped": skipped,
            "changed": bool(gone),
        }

    def _learn_batch(
        self, batch: list[tuple[Path, str, tuple[int, int]]], max_file_bytes: int
    ) -> int:
        """Learn a batch of files; returns how many taught nothing (unreadable, binary, empty)."""
        skipped = 0
        for path, key, signature in batch:
            text = read_source(path, max_file_bytes)
            with self._write_lock:
                learned = self._learn(key, text)
                self._signatures[key] = signature
            skipped += not learned
        return skipped

    # ---- persistence ----------------------------------------------------------------------

    def state_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        tag = hashlib.sha1(str(self.root or "").encode()).hexdigest()[:12]
        return Path(self.cache_dir) / f"offline-{tag}.bin"

    def save(self) -> None:
        """Write the model next to the index (atomically); errors are logged, not raised.

        Layout: a pickled header (version, small fields, array names and lengths), then each
        int array's raw bytes written straight from memory (``array.tofile``), so saving and
        loading never hold a second copy of the model.
        """
        target = self.state_path()
        if target is None:
            return
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # under the lock: the arrays are written as they are, so no learning may interleave
            with self._write_lock, open(tmp, "wb") as fh:
                models: dict[str, Any] = {}
                arrays: list[array] = []
                for family, model in sorted(self.models.items()):
                    state = model.to_state()
                    names = [k for k, v in state.items() if isinstance(v, array)]
                    models[family] = {
                        "fields": {k: v for k, v in state.items() if k not in names},
                        "arrays": [(name, len(state[name])) for name in names],
                    }
                    arrays.extend(state[name] for name in names)
                header = {
                    "version": STATE_VERSION,
                    "layout": (sys.byteorder, array("i").itemsize),
                    "models": models,
                    "owner": dict(self._owner),
                    "signatures": dict(self._signatures),
                }
                pickle.dump(header, fh, protocol=pickle.HIGHEST_PROTOCOL)
                for values in arrays:
                    values.tofile(fh)
            os.replace(tmp, target)
        except OSError as exc:
            logger.warning("offline engine: could not save %s: %s", target, exc)
            tmp.unlink(missing_ok=True)

    def _load(self) -> bool:
        target = self.state_path()
        if target is None or not target.exists():
            return False
        try:
            if self._tokenizer is not None:
                raise ValueError("a custom tokenizer does not reuse saved models")
            with open(target, "rb") as fh:
                header = pickle.load(fh)
                if not isinstance(header, dict) or header.get("version") != STATE_VERSION:
                    raise ValueError("other version")
                if tuple(header["layout"]) != (sys.byteorder, array("i").itemsize):
                    raise ValueError("saved on another platform")
                loaded: dict[str, TokenModel] = {}
                for family, saved in header["models"].items():
                    state = dict(saved["fields"])
                    for name, length in saved["arrays"]:
                        values = array("i")
                        values.fromfile(fh, int(length))  # EOFError when cut short
                        state[str(name)] = values
                    loaded[str(family)] = TokenModel.from_state(state)
                if fh.read(1):
                    raise ValueError("trailing data")
            for model in loaded.values():
                model.prepare()
            owner = {str(k): str(v) for k, v in header["owner"].items()}
            if any(v not in loaded or k not in loaded[v].spans for k, v in owner.items()):
                raise ValueError("inconsistent owners")
            signatures = {str(k): (int(v[0]), int(v[1])) for k, v in header["signatures"].items()}
        except Exception as exc:  # noqa: BLE001 - any damage means: retrain
            logger.warning("offline engine: discarding %s (%s); relearning", target, exc)
            return False
        with self._write_lock:
            self.models, self._predictors = {}, {}
            for family, model in loaded.items():
                self._install(family, model)
            self._owner = owner
            self._signatures = signatures
        self.ready = bool(owner)
        return True
