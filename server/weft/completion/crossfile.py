"""Cross-file context for completion prompts (``context.crossFile``).

The names used just before the cursor are looked up in the workspace index, and the
signatures (with the first docstring line) of their definitions in *other* files go into the
prompt as ``(path, text)`` snippets, the form FIM templates take for repository context. This
is what a developer would glance at: how the function being called is declared.

It runs on the keystroke path, so it reads only the last lines before the cursor and makes a
bounded number of dictionary lookups in the index; nothing here scales with the workspace.
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Protocol

from weft.completion.window import estimate_tokens

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
LOOKBACK_CHARS = 2000
MAX_NAMES = 16
MAX_DEFS_PER_NAME = 2
COMMON = frozenset(
    {
        "self",
        "this",
        "cls",
        "None",
        "True",
        "False",
        "null",
        "true",
        "false",
        "return",
        "const",
        "let",
        "var",
        "function",
        "func",
        "async",
        "await",
        "import",
        "from",
        "print",
        "len",
        "str",
        "int",
        "list",
        "dict",
        "string",
        "number",
        "void",
        "pub",
        "impl",
        "struct",
        "type",
        "new",
    }
)


class DefinitionIndex(Protocol):
    def find_definitions(
        self, name: str, prefix: bool = False, limit: int | None = None
    ) -> list[Any]: ...


def names_near_cursor(prefix: str) -> list[str]:
    """Identifiers in the text just before the cursor, nearest first, without repeats."""
    tail = prefix[-LOOKBACK_CHARS:]
    seen: dict[str, None] = {}
    for match in reversed(list(_IDENTIFIER.finditer(tail))):
        name = match.group(0)
        if name in COMMON or keyword.iskeyword(name) or name in seen:
            continue
        seen[name] = None
        if len(seen) >= MAX_NAMES:
            break
    return list(seen)


def cross_file_snippets(
    prefix: str, current_path: str, index: DefinitionIndex, budget_tokens: int
) -> tuple[tuple[str, str], ...]:
    """Signatures from other files for names near the cursor, within ``budget_tokens``.

    Returns ``(path, text)`` pairs, most relevant last (templates put the last snippet
    nearest the code being completed).
    """
    by_path: dict[str, list[str]] = {}
    used = 0
    for name in names_near_cursor(prefix):
        for hit in index.find_definitions(name, limit=MAX_DEFS_PER_NAME + 1)[:MAX_DEFS_PER_NAME]:
            if hit.path == current_path:
                continue
            symbol = hit.symbol
            line = symbol.signature.strip()
            if not line:
                continue
            text = line + (f"\n    {symbol.doc.strip()}" if symbol.doc.strip() else "")
            cost = estimate_tokens(text) + 4
            if used + cost > budget_tokens:
                return _ordered(by_path)
            lines = by_path.setdefault(hit.path, [])
            if text not in lines:
                lines.append(text)
                used += cost
    return _ordered(by_path)


def _ordered(by_path: dict[str, list[str]]) -> tuple[tuple[str, str], ...]:
    # dicts keep insertion order: the first path holds the nearest names; put it last.
    return tuple((path, "\n".join(lines)) for path, lines in reversed(by_path.items()))
