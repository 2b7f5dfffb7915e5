"""Benchmark of the offline engine on CPython's standard library (prints figures; not a test).

Trains on the stdlib's ``.py`` files except a held-out set (fixed seed), cuts held-out lines at
random points inside the line (the rest of that line removed from the document, as when typing
it), and reports, for the engine and for a baseline that completes the current token with its
most frequent continuation:

- rest-of-line exact match (trailing whitespace ignored), next-token exact match, character
  edit similarity (1 - Levenshtein / longer length), how often something was offered;
- how often a repeated block was offered over several lines, and how many of its lines were
  right;
- training time, tokens, peak RSS and RSS growth, optional tracemalloc size of the model;
- p50/p95/p99/max time per completion through ``OfflineBackend.stream_fim``, wall and CPU (the
  machine is shared: CPU time is the steadier figure), and the load average;
- with ``--persist``: saved size, save and load time; with ``--tokenizers``: regex against
  tree-sitter tokenizing speed; ``--tokens tree-sitter`` trains and queries with tree-sitter
  leaves instead; ``--no-cache`` and ``--set key=value`` for ablations and tuning.

    python bench/offline_eval.py --quick          # 300 training files, ~10 s
    python bench/offline_eval.py                  # the whole stdlib, ~1 min
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from weft.backends.base import FimRequest, collect  # noqa: E402
from weft.offline.engine import OfflineEngine, read_source  # noqa: E402
from weft.offline.model import TokenModel  # noqa: E402
from weft.offline.predict import PredictOptions  # noqa: E402
from weft.offline.tokenizer import is_newline_token, tokenize, tree_sitter_tokens  # noqa: E402


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        new = [i]
        for j, cb in enumerate(b, 1):
            new.append(min(row[j] + 1, new[j - 1] + 1, row[j - 1] + (ca != cb)))
        row = new
    return row[-1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def edit_similarity(a: str, b: str) -> float:
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


def next_token(line_prefix: str, continuation: str) -> str:
    """The part of ``continuation`` up to the end of the token the cursor is in (or starts)."""
    toks = tokenize(line_prefix + continuation)
    pos = 0
    cut = len(line_prefix)
    rebuilt = ""
    for tok in toks:
        piece = tok.lstrip("\n") if is_newline_token(tok) else tok
        rebuilt += piece
        pos = len(rebuilt)
        if pos > cut:
            return rebuilt[cut:]
    return ""


class Baseline:
    """Completes the current token with the most frequent token that extends it."""

    def __init__(self, model: TokenModel) -> None:
        self.model = model
        self.sorted = sorted(
            (w, i) for i, w in enumerate(model.words) if i and not is_newline_token(w)
        )
        self.best_any = max(
            (i for i, w in enumerate(model.words) if i and not is_newline_token(w)),
            key=lambda i: model.unigram[i],
        )

    def complete(self, prefix: str) -> str:
        import bisect

        line = prefix.rsplit("\n", 1)[-1]
        toks = tokenize(line)
        partial = toks[-1] if line.strip() and toks else ""
        if not partial:
            return self.model.words[self.best_any]
        lo = bisect.bisect_left(self.sorted, (partial,))
        best, best_count = None, -1
        for word, wid in self.sorted[lo:]:
            if not word.startswith(partial):
                break
            if self.model.unigram[wid] > best_count:
                best, best_count = word, self.model.unigram[wid]
        return best[len(partial) :] if best else ""


def make_cases(
    files: list[Path], per_file: int, rng: random.Random
) -> list[tuple[str, str, str, str]]:
    """(path, prefix, suffix, truth) with the rest of the cut line removed from the suffix."""
    cases = []
    for path in files:
        text = read_source(path, 1 << 20)
        if not text:
            continue
        lines = text.split("\n")
        candidates = [i for i, ln in enumerate(lines) if len(ln.strip()) >= 2]
        for i in rng.sample(candidates, min(per_file, len(candidates))):
            line = lines[i].rstrip()
            indent = len(line) - len(line.lstrip())
            cut = rng.randrange(indent, len(line))
            before = "\n".join(lines[:i])
            prefix = (before + "\n" if i else "") + line[:cut]
            suffix = "\n" + "\n".join(lines[i + 1 :])
            cases.append((str(path), prefix, suffix, line[cut:]))
    return cases


def tree_sitter_python(text: str) -> list[str]:
    """The Python grammar's leaves, with the regex tokenizer's trailing-space convention."""
    toks = tree_sitter_tokens(text, "python") or []
    if text.endswith(" ") and not text.endswith("  "):
        toks.append(" ")
    return toks


def measure_tokenizers(files: list[Path], limit_bytes: int) -> None:
    texts, size = [], 0
    for path in files:
        text = read_source(path, 1 << 20)
        if text:
            texts.append(text)
            size += len(text.encode())
        if size > limit_bytes:
            break
    start = time.perf_counter()
    n_regex = sum(len(tokenize(t)) for t in texts)
    regex_s = time.perf_counter() - start
    start = time.perf_counter()
    n_ts = sum(len(tree_sitter_tokens(t, "python") or ()) for t in texts)
    ts_s = time.perf_counter() - start
    mb = size / 1e6
    print(
        f"tokenizer on {mb:.1f} MB: regex {mb / regex_s:.2f} MB/s ({n_regex} tokens), "
        f"tree-sitter leaves {mb / ts_s:.2f} MB/s ({n_ts} tokens)"
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 training files, 40 held out")
    ap.add_argument("--train-files", type=int, default=0, help="limit training files (0: all)")
    ap.add_argument("--test-files", type=int, default=60)
    ap.add_argument("--per-file", type=int, default=10, help="cut lines per held-out file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also measure the model's Python allocations (slow)",
    )
    ap.add_argument("--no-cache", action="store_true", help="ablation: workspace model only")
    ap.add_argument(
        "--tokenizers", action="store_true", help="also time regex vs tree-sitter tokens"
    )
    ap.add_argument("--persist", action="store_true", help="also time saving and loading the model")
    ap.add_argument(
        "--tokens",
        choices=("regex", "tree-sitter"),
        default="regex",
        help="tokenizer for training and queries (tree-sitter: the Python grammar's leaves)",
    )
    ap.add_argument("--set", action="append", default=[], help="PredictOptions override, k=v")
    args = ap.parse_args()
    if args.quick:
        args.train_files = args.train_files or 300
        args.test_files = min(args.test_files, 40)

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    rng = random.Random(args.seed)
    rng.shuffle(files)
    test_files = files[: args.test_files]
    train_files = files[args.test_files :]
    if args.train_files:
        train_files = train_files[: args.train_files]

    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = type(getattr(PredictOptions(), key))(value)
    if args.no_cache:
        overrides["cache_weight"] = 0.0
    options = PredictOptions(**overrides)

    gc.collect()
    rss_before = rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    engine = OfflineEngine(
        cache_dir=None,
        options=options,
        tokenizer=tree_sitter_python if args.tokens == "tree-sitter" else None,
    )
    start = time.perf_counter()
    summary = await engine.train_workspace(stdlib, train_files, max_file_bytes=1 << 20)
    train_s = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory() if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()
    gc.collect()
    rss_after = rss_mb()
    python_model = engine.model_for("python")
    chain = python_model._chain
    size_mb = (
        sum(
            a.itemsize * len(a)
            for a in (chain.tokens, chain.prev, chain.prev1, chain.head, chain.head1)
        )
        / 1e6
    )
    print(
        f"stdlib {stdlib}: {len(files)} files; trained on {len(train_files)}, "
        f"held out {len(test_files)}; {args.tokens} tokens"
    )
    print(
        f"training: {train_s:.1f} s, {summary['files']} files, {summary['tokens']} tokens, "
        f"vocabulary {len(engine.model_for('python').words) - 1}, skipped {summary['skipped']}"
    )
    print(
        f"memory: RSS {rss_before:.0f} -> {rss_after:.0f} MB (+{rss_after - rss_before:.0f}), "
        f"peak RSS {rss_mb('VmHWM'):.0f} MB, token stream + chains {size_mb:.0f} MB"
        + (
            f", tracemalloc current {traced[0] / 1e6:.0f} MB peak {traced[1] / 1e6:.0f} MB"
            if traced
            else ""
        )
    )

    cases = make_cases(test_files, args.per_file, random.Random(args.seed + 1))
    baseline = Baseline(python_model)
    backend = engine.backend()
    stats = {"ours": [0, 0, 0.0], "base": [0, 0, 0.0]}
    times: list[float] = []
    cpu_times: list[float] = []
    shown = offered = blocks = blocks_right = block_lines = block_lines_right = 0
    for path, prefix, suffix, truth in cases:
        request = FimRequest(
            prefix=prefix, suffix=suffix, path=path, language="python", stop=("\n",)
        )
        t0, c0 = time.perf_counter(), time.thread_time()
        ours = await collect(backend.stream_fim(request))
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.thread_time() - c0)
        base = baseline.complete(prefix)
        line_prefix = prefix.rsplit("\n", 1)[-1]
        true_next = next_token(line_prefix, truth)
        offered += bool(ours)
        for name, guess in (("ours", ours), ("base", base)):
            s = stats[name]
            s[0] += guess.rstrip() == truth.rstrip()
            s[1] += next_token(line_prefix, guess) == true_next
            s[2] += edit_similarity(guess.rstrip(), truth.rstrip())
        multi = engine.complete(prefix, suffix, path=path, multiline=True, language="python")
        if "\n" in multi:
            blocks += 1
            offered_lines = [ln.rstrip() for ln in multi.split("\n")[1:]]
            true_lines = [ln.rstrip() for ln in suffix.split("\n")[1 : len(offered_lines) + 1]]
            right = 0
            while right < len(offered_lines) and offered_lines[right] == true_lines[right]:
                right += 1
            block_lines += len(offered_lines)
            block_lines_right += right
            blocks_right += right == len(offered_lines) and multi.split("\n")[0] == truth.rstrip()
        if shown < 8 and ours:
            shown += 1
            print(f"  e.g. {line_prefix[-40:]!r} + {ours!r} (truth {truth!r})")
    n = len(cases)
    print(
        f"{n} cut lines from {len(test_files)} held-out files; offered a completion on {offered / n:.1%}"
    )
    print(f"{'':10} {'rest-of-line EM':>16} {'next-token EM':>14} {'edit sim':>9}")
    for name, label in (("ours", "offline"), ("base", "baseline")):
        em, nt, es = stats[name]
        print(f"{label:10} {em / n:16.1%} {nt / n:14.1%} {es / n:9.3f}")
    ratio = stats["ours"][0] / max(stats["base"][0], 1)
    print(f"rest-of-line EM ratio vs baseline: {ratio:.2f}x")
    print(
        f"multi-line: a repeated block offered on {blocks} of {n} cuts, entirely right on "
        f"{blocks_right}; {block_lines_right} of its {block_lines} extra lines right "
        "(counting each block's lines up to its first wrong one)"
    )
    wall_p99 = percentile([t * 1000 for t in times], 0.99)
    rss_total = rss_mb("VmHWM")  # training and completing only: persist/tokenizers come later
    print(
        f"targets: p99 <= 10 ms {'met' if wall_p99 <= 10 else 'MISSED'} ({wall_p99:.1f}); "
        f"memory <= 200 MB {'met' if rss_total <= 200 else 'MISSED'} (peak RSS {rss_total:.0f}); "
        f">= 2x baseline EM {'met' if ratio >= 2 else 'MISSED'} ({ratio:.1f}x)"
    )
    for label, series in (("wall", times), ("cpu", cpu_times)):
        ms = [t * 1000 for t in series]
        print(
            f"per completion ({label}): p50 {percentile(ms, 0.5):.2f} ms, "
            f"p95 {percentile(ms, 0.95):.2f} ms, p99 {percentile(ms, 0.99):.2f} ms, "
            f"max {max(ms):.2f} ms"
        )
    # after the figures above: these hold extra memory that the engine does not need
    if args.persist:
        with tempfile.TemporaryDirectory() as tmp:
            engine.cache_dir = Path(tmp)
            t0 = time.perf_counter()
            engine.save()
            save_s = time.perf_counter() - t0
            save_peak = rss_mb("VmHWM")
            state = engine.state_path()
            assert state is not None
            t0 = time.perf_counter()
            again = OfflineEngine(cache_dir=Path(tmp))
            again.root = engine.root
            loaded = again._load()
            print(
                f"persisted: {state.stat().st_size / 1e6:.0f} MB, save {save_s:.2f} s, "
                f"load {time.perf_counter() - t0:.2f} s ({'ok' if loaded else 'FAILED'}); "
                f"peak RSS after saving {save_peak:.0f} MB"
            )
            del again
            engine.cache_dir = None
    if args.tokenizers:
        measure_tokenizers(train_files, 3_000_000)
    with open("/proc/loadavg") as fh:
        print(f"load average while measuring: {fh.read().split()[0]} on {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())
