"""The command line never prints a traceback (issue 11): each rough edge is one line on stderr
and a non-zero status (2 for bad input), run in process through ``weft.cli.main``."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from weft import cli

OFFLINE = json.dumps({"backend": {"kind": "offline"}})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "main.py").write_text("def add(a, b):\n    \n")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_weft_alone_prints_usage_and_exits_2(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: weft") and "weft serve" in err


@pytest.mark.parametrize(
    ("port", "message"), [("99999", "99999 is not a port"), ("abc", "'abc' is not a port number")]
)
def test_a_port_that_is_not_one_is_bad_input(capsys, port, message):
    with pytest.raises(SystemExit) as stop:
        cli.main(["serve", "--tcp", port])
    assert stop.value.code == 2
    assert message in one_line(capsys.readouterr().err)


def test_a_port_in_use_is_one_line_and_status_1(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "serve", "--tcp", str(port))
    assert code == 1 and out == ""
    assert f"cannot listen on 127.0.0.1:{port}" in one_line(err)


def test_a_log_file_in_a_missing_folder_is_bad_input(capsys, tmp_path: Path):
    code, _, err = run(capsys, "serve", "--log-file", str(tmp_path / "missing" / "weft.log"))
    assert code == 2
    assert "cannot write the log file" in one_line(err) and "No such file" in err


def test_a_weft_toml_that_is_not_utf8_is_bad_input(capsys, project: Path):
    (project / "weft.toml").write_bytes(b"\xff\xfe[completion]\n")
    code, out, err = run(capsys, "doctor", "--root", str(project))
    assert code == 2 and out == ""
    line = one_line(err)
    assert "weft.toml" in line and "utf-8" in line.lower()


@pytest.mark.parametrize("command", ["index", "doctor", "complete", "fix", "refactor"])
def test_a_root_that_does_not_exist_is_bad_input(capsys, project: Path, command: str):
    missing = str(project / "nowhere")
    argv = {
        "index": ["index", missing],
        "doctor": ["doctor", "--root", missing],
        "complete": ["complete", f"{project / 'main.py'}:2:5", "--root", missing],
        "fix": ["fix", f"{project / 'main.py'}:1", "--root", missing],
        "refactor": ["refactor", "rename x", "--root", missing],
    }[command]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert f"no such folder: {missing}" in one_line(err)


def test_index_of_a_file_says_it_is_not_a_folder(capsys, project: Path):
    code, _, err = run(capsys, "index", str(project / "main.py"))
    assert code == 2
    assert one_line(err) == f"weft: not a folder: {project / 'main.py'}"


def test_complete_json_prints_an_empty_list_when_there_is_no_suggestion(capsys, project: Path):
    code, out, _ = run(
        capsys, "complete", f"{project / 'main.py'}:2:5", "--json", "--settings", OFFLINE
    )
    assert code == 0 and json.loads(out) == {"items": []}


def test_outside_any_project_complete_learns_the_files_folder_only(
    capsys, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    loose = tmp_path / "loose"
    (loose / "deep").mkdir(parents=True)
    (loose / "x.py").write_text("def add(a, b):\n    return a + b\n")
    (loose / "deep" / "y.py").write_text("def other():\n    return 1\n")
    learned: list[list[Path]] = []
    from weft.offline.engine import OfflineEngine

    original = OfflineEngine.train_workspace

    async def spy(self, root, files, *args, **kwargs):  # type: ignore[no-untyped-def]
        learned.append(sorted(files))
        return await original(self, root, files, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(OfflineEngine, "train_workspace", spy)
        code, _, err = run(capsys, "complete", f"{loose / 'x.py'}:2:5", "--settings", OFFLINE)
    assert code == 0
    assert "is in no project" in one_line(err) and str(loose) in err
    assert learned == [[loose / "x.py"]]  # its own folder, not deep/
    assert not (tmp_path / "cache").exists()  # and no model cache for a loose folder


def test_an_unreadable_folder_is_skipped_with_its_path_named(
    capsys, project: Path, monkeypatch, tmp_path: Path
):
    (project / "secret").mkdir()
    (project / "secret" / "s.py").write_text("def hidden(): pass\n")
    (project / "ok.py").write_text("def visible(): pass\n")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).endswith("secret"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("weft.index.walk.os.scandir", scandir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, out, err = run(capsys, "index", str(project))
    assert code == 0
    assert "unreadable folders (skipped): secret (Permission denied)" in out
    assert f"skipping folder {project / 'secret'}: Permission denied" in err
    assert "Traceback" not in err
    # and the offline engine's training, through `weft complete`
    code, _, err = run(capsys, "complete", f"{project / 'main.py'}:2:5", "--settings", OFFLINE)
    assert code == 0 and f"skipping folder {project / 'secret'}" in err


def test_an_unexpected_failure_is_one_line_not_a_traceback(capsys, project: Path, monkeypatch):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("weft.index.command.run", broken)
    monkeypatch.delenv("WEFT_DEBUG", raising=False)
    code, _, err = run(capsys, "index", str(project))
    assert code == 1 and "internal error: RuntimeError('disk on fire')" in one_line(err)
