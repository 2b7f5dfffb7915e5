"""Syntax errors from tree-sitter, for every language weft has a grammar for.

The server parses in a parse process under a budget (:func:`bounded_syntax_findings`): a
grammar that never returns on the document's text quarantines that file instead of freezing
the server (see ``index/parse_host.py``).
"""

from __future__ import annotations

import logging

from weft.agent.verify import SyntaxProblem, syntax_problems
from weft.checks.findings import MAX_FINDINGS, Finding
from weft.index.parse_host import DOCUMENT_BUDGET_S, ParseHost, ParseUnavailable

logger = logging.getLogger(__name__)


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8", errors="surrogatepass")[:byte_col].decode("utf-8", "replace"))


def syntax_findings(text: str, language: str | None) -> list[Finding]:
    """ERROR and MISSING nodes as findings (none without a grammar for ``language``); parses in
    this process."""
    return _findings(text, syntax_problems(text, language, limit=MAX_FINDINGS) or [])


async def bounded_syntax_findings(
    text: str, language: str | None, path: str, host: ParseHost
) -> list[Finding]:
    """:func:`syntax_findings` parsed in ``host`` under ``DOCUMENT_BUDGET_S``; a grammar that
    overruns it (or is quarantined for ``path``) gives no findings, with a log line."""
    if not language:
        return []
    try:
        problems = await host.call(
            "problems", (text, language), (path, language), DOCUMENT_BUDGET_S
        )
    except ParseUnavailable as exc:
        logger.info("syntax check of %s skipped: %s", path, exc)
        return []
    return _findings(text, (problems or [])[:MAX_FINDINGS])


def _findings(text: str, problems: list[SyntaxProblem]) -> list[Finding]:
    lines = text.split("\n")
    out = []
    for p in problems:
        row = p.line - 1
        col = _char_col(lines[row], p.column - 1) if row < len(lines) else 0
        message = "syntax error" if p.kind == "syntax error" else f"syntax error: {p.kind}"
        out.append(Finding(row, col, row, col, message, "tree-sitter"))
    return out
