"""The Neovim plugin in the distribution's headless Neovim, driving the real weft server.

Each test runs ``nvim --headless -u NONE -c "luafile tests/clients/nvim_driver.lua"`` under
``timeout`` with a scenario, against a loopback model server speaking Ollama ``/api/generate``
(completion) and OpenAI ``/v1/chat/completions`` (the agent). Neovim must be installed
(``apt-get install neovim``; .ci/run does it): a missing nvim fails these tests.
"""

from __future__ import annotations

import hashlib
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
from tests.clients.editors import nvim as nvim_binary
from tests.loopback import LoopbackServer
from tests.wire import closed_url, serve_ollama

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


@pytest.fixture(params=["system", "0.12"])
def nvim(request: pytest.FixtureRequest) -> str:
    """Each scenario runs in the distribution's Neovim (0.7.2) and in sid's 0.12."""
    return nvim_binary(request.param)


@pytest.fixture
def model() -> Any:
    with LoopbackServer() as srv:
        yield srv


def run_nvim(
    nvim: str,
    tmp_path: Path,
    scenario: str,
    files: dict[str, str],
    settings: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """Runs one driver scenario in a fresh workspace; returns what the driver recorded."""
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
    """Neovim before 0.12 (the distribution's 0.7.2): the textDocument/completion fallback."""
    nvim = nvim_binary("system")
    ollama = serve_ollama(model, text="a + b")
    settings = {
        "backend": {"kind": "ollama", "url": model.url, "model": "test-model"},
        "completion": {"debounceMs": 0},
    }
    result = run_nvim(
        nvim,
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


@pytest.mark.parametrize("decision", ["trust", "deny", "no vim.secure"])
def test_weft_toml_trust_goes_through_vim_secure(
    tmp_path: Path, model: LoopbackServer, decision: str
) -> None:
    """The repository's weft.toml names the model server (a trusted-only key): it applies only
    when the user trusted that content in Neovim's own trust database (``:trust``, read through
    vim.secure.read in 0.12); denied (``:trust ++deny``), or in 0.7 without vim.secure, the
    server ignores it."""
    ollama = serve_ollama(model, text="a + b")
    settings = {
        "backend": {"kind": "ollama", "model": "test-model"},
        "completion": {"debounceMs": 0},
    }
    toml = f'[backend]\nurl = "{model.url}"\n'
    files = {"calc.py": "def add(a, b):\n    return \n", "weft.toml": toml}
    if decision != "no vim.secure":
        # what :trust / :trust ++deny write: "<sha256 of the content> <real path>" or "! <path>"
        path = os.path.realpath(tmp_path / "workspace" / "weft.toml")
        mark = hashlib.sha256(toml.encode()).hexdigest() if decision == "trust" else "!"
        (tmp_path / "state" / "nvim").mkdir(parents=True)
        (tmp_path / "state" / "nvim" / "trust").write_text(f"{mark} {path}\n")
    nvim = nvim_binary("system" if decision == "no vim.secure" else "0.12")
    result = run_nvim(nvim, tmp_path, "ask", files, settings, cursor=[2, 11])
    if decision == "trust":
        assert result.get("suggested", "").endswith("a + b")
        assert ollama.requests()
    else:
        assert "suggested" not in result and ollama.requests() == []


def test_weft_fix_applies_one_edit_across_two_buffers(
    nvim: str, tmp_path: Path, model: LoopbackServer
) -> None:
    chat = ScriptedChat(model, "openai", [final(RENAME)])
    result = run_nvim(
        nvim,
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
    nvim: str, tmp_path: Path, model: LoopbackServer
) -> None:
    chat = ScriptedChat(model, "openai", [final(RENAME)])
    result = run_nvim(
        nvim,
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
    nvim: str, tmp_path: Path, model: LoopbackServer
) -> None:
    """vim.lsp.buf.code_action → "Refactor with weft…" → vim.ui.input → one two-buffer edit."""
    chat = ScriptedChat(model, "openai", [final(RENAME)])
    result = run_nvim(
        nvim,
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
    nvim: str, tmp_path: Path, model: LoopbackServer
) -> None:
    serve_ollama(model, text="")
    settings = {"backend": {"kind": "ollama", "url": model.url, "model": "test-model"}}
    result = run_nvim(nvim, tmp_path, "health", {"calc.py": "x = 1\n"}, settings)
    text = "\n".join(result["health"])
    assert "setup() ran" in text
    assert "server command" in text and sys.executable in text
    assert "running, root" in text
    assert re.search(r"1 buffer\(s\), completion path: (omnifunc|lsp|cmp|inline)", text)
    assert f"backend ollama at {model.url} answers" in text, text  # the server probed it
    assert "unreachable" not in text


def test_checkhealth_weft_reports_an_unreachable_backend(nvim: str, tmp_path: Path) -> None:
    """The server probes the configured backend when :checkhealth asks (weft.status probe)."""
    settings = {"backend": {"kind": "ollama", "url": closed_url(), "model": "test-model"}}
    result = run_nvim(nvim, tmp_path, "health", {"calc.py": "x = 1\n"}, settings)
    text = "\n".join(result["health"])
    assert "backend ollama at http://127.0.0.1:" in text and "is unreachable" in text, text
    assert "ERROR" in text[text.index("is unreachable") - 200 : text.index("is unreachable")]


def test_empty_settings_go_to_the_server_as_an_object(nvim: str, tmp_path: Path) -> None:
    """`settings = {}` is a Lua table that JSON-encodes as [] unless marked a dictionary."""
    run_nvim(nvim, tmp_path, "health", {"calc.py": "x = 1\n"}, {})
    log = (tmp_path / "weft.log").read_text()
    assert " ready (root " in log
    assert "initializationOptions ignored" not in log
    assert "expected an object" not in log


def test_help_weft_opens_the_plugin_help(nvim: str, tmp_path: Path) -> None:
    result = run_nvim(nvim, tmp_path, "help", {"calc.py": "x = 1\n"}, {})
    assert result["help_file"] == "weft.txt"
    assert "*weft.txt*" in result["help_line"] or "weft" in result["help_line"]


def test_help_tags_are_current(tmp_path: Path) -> None:
    """doc/tags is committed; regenerating it from doc/weft.txt must give the same file."""
    doc = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", doc)
    (doc / "tags").unlink()
    subprocess.run(
        [
            nvim_binary("system"),
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-c",
            f"helptags {doc}",
            "-c",
            "qall!",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert (doc / "tags").read_text() == (PLUGIN / "doc" / "tags").read_text(), (
        "regenerate clients/neovim/doc/tags: nvim --headless -c 'helptags clients/neovim/doc' -c q"
    )


def test_outage_warning_reaches_vim_notify(nvim: str, tmp_path: Path) -> None:
    settings = {
        "backend": {"kind": "ollama", "url": closed_url(), "model": "test-model"},
        "completion": {"debounceMs": 0},
    }
    result = run_nvim(nvim, tmp_path, "outage", {"calc.py": "def f(a):\n    \n"}, settings)
    warnings = [n for n in result["notes"] if "not answering" in n[0]]
    assert warnings and warnings[0][1] == 3, result["notes"]  # vim.log.levels.WARN


def test_plugin_units_pass_in_this_neovim(nvim: str, tmp_path: Path) -> None:
    """config, root detection, encodings, the version shims and the fallback's pure parts."""
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
    assert len(result["passed"]) == 12
