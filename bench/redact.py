"""Secret redaction cost on the keystroke path: median microseconds per 8 KB window.

    python bench/redact.py [--rounds 7] [--window 8000]

Two corpora: weft's own Python sources cut into windows (code without secrets: what almost
every completion request redacts), and the same windows with one planted secret of each of the
31 kinds of issue #10 (the worst case: every rule family fires). Prints the median over rounds
of the mean per window, and how many findings each corpus produced (the first should be the
rule table's own sample only). Timings on a shared machine are noisy: compare medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def windows(size: int) -> list[str]:
    texts = [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "server" / "weft").rglob("*.py"))
    ]
    return [t[i : i + size] for t in texts for i in range(0, len(t), size)]


def timed(chunks: list[str], rounds: int) -> tuple[float, int]:
    from weft.secrets import redact

    means = []
    found = 0
    for _ in range(rounds):
        start = time.perf_counter()
        found = sum(redact(chunk).count for chunk in chunks)
        means.append((time.perf_counter() - start) / len(chunks) * 1e6)
    return statistics.median(means), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--window", type=int, default=8000)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "server"), str(ROOT)]
    from tests.unit.test_secrets import PLANTED

    clean = windows(args.window)
    lines = "\n".join(line for _, line, _ in PLANTED) + "\n"
    planted = [lines + chunk[: max(0, args.window - len(lines))] for chunk in clean]
    for name, chunks in (("code, no secrets", clean), ("code + 31 planted secrets", planted)):
        median, found = timed(chunks, args.rounds)
        print(
            f"{name:28} {len(chunks):4} windows  median {median:7.1f} us/window  findings {found}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
