"""A real Neovim driven the way a person drives it: keys in, screen state out.

Starts ``nvim --embed --headless -u NONE`` through pynvim, sets the weft plugin up against the
real ``weft serve``, and then only *types* (``nvim_input``: keys go through insert mode,
mappings and autocommands like typed keys) and *looks* (the buffer, the cursor, and the ghost
text Neovim draws: extmarks in Neovim's own ``nvim.lsp.inline_completion`` namespace).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pynvim

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"

GHOST_LUA = """
local bufnr = vim.api.nvim_get_current_buf()
local ns = vim.api.nvim_create_namespace("nvim.lsp.inline_completion")
local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
local cursor = vim.api.nvim_win_get_cursor(0)
local out = {
  line = vim.api.nvim_get_current_line(),
  cursor = cursor,
  mode = vim.api.nvim_get_mode().mode,
  ghost = vim.NIL,
}
if #marks > 0 then
  local d = marks[1][4]
  local parts = {}
  for _, chunk in ipairs(d.virt_text or {}) do
    if chunk[2] ~= "ComplHintMore" then table.insert(parts, chunk[1]) end
  end
  local lines = { table.concat(parts) }
  for _, vl in ipairs(d.virt_lines or {}) do
    local p = {}
    for _, chunk in ipairs(vl) do table.insert(p, chunk[1]) end
    table.insert(lines, table.concat(p))
  end
  out.ghost = table.concat(lines, "\\n")
  out.ghost_at = { marks[1][2], marks[1][3] }
end
return out
"""


def weft_cmd(log: Path) -> list[str]:
    return [sys.executable, "-m", "weft", "serve", "--log-level", "debug", "--log-file", str(log)]


def weft_env(tmp: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": os.pathsep.join([str(REPO / "server"), str(REPO)]),
        "XDG_CACHE_HOME": str(tmp / "cache"),
    }


class NvimSession:
    """One embedded Neovim with weft's plugin set up; use as a context manager."""

    def __init__(self, nvim: str, workdir: Path, settings: dict[str, Any], **setup: Any) -> None:
        self.workdir = workdir
        self.log = workdir.parent / "weft.log"
        state = workdir.parent / "state"
        self.nvim = pynvim.attach(
            "child",
            argv=[
                "env",
                f"XDG_STATE_HOME={state}",
                f"XDG_CONFIG_HOME={workdir.parent / 'config'}",
                nvim,
                "--embed",
                "--headless",
                "-u",
                "NONE",
                "-i",
                "NONE",
                "--cmd",
                f"cd {workdir}",
            ],
        )
        options = {
            "cmd": weft_cmd(self.log),
            "cmd_env": weft_env(workdir.parent),
            "settings": settings,
            **setup,
        }
        self.nvim.exec_lua(
            """
            local plugin, options = ...
            vim.opt.runtimepath:prepend(plugin)
            vim.cmd("filetype on")
            _G.weft_notes = {}
            local notify = vim.notify
            vim.notify = function(msg, level, o)
              table.insert(_G.weft_notes, { msg, level or vim.log.levels.INFO })
              return notify(msg, level, o)
            end
            require("weft").setup(options)
            """,
            str(PLUGIN),
            options,
        )

    def __enter__(self) -> NvimSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.nvim.command("qall!")
        except Exception:  # noqa: BLE001 - the child goes away while answering
            pass
        try:
            self.nvim.close()
        except Exception:  # noqa: BLE001
            pass

    # -- looking ------------------------------------------------------------------------

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def screen(self) -> dict[str, Any]:
        """The current line, cursor (1-based row, byte col), mode and the ghost text drawn."""
        return dict(self.lua(GHOST_LUA))

    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def notes(self) -> list[list[Any]]:
        return list(self.lua("return _G.weft_notes"))

    def wait_for(
        self, predicate: Callable[[], Any], what: str, timeout: float = 20.0, poll: float = 0.02
    ) -> Any:
        """Polls ``predicate`` until it returns something truthy; fails naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen: {self.screen()}")
            time.sleep(poll)

    # -- doing --------------------------------------------------------------------------

    def open(self, path: Path) -> int:
        self.nvim.command(f"edit {path}")
        bufnr = int(self.nvim.current.buffer.number)
        self.wait_for(
            lambda: self.lua(
                "local c = require('weft.lsp').client(...); return c ~= nil and c.initialized == true",
                bufnr,
            ),
            "weft to attach",
        )
        return bufnr

    def keys(self, keys: str) -> None:
        """Typed keys (``<Tab>``, ``<M-Right>`` notation), as from the keyboard."""
        self.nvim.input(keys)

    def type_text(self, text: str, gap_s: float = 0.06) -> None:
        """Types ``text`` one character at a time, ``gap_s`` apart (a person's typing)."""
        for ch in text:
            self.keys("<lt>" if ch == "<" else ch)
            time.sleep(gap_s)

    def status(self) -> dict[str, Any]:
        """weft.status from the server."""
        return dict(
            self.lua(
                """
                local client = require("weft.lsp").client(0)
                local answer = require("weft.lsp").call(client, "request_sync",
                  "workspace/executeCommand", { command = "weft.status" }, 5000)
                return answer and answer.result or {}
                """
            )
        )


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)
