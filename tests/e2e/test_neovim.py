"""The Neovim plugin in the distribution's headless Neovim, driving the real weft server.

Each test runs ``nvim --headless -u NONE -c "luafile tests/clients/nvim_driver.lua"`` under
``timeout`` with a scenario, against a loopback model server speaking Ollama ``/api/generate``
(completion) and OpenAI ``/v1/chat/completions`` (the agent). Neovim must be installed
(``apt-get install neovim``; .ci/run does it): a missing nvim fails these tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.chat_wire import ScriptedChat, final
from tests.loopback import LoopbackServer
from tests.wire import serve_ollama

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
DRIVER = REPO / "tests" / "clients" / "nvim_driver.lua"

GREET = 'def greet(name):\n    return "hello " + name\n'
MAIN = 'from greet import greet\n\nprint(greet("world"))\n'
RENAME = (
    "greet.py\n<<<<<<< SEARCH\ndef greet(name):\n=======\ndef welcome(name):\n>>>>>>> REPLACE\n\n"
    'main.py\n<<<<<<< SEARCH\nfrom greet import greet\n\nprint(greet("world"))\n=======\n'
    'from greet import welcome\n\nprint(welcome("world"))\n>>>>>>> REPLACE\n'
)


@pytest.fixture
def model() -> Any:
    with LoopbackServer() as srv:
        yield srv


def run_nvim(
    tmp_path: Path, scenario: str, files: dict[str, str], settings: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """Runs one driver scenario in a fresh workspace; returns what the driver recorded."""
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is required for these tests: apt-get install neovim"
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".git").mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    out = tmp_path / "result.json"
    test = {
        "scenario": scenario,
        "out": str(out),
        "plugin": str(PLUGIN),
        "files": [str(root / name) for name in files],
        "cmd": [
            sys.executable,
            "-m",
            "weft",
            "serve",
            "--log-level",
            "debug",
            "--log-file",
            str(tmp_path / "weft.log"),
        ],
        "env": {
            "PYTHONPATH": os.pathsep.join([str(REPO / "server"), str(REPO)]),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        },
        "settings": settings,
        **extra,
    }
    env = {
        **os.environ,
        "WEFT_NVIM_TEST": json.dumps(test),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    proc = subprocess.run(
        [
            "timeout",
            "120",
            nvim,
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-c",
            f"luafile {DRIVER}",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    log = (tmp_path / "weft.log").read_text() if (tmp_path / "weft.log").exists() else ""
    assert out.exists(), (
        f"nvim exited {proc.returncode} without a result\n{proc.stderr[-3000:]}\n{log[-3000:]}"
    )
    result = json.loads(out.read_text())
    assert "error" not in result, (
        f"{result['error']}\nmessages: {result.get('messages')}\n{log[-4000:]}"
    )
    return result


def agent_settings(model: LoopbackServer, chat: ScriptedChat) -> dict[str, Any]:
    return {
        "backend": {"kind": "ollama", "url": model.url, "model": "test-model"},
        "agent": {"backend": chat.backend_settings()},
    }


def test_completion_fallback_inserts_the_model_suggestion(
    tmp_path: Path, model: LoopbackServer
) -> None:
    ollama = serve_ollama(model, text="a + b")
    settings = {
        "backend": {"kind": "ollama", "url": model.url, "model": "test-model"},
        "completion": {"debounceMs": 0},
    }
    result = run_nvim(
        tmp_path,
        "completion",
        {"calc.py": "def add(a, b):\n    return \n"},
        settings,
        cursor=[2, 11],
    )
    # Neovim 0.7 has no inline completion: weft offers textDocument/completion instead.
    assert result["completion_provider"] is True
    assert result["inline_provider"] is False
    assert result["completion_mode"] in {"omnifunc", "lsp", "cmp"}
    assert result["inserted"].endswith("a + b")
    assert result["lines"] == ["def add(a, b):", "    return a + b"]
    assert result["cursor"] == [2, 16]
    sent = ollama.requests()
    assert sent, "the model was called"
    assert "def add(a, b):" in json.dumps(sent[-1].body)
    assert sent[-1].body["model"] == "test-model"


def test_weft_fix_applies_one_edit_across_two_buffers(
    tmp_path: Path, model: LoopbackServer
) -> None:
    chat = ScriptedChat(model, "openai", [final(RENAME)])
    result = run_nvim(
        tmp_path,
        "fix",
        {"greet.py": GREET, "main.py": MAIN},
        agent_settings(model, chat),
        diagnostic={
            "line": 0,
            "col": 4,
            "end_col": 9,
            "message": "rename greet to welcome everywhere",
        },
    )
    assert result["action_result"].get("error") in (None, ""), result
    assert result["buffers"]["greet.py"] == ["def welcome(name):", '    return "hello " + name']
    assert result["buffers"]["main.py"] == [
        "from greet import welcome",
        "",
        'print(welcome("world"))',
    ]
    assert chat.received, "the agent's model was called"
    assert "rename greet to welcome everywhere" in json.dumps(chat.received[0])


def test_weft_refactor_command_applies_the_instruction(
    tmp_path: Path, model: LoopbackServer
) -> None:
    chat = ScriptedChat(model, "openai", [final(RENAME)])
    result = run_nvim(
        tmp_path,
        "refactor",
        {"greet.py": GREET, "main.py": MAIN},
        agent_settings(model, chat),
        instruction="rename greet to welcome and update the callers",
    )
    assert result["action_result"]["applied"] is True, result
    assert result["buffers"]["greet.py"][0] == "def welcome(name):"
    assert result["buffers"]["main.py"][2] == 'print(welcome("world"))'
    assert "rename greet to welcome and update the callers" in json.dumps(chat.received[0])


def test_refactor_code_action_asks_for_the_instruction(
    tmp_path: Path, model: LoopbackServer
) -> None:
    """vim.lsp.buf.code_action → "Refactor with weft…" → vim.ui.input → one two-buffer edit."""
    chat = ScriptedChat(model, "openai", [final(RENAME)])
    result = run_nvim(
        tmp_path,
        "code_action",
        {"greet.py": GREET, "main.py": MAIN},
        agent_settings(model, chat),
        instruction="rename greet to welcome everywhere",
    )
    assert "Refactor with weft…" in result["offered"]
    assert result["prompted"] is True
    assert result["action_result"]["applied"] is True, result
    assert result["buffers"]["greet.py"][0] == "def welcome(name):"
    assert result["buffers"]["main.py"][0] == "from greet import welcome"
    assert "rename greet to welcome everywhere" in json.dumps(chat.received[0])


def test_checkhealth_weft_reports_the_server_and_completion_path(
    tmp_path: Path, model: LoopbackServer
) -> None:
    serve_ollama(model, text="")
    settings = {"backend": {"kind": "ollama", "url": model.url, "model": "test-model"}}
    result = run_nvim(tmp_path, "health", {"calc.py": "x = 1\n"}, settings)
    text = "\n".join(result["health"])
    assert "setup() ran" in text
    assert "server command" in text and sys.executable in text
    assert "running, root" in text
    assert re.search(r"1 buffer\(s\), completion path: (omnifunc|lsp|cmp|inline)", text)


def test_plugin_units_pass_in_this_neovim(tmp_path: Path) -> None:
    """config, root detection, encodings, the version shims and the fallback's pure parts."""
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is required for these tests: apt-get install neovim"
    out = tmp_path / "units.json"
    env = {**os.environ, "WEFT_NVIM_UNIT_OUT": str(out), "WEFT_NVIM_PLUGIN": str(PLUGIN)}
    unit = REPO / "tests" / "clients" / "nvim_unit.lua"
    proc = subprocess.run(
        ["timeout", "60", nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {unit}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.exists(), f"nvim exited {proc.returncode}: {proc.stderr[-3000:]}"
    result = json.loads(out.read_text())
    assert not result["failed"], result["failed"]
    assert len(result["passed"]) == 8
