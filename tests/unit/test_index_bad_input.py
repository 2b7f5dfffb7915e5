"""Bad input to the index: each is skipped or cut off with a log line, never a crash, a hang or
a half-written cache."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from weft.ignore import WorkspaceFilter
from weft.index.walk import walk_workspace
from weft.index.workers import ParseJob, ParsePool, ParseResult, process_job
from weft.index.workspace import WorkspaceIndex
from weft.settings import Settings


@pytest.fixture(autouse=True)
def info_logs(caplog):
    caplog.set_level(logging.INFO, logger="weft")


def build(root: Path, tmp_path: Path, **kwargs) -> WorkspaceIndex:
    index = WorkspaceIndex(
        root, kwargs.pop("settings", None), cache_file=tmp_path / "c.sqlite3", workers=1, **kwargs
    )
    index.build()
    return index


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    (path / "ok.py").write_text("def fine():\n    pass\n")
    return path


def statuses(tmp_path: Path) -> dict[str, str]:
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    try:
        return dict(conn.execute("SELECT path, status FROM files"))
    finally:
        conn.close()


def test_unreadable_entries_are_skipped(root: Path, tmp_path: Path, caplog):
    (root / "dangling.py").symlink_to(root / "missing.py")
    os.mkfifo(root / "pipe.py")  # opening a FIFO for reading would block for ever
    locked = root / "locked.py"
    locked.write_text("def locked():\n    pass\n")
    locked.chmod(0)
    index = build(root, tmp_path)
    assert "dangling.py" not in index.list_files() and "pipe.py" not in index.list_files()
    assert index.find_definitions("fine")
    if os.geteuid() != 0:  # root reads anything
        assert index.find_definitions("locked") == []
    assert "dangling.py" in caplog.text
    index.close()


def test_unreadable_file_in_a_worker_is_a_skip(tmp_path: Path):
    result = process_job(ParseJob("gone.py", str(tmp_path / "gone.py"), "python", 1 << 20))
    assert result.status == "gone"
    directory = tmp_path / "dir.py"
    directory.mkdir()
    result = process_job(ParseJob("dir.py", str(directory), "python", 1 << 20))
    assert result.status == "skip"


def test_symlink_loops_and_links_outside_terminate(root: Path, tmp_path: Path):
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("def inner():\n    pass\n")
    (root / "pkg" / "loop").symlink_to(root / "pkg")
    (root / "up").symlink_to(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("def outside_secret():\n    pass\n")
    (root / "out").symlink_to(outside)
    files = [f.rel for f in walk_workspace(root, WorkspaceFilter(root))]
    assert sorted(files) == ["ok.py", "pkg/mod.py"]
    index = build(root, tmp_path)
    assert index.find_definitions("outside_secret") == []
    assert [h.path for h in index.find_definitions("inner")] == ["pkg/mod.py"]
    index.close()


def test_file_deleted_while_being_indexed(root: Path, tmp_path: Path):
    (root / "doomed.py").write_text("def doomed():\n    pass\n")
    index = WorkspaceIndex(root, cache_file=tmp_path / "c.sqlite3", workers=1)
    real_parse = index._parse

    def parse_after_delete(jobs, *args):
        (root / "doomed.py").unlink()  # listed, then gone before a worker reads it
        real_parse(jobs, *args)

    index._parse = parse_after_delete  # type: ignore[method-assign]
    index.build()
    assert "doomed.py" not in index.list_files() and index.find_definitions("doomed") == []
    assert "doomed.py" not in statuses(tmp_path)
    index.close()


def test_non_utf8_bytes_are_indexed_and_bad_names_skipped(root: Path, tmp_path: Path, caplog):
    (root / "latin.py").write_bytes(
        b"# caf\xe9\ndef caf\xe9_ok():\n    pass\ndef plain():\n    return '\xff'\n"
    )
    (root / "utf16.py").write_bytes("def wide(): pass\n".encode("utf-16"))
    os.close(os.open(os.path.join(os.fsencode(root), b"bad\xffname.py"), os.O_CREAT | os.O_WRONLY))
    index = build(root, tmp_path)
    assert [h.path for h in index.find_definitions("plain")] == ["latin.py"]
    assert "utf16.py" in index.list_files()  # NUL bytes: treated as binary, listed only
    assert statuses(tmp_path)["utf16.py"] == "skip:binary"
    assert not any("bad" in f for f in index.list_files())
    assert "not UTF-8" in caplog.text
    index.close()


def test_fifty_megabyte_file_is_skipped_unread(root: Path, tmp_path: Path, caplog):
    big = root / "big.py"
    with big.open("wb") as fh:
        fh.write(b"x = 1\n" * (50 * 1024 * 1024 // 6))
    index = build(root, tmp_path)
    assert statuses(tmp_path)["big.py"].startswith("skip:over-size")
    assert "big.py" in caplog.text and "over-size" in caplog.text
    assert index.find_definitions("fine")
    # and an open document that size is not parsed either
    assert index.update_document(big, "def huge(): pass\n" + "x = 1\n" * 200_000) is False
    index.close()


def test_minified_and_binary_files_are_skipped(root: Path, tmp_path: Path):
    (root / "bundle.js").write_text("var a=1;" * 5000)
    (root / "blob.c").write_bytes(b"int x;\0\0\0\x01\x02")
    index = build(root, tmp_path)
    status = statuses(tmp_path)
    assert status["bundle.js"].startswith("skip:minified")
    assert status["blob.c"] == "skip:binary"
    index.close()


def test_twenty_thousand_nested_brackets(root: Path, tmp_path: Path):
    (root / "nested.py").write_text(
        "x = " + "[" * 20000 + "]" * 20000 + "\ndef after():\n    pass\n"
    )
    (root / "nested.js").write_text("let y = " + "(" * 20000 + "\nfunction afterJs() {}\n")
    index = build(root, tmp_path)
    assert index.find_definitions("fine")  # the index finished and the server process lives
    assert set(statuses(tmp_path)) >= {"nested.py", "nested.js"}
    assert index.update_document(root / "nested.py", (root / "nested.py").read_text()) in (
        True,
        False,
    )
    index.close()


def test_grammar_that_never_returns_is_cut_off(root: Path, tmp_path: Path, caplog):
    # the language pack's cobol lexer loops for ever on this input (no progress callback fires)
    (root / "hang.cob").write_text("hello\n")
    (root / "after.py").write_text("def after_hang():\n    pass\n")
    index = build(root, tmp_path, file_budget_s=1.0)
    assert statuses(tmp_path)["hang.cob"] == "skip:parse took too long"
    assert index.find_definitions("after_hang")
    assert "hang.cob" in caplog.text
    again = build(root, tmp_path, file_budget_s=1.0)  # remembered: not retried until it changes
    assert again.last_build.parsed == 0
    index.close()
    again.close()


def test_pool_replaces_a_worker_that_dies(tmp_path: Path):
    (tmp_path / "a.py").write_text("def a(): pass\n")
    (tmp_path / "hang.cob").write_text("hello\n")
    (tmp_path / "b.py").write_text("def b(): pass\n")
    jobs = [
        ParseJob(name, str(tmp_path / name), lang, 1 << 20, None, 10)
        for name, lang in (("a.py", "python"), ("hang.cob", "cobol"), ("b.py", "python"))
    ]
    results: list[ParseResult] = []
    with ParsePool(workers=1, budget_s=0.5) as pool:
        pool.run(jobs, results.append)
        assert pool.timeouts == 1
    assert {r.rel: r.status for r in results} == {"a.py": "ok", "hang.cob": "skip", "b.py": "ok"}


def test_cache_is_never_half_written(root: Path, tmp_path: Path):
    for i in range(40):
        (root / f"m{i}.py").write_text(f"def f{i}():\n    pass\n")
    index = WorkspaceIndex(root, cache_file=tmp_path / "c.sqlite3", workers=1)
    calls = 0

    def cancel_midway() -> bool:
        nonlocal calls
        calls += 1
        return calls > 30

    index.build(cancelled=cancel_midway)
    index.close()
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    rows = conn.execute("SELECT path, status, data FROM files WHERE status = 'ok'").fetchall()
    conn.close()
    from weft.index.extract import from_blob

    assert len(rows) < 41  # the build stopped part way
    for path, _, data in rows:  # every row that exists is whole
        assert from_blob(data).defs, path
    resumed = build(root, tmp_path)
    assert resumed.last_build.reused == len(rows)  # what was written is reused
    names = {h.symbol.name for h in resumed.find_definitions("f", prefix=True)}
    assert names == {f"f{i}" for i in range(40)} | {"fine"}
    resumed.close()


def test_settings_cap_applies(root: Path, tmp_path: Path):
    (root / "mid.py").write_text("y = 1\n" * 400)  # 2.4 KB
    settings = Settings.model_validate({"index": {"maxFileKb": 1}})
    index = build(root, tmp_path, settings=settings)
    assert statuses(tmp_path)["mid.py"].startswith("skip:over-size")
    index.close()


def test_open_document_in_a_hanging_grammar_does_not_freeze(tmp_path: Path):
    # a looping grammar holds the GIL: the whole process would freeze, so check in a child
    script = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2] / "server")!r})
from weft.index.workspace import WorkspaceIndex
index = WorkspaceIndex({str(tmp_path)!r}, cache_file=None, workers=1)
print(index.update_document({str(tmp_path / "x.cob")!r}, "hello\\n"))
print(index.update_document({str(tmp_path / "y.py")!r}, "def y():\\n    pass\\n"))
print([h.path for h in index.find_definitions("y")])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.split("\n")[:3] == ["True", "True", "['y.py']"], out.stderr


def test_workers_that_cannot_start_end_the_build_with_a_log_line(
    tmp_path: Path, monkeypatch, caplog
):
    (tmp_path / "a.py").write_text("def a(): pass\n")
    jobs = [ParseJob("a.py", str(tmp_path / "a.py"), "python", 1 << 20, None, 10)] * 5
    monkeypatch.setattr(sys, "executable", "/bin/false")  # a broken interpreter
    results: list[ParseResult] = []
    with ParsePool(workers=2, budget_s=1.0) as pool:
        pool.run(jobs, results.append)
    assert [r.reason for r in results] == ["parser workers unavailable"] * 5
    assert "keep failing to start" in caplog.text


def test_pool_survives_a_worker_crash(tmp_path: Path):
    """A worker killed mid-file (as a segfault in a grammar would) costs that file only."""
    (tmp_path / "a.py").write_text("def a(): pass\n")
    (tmp_path / "stuck.cob").write_text("hello\n")  # keeps the worker busy until it dies
    (tmp_path / "b.py").write_text("def b(): pass\n")
    jobs = [
        ParseJob(name, str(tmp_path / name), lang, 1 << 20, None, 10)
        for name, lang in (("a.py", "python"), ("stuck.cob", "cobol"), ("b.py", "python"))
    ]
    results: list[ParseResult] = []
    with ParsePool(workers=1, budget_s=60.0) as pool:

        def on_result(result: ParseResult) -> None:
            results.append(result)
            if result.rel == "a.py":
                worker = pool._workers[0].process
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)  # dead before the pool next writes to it

        pool.run(jobs, on_result)
        assert pool.crashes == 1 and pool.timeouts == 0
    assert {r.rel: (r.status, r.reason) for r in results} == {
        "a.py": ("ok", ""),
        "stuck.cob": ("skip", "parser process crashed"),
        "b.py": ("ok", ""),
    }
