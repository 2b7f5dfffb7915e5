"""Syntax errors from tree-sitter, for every language weft has a grammar for (in-process)."""

from __future__ import annotations

from weft.agent.verify import syntax_problems
from weft.checks.findings import MAX_FINDINGS, Finding


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8", errors="surrogatepass")[:byte_col].decode("utf-8", "replace"))


def syntax_findings(text: str, language: str | None) -> list[Finding]:
    """ERROR and MISSING nodes as findings (none without a grammar for ``language``)."""
    problems = syntax_problems(text, language, limit=MAX_FINDINGS) or []
    lines = text.split("\n")
    out = []
    for p in problems:
        row = p.line - 1
        col = _char_col(lines[row], p.column - 1) if row < len(lines) else 0
        message = "syntax error" if p.kind == "syntax error" else f"syntax error: {p.kind}"
        out.append(Finding(row, col, row, col, message, "tree-sitter"))
    return out
