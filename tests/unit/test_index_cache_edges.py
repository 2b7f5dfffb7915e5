"""Index cache edges (issue 11): damaged rows are found by their digest and re-parsed, one by
one, instead of being handed to ``marshal`` (which spends seconds on some random bytes); a
cache weft may not write is read as it is, never deleted."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from weft.index.extract import FileSymbols, Symbol, blob_is_sound, from_blob, to_blob
from weft.index.store import Store
from weft.index.workspace import WorkspaceIndex

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES, root)
    return root


def cache_of(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "index.sqlite3"


def build(root: Path, tmp_path: Path, in_memory: bool = True) -> tuple[WorkspaceIndex, object]:
    index = WorkspaceIndex(root, cache_file=cache_of(tmp_path), workers=1, in_memory=in_memory)
    return index, index.build()


def test_a_blob_carries_a_digest_that_finds_damage_before_marshal_reads_it():
    symbols = FileSymbols([Symbol("f", "function", "f", 0, 4, 0, 1, 8, "def f():", "doc")], {}, [])
    blob = to_blob(symbols)
    assert blob_is_sound(blob) and from_blob(blob) == symbols
    # a list that claims 10^9 items: marshal would build it (seconds, gigabytes) before failing
    hostile = blob[:11] + b"[\x00\xca\x9a\x3b" + blob[16:]
    assert not blob_is_sound(hostile)
    with pytest.raises(ValueError, match="damaged"):
        from_blob(hostile)
    assert not blob_is_sound(b"") and not blob_is_sound(blob[:-1])


@pytest.mark.parametrize("in_memory", [True, False], ids=["server", "weft index"])
def test_damaged_rows_are_reparsed_one_by_one_and_the_rest_reused(
    workspace: Path, tmp_path: Path, in_memory: bool
):
    first, cold = build(workspace, tmp_path)
    expected = first.stats()["symbols"]
    first.close()
    conn = sqlite3.connect(cache_of(tmp_path))
    paths = [p for (p,) in conn.execute("SELECT path FROM files WHERE status = 'ok'")]
    damaged = random.Random(7).sample(paths, len(paths) // 3)
    rng = random.Random(11)
    with conn:
        for path in damaged:
            noise = bytes(rng.randrange(256) for _ in range(300))
            conn.execute("UPDATE files SET data = ? WHERE path = ?", (noise, path))
    conn.close()
    again, stats = build(workspace, tmp_path, in_memory)
    assert stats.parsed == len(damaged)  # exactly the damaged rows
    again.close()
    if in_memory:
        assert again.stats()["symbols"] == expected
    fixed, stats = build(workspace, tmp_path)  # and the cache holds sound rows again
    assert stats.parsed == 0 and fixed.stats()["symbols"] == expected
    fixed.close()


def test_a_read_only_cache_is_read_as_it_is_and_never_deleted(
    workspace: Path, tmp_path: Path, monkeypatch
):
    first, _ = build(workspace, tmp_path)
    first.close()
    cache = cache_of(tmp_path)
    before = cache.read_bytes()
    # as on a read-only mount or another user's file (the tests run as root, which may write)
    monkeypatch.setattr("weft.index.store._writable", lambda path: False)
    (workspace / "python" / "util.py").write_text("def brand_new():\n    pass\n")
    index, stats = build(workspace, tmp_path)
    assert index.store.read_only
    assert stats.parsed == 1  # only the changed file: every other row was reused
    assert index.find_definitions("brand_new")  # the change lives in memory...
    index.close()
    assert cache.exists() and cache.read_bytes() == before  # ...and the cache is untouched


def test_a_read_only_cache_of_another_format_leaves_the_index_in_memory(
    workspace: Path, tmp_path: Path, monkeypatch, caplog
):
    first, _ = build(workspace, tmp_path)
    first.close()
    conn = sqlite3.connect(cache_of(tmp_path))
    with conn:
        conn.execute("UPDATE meta SET value = 'weft-index-0' WHERE key = 'format'")
    conn.close()
    before = cache_of(tmp_path).read_bytes()
    monkeypatch.setattr("weft.index.store._writable", lambda path: False)
    caplog.set_level("WARNING", logger="weft")
    index, stats = build(workspace, tmp_path)
    assert index.store.path is None and stats.parsed > 0 and index.find_definitions("Shape")
    assert "read-only and unusable" in caplog.text
    index.close()
    assert cache_of(tmp_path).read_bytes() == before


def test_a_read_only_store_skips_writes(tmp_path: Path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    Store(path).close()  # an empty cache of the current format
    monkeypatch.setattr("weft.index.store._writable", lambda p: False)
    store = Store(path)
    from weft.index.store import FileRow

    store.write([FileRow("a.py", "python", 1, 1, "h", "ok")])
    store.touch("a.py", 2, 2)
    store.rename("a.py", "b.py")
    assert store.read_only and store.rows() == {}
    store.close()
