"""Context before the first model call, and the aider-style repository map, on a real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from weft.agent.context import Diagnostic, Target, gather_context, used_names
from weft.agent.repomap import RepoMapCache, build_graph, rank_tags, render_map
from weft.agent.tools import Workspace
from weft.index.workspace import WorkspaceIndex

FILES = {
    "app.py": (
        "from models import Order\n"
        "from pricing import compute_tax\n"
        "\n"
        "\n"
        "def checkout(order: Order) -> float:\n"
        "    subtotal = order.subtotal()\n"
        "    return subtotal + compute_tax(subtotal)\n" + "\n" * 40 + "def other():\n    return 0\n"
    ),
    "models.py": "class Order:\n    def subtotal(self):\n        return 1\n",
    "pricing.py": "def compute_tax(amount: float) -> float:\n    return amount * 0.2\n",
    "cli.py": "from app import checkout\n\ncheckout(None)\ncheckout(None)\n",
    "unused.py": "def lonely():\n    return 1\n",
    ".env": "def leaked_secret_function():\n    pass\n",
}


@pytest.fixture
def workspace(tmp_path: Path):
    for rel, text in FILES.items():
        (tmp_path / rel).write_text(text)
    index = WorkspaceIndex(tmp_path, cache_file=False, workers=1)
    index.build()
    yield Workspace(tmp_path, lambda rel: rel.startswith(".env"), index=index)
    index.close()


def test_context_sections_in_priority_order(workspace: Workspace) -> None:
    ctx = gather_context(
        workspace,
        Target("app.py", 6, 6),
        [Diagnostic(6, "compute_tax: wrong type", "mypy")],
        repo_cache=RepoMapCache(),
    )
    titles = [s.title for s in ctx.sections]
    assert titles == [
        "Diagnostics",
        "Code at the target",
        "Definitions of names used there",
        "Files that import it",
        "Repository map (files and their key symbols)",
    ]
    text = ctx.render()
    assert "app.py:7: compute_tax: wrong type [mypy]" in text
    # The enclosing function from the index, not a window around the line.
    assert "app.py, lines 5-7 of 49:\n    5| def checkout(order: Order) -> float:" in text
    assert "| from pricing" not in text and "def other" not in text.split("## Repository map")[0]
    assert "pricing.py:1 (function) def compute_tax(amount: float) -> float:" in text
    assert "models.py:1 (class) class Order:" in text
    assert ctx.sections[3].body == "cli.py"
    assert "leaked_secret_function" not in text


def test_budget_cuts_optional_sections_first(workspace: Workspace) -> None:
    ctx = gather_context(
        workspace,
        Target("app.py", 6, 6),
        [Diagnostic(6, "boom")],
        budget_tokens=60,
        repo_cache=RepoMapCache(),
    )
    text = ctx.render()
    assert "boom" in text and "Repository map" not in text and "Definitions" not in text


def test_without_index_there_is_a_window_and_no_map(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("".join(f"x{i} = {i}\n" for i in range(100)))
    ctx = gather_context(Workspace(tmp_path), Target("a.py", 50, 50), [], repo_cache=RepoMapCache())
    assert [s.title for s in ctx.sections] == ["Code at the target"]
    assert "a.py, lines 26-76 of 100:" in ctx.sections[0].body


def test_used_names_skip_keywords_and_builtins() -> None:
    names = used_names("def f(x):\n    return len(x) + compute(x) + compute(y)\n")
    assert names[0] == "compute"
    assert "def" not in names and "len" not in names and "return" not in names


def test_repo_map_from_index(workspace: Workspace) -> None:
    cache = RepoMapCache()
    graph = cache.get(workspace.index, workspace._allowed)
    assert cache.get(workspace.index, workspace._allowed) is graph
    text = render_map(rank_tags(graph, {"app.py"}, set()), 500, workspace.for_prompt)
    assert "models.py:\n  1: class Order:" in text
    assert "pricing.py:\n  1: def compute_tax(amount: float) -> float:" in text
    assert ".env" not in text and "leaked" not in text
    small = render_map(rank_tags(graph, {"app.py"}, set()), 25, workspace.for_prompt)
    assert 0 < len(small) < len(text)


def test_ranking_follows_the_seed_and_mentions() -> None:
    graph = build_graph(
        [
            ("models.py", "Order", 1, "class Order:"),
            ("pricing.py", "compute_tax", 1, "def compute_tax(amount):"),
            ("app.py", "checkout", 5, "def checkout(order):"),
            ("unused.py", "lonely", 1, "def lonely():"),
        ],
        [("app.py", {"Order": 2, "compute_tax": 1}), ("cli.py", {"checkout": 3})],
    )
    order = [t.name for t, _ in rank_tags(graph, {"app.py"}, set())]
    assert order[:2] == ["compute_tax", "Order"]  # a long specific name weighs ×10
    assert "lonely" not in order  # out of reach of the seed
    assert [t.name for t, _ in rank_tags(graph, {"cli.py"}, set())][0] == "checkout"
    assert [t.name for t, _ in rank_tags(graph, {"app.py"}, {"compute_tax"})][0] == "compute_tax"
    everything = [t.name for t, _ in rank_tags(graph, set(), set())]
    assert (
        set(everything) == {"Order", "compute_tax", "checkout", "lonely"}
        and everything[-1] == "lonely"
    )


def test_cache_rebuilds_when_files_change(workspace: Workspace, tmp_path: Path) -> None:
    cache = RepoMapCache()
    first = cache.get(workspace.index, workspace._allowed)
    (tmp_path / "extra.py").write_text("def fresh_name():\n    pass\n")
    workspace.index.build()
    second = cache.get(workspace.index, workspace._allowed)
    assert second is not first and "fresh_name" in second.defines
