"""The stall cases of issue 11, each against a fresh real server: how long a probe request
(``weft.status``) waits while the hostile input is processed, and what the hostile request
itself got.

Cases: a completion in a three-line COBOL file (the language pack's scanner never returns);
100,000 nested parentheses in an open JavaScript file (195 KB), opened then edited three
times; an agent tool call ``search_text`` with ``(a+)+$`` over a line of 26 ``a`` and ``!``;
a ``didChange`` whose ``contentChanges`` is a 100 KB string; a ``codeAction`` whose
``diagnostics`` is a 100 KB string; a model server whose errors change on every request
(``window/showMessage`` count over 200 completions).

Run: ``python bench/stalls.py [--server-path DIR] [--give-up 30]`` (``--server-path`` runs
another checkout's ``server/`` folder, e.g. main's, for the "before" column).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _p in (str(REPO / "server"), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from tests.chat_wire import ScriptedChat, block, call, final  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402
from tests.raw_client import RawClient  # noqa: E402
from tests.wire import serve_ollama  # noqa: E402

HELLO_COB = "display hello\nstop run\nend\n"
NESTED_JS = "(" * 100_000 + "\n" + ")" * 95_000


class Case:
    def __init__(self, root: Path, client: RawClient, model: LoopbackServer, give_up: float):
        self.root, self.client, self.model, self.give_up = root, client, model, give_up
        self.latencies: list[float] = []

    async def probe(self) -> float:
        started = time.monotonic()
        try:
            await self.client.request(
                "workspace/executeCommand",
                {"command": "weft.status", "arguments": []},
                timeout=self.give_up,
            )
        except TimeoutError:
            self.latencies.append(float("inf"))
            return float("inf")
        took = time.monotonic() - started
        self.latencies.append(took)
        return took

    async def probe_while(self, work: asyncio.Future[Any], at_least: float = 1.0) -> None:
        started = time.monotonic()
        while not work.done() or time.monotonic() - started < at_least:
            if await self.probe() == float("inf"):
                return
            await asyncio.sleep(0.05)

    async def open(self, rel: str, text: str, language: str) -> str:
        uri = (self.root / rel).as_uri()
        item = {"uri": uri, "languageId": language, "version": 1, "text": text}
        await self.client.notify("textDocument/didOpen", {"textDocument": item})
        return uri

    def worst(self) -> str:
        worst = max(self.latencies, default=0.0)
        return f"> {self.give_up:.0f} s (no answer)" if worst == float("inf") else f"{worst:.2f} s"


async def cobol(case: Case) -> str:
    serve_ollama(case.model, text="world\n")
    uri = await case.open("hello.cob", HELLO_COB, "cobol")
    started = time.monotonic()
    request = asyncio.ensure_future(_inline(case.client, uri, 0, 13, case.give_up))
    answered = await _outcome(case, request, "completion", started)
    return answered + (f" ({request.result()})" if "no answer" not in answered else "")


async def nesting(case: Case) -> str:
    (case.root / "nested.js").write_text(NESTED_JS)
    await asyncio.sleep(3)  # the index is built (in its worker processes) before the edits
    uri = await case.open("nested.js", NESTED_JS, "javascript")
    for version in range(2, 5):
        change = {
            "range": {"start": {"line": 0, "character": 8}, "end": {"line": 0, "character": 8}},
            "text": "(",
        }
        params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
        await case.client.notify("textDocument/didChange", params)
        for _ in range(10):
            if await case.probe() == float("inf"):
                return "server deaf"
            await asyncio.sleep(0.1)
    return f"{len(case.latencies)} probes over 3 edits"


async def regex(case: Case) -> str:
    (case.root / "data.txt").write_text("a" * 26 + "!\n")
    (case.root / "shop.py").write_text("def total(items):\n    return sum(items)\n")
    edit = block("shop.py", "    return sum(items)\n", "    return sum(items, 0)\n")
    ScriptedChat(case.model, "openai", [call("search_text", pattern="(a+)+$"), final(edit)])
    started = time.monotonic()
    run = asyncio.ensure_future(
        case.client.request(
            "workspace/executeCommand",
            {"command": "weft.refactor", "arguments": [{"instruction": "start at 0"}]},
            timeout=case.give_up * 3,
        )
    )
    return await _outcome(case, run, "agent run", started)


async def _outcome(case: Case, work: asyncio.Future[Any], what: str, started: float) -> str:
    """Probe while ``work`` runs; how it ended."""
    await case.probe_while(work)
    if not work.done():
        work.cancel()
        return f"{what}: no answer"
    if work.exception() is not None:
        return f"{what}: no answer in {time.monotonic() - started:.0f} s"
    return f"{what} answered in {time.monotonic() - started:.2f} s"


async def change_string(case: Case) -> str:
    uri = await case.open("a.py", "x = 1\n", "python")
    hostile = {"textDocument": {"uri": uri, "version": 2}, "contentChanges": "x" * 100_000}
    await case.client.notify("textDocument/didChange", hostile)
    await case.probe()
    return "didChange dropped"


async def diagnostics_string(case: Case) -> str:
    params = {
        "textDocument": {"uri": (case.root / "a.py").as_uri()},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": "d" * 100_000},
    }
    started = time.monotonic()
    try:
        answer = await case.client.request("textDocument/codeAction", params, case.give_up)
    except TimeoutError:
        return "codeAction: no answer"
    await case.probe()
    code = answer.get("error", {}).get("code")
    return f"codeAction answered in {time.monotonic() - started:.2f} s (error {code})"


async def flapping(case: Case) -> str:
    ollama = serve_ollama(case.model, text="return a + b\n")
    uri = await case.open("main.py", "def add(a, b):\n    \n", "python")
    faults = ["http500", None, "close", "bad_json", None, "cut", "unknown_model", "http500"]
    for n in range(200):
        ollama.fault = faults[n % len(faults)]
        await _inline(case.client, uri, 1, 4, case.give_up)
    await case.probe()
    return f"{len(case.client.shown_messages())} window/showMessage in 200 completions"


async def _inline(client: RawClient, uri: str, line: int, character: int, give_up: float) -> str:
    params = {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 1},
    }
    answer = await client.request("textDocument/inlineCompletion", params, give_up)
    items = (answer.get("result") or {}).get("items", [])
    return f"{len(items)} item(s)"


CASES: dict[str, tuple[Callable[[Case], Awaitable[str]], dict[str, Any]]] = {
    "COBOL completion": (cobol, {}),
    "100,000 nested ( in JS": (nesting, {"index": {"enabled": True}}),
    "search_text (a+)+$": (regex, {}),
    "didChange 100 KB string": (change_string, {}),
    "codeAction 100 KB diagnostics": (diagnostics_string, {}),
    "flapping model server": (flapping, {}),
}


async def run_case(name: str, server_path: Path | None, give_up: float) -> tuple[str, str]:
    scenario, extra = CASES[name]
    with tempfile.TemporaryDirectory(prefix="weft-stall-") as tmp, LoopbackServer() as model:
        root = Path(tmp) / "ws"
        root.mkdir()
        chat = ScriptedChat(model, "openai", []).backend_settings()
        settings = {
            "backend": {"kind": "ollama", "url": model.url, "model": "m", "timeoutMs": 2000},
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
            "agent": {"backend": chat, "maxSteps": 3},
            **extra,
        }
        client = await RawClient.start(
            Path(tmp) / "cache", settings, log=Path(tmp) / "server.log", server_path=server_path
        )
        try:
            await client.initialize(root, {"textDocument": {"inlineCompletion": {}}})
            case = Case(root, client, model, give_up)
            outcome = await scenario(case)
            return case.worst(), outcome
        finally:
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-path", type=Path, help="a server/ folder to run instead")
    parser.add_argument("--give-up", type=float, default=30.0, help="seconds a probe may wait")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; server {args.server_path or 'this checkout'}")
    print(f"{'case':32} {'worst probe':>20}   outcome")
    for name in args.cases:
        worst, outcome = asyncio.run(run_case(name, args.server_path, args.give_up))
        print(f"{name:32} {worst:>20}   {outcome}", flush=True)


if __name__ == "__main__":
    main()
