"""What weft spends around the model in an agent run, on the Python standard library tree.

A scripted multi-file refactor (rename a function in the ``json`` package and every use of it,
plus a new module) runs through the real agent loop against a zero-latency chat model on
loopback: context gathering (index queries and the ranked repository map), each tool call,
edit application, re-parse verification. Model time is printed too but is not weft's.
Target: everything but the model and the verify command ≤ 150 ms.

    python bench/agent.py [--root DIR] [--runs N]

Prints figures; never fails.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / "server"),
    str(Path(__file__).resolve().parents[1]),
]

from tests.chat_wire import ScriptedChat, call, final  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402

from weft.agent.chat import ChatClient  # noqa: E402
from weft.agent.context import Target  # noqa: E402
from weft.agent.loop import AgentLoop, AgentOptions, AgentTask  # noqa: E402
from weft.agent.repomap import RepoMapCache  # noqa: E402
from weft.agent.tools import workspace_for  # noqa: E402
from weft.settings import BackendSettings, Settings  # noqa: E402

OLD, NEW = "JSONDecodeError", "JSONParseError"


def build_index(root: Path, settings: Settings) -> tuple[object | None, float]:
    """The workspace index of ``root`` (None if weft.index has no query API yet) and its build time."""
    start = time.perf_counter()
    try:
        from weft.agent.command import load_index
    except ImportError:
        return None, 0.0
    index = load_index(root, settings)
    return index, time.perf_counter() - start


def rename_blocks(root: Path, package: str) -> str:
    """SEARCH/REPLACE blocks renaming OLD to NEW on every line of ``package`` that uses it."""
    out = []
    word = re.compile(rf"\b{OLD}\b")
    for path in sorted((root / package).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for line in dict.fromkeys(x for x in lines if word.search(x)):
            if lines.count(line) != 1:
                continue
            rel = path.relative_to(root).as_posix()
            out.append(
                f"{rel}\n<<<<<<< SEARCH\n{line}\n=======\n{word.sub(NEW, line)}\n>>>>>>> REPLACE\n"
            )
    out.append(
        f"{package}/_compat_names.py\n<<<<<<< SEARCH\n=======\n"
        f"from {package}.decoder import {NEW} as {OLD}  # old name\n>>>>>>> REPLACE\n"
    )
    return "\n".join(out) + f"\nRenamed {OLD} to {NEW}."


async def one_run(
    root: Path, settings: Settings, index: object | None, srv: LoopbackServer, cache: RepoMapCache
) -> dict[str, list[float]]:
    steps = [
        call("find_definitions", name=OLD),
        call("find_references", name=OLD),
        call("search_text", pattern=rf"\b{OLD}\b", glob="json/*.py"),
        call("read_file", path="json/decoder.py", start_line=1, end_line=120),
        call("list_files", glob="json/*.py"),
        final(rename_blocks(root, "json")),
    ]
    model = ScriptedChat(srv, "openai", steps)
    chat = ChatClient(BackendSettings.model_validate(model.backend_settings()), 30)
    workspace = workspace_for(root, settings, index=index)
    loop = AgentLoop(workspace, chat, AgentOptions(max_steps=10), repo_cache=cache)
    line = next(
        i
        for i, text in enumerate((root / "json/decoder.py").read_text().splitlines())
        if text.startswith(f"class {OLD}")
    )
    task = AgentTask(
        "refactor",
        f"rename {OLD} to {NEW} everywhere in the json package",
        target=Target("json/decoder.py", line, line + 3),
    )
    try:
        result = await loop.run(task)
    finally:
        await chat.aclose()
    if result.error:
        raise SystemExit(f"agent run failed: {result.error}")
    files = sorted(result.texts)
    result.timings["_files"] = [float(len(files))]
    return result.timings


def stdlib_copy(tmp: Path) -> Path:
    """The standard library without site-packages and caches (what ships with Python)."""
    source = Path(sysconfig.get_paths()["stdlib"])
    target = tmp / "stdlib"
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", help="default: a copy of the standard library without site-packages"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="weft-bench-") as tmp:
        root = Path(args.root).resolve() if args.root else stdlib_copy(Path(tmp))
        report(root, args.runs)


def report(root: Path, n_runs: int) -> None:
    settings = Settings.model_validate({"index": {"enabled": True}})
    index, build_s = build_index(root, settings)
    print(f"root: {root}")
    if index is not None:
        print(f"index: built in {build_s:.1f} s (not part of a run)")
    else:
        print("index: none (tools fall back to walking files)")
    cache = RepoMapCache()
    if index is not None:
        started = time.perf_counter()
        workspace = workspace_for(root, settings, index=index)
        graph = cache.get(index, workspace._allowed)
        print(
            f"repository graph: {len(graph.global_rank)} files, {len(graph.defines)} names, built in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms (in the background, when actions are listed)"
        )
    runs: list[dict[str, list[float]]] = []
    with LoopbackServer() as srv:
        for _ in range(n_runs):
            runs.append(asyncio.run(one_run(root, settings, index, srv, cache)))
    print(f"runs: {len(runs)}; files changed per run: {int(runs[0]['_files'][0])}")
    print(f"{'part':<28}{'median ms':>12}{'max ms':>10}")
    totals = []
    for run in runs:
        totals.append(
            sum(sum(v) for k, v in run.items() if k not in ("model", "verify_command", "_files"))
        )
    names = [k for k in runs[0] if k != "_files"]
    for name in names:
        values = [sum(run.get(name, [0.0])) for run in runs]
        print(f"{name:<28}{statistics.median(values):>12.1f}{max(values):>10.1f}")
    median_total = statistics.median(totals)
    print(f"{'weft total (no model)':<28}{median_total:>12.1f}{max(totals):>10.1f}")
    print(f"target ≤ 150 ms: {'met' if median_total <= 150 else 'MISSED'}")


if __name__ == "__main__":
    main()
