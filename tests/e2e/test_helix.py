"""Helix (Debian sid's ``hx``, unpacked by scripts/sid-editors.sh) with weft, driven in tmux.

Helix has no inline completion, so weft answers ``textDocument/completion`` (the fallback); and
Helix sends a server only that server's own diagnostics in ``textDocument/codeAction``, so the
"Fix with weft" entry in its code-action menu (``Space a``) comes from weft's own checks. The
configuration is the one docs/clients.md gives, pointed at this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients.editors import hx
from tests.loopback import LoopbackServer
from tests.wire import serve_ollama

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def model() -> Any:
    with LoopbackServer() as srv:
        yield srv


class Tmux:
    """One detached tmux session running a program in a 120x30 terminal."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.tmux = shutil.which("tmux")
        assert self.tmux, "tmux is required for the Helix tests (apt-get install tmux)"
        self.name = f"weft-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        command = f"cd {_quote(str(cwd))} && env {exports} " + " ".join(_quote(a) for a in argv)
        subprocess.run(
            [self.tmux, "new-session", "-d", "-s", self.name, "-x", "120", "-y", "30", command],
            check=True,
            timeout=20,
        )

    def keys(self, *keys: str) -> None:
        subprocess.run([self.tmux, "send-keys", "-t", self.name, *keys], check=True, timeout=10)

    def screen(self) -> str:
        proc = subprocess.run(
            [self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return proc.stdout

    def wait_for(self, text: str, what: str, timeout: float = 30, *others: str) -> str:
        """The screen once it shows ``text`` (or one of ``others``)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if any(t in screen for t in (text, *others)):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.name], timeout=10, check=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def helix_config(tmp_path: Path, settings: dict[str, Any]) -> Path:
    """XDG_CONFIG_HOME with helix/languages.toml: weft for Python, as docs/clients.md shows."""
    config = tmp_path / "config"
    (config / "helix").mkdir(parents=True)
    backend = settings["backend"]
    (config / "helix" / "languages.toml").write_text(
        f"""
[language-server.weft]
command = {_toml(sys.executable)}
args = ["-m", "weft", "serve", "--log-file", {_toml(str(tmp_path / "weft.log"))}]
environment = {{ PYTHONPATH = {_toml(os.pathsep.join([str(REPO / "server"), str(REPO)]))} }}

[language-server.weft.config]
backend = {{ kind = "ollama", url = {_toml(backend["url"])}, model = "test-model" }}
completion = {{ debounceMs = 0 }}
checks = {{ delayMs = 0 }}
index = {{ enabled = false }}

[[language]]
name = "python"
language-servers = ["weft"]
""",
        encoding="utf-8",
    )
    (config / "helix" / "config.toml").write_text(
        "[editor]\ncompletion-timeout = 5\nidle-timeout = 50\n", encoding="utf-8"
    )
    return config


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_helix(tmp_path: Path, model: LoopbackServer, text: str) -> tuple[Tmux, Path]:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".git").mkdir()
    path = root / "calc.py"
    path.write_text(text, encoding="utf-8")
    config = helix_config(tmp_path, {"backend": {"url": model.url}})
    env = {
        "XDG_CONFIG_HOME": str(config),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
    }
    tmux = Tmux([hx(), str(path)], root, env)
    tmux.wait_for("calc.py", "Helix to start")
    log = tmp_path / "weft.log"
    deadline = time.monotonic() + 30
    while not (log.exists() and " ready (root " in log.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, f"weft did not start in Helix:\n{tmux.screen()}"
        time.sleep(0.05)
    return tmux, path


def test_helix_completion_menu_inserts_the_model_suggestion(
    tmp_path: Path, model: LoopbackServer
) -> None:
    ollama = serve_ollama(model, text="a + b")
    tmux, path = start_helix(tmp_path, model, "def add(a, b):\n    return \n")
    try:
        tmux.keys("2", "g", "g", "A")  # end of line 2, insert mode
        tmux.wait_for("INS", "insert mode")
        tmux.keys("C-x")  # Helix: ask for completion
        tmux.wait_for("a + b", "weft's item in the completion menu")
        tmux.keys("Tab")  # select the first item: Helix inserts it
        tmux.wait_for("return a + b", "the selected item")
        tmux.keys("Enter")  # confirm it
        tmux.keys("Escape")  # alone: an Escape followed at once by ":" reads as Alt-:
        tmux.wait_for("NOR", "normal mode")
        tmux.keys(":w", "Enter")
        deadline = time.monotonic() + 20
        while path.read_text(encoding="utf-8") != "def add(a, b):\n    return a + b\n":
            assert time.monotonic() < deadline, (path.read_text(), tmux.screen())
            time.sleep(0.1)
        assert ollama.requests(), "the model was asked"
    finally:
        tmux.close()


def test_helix_code_action_menu_offers_fix_with_weft_for_its_own_finding(
    tmp_path: Path, model: LoopbackServer
) -> None:
    serve_ollama(model, text="")
    tmux, _ = start_helix(tmp_path, model, "import os\n\n\ndef add(a, b):\n    return a + b\n")
    try:
        tmux.keys("g", "g")  # line 1: the unused import only weft's checks (ruff) report
        deadline = time.monotonic() + 40
        while True:
            tmux.keys("Space", "a")  # Helix's code-action menu
            # the menu as Helix draws it: with weft's fix, or (checks still running) without it
            screen = tmux.wait_for(
                "Fix with weft", "the menu", 10, "No code actions", "Refactor with weft"
            )
            if "Fix with weft" in screen:
                break
            assert time.monotonic() < deadline, f"no 'Fix with weft' in the menu:\n{screen}"
            tmux.keys("Escape")  # weft's checks run in the background: ask again
            tmux.wait_for("NOR", "normal mode")
        assert "Fix with weft: `os` imported but unused" in screen, screen
    finally:
        tmux.close()
