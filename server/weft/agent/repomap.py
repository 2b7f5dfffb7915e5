"""A compact, ranked map of the repository for the agent's first prompt (aider's repo map).

The graph has a node per file and an edge from each file that references a name to each file
that defines it, weighted as aider weights them: long specific names ×10, private names ×0.1,
names defined in more than five files ×0.1, and the square root of the number of references.
A personalised PageRank seeded at the target file ranks files; each file's rank is then shared
out over the definitions its outgoing edges point at, and names the task mentions count ×10.

Building the graph walks every file's symbols, so it is cached (:class:`RepoMapCache`, one per
server) and refreshed when the index changes size or the map is older than ``MAX_AGE_S``;
the code-action listing warms it in the background, off the path of an agent run. Ranking for
one run only looks at the files within two hops of the seeds.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

MAX_AGE_S = 120.0
MAX_DEFINERS = 25
"""Names defined in more files than this (``get``, ``run``, ``__init__``…) carry no signal and
would dominate the graph's size; they are left out."""
NEIGHBOURHOOD = 200
ITERATIONS = 20
TOP_TAGS = 400
DAMPING = 0.85


@dataclass(frozen=True)
class Tag:
    """A definition on the map: where it is (1-based line) and its signature line."""

    path: str
    name: str
    line: int
    signature: str


@dataclass
class RepoGraph:
    """Files, the definitions they hold, and weighted reference edges between them."""

    tags: dict[tuple[str, str], Tag] = field(default_factory=dict)
    defines: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    edges: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)
    """src → [(dst, name, weight)]"""
    links: dict[str, dict[str, float]] = field(default_factory=dict)
    """src → {dst: summed weight}: the file graph PageRank runs on."""
    back: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_path: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """path → names it defines"""
    global_rank: dict[str, float] = field(default_factory=dict)
    global_tags: list[tuple[Tag, float]] = field(default_factory=list)
    """The ranking with no seed and no mentions, computed once."""
    key: Any = None
    built_at: float = 0.0


def name_weight(name: str, n_definers: int) -> float:
    """aider's weight of a name, before the task's mentions are counted."""
    weight = 1.0
    specific = ("_" in name or any(c.isupper() for c in name[1:])) and len(name) >= 8
    if specific:
        weight *= 10
    if name.startswith("_"):
        weight *= 0.1
    if n_definers > 5:
        weight *= 0.1
    return weight


def build_graph(
    definitions: Iterable[tuple[str, str, int, str]],
    references: Iterable[tuple[str, dict[str, int]]],
) -> RepoGraph:
    """A graph from (path, name, 1-based line, signature) and (path, {name: count})."""
    graph = RepoGraph()
    for path, name, line, signature in definitions:
        if (path, name) not in graph.tags:
            graph.defines[name].add(path)
            graph.by_path[path].append(name)
            graph.tags[(path, name)] = Tag(path, name, line, signature)
    for src, counts in references:
        out = []
        links: dict[str, float] = defaultdict(float)
        for name, count in counts.items():
            definers = graph.defines.get(name)
            if not definers or count <= 0 or len(definers) > MAX_DEFINERS or name.startswith("__"):
                continue
            weight = name_weight(name, len(definers)) * math.sqrt(count)
            for dst in definers:
                out.append((dst, name, weight))
                links[dst] += weight
        if out:
            graph.edges[src] = out
            graph.links[src] = dict(links)
            for dst in links:
                graph.back[dst].add(src)
    nodes = set(graph.edges) | {p for paths in graph.defines.values() for p in paths}
    graph.global_rank = pagerank(graph, nodes, set())
    graph.global_tags = _score(graph, nodes, graph.global_rank, set(), seeded=False)
    return graph


def pagerank(
    graph: RepoGraph, nodes: set[str], seeds: set[str], iterations: int = ITERATIONS
) -> dict[str, float]:
    """Personalised PageRank over ``nodes`` (edges leaving the set are dropped)."""
    if not nodes:
        return {}
    names = sorted(nodes)
    at = {name: i for i, name in enumerate(names)}
    n = len(names)
    seeds = seeds & nodes
    if seeds:
        personal = [1.0 / len(seeds) if name in seeds else 0.0 for name in names]
    else:
        personal = [1.0 / n] * n
    out: list[list[tuple[int, float]]] = []
    for name in names:
        kept = [(at[dst], w) for dst, w in graph.links.get(name, {}).items() if dst in at]
        total = sum(w for _, w in kept)
        out.append([(j, w / total) for j, w in kept] if total else [])
    dangling_nodes = [i for i in range(n) if not out[i]]
    rank = [1.0 / n] * n
    for _ in range(iterations):
        dangling = sum(rank[i] for i in dangling_nodes)
        base = 1 - DAMPING + DAMPING * dangling
        nxt = [base * p for p in personal]
        for i, targets in enumerate(out):
            share = DAMPING * rank[i]
            if share:
                for j, frac in targets:
                    nxt[j] += share * frac
        delta = sum(abs(a - b) for a, b in zip(nxt, rank, strict=True))
        rank = nxt
        if delta < 1e-6:
            break
    return dict(zip(names, rank, strict=True))


def neighbourhood(graph: RepoGraph, seeds: set[str], limit: int = NEIGHBOURHOOD) -> set[str]:
    """Files within two hops of ``seeds`` in either direction, at most ``limit``."""
    seen = set(seeds)
    frontier = list(seeds)
    for _ in range(2):
        nxt = []
        for node in frontier:
            linked = set(graph.links.get(node, ())) | graph.back.get(node, set())
            for other in sorted(linked):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
                    if len(seen) >= limit:
                        return seen
        frontier = nxt
    return seen


def rank_tags(graph: RepoGraph, seeds: set[str], mentioned: set[str]) -> list[tuple[Tag, float]]:
    """Definitions, best first, for a run seeded at ``seeds`` that mentions ``mentioned``."""
    seeds = {p for p in seeds if p in graph.links or p in graph.back or p in graph.by_path}
    if not seeds:
        # The global ranking is computed once; what the task names goes first.
        named = [
            (graph.tags[(path, name)], 1.0)
            for name in sorted(mentioned)
            for path in sorted(graph.defines.get(name, ()))
        ]
        keys = {(t.path, t.name) for t, _ in named}
        return named + [(t, sc) for t, sc in graph.global_tags if (t.path, t.name) not in keys]
    nodes = neighbourhood(graph, seeds)
    return _score(graph, nodes, pagerank(graph, nodes, seeds), mentioned, seeded=True)


def _score(
    graph: RepoGraph, nodes: set[str], rank: dict[str, float], mentioned: set[str], seeded: bool
) -> list[tuple[Tag, float]]:
    """Share each file's rank over the definitions its edges point at; best ``TOP_TAGS``."""
    scores: dict[tuple[str, str], float] = defaultdict(float)
    for src in nodes:
        links = graph.links.get(src)
        if not links:
            continue
        total = sum(w for dst, w in links.items() if dst in nodes) or 1.0
        share = rank.get(src, 0.0) / total
        for dst, name, weight in graph.edges[src]:
            if dst in nodes:
                scores[(dst, name)] += share * weight
    for name in mentioned:
        for path in graph.defines.get(name, ()):
            if path in nodes or not seeded:
                scores[(path, name)] = scores.get((path, name), 1e-6) * 10
    # Definitions nobody in reach references still belong on the map, below referenced ones.
    for path in nodes:
        for name in graph.by_path.get(path, ()):
            if (path, name) not in scores:
                scores[(path, name)] = rank.get(path, 0.0) * 1e-3
    best = heapq.nlargest(TOP_TAGS, scores.items(), key=lambda kv: (kv[1], kv[0]))
    return [(graph.tags[key], score) for key, score in best if key in graph.tags]


def render_map(
    ranked: list[tuple[Tag, float]], budget_tokens: int, clean: Callable[[str], str]
) -> str:
    """Files in rank order with up to eight of their signatures each, within the budget."""
    by_file: dict[str, list[Tag]] = {}
    for tag, _score in ranked:
        tags = by_file.setdefault(tag.path, [])
        if len(tags) < 8:
            tags.append(tag)
    lines: list[str] = []
    used = 0
    for path, tags in by_file.items():
        block = [f"{path}:"] + [
            f"  {t.line}: {clean(t.signature)[:160]}" for t in sorted(tags, key=lambda t: t.line)
        ]
        cost = sum((len(line) + 3) // 4 + 1 for line in block)
        if used + cost > budget_tokens:
            break
        lines.extend(block)
        used += cost
    return "\n".join(lines)


# -- the index side --------------------------------------------------------------------------


def _file_references(index: Any, path: str) -> dict[str, int]:
    """Name → number of uses in one file."""
    return dict(index.references_in(path))


def graph_from_index(index: Any, allowed: Callable[[str], bool]) -> RepoGraph:
    """The repository graph of the files the agent may see."""
    paths = [p for p in index.list_files() if allowed(p)]
    definitions = []
    for path in paths:
        for symbol in index.symbols_in(path):
            definitions.append(
                (path, symbol.name, symbol.line + 1, (symbol.signature or symbol.name).strip())
            )
    references = ((path, _file_references(index, path)) for path in paths)
    return build_graph(definitions, references)


class RepoMapCache:
    """The repository graph of one index, rebuilt when it is stale (thread-safe)."""

    def __init__(self, max_age_s: float = MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
        self._graph: RepoGraph | None = None
        self._lock = threading.Lock()

    def _key(self, index: Any) -> Any:
        return (id(index), len(index.list_files()))

    def fresh(self, index: Any) -> RepoGraph | None:
        graph = self._graph
        if graph is None or graph.key != self._key(index):
            return None
        if time.monotonic() - graph.built_at > self.max_age_s:
            return None
        return graph

    def get(self, index: Any, allowed: Callable[[str], bool]) -> RepoGraph:
        """The cached graph, or a new one when the index changed or the graph aged out."""
        graph = self.fresh(index)
        if graph is not None:
            return graph
        with self._lock:
            graph = self.fresh(index)
            if graph is None:
                started = time.perf_counter()
                graph = graph_from_index(index, allowed)
                graph.key = self._key(index)
                graph.built_at = time.monotonic()
                self._graph = graph
                logger.info(
                    "repo map graph: %d files, %d names in %.0f ms",
                    len(graph.global_rank),
                    len(graph.defines),
                    (time.perf_counter() - started) * 1000,
                )
            return graph
