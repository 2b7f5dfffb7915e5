"""Index cache edges (issue 11): a build with a third of the cache rows damaged (random bytes
in their symbols blobs) against a cold build and a warm one, the way the server builds (symbols
in memory).

The workspace is a copy of the standard library (about 1,900 Python files). Prints seconds and
files parsed for: cold (no cache), warm (intact cache), damaged (a third of the rows replaced
with 300 random bytes each), bytes (50 runs of random bytes written into the SQLite file).

Run: ``python bench/cache.py [--server-path DIR]`` (another checkout's ``server/`` folder, for a
before figure).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def copy_stdlib(target: Path) -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(
        stdlib,
        target,
        ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"),
        symlinks=True,
    )
    (target / ".git").mkdir()


def timed_build(root: Path, cache: Path) -> tuple[float, int]:
    from weft.index.workspace import WorkspaceIndex

    started = time.monotonic()
    index = WorkspaceIndex(root, cache_file=cache, workers=2)
    stats = index.build()
    seconds = time.monotonic() - started
    index.close()
    return seconds, stats.parsed


def damage_rows(cache: Path, share: float) -> int:
    conn = sqlite3.connect(cache)
    paths = [p for (p,) in conn.execute("SELECT path FROM files WHERE status = 'ok'")]
    rng = random.Random(1)
    chosen = rng.sample(paths, int(len(paths) * share))
    with conn:
        for path in chosen:
            noise = bytes(rng.randrange(256) for _ in range(300))
            conn.execute("UPDATE files SET data = ? WHERE path = ?", (noise, path))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return len(chosen)


def damage_bytes(cache: Path) -> None:
    data = bytearray(cache.read_bytes())
    rng = random.Random(1)
    for _ in range(50):
        at = rng.randrange(4096, len(data) - 64)
        data[at : at + 64] = bytes(rng.randrange(256) for _ in range(64))
    cache.write_bytes(bytes(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-path", type=Path, help="a server/ folder to import instead")
    args = parser.parse_args()
    sys.path.insert(0, str(args.server_path or REPO / "server"))
    print(f"load average {os.getloadavg()[0]:.2f}; server {args.server_path or 'this checkout'}")
    with tempfile.TemporaryDirectory(prefix="weft-cache-") as tmp:
        root, cache = Path(tmp) / "ws", Path(tmp) / "cache" / "index.sqlite3"
        copy_stdlib(root)
        seconds, parsed = timed_build(root, cache)
        print(f"cold:     {seconds:6.1f} s, {parsed} files parsed")
        seconds, parsed = timed_build(root, cache)
        print(f"warm:     {seconds:6.1f} s, {parsed} files parsed")
        count = damage_rows(cache, 1 / 3)
        seconds, parsed = timed_build(root, cache)
        print(f"damaged:  {seconds:6.1f} s, {parsed} files parsed ({count} rows damaged)")
        damage_bytes(cache)
        for suffix in ("-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
        seconds, parsed = timed_build(root, cache)
        print(f"bytes:    {seconds:6.1f} s, {parsed} files parsed (SQLite file overwritten)")


if __name__ == "__main__":
    main()
