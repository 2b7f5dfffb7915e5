"""Hostile-input fuzzing of the real server (issue 11): prints messages sent, requests left
unanswered (goal 0), requests answered twice (goal 0) and probe stalls over one second (goal 0).

The messages come from ``tests/fuzzing.py`` (the suite runs a few thousand of the same kind in
``tests/e2e/test_fuzz.py``): well-formed requests and notifications, the same with params,
fields, ids, ``jsonrpc`` or method mutated, bytes that are not UTF-8 or not JSON, and broken
frames; hostile documents (a COBOL file, 20,000 open parentheses, 2,000 nested functions) are
opened and completed in, with a loopback model whose answer the syntax guard must parse. Every
5–25 messages a ``weft.status`` probe measures how long the server takes to answer.

Run: ``python bench/fuzz.py [--messages 20000] [--seeds 1 2 3 4] [--server-path DIR]``
(``--server-path`` measures another checkout's ``server/`` folder, e.g. main's, for a before
and after).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (str(REPO / "server"), str(REPO)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from tests.fuzzing import FuzzReport, run_fuzz  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="in total, over the seeds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--server-path", type=Path, help="a server/ folder to run instead")
    parser.add_argument("--keep", type=Path, help="keep the server logs in this folder")
    parser.add_argument(
        "--no-broken-frames", action="store_true", help="every frame's header is right"
    )
    args = parser.parse_args()
    per_seed = max(1, args.messages // len(args.seeds))
    print(f"load average {os.getloadavg()[0]:.2f}; {per_seed} messages per seed", flush=True)
    reports = [asyncio.run(_one(per_seed, seed, args)) for seed in args.seeds]
    total_sent = sum(r.sent for r in reports)
    unanswered = sum(len(r.unanswered) for r in reports)
    twice = sum(len(r.answered_twice) for r in reports)
    stalls = sum(len(r.stalls) for r in reports)
    latencies = sorted(x for r in reports for x in r.probe_latencies)
    median = latencies[len(latencies) // 2] if latencies else 0.0
    print()
    print(f"messages sent:                 {total_sent}")
    print(f"answerable requests:           {sum(r.answerable for r in reports)}")
    print(f"requests unanswered:           {unanswered}   (goal 0)")
    print(f"requests answered twice:       {twice}   (goal 0)")
    print(f"probes:                        {len(latencies)}, median {median * 1000:.0f} ms")
    print(f"stalls over 1 s:               {stalls}   (goal 0)")
    print(f"worst probe:                   {max(latencies, default=0) * 1000:.0f} ms")
    print(f"servers alive at the end:      {sum(r.alive for r in reports)}/{len(reports)}")
    print(f"servers alive but deaf:        {sum(r.deaf for r in reports)}/{len(reports)}")
    print(f"exit status after shutdown:    {sorted({r.exit_code for r in reports}, key=str)}")


async def _one(count: int, seed: int, args: argparse.Namespace) -> FuzzReport:
    last = [time.monotonic()]

    def progress(report: FuzzReport) -> None:
        if time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            print(f"  seed {seed}: {report.sent}/{count} sent", flush=True)

    with tempfile.TemporaryDirectory(prefix="weft-fuzz-") as tmp:
        report = await run_fuzz(
            count,
            seed,
            Path(tmp),
            on_progress=progress,
            server_path=args.server_path,
            broken_frames=not args.no_broken_frames,
        )
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            log = Path(tmp) / f"server-{seed}.log"
            if log.exists():
                (args.keep / log.name).write_bytes(log.read_bytes())
    print(report.summary(), flush=True)
    if report.unanswered:
        print(f"  unanswered: {', '.join(report.unanswered[:20])}", flush=True)
    return report


if __name__ == "__main__":
    main()
