"""Neovim 0.12's native ghost text with weft, driven like a person types.

A real Neovim 0.12 (Debian sid's, unpacked by scripts/sid-editors.sh) embedded through pynvim
runs weft's plugin against the real ``weft serve`` and the loopback Ollama. The tests type keys
with a person's timing (faster than Neovim's 200 ms re-request delay, so what is on screen
comes from the last answer), look at the ghost text Neovim draws (its extmarks) after every
keystroke, and accept with the mapped keys.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.clients.editors import nvim
from tests.clients.nvim_session import NvimSession
from tests.loopback import LoopbackServer
from tests.wire import serve_ollama

KEYMAPS = {"accept": "<Tab>", "accept_word": "<M-Right>", "accept_line": "<M-Down>"}


@pytest.fixture
def model() -> Any:
    with LoopbackServer() as srv:
        yield srv


def settings_for(model: LoopbackServer) -> dict[str, Any]:
    return {
        "backend": {"kind": "ollama", "url": model.url, "model": "test-model"},
        "completion": {"debounceMs": 0},
        "index": {"enabled": False},
    }


def session(tmp_path: Path, model: LoopbackServer, text: str) -> tuple[NvimSession, Path]:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".git").mkdir()
    path = root / "calc.py"
    path.write_text(text, encoding="utf-8")
    return NvimSession(nvim("0.12"), root, settings_for(model), keymaps=KEYMAPS), path


def ghost_is(s: NvimSession, text: str | None) -> Any:
    return lambda: (screen := s.screen())["ghost"] == text and screen


def start_typing_on_line_2(s: NvimSession, path: Path) -> None:
    s.open(path)
    s.lua("vim.api.nvim_win_set_cursor(0, { 2, 0 })")
    s.keys("A")  # insert at the end of "    "
    s.wait_for(ghost_is(s, "return a + b"), "the suggestion to be drawn")


def test_typing_through_shows_the_rest_and_accept_reconciles(
    tmp_path: Path, model: LoopbackServer
) -> None:
    serve_ollama(model, text="return a + b")
    s, path = session(tmp_path, model, "def add(a, b):\n    \n")
    with s:
        start_typing_on_line_2(s, path)
        frames = []
        for ch, rest in (("r", "eturn a + b"), ("e", "turn a + b"), ("t", "urn a + b")):
            s.keys(ch)
            screen = s.wait_for(
                lambda ch=ch: (sc := s.screen())["line"].endswith(ch) and sc, "the keystroke"
            )
            frames.append(screen["ghost"])
            # each frame is right: the rest of the suggestion, or nothing; never the whole
            # suggestion again after the typed text ("retreturn a + b")
            assert screen["ghost"] in (rest, None), screen
        assert frames[-1] == "urn a + b", frames  # typed faster than Neovim re-asks: kept
        s.keys("<Tab>")  # accept within Neovim's 200 ms, before it asks again
        s.wait_for(lambda: s.lines()[1] != "    ret", "the accept")
        assert s.lines() == ["def add(a, b):", "    return a + b"]
        assert s.screen()["cursor"] == [2, len("    return a + b")]
        s.wait_for(lambda: s.status().get("accepted") == 1, "the accept command to reach weft")


def test_typed_text_that_disagrees_hides_the_suggestion_and_tab_stays_tab(
    tmp_path: Path, model: LoopbackServer
) -> None:
    serve_ollama(model, text="return a + b")
    s, path = session(tmp_path, model, "def add(a, b):\n    \n")
    with s:
        start_typing_on_line_2(s, path)
        s.keys("x")
        screen = s.wait_for(lambda: (sc := s.screen())["line"] == "    x" and sc, "the keystroke")
        assert screen["ghost"] is None, screen  # not "eturn a + b" after the x
        s.keys("<Tab>")
        s.wait_for(lambda: s.lines()[1] != "    x", "the Tab")
        assert s.lines()[1] == "    x\t"


def test_accept_word_and_line_take_what_is_shown_piece_by_piece(
    tmp_path: Path, model: LoopbackServer
) -> None:
    serve_ollama(model, text="total = a + b\n    return total")
    s, path = session(tmp_path, model, "def add(a, b):\n    \n")
    with s:
        s.open(path)
        s.lua("vim.api.nvim_win_set_cursor(0, { 2, 0 })")
        s.keys("A")
        s.wait_for(ghost_is(s, "total = a + b\n    return total"), "the suggestion")
        s.keys("<M-Right>")
        screen = s.wait_for(
            lambda: (sc := s.screen())["line"] == "    total" and sc, "the word to be inserted"
        )
        assert screen["ghost"] in (" = a + b\n    return total", None), screen
        s.wait_for(ghost_is(s, " = a + b\n    return total"), "the rest to be shown")
        s.keys("<M-Down>")
        s.wait_for(lambda: s.screen()["line"] == "    total = a + b", "the line")
        s.wait_for(ghost_is(s, "\n    return total"), "the next line to be shown")
        s.keys("<M-Down>")
        s.wait_for(lambda: s.lines()[-1] == "    return total", "line 2")
        assert s.lines() == ["def add(a, b):", "    total = a + b", "    return total"]
        s.wait_for(lambda: s.status().get("accepted") == 1, "the whole accept to reach weft")


TWO_PROBLEMS = "import os\n\n\ndef f(a):\n    return a\n"


def test_gra_offers_weft_fixes_for_another_servers_error_and_weft_only_findings(
    tmp_path: Path, model: LoopbackServer
) -> None:
    """Neovim's own `gra` (vim.lsp.buf.code_action) with `ruff server` attached next to weft.

    The ruff server is set to report missing return annotations only (ANN201), which weft's own
    checks (the project's ruff with its default rules) do not report; they see the unused
    import (F401), which the ruff server does not. Neovim sends
    each server only its own diagnostics, so weft learns the ruff server's error from the
    plugin's weft/clientDiagnostics notification.
    """
    ruff = shutil.which("ruff")
    assert ruff, "ruff (installed with the test extra) is needed as the second language server"
    root = tmp_path / "workspace"
    root.mkdir()
    (root / ".git").mkdir()
    path = root / "two.py"
    path.write_text(TWO_PROBLEMS, encoding="utf-8")
    settings = {**settings_for(model), "checks": {"delayMs": 0}}
    with NvimSession(nvim("0.12"), root, settings) as s:
        s.lua(
            """
            local ruff = ...
            vim.api.nvim_create_autocmd("FileType", { pattern = "python", callback = function(ev)
              vim.lsp.start({ name = "ruff", cmd = { ruff, "server" }, root_dir = vim.fn.getcwd(),
                init_options = { settings = { lint = { select = { "ANN201" } } } } }, { bufnr = ev.buf })
            end })
            _G.menus = {}
            vim.ui.select = function(items, opts, choose)  -- record the menu, choose nothing
              local titles = {}
              for _, item in ipairs(items) do
                table.insert(titles, (item.action or item[2] or item).title)
              end
              table.insert(_G.menus, titles)
              choose(nil)
            end
            """,
            ruff,
        )
        s.open(path)
        s.wait_for(
            lambda: s.lua(
                "return #vim.diagnostic.get(0, { lnum = 3 }) > 0"
                " and #vim.lsp.get_clients({ bufnr = 0, name = 'ruff' }) == 1"
            ),
            "the ruff server's diagnostic",
        )

        def menu_on(line: int) -> list[str]:
            s.lua(f"_G.menus = {{}}; vim.api.nvim_win_set_cursor(0, {{ {line}, 4 }})")
            s.keys("gra")  # Neovim's default mapping for vim.lsp.buf.code_action()
            return list(s.wait_for(lambda: s.lua("return _G.menus[1]"), f"the menu on line {line}"))

        other = s.wait_for(
            lambda: [t for t in menu_on(4) if t.startswith("Fix with weft")], "weft's fix (ANN201)"
        )
        assert other == ["Fix with weft: Missing return type annotation for public function `f`"]
        own = s.wait_for(
            lambda: [t for t in menu_on(1) if t.startswith("Fix with weft")], "weft's fix (F401)"
        )
        assert own == ["Fix with weft: `os` imported but unused"]
        diagnostics_on_line_1 = s.lua("return #vim.diagnostic.get(0, { lnum = 0 })")
        assert diagnostics_on_line_1 == 0  # only weft saw it: nothing was published for it
