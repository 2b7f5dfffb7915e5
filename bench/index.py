"""Benchmark of the workspace index against universal-ctags on the Python standard library.

    python bench/index.py [--tree DIR] [--runs N]

Copies the installed standard library (without site-packages and __pycache__; about 1,800
Python files, 31 MB) to a temporary folder, then on that same tree:

- universal-ctags ``ctags -R`` (best of N runs),
- weft cold (empty cache) and warm (nothing changed, a new process reading the cache), each in
  a fresh process so that peak RSS is its own (best of N runs),
- an edit to an open ~5,000-line file (1-character inserts, incremental), p50/p95,
- query latencies.

Prints files/s, MB/s, definitions and references, peak RSS, each wall time as a ratio to
ctags, and Python class/function/method counts against ctags' kinds c, f and m. Targets (2-core
machine): cold ≤ 6× ctags, warm ≤ 1× ctags, peak RSS ≤ 300 MB, c/f/m within 2 %, edit ≤ 5 ms p50.
Needs universal-ctags (``apt-get install universal-ctags``). Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))


def copy_stdlib(dest: Path) -> Path:
    tree = dest / "stdlib"
    shutil.copytree(
        sysconfig.get_paths()["stdlib"],
        tree,
        ignore=shutil.ignore_patterns("site-packages", "__pycache__"),
        symlinks=True,
    )
    return tree


def tree_size(tree: Path) -> tuple[int, int, int]:
    """(all files, Python files, bytes of Python)."""
    files = py = size = 0
    for folder, _, names in os.walk(tree):
        for name in names:
            files += 1
            if name.endswith(".py"):
                py += 1
                size += os.path.getsize(os.path.join(folder, name))
    return files, py, size


def run_ctags(tree: Path, out: Path, runs: int) -> tuple[float, float, Counter[str]]:
    version = subprocess.run(["ctags", "--version"], capture_output=True, text=True).stdout
    if "Universal Ctags" not in version:
        sys.exit("universal-ctags is required: apt-get install universal-ctags")
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(["ctags", "-R", "--fields=+l", "-f", str(out), str(tree)], check=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    kinds: Counter[str] = Counter()
    with out.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("!_"):
                continue
            fields = line.rstrip("\n").split("\t")
            if "language:Python" in fields:
                kinds[fields[3]] += 1
    return min(times), min(cpu), kinds


def child(root: str, cache: str, mode: str) -> None:
    """One build in this process; prints a JSON line of figures. ``mode``: cli (the on-disk
    index only, as ``weft index``) or server (also loaded into memory, query-ready)."""
    from weft.index.workspace import WorkspaceIndex

    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    index = WorkspaceIndex(root, cache_file=Path(cache), in_memory=mode == "server")
    build = index.build()
    seconds = time.perf_counter() - started
    stats = index.stats()
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = me.ru_utime - cpu.ru_utime + me.ru_stime - cpu.ru_stime
    cpu_s += children.ru_utime + children.ru_stime  # the parser workers
    figures = {
        "seconds": seconds,
        "cpu_s": cpu_s,
        "rss_mb": me.ru_maxrss / 1024,
        "worker_rss_mb": children.ru_maxrss / 1024,
        "parsed": build.parsed,
        "reused": build.reused,
        "stats": stats,
    }
    print(json.dumps(figures))


def build_in_process(root: Path, cache: Path, fresh: bool, mode: str) -> dict:
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(root), str(cache), mode],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def best(results: list[dict]) -> dict:
    return min(results, key=lambda r: r["seconds"])


def edit_latency(tree: Path, cache: Path) -> tuple:
    """1-character edits to an open ~5,000-line file: update_document wall times (s)."""
    from weft.index.workspace import WorkspaceIndex

    candidates = []
    for path in tree.rglob("*.py"):
        lines = path.read_text(encoding="utf-8", errors="replace").count("\n")
        candidates.append((abs(lines - 5000), lines, path))
    _, lines, path = min(candidates)
    index = WorkspaceIndex(tree, cache_file=cache)
    index.build()
    text = path.read_text(encoding="utf-8", errors="replace")
    index.update_document(path, text)
    # 1-character inserts inside identifiers (syntax stays valid), each measured from the
    # unedited text (reverting is not timed); then Enter at a line end (lines shift)
    spots = [
        m.start() + 1
        for m in re.finditer(r"[A-Za-z_]\w+", text)
        if not keyword.iskeyword(m.group())
    ]
    newline_spots = [m.start() for m in re.finditer(r"\n", text)]
    rng = random.Random(1)
    times, enter_times = [], []
    for spot_list, out, insert in ((spots, times, "q"), (newline_spots, enter_times, "\n")):
        for _ in range(200):
            pos = rng.choice(spot_list)
            edited = text[:pos] + insert + text[pos:]
            started = time.perf_counter()
            index.update_document(path, edited)
            out.append(time.perf_counter() - started)
            index.update_document(path, text)
    # a new definition typed into the file is found right away
    marker = "\n\ndef weft_bench_marker():\n    pass\n"
    started = time.perf_counter()
    index.update_document(path, text + marker)
    found = index.find_definitions("weft_bench_marker")
    reflected = time.perf_counter() - started
    assert found, "edit not reflected"
    rel = path.relative_to(tree).as_posix()
    queries = query_latency(index)
    index.close()
    return rel, lines, times, enter_times, reflected, queries


def query_latency(index) -> dict[str, float]:
    names = ["get", "__init__", "ArgumentParser", "run", "read"]
    out = {}
    for label, call in (
        ("find_definitions", lambda n: index.find_definitions(n)),
        ("find_definitions(prefix)", lambda n: index.find_definitions(n[:3], prefix=True)),
        ("find_references", lambda n: index.find_references(n)),
        ("enclosing_symbol", lambda n: index.enclosing_symbol("argparse.py", 2000, 8)),
        ("importers_of", lambda n: index.importers_of("os.py")),
    ):
        times = []
        for _ in range(5):
            for name in names:
                started = time.perf_counter()
                call(name)
                times.append(time.perf_counter() - started)
        out[label] = statistics.median(times)
    return out


def pct(a: float, b: float) -> str:
    return f"{100 * (a - b) / b:+.2f}%" if b else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", help="index this folder instead of a copy of the stdlib")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="weft-bench-") as tmp:
        work = Path(tmp)
        tree = Path(args.tree) if args.tree else copy_stdlib(work)
        files, py_files, py_bytes = tree_size(tree)
        cache = work / "index.sqlite3"
        print(
            f"tree: {tree} — {files} files, {py_files} Python files, {py_bytes / 1e6:.1f} MB of Python"
        )
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")

        ctags_s, ctags_cpu, ctags_kinds = run_ctags(tree, work / "tags", args.runs)
        cold = best([build_in_process(tree, cache, True, "cli") for _ in range(args.runs)])
        warm = best([build_in_process(tree, cache, False, "cli") for _ in range(args.runs)])
        cold_srv = best(
            [build_in_process(tree, cache, True, "server") for _ in range(max(1, args.runs - 1))]
        )
        warm_srv = best([build_in_process(tree, cache, False, "server") for _ in range(args.runs)])
        rel, lines, edits, enters, reflected, queries = edit_latency(tree, cache)

        stats = cold["stats"]
        py_kinds = stats["kindsByLanguage"].get("python", {})
        size_mb = py_bytes / 1e6

        def row(label: str, r: dict, target: str) -> str:
            return (
                f"{label:34s} {r['seconds']:6.2f} s = {r['seconds'] / ctags_s:5.2f}× ctags {target:8s}"
                f" cpu {r['cpu_s']:5.2f} s = {r['cpu_s'] / ctags_cpu:5.2f}× ctags cpu;"
                f" main {r['rss_mb']:.0f} MB, workers ≤ {r['worker_rss_mb']:.0f} MB;"
                f" parsed {r['parsed']}, reused {r['reused']}"
            )

        print()
        print(
            f"{'universal-ctags -R':34s} {ctags_s:6.2f} s                       cpu {ctags_cpu:5.2f} s"
        )
        print(row("weft index, cold (empty cache)", cold, "(≤ 6×)"))
        print(row("weft index, warm (nothing changed)", warm, "(≤ 1×)"))
        print(row("server index, cold (query-ready)", cold_srv, ""))
        print(row("server index, warm (query-ready)", warm_srv, ""))
        print(
            f"throughput cold: {stats['files'] / cold['seconds']:.0f} files/s, "
            f"{size_mb / cold['seconds']:.1f} MB/s of Python ({stats['files'] / cold['cpu_s']:.0f} files per CPU-second)"
        )
        peak = max(r["rss_mb"] for r in (cold, warm, cold_srv, warm_srv))
        print(
            f"peak RSS: {peak:.0f} MB in the main process, ≤ {cold_srv['worker_rss_mb']:.0f} MB per worker (target ≤ 300 MB)"
        )
        print(
            f"files indexed {stats['files']} (+{stats['listed']} listed without a grammar), "
            f"definitions {stats['symbols']}, references {stats['references']}"
        )
        print(f"languages: {stats['languages']}")
        print(f"kinds: {stats['kinds']}")
        print()
        print("Python definitions vs ctags (kinds c, f, m):")
        for ours, theirs in (("class", "c"), ("function", "f"), ("method", "m")):
            print(
                f"  {ours:9s} weft {py_kinds.get(ours, 0):6d}   ctags {ctags_kinds.get(theirs, 0):6d}   "
                f"{pct(py_kinds.get(ours, 0), ctags_kinds.get(theirs, 0))}  (target within ±2%)"
            )
        total_ours = sum(py_kinds.get(k, 0) for k in ("class", "function", "method"))
        total_theirs = sum(ctags_kinds.get(k, 0) for k in "cfm")
        print(
            f"  all three weft {total_ours:6d}   ctags {total_theirs:6d}   {pct(total_ours, total_theirs)}"
        )
        edits.sort()
        enters.sort()
        print()
        print(f"edit to an open {lines}-line file ({rel}):")
        print(
            f"  1-character insert in an identifier: p50 {1000 * statistics.median(edits):.2f} ms, "
            f"p95 {1000 * edits[int(len(edits) * 0.95)]:.2f} ms (target ≤ 5 ms p50)"
        )
        print(
            f"  Enter (all later lines shift):      p50 {1000 * statistics.median(enters):.2f} ms, "
            f"p95 {1000 * enters[int(len(enters) * 0.95)]:.2f} ms"
        )
        print(
            f"  a new definition typed at the end, then found by find_definitions: {1000 * reflected:.2f} ms"
        )
        print(
            "query latency (median): "
            + ", ".join(f"{k} {1000 * v:.3f} ms" for k, v in queries.items())
        )


if __name__ == "__main__":
    main()
