"""The typing replay of bench/typing.py, through a real Neovim 0.12 with weft's plugin.

The same regions, keystroke script (seeded timing, thinking pauses, Enter with the next line's
indentation) and oracle model (loopback Ollama, 150 ms latency, answering with the true
continuation) as ``bench/_typing_replay.py``; but instead of a model of Neovim's request policy
this drives Neovim 0.12 itself (Debian sid's, from scripts/sid-editors.sh) through pynvim:
keys go in with ``nvim_input`` at the script's times, and what Neovim draws is read from its
ghost-text extmarks.

Figures:

* **stale frames**: after each keystroke (once processed, and again just before the next key)
  the ghost text on screen is compared with what really follows the cursor; a frame showing
  anything else is stale (``retreturn``). Goal 0.
* **wrong accepts**: at random moments while a suggestion is shown (p = ``--accept-rate``, default 0.5), the
  accept key (Tab) is pressed, often within Neovim's 200 ms before it asks again; the buffer
  must then hold the original text up to the new cursor. Goal 0. Typing goes on from there.
* **model calls per keystroke**: calls the loopback model received / keystrokes typed.

    python bench/nvim_typing.py [--quick] [--files 3] [--seed 7] [--accept-rate 0.5]

Prints figures; never fails on a missed target.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from _lsp import Oracle, no_nagle, ollama_settings  # noqa: E402
from _typing_replay import (  # noqa: E402
    FILES,
    GENERATE,
    MODEL_LATENCY_S,
    Key,
    Region,
    keystrokes,
    pick_region,
)
from tests.clients.editors import nvim  # noqa: E402
from tests.clients.nvim_session import NvimSession  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402
from tests.wire import serve_ollama  # noqa: E402

KEYMAPS = {"accept": "<Tab>"}


@dataclass
class Figures:
    keys: int = 0
    frames: int = 0
    frames_with_ghost: int = 0
    trimmed: int = 0
    """Frames showing weft's answer where its post-processing changed the oracle's text."""
    stale: list[str] = field(default_factory=list)
    accepts: int = 0
    accepted_chars: int = 0
    wrong_accepts: list[str] = field(default_factory=list)
    calls: int = 0
    status: dict = field(default_factory=dict)


def key_input(text: str) -> str:
    return "".join({"\n": "<CR>", "<": "<lt>", "\t": "<Tab>"}.get(c, c) for c in text)


class Typist:
    """Types one region back into a real Neovim and checks every frame."""

    def __init__(self, s: NvimSession, region: Region, figures: Figures) -> None:
        self.s, self.region, self.fig = s, region, figures

    def expected_text(self, typed: int) -> str:
        r = self.region
        return r.original[: r.start + typed] + r.original[r.end :]

    def buffer_text(self) -> str:
        return "\n".join(self.s.lines()) + "\n"

    def cursor_offset(self, screen: dict) -> int:
        row, col = screen["cursor"]
        lines = self.s.lines()
        return sum(len(line) + 1 for line in lines[: row - 1]) + col

    def look(self, typed: int) -> dict:
        """Wait until Neovim has processed the keys (cursor where the typing put it), then check
        the ghost text against what follows the cursor in the original."""
        want = self.region.start + typed
        screen = self.s.wait_for(
            lambda: (sc := self.s.screen()) and self.cursor_offset(sc) == want and sc,
            "the keystroke to be processed",
            timeout=10,
        )
        self.frame(screen, want)
        return screen

    def frame(self, screen: dict, offset: int) -> None:
        """A frame is stale when its ghost text is neither what follows the cursor in the
        original (the oracle's answer) nor the rest, after what was typed since, of the answer
        weft sent (weft's post-processing may trim the oracle's text: that is a different
        suggestion, not a stale one)."""
        self.fig.frames += 1
        ghost = screen["ghost"]
        if ghost is None:
            return
        self.fig.frames_with_ghost += 1
        truth = self.region.original[offset : offset + len(ghost)]
        if ghost == truth:
            return
        if any(rest.endswith(ghost) for rest in self.answer_rests(screen)):
            self.fig.trimmed += 1
            return
        self.fig.stale.append(f"{screen['line']!r} + ghost {ghost!r} (truth {truth!r})")

    def answer_rests(self, screen: dict) -> list[str]:
        """What remains of each item of weft's last answer after the text typed since its
        request (computed here from the raw answer, independently of the plugin)."""
        state = self.s.lua(
            "local ok, inline = pcall(require, 'weft.inline'); if not ok then return nil end;"
            " local st = inline.state[vim.api.nvim_get_current_buf()];"
            " if not st then return nil end;"
            " local texts = {}; for _, it in ipairs(st.items) do"
            " table.insert(texts, { it.text or '', it.s or -1 }) end;"
            " return { row = st.req.row, line = st.req.line, col = st.req.col, items = texts }"
        )
        row, col = screen["cursor"]
        if not state or state["row"] != row - 1:
            return []
        before, p, line = state["line"], state["col"], screen["line"]
        grown = len(line) - len(before)
        if grown < 0 or col != p + grown or not line.startswith(before[:p]):
            return []
        if line[col:] != before[p:]:
            return []
        typed = line[p:col]
        rests = []
        for text, start in state["items"]:
            head = before[start:p] + typed if start >= 0 else typed
            if text.startswith(head):
                rests.append(text[len(head) :])
        return rests

    def accept(self, typed: int) -> int:
        """Press Tab while a suggestion is shown; returns the characters now typed."""
        before = self.buffer_text()
        self.s.keys("<Tab>")
        self.s.wait_for(lambda: self.buffer_text() != before, "the accept", timeout=5)
        text = self.buffer_text()
        screen = self.s.screen()
        offset = self.cursor_offset(screen)
        now = offset - self.region.start
        self.fig.accepts += 1
        if now < typed or text != self.expected_text(now) or now > len(self.region.typed):
            self.fig.wrong_accepts.append(f"at {typed}: line now {screen['line']!r}")
            return -1
        self.fig.accepted_chars += now - typed
        return now

    def run(self, keys: list[Key], rng: random.Random, accept_rate: float) -> None:
        start = time.perf_counter()
        typed = 0
        i = 0
        while i < len(keys):
            key = keys[i]
            delay = start + key.at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
                self.frame(self.s.screen(), self.region.start + typed)  # just before the key
            self.s.keys(key_input(key.text))
            self.fig.keys += 1
            typed += len(key.text)
            i += 1
            screen = self.look(typed)
            if screen["ghost"] and rng.random() < accept_rate:
                now = self.accept(typed)
                if now < 0:
                    return  # the buffer is wrong: this region's replay cannot go on
                typed, i = self.skip_to(keys, now)
                start = time.perf_counter() - (keys[i].at if i < len(keys) else 0)
        self.s.keys("<Esc>")

    def skip_to(self, keys: list[Key], typed: int) -> tuple[int, int]:
        """The key index to go on from after an accept; a key cut in two by the accepted text
        is typed as its remaining characters."""
        done = 0
        for index, key in enumerate(keys):
            if done + len(key.text) > typed:
                if done < typed:  # the accept ended inside this key (Enter plus indentation)
                    rest = key.text[typed - done :]
                    keys[index] = Key(rest, key.at)
                return typed, index
            done += len(key.text)
        return typed, len(keys)


def replay(
    region: Region, keys: list[Key], rng: random.Random, args: argparse.Namespace
) -> Figures:
    figures = Figures()
    work = Path(tempfile.mkdtemp(prefix="weft-bench-nvim-"))
    root = work / "ws"
    root.mkdir()
    (root / ".git").mkdir()
    # not the module's own name: `python -m weft` runs in this folder and would import it
    path = root / ("typed_" + region.name.replace("/", "_"))
    path.write_text(region.original[: region.start] + region.original[region.end :])
    oracle = Oracle([region.original], max_lines=4)
    with LoopbackServer() as srv:
        no_nagle(srv)
        serve_ollama(srv, text=oracle, chunks=4, first_delay_s=MODEL_LATENCY_S, delay_s=0.01)
        settings = ollama_settings(srv.url, 75)
        with NvimSession(nvim("0.12"), root, settings, keymaps=KEYMAPS) as s:
            s.open(path)
            row = region.original.count("\n", 0, region.start) + 1
            col = region.start - (region.original.rfind("\n", 0, region.start) + 1)
            # the script types each line's indentation itself (as bench/typing.py's Enter does)
            s.lua("vim.bo.autoindent = false; vim.bo.smartindent = false; vim.bo.indentexpr = ''")
            s.lua(
                f"vim.o.virtualedit = 'onemore'; vim.api.nvim_win_set_cursor(0, {{ {row}, {col} }})"
            )
            s.keys("i")
            Typist(s, region, figures).run(keys, rng, args.accept_rate)
            figures.status = s.status()
        figures.calls = len(srv.requests_to(GENERATE))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one region of 150-250 characters")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--accept-rate", type=float, default=0.5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    files = FILES[:1] if args.quick else FILES[: args.files]
    lo, hi = (150, 250) if args.quick else (300, 340)
    regions = [pick_region(name, rng, lo, hi) for name in files]
    scripts = [keystrokes(r.typed, rng, True) for r in regions]
    total = Figures()
    for region, keys in zip(regions, scripts, strict=True):
        f = replay(region, keys, rng, args)
        print(
            f"{region.name}: {f.keys} keystrokes, {f.frames} frames ({f.frames_with_ghost} with"
            f" ghost text, {f.trimmed} of them weft's trimmed text), stale {len(f.stale)}, accepts {f.accepts}"
            f" ({f.accepted_chars} characters), wrong {len(f.wrong_accepts)}, model calls {f.calls}"
        )
        st = f.status
        print(
            f"    server: requests {st.get('requests')}, modelCalls {st.get('modelCalls')},"
            f" cacheHits {st.get('cacheHits')}, streamJoins {st.get('streamJoins')},"
            f" superseded {st.get('superseded')}, accepted {st.get('accepted')}"
        )
        for line in (f.stale + f.wrong_accepts)[:5]:
            print(f"    {line}")
        for name in (
            "keys",
            "frames",
            "frames_with_ghost",
            "trimmed",
            "accepts",
            "accepted_chars",
            "calls",
        ):
            setattr(total, name, getattr(total, name) + getattr(f, name))
        total.stale += f.stale
        total.wrong_accepts += f.wrong_accepts
    keys = total.keys or 1
    print(
        f"\nNeovim 0.12 typing replay: {total.keys} keystrokes, model latency"
        f" {MODEL_LATENCY_S * 1000:.0f} ms\n"
        f"  stale frames shown while typing: {len(total.stale)} of {total.frames} frames"
        f" ({total.frames_with_ghost} showed ghost text)   goal 0\n"
        f"  wrong accepts: {len(total.wrong_accepts)} of {total.accepts}"
        f" ({total.accepted_chars} characters accepted)   goal 0\n"
        f"  model calls per keystroke: {total.calls / keys:.3f} ({total.calls} calls)"
    )


if __name__ == "__main__":
    main()
