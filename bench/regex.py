"""search_text's regex engine (issue 11): Python's ``re`` line by line (before) against RE2
(``google-re2``) the way ``agent/text_search.py`` runs it, one call per file slice.

Prints, for a catastrophic pattern (``(a+)+$`` against ``a`` × n + ``!``), the time per n with
each engine (``re`` doubles per character, so it stops at 24), and for ordinary patterns over
the standard library's ``.py`` files, the time of a whole search with: ``re`` per line, RE2 per
line, RE2 per file (what weft does). ripgrep is timed too when ``rg`` is on the PATH.

Run: ``python bench/regex.py``
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from weft.agent.text_search import compile_pattern, search_lines  # noqa: E402

PATTERNS = [r"def \w+\(self", r"import (os|sys)", r"TODO|FIXME", r"^\s*return None$"]


def best(fn, *args, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def count_re_per_line(regex, files: dict[str, str]) -> int:
    return sum(1 for t in files.values() for line in t.splitlines() if regex.search(line))


def count_re2_per_file(pattern: str, files: dict[str, str]) -> int:
    program = compile_pattern(pattern)
    rows, _ = search_lines(program, files, files.get, 10**9, time.monotonic() + 600)
    return len(rows)


def run_rg(rg: str, pattern: str, files: dict[str, str]) -> None:
    subprocess.run([rg, "-c", pattern, *files], capture_output=True)


def main() -> None:
    import re2

    print("catastrophic pattern (a+)+$ against 'a' * n + '!'")
    evil_re = re.compile(r"(a+)+$")
    evil_re2 = compile_pattern(r"(a+)+$")
    for n in (16, 20, 22, 24, 10_000, 1_000_000):
        text = "a" * n + "!"
        t_re = best(evil_re.search, text, repeat=1) if n <= 24 else None
        t_re2 = best(evil_re2.search, text.encode())
        shown_re = f"{t_re * 1000:10.2f} ms" if t_re is not None else "   (years)   "
        print(f"  n = {n:>9}: re {shown_re}   RE2 {t_re2 * 1000:8.3f} ms")

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = {str(p): p.read_text("utf-8", "replace") for p in sorted(stdlib.glob("*.py"))}
    lines = sum(t.count("\n") for t in files.values())
    size = sum(len(t) for t in files.values()) / 1e6
    print(f"\nordinary patterns over {len(files)} stdlib files ({lines} lines, {size:.1f} MB)")
    rg = shutil.which("rg")
    for pattern in PATTERNS:
        compiled, per_line_re2 = re.compile(pattern), re2.compile(pattern)
        counts = {count_re_per_line(compiled, files), count_re2_per_file(pattern, files)}
        row = (
            f"  {pattern:22} re/line {best(count_re_per_line, compiled, files) * 1000:6.0f} ms   "
            f"RE2/line {best(count_re_per_line, per_line_re2, files) * 1000:6.0f} ms   "
            f"RE2/file {best(count_re2_per_file, pattern, files) * 1000:6.0f} ms"
        )
        if rg:
            row += f"   rg {best(run_rg, rg, pattern, files) * 1000:6.0f} ms"
        print(row + ("" if len(counts) == 1 else f"   (counts differ: {sorted(counts)})"))
    if not rg:
        print("  (ripgrep is not installed here: not timed)")


if __name__ == "__main__":
    main()
