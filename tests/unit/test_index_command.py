"""``weft index [ROOT] [--json]`` (SPEC §1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from weft.index.command import ProgressBar, format_summary, run
from weft.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"


def test_json_output_and_cache_reuse(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES, root)
    assert run(str(root), True, Settings()) == 0
    out, err = capsys.readouterr()
    stats = json.loads(out)
    for key in ("files", "symbols", "kinds", "references", "languages", "seconds", "reused"):
        assert key in stats
    assert stats["kinds"]["class"] >= 5 and stats["kinds"]["method"] >= 10
    assert stats["languages"]["python"] == 2 and stats["reused"] == 0
    assert stats["symbols"] == sum(stats["kinds"].values())
    assert err == ""  # no progress bar when stderr is not a terminal
    assert list((tmp_path / "xdg" / "weft").glob("ws-*.sqlite3"))
    assert not list(root.rglob("*.sqlite3"))  # never inside the workspace

    assert run(str(root), True, Settings()) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["reused"] == again["files"] + again["listed"]
    assert again["symbols"] == stats["symbols"]


def test_text_summary(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("class A:\n    def m(self):\n        pass\n")
    assert run(str(root), False, Settings()) == 0
    out = capsys.readouterr().out
    assert "1 files, 2 definitions" in out and "class 1" in out and "method 1" in out


def test_missing_root_is_exit_2(tmp_path: Path, capsys):
    assert run(str(tmp_path / "nope"), True, Settings()) == 2
    out, err = capsys.readouterr()
    assert out == "" and "not a folder" in err and err.count("\n") == 1


class FakeTTY:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal():
    tty = FakeTTY()
    bar = ProgressBar(tty)  # type: ignore[arg-type]
    bar(5, 10, "a.py")
    bar(10, 10, "b.py")
    bar.finish()
    assert " 50% 5/10" in tty.text and "100% 10/10" in tty.text and tty.text.endswith("\r")


def test_format_summary_lists_skips():
    text = format_summary(
        {
            "files": 1,
            "symbols": 2,
            "references": 3,
            "seconds": 0.1,
            "reused": 0,
            "parsed": 1,
            "kinds": {"class": 2},
            "languages": {"python": 1},
            "skipped": {"binary": 1},
            "cache": None,
        },
        "/ws",
    )
    assert "skipped: binary 1" in text and "in memory" in text
