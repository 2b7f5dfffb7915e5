"""Path safety, exclusion, redaction and the five read-only tools."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from weft.agent.tools import TOOLS, PathRefused, ToolBox, Workspace, resolve_in_root


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def hello(name):\n    return name\n\nhello('x')\n")
    (root / ".env").write_text("TOKEN=abc\n")
    evil = tmp_path / "repo-evil"
    evil.mkdir()
    (evil / "secret.txt").write_text("outside\n")
    os.symlink(evil, root / "link_out")
    os.symlink(evil / "secret.txt", root / "file_link_out")
    os.symlink(root / ".env", root / "env_link")
    os.symlink(root / "pkg" / "mod.py", root / "inner_link.py")
    return root


def excluded(rel: str) -> bool:
    return rel.split("/")[-1].startswith(".env")


@pytest.mark.parametrize(
    "path",
    [
        "../repo-evil/secret.txt",
        "pkg/../../repo-evil/secret.txt",
        "/etc/passwd",
        "file:///etc/passwd",
        "C:/Windows/win.ini",
        "\\\\server\\share",
        "~/x",
        "link_out/secret.txt",
        "file_link_out",
        "a\x00b",
        "",
        ".",
    ],
)
def test_escapes_are_refused(layout: Path, path: str) -> None:
    with pytest.raises(PathRefused):
        Workspace(layout, excluded).resolve(path)


def test_sibling_prefix_via_symlinked_root(layout: Path, tmp_path: Path) -> None:
    # A string-prefix check would accept /…/repo-evil for /…/repo.
    with pytest.raises(PathRefused, match="outside"):
        resolve_in_root(layout, "link_out")
    assert str(tmp_path / "repo-evil").startswith(str(layout))


def test_excluded_files_and_symlinks_to_them_are_refused(layout: Path) -> None:
    ws = Workspace(layout, excluded)
    with pytest.raises(PathRefused, match="excluded"):
        ws.resolve(".env")
    with pytest.raises(PathRefused, match="excluded"):
        ws.resolve("env_link")
    with pytest.raises(PathRefused, match="excluded"):
        ws.resolve(".git/config")


def test_symlink_inside_is_readable_but_not_writable(layout: Path) -> None:
    ws = Workspace(layout, excluded)
    assert ws.resolve("inner_link.py") == "pkg/mod.py"
    with pytest.raises(PathRefused, match="symbolic link"):
        ws.resolve("inner_link.py", for_write=True)


def test_new_file_inside_is_allowed(layout: Path) -> None:
    assert Workspace(layout).resolve("pkg/new/thing.py", for_write=True) == "pkg/new/thing.py"
    assert Workspace(layout).resolve("./pkg//x.py") == "pkg/x.py"


def test_read_file_numbers_lines_and_uses_open_document_text(layout: Path) -> None:
    ws = Workspace(layout, excluded, overlays={"pkg/mod.py": "edited\nin editor\n"})
    out = ToolBox(ws).call("read_file", {"path": "pkg/mod.py"})
    assert out == "    1| edited\n    2| in editor\n"
    out = ToolBox(Workspace(layout)).call(
        "read_file", {"path": "pkg/mod.py", "start_line": 2, "end_line": "2"}
    )
    assert out.startswith("    2|     return name\n")
    assert "[lines 2-2 of 4]" in out


def test_tool_errors_go_back_as_text(layout: Path) -> None:
    box = ToolBox(Workspace(layout, excluded))
    assert box.call("read_file", {"path": "../repo-evil/secret.txt"}).startswith("error: refused:")
    assert box.call("read_file", {"path": "link_out/secret.txt"}).startswith("error: refused:")
    assert box.call("read_file", {"path": ".env"}).startswith("error: refused:")
    assert box.call("read_file", {}).startswith("error: bad arguments")
    assert box.call("read_file", {"path": "missing.py"}).startswith("error:")
    assert box.call("run_shell", {"cmd": "rm -rf /"}).startswith("error: there is no tool")
    assert box.call("search_text", {"pattern": "("}).startswith("error: invalid regular expression")


def test_list_and_search_skip_excluded_and_escaping_files(layout: Path) -> None:
    box = ToolBox(Workspace(layout, excluded))
    files = box.call("list_files", {}).split()
    assert "pkg/mod.py" in files
    assert ".env" not in files and "env_link" not in files and "file_link_out" not in files
    assert box.call("list_files", {"glob": "**/*.py"}).split() == ["inner_link.py", "pkg/mod.py"]
    rows = json.loads(box.call("search_text", {"pattern": "hello|TOKEN|outside"}))
    assert {(r["path"], r["line"]) for r in rows} == {
        ("inner_link.py", 1),
        ("inner_link.py", 4),
        ("pkg/mod.py", 1),
        ("pkg/mod.py", 4),
    }


def test_index_tools_filter_excluded_and_fill_text(layout: Path) -> None:
    from weft.index.workspace import WorkspaceIndex

    (layout / ".env.py").write_text("def hello():\n    pass\n")
    index = WorkspaceIndex(layout, cache_file=False, workers=1)
    index.build()
    try:
        box = ToolBox(Workspace(layout, excluded, index=index))
        assert json.loads(box.call("find_definitions", {"name": "hello"})) == [
            {
                "path": "inner_link.py",
                "line": 1,
                "kind": "function",
                "signature": "def hello(name):",
            },
            {"path": "pkg/mod.py", "line": 1, "kind": "function", "signature": "def hello(name):"},
        ]
        refs = json.loads(box.call("find_references", {"name": "hello"}))
        assert {"path": "pkg/mod.py", "line": 4, "text": "hello('x')"} in refs
        assert all(not r["path"].startswith(".env") for r in refs)
        assert ".env.py" not in box.call("list_files", {}).split()
        assert box.call("find_definitions", {"name": " "}).startswith("error: bad arguments")
    finally:
        index.close()


def test_results_are_redacted_capped_and_cleaned(layout: Path) -> None:
    (layout / "big.py").write_text(
        "".join(f"x{i} = 'sk-" + f"proj-SECRET{i:04d}aZ9kQ2mW7xL4pV8n'\n" for i in range(2000))
        + "\U000e0041hidden\n"
    )

    ws = Workspace(layout, redact=True)
    out = ToolBox(ws).call("read_file", {"path": "big.py"})
    assert "proj-SECRET" not in out and "[REDACTED]" in out
    assert len(out) <= 8100 and "[cut:" in out
    tail = ToolBox(ws).call("read_file", {"path": "big.py", "start_line": 2001})
    assert "\U000e0041" not in tail and "hidden" in tail
    assert ws.redactions > 0


def test_tool_specs_are_exactly_the_five() -> None:
    assert [t.name for t in TOOLS] == [
        "read_file",
        "find_definitions",
        "find_references",
        "list_files",
        "search_text",
    ]
    params = {t.name: set(t.parameters["properties"]) for t in TOOLS}
    assert params == {
        "read_file": {"path", "start_line", "end_line"},
        "find_definitions": {"name"},
        "find_references": {"name"},
        "list_files": {"glob"},
        "search_text": {"pattern", "glob"},
    }
