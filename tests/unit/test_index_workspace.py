"""WorkspaceIndex: building, queries, the cache across restarts, ignore rules, changes on disk,
open documents, renames and deletions."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from weft.index.store import FORMAT_VERSION, FileRow, Store, cache_path
from weft.index.workspace import WorkspaceIndex
from weft.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES, root)
    (root / "README.md").write_text("# fixture\n")
    (root / "logo.bin").write_bytes(b"\x89PNG\0\0\0")
    return root


def open_index(root: Path, tmp_path: Path, settings: Settings | None = None) -> WorkspaceIndex:
    return WorkspaceIndex(
        root, settings, cache_file=tmp_path / "cache" / "index.sqlite3", workers=1
    )


@pytest.fixture
def index(workspace: Path, tmp_path: Path):
    idx = open_index(workspace, tmp_path)
    idx.build()
    yield idx
    idx.close()


def test_build_indexes_every_language(index: WorkspaceIndex):
    stats = index.stats()
    assert stats["languages"]["python"] == 2
    assert {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"} <= set(
        stats["languages"]
    )
    assert stats["kinds"]["method"] > 10 and stats["kinds"]["class"] >= 5
    assert stats["symbols"] == sum(stats["kinds"].values())
    assert stats["references"] > 50
    assert stats["parsed"] == stats["files"]  # a first build parses every file with a grammar


def test_find_definitions_exact_and_prefix(index: WorkspaceIndex):
    hits = index.find_definitions("area")
    assert {(h.path, h.symbol.qualname) for h in hits} == {
        ("python/shapes.py", "Shape.area"),
        ("python/shapes.py", "Circle.area"),
        ("rust/lib.rs", "Area.area"),
        ("rust/lib.rs", "Point.area"),
    }
    prefixed = {h.symbol.name for h in index.find_definitions("make", prefix=True)}
    assert prefixed == {"make_circle"}
    assert index.find_definitions("nothing_like_this") == []
    assert len(index.find_definitions("area", limit=1)) == 1


def test_find_references(index: WorkspaceIndex):
    refs = index.find_references("Circle")
    assert {(r.path, r.kind) for r in refs} >= {
        ("python/shapes.py", "call"),
        ("python/shapes.py", "type"),
    }
    line = (index.root / refs[0].path).read_text().splitlines()[refs[0].line]
    assert "Circle" in line[refs[0].col :]


def test_symbols_in_and_enclosing_symbol(index: WorkspaceIndex):
    names = [s.qualname for s in index.symbols_in("python/shapes.py")]
    assert "Circle.area" in names
    area = next(s for s in index.symbols_in("python/shapes.py") if s.qualname == "Circle.area")
    inside = index.enclosing_symbol("python/shapes.py", area.line + 1, 4)
    assert inside is not None and inside.qualname == "Circle.area"
    outer = index.enclosing_symbol("python/shapes.py", area.start_line - 1, 0)
    assert outer is not None and outer.qualname == "Circle"
    assert index.enclosing_symbol("python/shapes.py", 0, 0) is None
    assert index.symbols_in(index.root / "python/shapes.py") == index.symbols_in("python/shapes.py")


def test_imports_and_importers(index: WorkspaceIndex):
    imports = {i.module: i.paths for i in index.imports_of("python/shapes.py")}
    assert imports[".util"] == ("python/util.py",)
    assert imports["math"] == ()
    assert index.importers_of("python/util.py") == ["python/shapes.py"]
    assert index.importers_of("typescript/repo.ts") == ["typescript/service.ts"]
    assert index.importers_of("javascript/format.js") == ["javascript/app.js"]
    assert index.importers_of("tsx/Icon.tsx") == ["tsx/Button.tsx"]


def test_list_files_with_globs(index: WorkspaceIndex):
    files = index.list_files()
    assert "README.md" in files and "logo.bin" in files  # listed, never parsed
    assert index.list_files("*.py") == ["python/shapes.py", "python/util.py"]
    assert index.list_files("typescript/*.ts") == [
        "typescript/options.ts",
        "typescript/repo.ts",
        "typescript/service.ts",
    ]
    assert index.list_files("*.nothing") == []


def test_reference_counts_and_references_in(index: WorkspaceIndex):
    counts = index.reference_counts()
    assert counts["float"] == 4
    assert index.references_in("python/shapes.py")["float"] == 4


def test_restart_reuses_the_cache(workspace: Path, tmp_path: Path, index: WorkspaceIndex):
    before = index.stats()
    index.close()
    (workspace / "python" / "util.py").write_text(
        "def helper(*args):\n    return args\n\ndef extra():\n    pass\n"
    )
    again = open_index(workspace, tmp_path)
    stats = again.build()
    assert stats.parsed == 1  # only the changed file
    assert stats.reused == before["files"] + before["listed"] - 1
    assert [h.path for h in again.find_definitions("extra")] == ["python/util.py"]
    assert (
        again.find_definitions("make_circle")[0].symbol.doc == "Build a circle of the given size."
    )
    again.close()


def test_touched_file_with_same_content_is_not_reparsed(
    workspace: Path, tmp_path: Path, index: WorkspaceIndex
):
    path = workspace / "go" / "server.go"
    os.utime(path, ns=(1, 1))
    stats = index.build()
    assert stats.parsed == 0 and stats.reused >= 1
    assert index.find_definitions("NewServer")


def test_corrupt_cache_is_rebuilt(workspace: Path, tmp_path: Path, caplog):
    caplog.set_level("WARNING", logger="weft")
    cache = tmp_path / "cache" / "index.sqlite3"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"this is not a database" * 100)
    idx = open_index(workspace, tmp_path)
    stats = idx.build()
    assert stats.parsed > 0 and idx.find_definitions("Shape")
    assert "rebuilding" in caplog.text
    idx.close()


def test_old_format_cache_is_rebuilt(workspace: Path, tmp_path: Path, index: WorkspaceIndex):
    index.close()
    conn = sqlite3.connect(tmp_path / "cache" / "index.sqlite3")
    with conn:
        conn.execute("UPDATE meta SET value = 'weft-index-0' WHERE key = 'format'")
    conn.close()
    again = open_index(workspace, tmp_path)
    stats = again.build()
    assert stats.reused == 0 and stats.parsed > 0
    row = (
        sqlite3.connect(tmp_path / "cache" / "index.sqlite3")
        .execute("SELECT value FROM meta WHERE key = 'format'")
        .fetchone()
    )
    assert row[0] == FORMAT_VERSION
    again.close()


def test_damaged_row_is_reparsed(workspace: Path, tmp_path: Path, index: WorkspaceIndex):
    index.close()
    conn = sqlite3.connect(tmp_path / "cache" / "index.sqlite3")
    with conn:
        conn.execute("UPDATE files SET data = x'00ff' WHERE path = 'go/server.go'")
    conn.close()
    again = open_index(workspace, tmp_path)
    again.build()
    assert [h.path for h in again.find_definitions("NewServer")] == ["go/server.go"]
    again.close()


def test_store_write_is_all_or_nothing(tmp_path: Path, caplog):
    store = Store(tmp_path / "s.sqlite3")
    store.write([FileRow("a.py", "python", 1, 1, "h", "ok")])
    # a batch whose second row is malformed: the first row of it must not land either
    store.write([FileRow("b.py", "python", 1, 1, "h", "ok"), ("c.py",)], deletes=["a.py"])  # type: ignore[list-item]
    assert set(store.rows()) == {"a.py"}
    assert "write failed" in caplog.text
    store.close()


def test_cache_lives_outside_the_workspace(workspace: Path, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = cache_path(workspace)
    assert path.parent == tmp_path / "xdg" / "weft"
    assert cache_path(workspace) != cache_path(tmp_path)
    assert cache_path(workspace, ".weft-cache").parent == workspace / ".weft-cache"


def test_ignore_rules_apply(workspace: Path, tmp_path: Path):
    (workspace / ".gitignore").write_text("java/\n")
    (workspace / ".weftignore").write_text("c/\n")
    (workspace / "node_modules" / "dep").mkdir(parents=True)
    (workspace / "node_modules" / "dep" / "index.js").write_text("function hidden() {}\n")
    (workspace / ".env").write_text("KEY=secret\n")
    settings = Settings.model_validate({"index": {"exclude": ["rust/**"]}})
    idx = open_index(workspace, tmp_path, settings)
    idx.build()
    files = idx.list_files()
    assert not any(f.startswith(("java/", "c/", "rust/", "node_modules/")) for f in files)
    assert ".env" not in files
    assert idx.find_definitions("hidden") == [] and idx.find_definitions("Library") == []
    assert idx.find_definitions("Shape")
    assert idx.update_document(workspace / "c" / "list.c", "int f(void) { return 0; }\n") is False
    assert idx.find_definitions("f") == []
    idx.close()


def test_change_on_disk_is_seen_by_refresh(workspace: Path, index: WorkspaceIndex):
    (workspace / "python" / "new_mod.py").write_text("class Fresh:\n    pass\n")
    (workspace / "go" / "server.go").unlink()
    (workspace / "python" / "util.py").write_text("def renamed_helper():\n    pass\n")
    index.refresh([workspace / "python" / "new_mod.py", "go/server.go", "python/util.py"])
    assert [h.path for h in index.find_definitions("Fresh")] == ["python/new_mod.py"]
    assert index.find_definitions("NewServer") == [] and "go/server.go" not in index.list_files()
    assert [h.path for h in index.find_definitions("helper")] == ["rust/lib.rs"]
    assert [h.path for h in index.find_definitions("renamed_helper")] == ["python/util.py"]


def test_refresh_of_folders(workspace: Path, index: WorkspaceIndex):
    shutil.rmtree(workspace / "rust")
    index.refresh([workspace / "rust"])  # one event for a deleted folder
    assert index.find_definitions("Point") == [] and not index.list_files("rust/*")
    (workspace / "kotlin_like" / "deep").mkdir(parents=True)
    (workspace / "kotlin_like" / "deep" / "mod.py").write_text("def in_new_folder():\n    pass\n")
    index.refresh([workspace / "kotlin_like"])  # one event for a created folder
    assert [h.path for h in index.find_definitions("in_new_folder")] == ["kotlin_like/deep/mod.py"]


def test_build_notices_deleted_files(workspace: Path, index: WorkspaceIndex):
    shutil.rmtree(workspace / "rust")
    stats = index.build()
    assert stats.removed == 1
    assert index.find_definitions("Point") == [] and index.find_references("println") == []


def test_rename_and_delete(workspace: Path, index: WorkspaceIndex):
    (workspace / "python" / "util.py").rename(workspace / "python" / "tools.py")
    index.rename("python/util.py", "python/tools.py")
    assert [h.path for h in index.find_definitions("helper")] == ["python/tools.py", "rust/lib.rs"]
    assert "python/util.py" not in index.list_files()
    assert index.importers_of("python/tools.py") == []  # shapes.py still imports .util
    index.remove("python/tools.py")
    assert [h.path for h in index.find_definitions("helper")] == ["rust/lib.rs"]
    (workspace / "go" / "server.go").rename(workspace / "go" / "server.txt")
    index.rename("go/server.go", "go/server.txt")  # no grammar any more: listed, not parsed
    assert index.find_definitions("NewServer") == [] and "go/server.txt" in index.list_files()


def test_open_document_wins_until_closed(workspace: Path, index: WorkspaceIndex):
    path = workspace / "python" / "util.py"
    assert index.update_document(
        path, "def helper():\n    pass\n\ndef typed_in_editor():\n    pass\n"
    )
    assert [h.path for h in index.find_definitions("typed_in_editor")] == ["python/util.py"]
    text = "def helper():\n    pass\n\ndef typed_in_editor_more():\n    pass\n"
    assert index.update_document(path, text)
    assert index.find_definitions("typed_in_editor") == []
    assert index.find_definitions("typed_in_editor_more")
    index.build()  # the disk does not override an open document
    assert index.find_definitions("typed_in_editor_more")
    index.close_document(path)
    assert index.find_definitions("typed_in_editor_more") == []
    assert [h.path for h in index.find_definitions("helper")] == ["python/util.py", "rust/lib.rs"]


def test_update_document_for_unknown_or_outside_paths(index: WorkspaceIndex, tmp_path: Path):
    assert index.update_document(tmp_path / "elsewhere.py", "def outside_fn(): pass\n") is False
    assert index.update_document(index.root / "notes.txt", "def in_text(): pass\n") is False
    assert index.find_definitions("outside_fn") == [] and index.find_definitions("in_text") == []


def test_search_definitions_ranks_exact_then_prefix(index: WorkspaceIndex):
    names = [h.symbol.name for h in index.search_definitions("area")]
    assert names[:4] == ["area"] * 4
    assert "Area" in names
    assert index.search_definitions("") == []
