"""``weft fix`` / ``weft refactor`` against a scripted chat model on loopback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.chat_wire import ScriptedChat, block, call, final
from tests.loopback import LoopbackServer
from weft.agent.command import write_atomically
from weft.agent.loop import AgentResult
from weft.cli import main

SHOP = "def total(items):\n    return sum(items)\n\n\ndef main():\n    print(totl([]))\n"
GOOD = block("shop.py", "    print(totl([]))\n", "    print(total([]))\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    return root


def settings_for(model: ScriptedChat, **agent) -> str:
    return json.dumps(
        {"agent": {"backend": model.backend_settings(), **agent}, "index": {"enabled": False}}
    )


def test_fix_prints_the_verified_diff_and_writes_nothing(
    root: Path, loopback: LoopbackServer, capsys
) -> None:
    model = ScriptedChat(loopback, "ollama", [final(GOOD)])
    code = main(
        [
            "fix",
            f"{root}/shop.py:6",
            "--root",
            str(root),
            "--message",
            "undefined name totl",
            "--settings",
            settings_for(model),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == (
        "--- a/shop.py\n+++ b/shop.py\n@@ -3,4 +3,4 @@\n \n \n def main():\n"
        "-    print(totl([]))\n+    print(total([]))\n"
    )
    assert (root / "shop.py").read_text() == SHOP
    assert "shop.py:6: undefined name totl" in model.user_texts(0)[0]


def test_refactor_apply_writes_every_file(root: Path, loopback: LoopbackServer, capsys) -> None:
    answer = GOOD + block("util/helpers.py", "", "def helper():\n    return 1\n")
    model = ScriptedChat(loopback, "anthropic", [call("list_files"), final(answer)])
    os.chmod(root / "shop.py", 0o640)
    code = main(
        [
            "refactor",
            "add a helper",
            "--root",
            str(root),
            "--apply",
            "--settings",
            settings_for(model),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "+++ b/util/helpers.py" in out and "--- /dev/null" in out
    assert (root / "shop.py").read_text() == SHOP.replace("totl(", "total(")
    assert (root / "util" / "helpers.py").read_text() == "def helper():\n    return 1\n"
    assert (root / "shop.py").stat().st_mode & 0o777 == 0o640
    assert not [p for p in root.rglob("*.weft")]


def test_no_verified_edit_exits_1(root: Path, loopback: LoopbackServer, capsys) -> None:
    model = ScriptedChat(loopback, "openai", [final("I cannot help."), final("Still no.")])
    code = main(
        [
            "fix",
            f"{root}/shop.py:6",
            "--root",
            str(root),
            "--settings",
            settings_for(model, maxSteps=2),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "maxSteps" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fix", "{root}/missing.py:1"], "no such file"),
        (["fix", "{root}/shop.py:99"], "past the end"),
        (["fix", "{root}/shop.py"], "PATH:LINE"),
        (
            ["fix", "{root}/shop.py:1", "--settings", '{"backend": {"kind": "offline"}}'],
            "chat model",
        ),
        (["refactor", " ", "--root", "{root}"], "instruction is empty"),
        (["refactor", "x", "--root", "{root}/nope"], "no such folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    root: Path, capsys, argv: list[str], message: str
) -> None:
    argv = [a.replace("{root}", str(root)) for a in argv]
    if argv[0] == "fix" and "--settings" not in argv:
        argv += ["--settings", json.dumps({"agent": {"backend": {"kind": "ollama", "model": "m"}}})]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_file_outside_root_is_refused(tmp_path: Path, root: Path, capsys) -> None:
    other = tmp_path / "other.py"
    other.write_text("x = 1\n")
    code = main(
        [
            "fix",
            f"{other}:1",
            "--root",
            str(root),
            "--settings",
            json.dumps({"agent": {"backend": {"kind": "ollama", "model": "m"}}}),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "outside" in err


def test_apply_refuses_when_the_disk_moved(root: Path) -> None:
    result = AgentResult(originals={"shop.py": "old\n"}, texts={"shop.py": "new\n"})
    reason = write_atomically(root, result)
    assert reason is not None and "changed on disk" in reason
    assert (root / "shop.py").read_text() == SHOP


def test_unreachable_chat_model_is_bad_input_exit_2(root: Path, capsys) -> None:
    from tests.wire import closed_url

    settings = json.dumps(
        {
            "agent": {"backend": {"kind": "openai", "url": closed_url() + "/v1", "model": "m"}},
            "index": {"enabled": False},
        }
    )
    code = main(["refactor", "rename total", "--root", str(root), "--settings", settings])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot reach" in err
