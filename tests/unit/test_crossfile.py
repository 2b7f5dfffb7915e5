"""Cross-file context: names near the cursor → signatures from other files, within budget."""

from __future__ import annotations

from typing import NamedTuple

from weft.completion.crossfile import cross_file_snippets, names_near_cursor


class Sym(NamedTuple):
    signature: str
    doc: str


class Hit(NamedTuple):
    path: str
    symbol: Sym


class FakeIndex:
    def __init__(self, defs: dict[str, list[Hit]]) -> None:
        self.defs = defs
        self.lookups: list[str] = []

    def find_definitions(self, name, prefix=False, limit=None):
        self.lookups.append(name)
        hits = self.defs.get(name, [])
        return hits[:limit] if limit else hits


def test_names_nearest_first_without_keywords_or_repeats():
    prefix = (
        "import os\nresult = compute_total(items, tax_rate)\nif result:\n    send_invoice(result"
    )
    assert names_near_cursor(prefix)[:4] == ["result", "send_invoice", "tax_rate", "items"]
    assert "import" not in names_near_cursor(prefix)


def test_signatures_from_other_files_nearest_name_last():
    index = FakeIndex(
        {
            "send_invoice": [
                Hit(
                    "billing/mail.py",
                    Sym("def send_invoice(total: float, to: str) -> None:", "Email the invoice."),
                )
            ],
            "compute_total": [
                Hit("billing/calc.py", Sym("def compute_total(items, tax_rate=0.2):", ""))
            ],
            "helper": [Hit("main.py", Sym("def helper():", ""))],
        }
    )
    prefix = "def main():\n    total = compute_total(items)\n    helper()\n    send_invoice("
    snippets = cross_file_snippets(prefix, "main.py", index, budget_tokens=500)
    assert snippets == (
        ("billing/calc.py", "def compute_total(items, tax_rate=0.2):"),
        (
            "billing/mail.py",
            "def send_invoice(total: float, to: str) -> None:\n    Email the invoice.",
        ),
    )


def test_budget_is_respected():
    index = FakeIndex(
        {
            f"name{i}x": [Hit(f"f{i}.py", Sym(f"def name{i}x(" + "a, " * 40 + "):", ""))]
            for i in range(10)
        }
    )
    prefix = " ".join(f"name{i}x()" for i in range(10))
    snippets = cross_file_snippets(prefix, "main.py", index, budget_tokens=80)
    assert 1 <= len(snippets) <= 2


def test_bounded_lookups_on_a_long_prefix():
    index = FakeIndex({})
    prefix = "\n".join(f"value_{i} = other_{i}" for i in range(5000))
    cross_file_snippets(prefix, "main.py", index, budget_tokens=500)
    assert len(index.lookups) <= 16
