"""OfflineEngine (background training, persistence, bad files) and OfflineBackend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from weft.backends.base import CompletionBackend, FimRequest, collect
from weft.backends.offline import OfflineBackend, cut_at_stop
from weft.offline import engine as engine_module
from weft.offline.engine import OfflineEngine, read_source

CODE = """def load_settings(path):
    with open(path, encoding="utf-8") as handle:
        return parse_settings(handle.read())
"""


def make_workspace(root: Path) -> list[Path]:
    (root / "pkg").mkdir()
    files = {
        "pkg/a.py": CODE,
        "pkg/b.py": CODE.replace("load_settings", "load_other"),
        "notes.lisp": "(defun greet (name) (format t name))\n" * 3,  # no grammar: regex tokens
        "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20,
        "huge.py": "value = 1\n" * 20_000,  # over max_file_bytes below
        "minified.js": "var a=1;" * 5000,  # one very long line
        "empty.py": "",
        "secret.py": "password = 'hunter2'\n",
    }
    for name, content in files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return sorted(p for p in root.rglob("*") if p.is_file())


async def train(engine: OfflineEngine, root: Path, progress=None) -> dict:
    return await engine.train_workspace(
        root,
        make_workspace(root) if not (root / "pkg").exists() else sorted(root.rglob("*.*")),
        is_excluded=lambda p: p.name == "secret.py",
        max_file_bytes=100_000,
        progress=progress,
    )


async def test_training_learns_sources_and_skips_bad_files(tmp_path: Path) -> None:
    engine = OfflineEngine(cache_dir=None)
    calls: list[tuple[int, int, str]] = []
    summary = await train(engine, tmp_path, progress=lambda *a: calls.append(a))
    assert set(engine._owner) == {"pkg/a.py", "pkg/b.py", "notes.lisp"}
    assert engine.status()["languages"] == ["python", "text"]
    assert summary["files"] == 3
    assert summary["skipped"] >= 3  # binary, huge, minified (empty teaches nothing)
    status = engine.status()
    assert status["ready"] is True and status["training"] is False
    assert status["files"] == 3 and status["tokens"] > 0
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]
    assert engine.describe().startswith("offline engine serving (3 files learned)")
    assert (
        engine.complete("def f(path):\n    with open(path, enc", multiline=False)
        == 'oding="utf-8") as handle:'
    )
    assert engine.complete("(defun greet (name) (for", path="x.lisp") == "mat t name))"
    assert engine.complete("password = ") == ""  # the excluded file was never read


async def test_empty_workspace_answers_empty(tmp_path: Path) -> None:
    engine = OfflineEngine(cache_dir=tmp_path / "cache")
    summary = await engine.train_workspace(tmp_path, [], max_file_bytes=1000)
    assert summary["files"] == 0
    assert engine.status()["ready"] is True
    assert engine.complete("import o") == ""
    assert await collect(engine.backend().stream_fim(FimRequest(prefix="x = ", suffix=""))) == ""


async def test_model_is_persisted_and_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = tmp_path / "ws"
    root.mkdir()
    first = OfflineEngine(cache_dir=cache)
    await train(first, root)
    assert list(cache.glob("offline-*.bin"))
    second = OfflineEngine(cache_dir=cache)
    summary = await train(second, root)
    assert summary["reused"] == 3 and summary["learned"] == 0
    assert (
        second.complete("def f(path):\n    with open(path, enc", multiline=False)
        == 'oding="utf-8") as handle:'
    )
    # a changed file is relearned, a deleted one forgotten
    (root / "pkg" / "b.py").write_text("renamed_function_name = 42\n" * 3)
    (root / "notes.lisp").unlink()
    summary = await train(OfflineEngine(cache_dir=cache), root)
    assert summary["learned"] == 1 and summary["removed"] == 1


async def test_corrupt_state_is_discarded_and_retrained(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = tmp_path / "ws"
    root.mkdir()
    await train(OfflineEngine(cache_dir=cache), root)
    for state in cache.glob("offline-*.bin"):
        state.write_bytes(b"not a pickle at all")
    engine = OfflineEngine(cache_dir=cache)
    summary = await train(engine, root)
    assert summary["learned"] == 3 and summary["reused"] == 0
    assert engine.complete("(defun greet (name) (for", path="x.lisp") == "mat t name))"


async def test_answers_with_partial_knowledge_while_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "_BATCH_BYTES", 1)  # one file per batch
    for i in range(4):
        (tmp_path / f"m{i}.py").write_text(f"token_{i} = build_{i}(argument_{i})\n" * 3)
    engine = OfflineEngine(cache_dir=None)
    answers: list[tuple[int, str, str]] = []

    def progress(done: int, total: int, message: str) -> None:
        answers.append((done, engine.complete("token_0 = bu"), engine.complete("token_3 = bu")))

    await engine.train_workspace(tmp_path, sorted(tmp_path.glob("*.py")), progress=progress)
    assert answers[0] == (0, "", "")
    after_first = answers[1]
    assert after_first[1] == "ild_0(argument_0)" and after_first[2] != "ild_3(argument_3)"
    assert answers[-1][2] == "ild_3(argument_3)"


async def test_training_runs_off_the_event_loop(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"m{i}.py").write_text(CODE * 200)
    engine = OfflineEngine(cache_dir=None)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await engine.train_workspace(tmp_path, sorted(tmp_path.glob("*.py")))
    task.cancel()
    assert ticks > 5  # the loop kept running while files were learned


async def test_incremental_updates_and_edits(tmp_path: Path) -> None:
    engine = OfflineEngine(cache_dir=None)
    await engine.train_workspace(tmp_path, [])
    engine.add_file(tmp_path / "x.py", "result = compute_answer(alpha)\n" * 2)
    assert engine.complete("result = comp") == "ute_answer(alpha)"
    engine.update_file(tmp_path / "x.py", "result = compute_other(beta)\n" * 2)
    assert engine.complete("result = comp") == "ute_other(beta)"
    engine.remove_file(tmp_path / "x.py")
    assert engine.status()["files"] == 0
    assert engine.complete("result = comp") == ""
    engine.note_edit("y.py", "session.flush_everything(now=True)\n")
    assert engine.complete("session.flu") == "sh_everything(now=True)"


def test_read_source_rejects_what_should_not_be_learned(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\x00\x01\x02abc")
    (tmp_path / "latin.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (tmp_path / "ok.py").write_text("ok = 1\n")
    assert read_source(tmp_path / "bin", 1000) is None
    assert read_source(tmp_path / "latin.py", 1000) is None
    assert read_source(tmp_path / "missing.py", 1000) is None
    assert read_source(tmp_path / "ok.py", 3) is None
    assert read_source(tmp_path / "ok.py", 1000) == "ok = 1\n"


# ---- backend ---------------------------------------------------------------------------------


async def test_backend_streams_the_prediction_like_any_backend() -> None:
    engine = OfflineEngine(cache_dir=None)
    engine.add_file(
        "t.py",
        "def f(db):\n    db.connect()\n    with db.lock:\n        db.run(QUERY)\n        db.close()\n",
    )
    backend = engine.backend()
    assert isinstance(backend, CompletionBackend) and isinstance(backend, OfflineBackend)
    assert backend.kind == "offline"
    assert engine.backend() is backend
    assert await backend.list_models() == ["offline"]
    prefix = "def g(db):\n    db.connect()\n    with db.lo"
    single = FimRequest(prefix=prefix, suffix="\n", stop=("\n",))
    assert await collect(backend.stream_fim(single)) == "ck:"
    multi = FimRequest(prefix=prefix, suffix="\n")
    assert (
        await collect(backend.stream_fim(multi)) == "ck:\n        db.run(QUERY)\n        db.close()"
    )


def test_cut_at_stop() -> None:
    assert cut_at_stop("a(b)\nc", ("\n",)) == "a(b)"
    assert cut_at_stop("a(b)\nc", (")", "\n")) == "a(b"
    assert cut_at_stop("abc", ("", "z")) == "abc"


async def test_backend_works_under_the_pipeline_deadline() -> None:
    from weft.backends.base import stream_with_deadline

    engine = OfflineEngine(cache_dir=None)
    engine.add_file("a.py", CODE)
    request = FimRequest(prefix="def f(path):\n    with op", suffix="", stop=("\n",))
    text = await collect(stream_with_deadline(engine.backend(), request, 1.0))
    assert text == 'en(path, encoding="utf-8") as handle:'


async def test_note_edit_keeps_one_snippet_per_file() -> None:
    engine = OfflineEngine(cache_dir=None)
    engine.note_edit("a.py", "client.fetch_first_page(limit=1)\n")
    engine.note_edit("a.py", "client.fetch_other_page(limit=2)\n")
    engine.note_edit("b.py", "unrelated = True\n")
    assert [key for key, _ in engine._recent] == ["a.py", "b.py"]
    assert engine.complete("client.fetch_") == "other_page(limit=2)"


async def test_a_truncated_state_file_is_discarded(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    root = tmp_path / "ws"
    root.mkdir()
    await train(OfflineEngine(cache_dir=cache), root)
    (state,) = cache.glob("offline-*.bin")
    state.write_bytes(state.read_bytes()[:-10])
    summary = await train(OfflineEngine(cache_dir=cache), root)
    assert summary["reused"] == 0 and summary["learned"] == 3


async def test_each_language_family_has_its_own_statistics(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import logging\nlogger = logging.getLogger(__name__)\n" * 2)
    (tmp_path / "b.ts").write_text(
        "import { logger } from './log';\nlogger = createLogger();\n" * 2
    )
    (tmp_path / "c.tsx").write_text("const view = <App />;\n")
    engine = OfflineEngine(cache_dir=tmp_path / "cache")
    await engine.train_workspace(tmp_path, sorted(tmp_path.glob("*.*")))
    assert engine.status()["languages"] == ["javascript", "python"]  # ts and tsx share one
    assert engine.complete("logger = ", language="python") == "logging.getLogger(__name__)"
    assert engine.complete("logger = ", language="typescript") == "createLogger();"
    assert engine.complete("logger = ", path="src/x.ts") == "createLogger();"
    assert engine.complete("logger = ", language="rust") == ""  # nothing learned for it
    backend = engine.backend()
    request = FimRequest(prefix="logger = ", suffix="", path="m.py", language="python")
    assert await collect(backend.stream_fim(request)) == "logging.getLogger(__name__)"
    # the families survive a save and load
    again = OfflineEngine(cache_dir=tmp_path / "cache")
    summary = await again.train_workspace(tmp_path, sorted(tmp_path.glob("*.*")))
    assert summary["reused"] == 3
    assert again.complete("logger = ", language="typescript") == "createLogger();"
