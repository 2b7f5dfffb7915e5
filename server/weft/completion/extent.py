"""How much to complete at the cursor (one line or a block), and when a stream has enough.

``decide_multiline`` runs on every request, so it looks at the cursor line and parses, only
when the line ends in a block opener, a bounded window around the cursor to make sure the
opener is code and not part of a comment or string. ``extent_complete`` runs on every streamed
delta and only reads the candidate so far, so a stream can be stopped the moment the decided
extent is complete: the first line break for a single line, the end of the block otherwise.
"""

from __future__ import annotations

import logging

from tree_sitter import Node

from weft.completion.postprocess import (
    MAX_REPEATED_BLOCK_LINES,
    CompletionContext,
    block_extent,
    could_become_continuation,
    drop_repetition,
    normalize_newlines,
    opens_block,
    strip_python_comment,
)
from weft.completion.syntax_guard import parse_window
from weft.index.languages import get_parser

logger = logging.getLogger(__name__)

WINDOW_BEFORE = 12_000
WINDOW_AFTER = 2_000
TRAILING_OK = frozenset(")]}\"'`;, \t")
"""What may follow the cursor on its line for a multi-line suggestion (auto-closed characters)."""

_PYTHON_BLOCK_PARENTS = frozenset(
    {
        "function_definition",
        "class_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "match_statement",
        "case_clause",
        "ERROR",
        "module",
        "block",
    }
)


def decide_multiline(text: str, offset: int, language: str | None, setting: str) -> bool:
    """Whether to ask for (and keep) more than one line.

    ``always`` / ``never`` decide alone. ``auto``: multi-line on an empty or whitespace-only
    line, and after a block opener at the end of the line (``:`` in Python, ``{``, ``(``,
    ``[``, ``=>``) that the syntax tree confirms is code; single line in the middle of a line
    (anything but auto-closed characters after the cursor) and everywhere else.

    This parses in the calling process; the server asks :func:`decide_by_text` first and sends
    only the opener's window to a parse process (``index/parse_host.py``).
    """
    decided = decide_by_text(text, offset, language, setting)
    if isinstance(decided, bool):
        return decided
    return opener_is_code(text, decided, language)


def decide_by_text(text: str, offset: int, language: str | None, setting: str) -> bool | int:
    """:func:`decide_multiline` as far as the text alone tells: a bool, or the offset of a
    block opener whose being code only the syntax tree can tell."""
    if setting == "always":
        return True
    if setting == "never":
        return False
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    newline = text.find("\n", offset)
    line_end = len(text) if newline < 0 else newline
    prefix, suffix = text[line_start:offset], text[offset:line_end].rstrip("\r")
    if not set(suffix) <= TRAILING_OK:
        return False
    if not prefix.strip():
        return True
    if not opens_block(prefix, language):
        return False
    code = strip_python_comment(prefix) if language == "python" else prefix.rstrip()
    return line_start + len(code) - 1


def opener_window(text: str, opener: int) -> tuple[str, int]:
    """The bounded window :func:`opener_is_code` parses, and the opener's offset in it (so only
    the window needs to travel to a parse process)."""
    lo, hi = parse_window(text, opener, opener + 1, WINDOW_BEFORE, WINDOW_AFTER)
    return text[lo:hi], opener - lo


def opener_is_code(text: str, opener: int, language: str | None) -> bool:
    """False when the syntax tree puts the opener in a comment or a string, or (Python) the
    ``:`` belongs to a dict, slice, lambda or annotation rather than a block statement."""
    parser = get_parser(language) if language else None
    if parser is None:
        return True
    window, at_char = opener_window(text, opener)
    at = len(window[:at_char].encode())
    width = len(text[opener].encode())
    try:
        tree = parser.parse(window.encode())
    except Exception:  # noqa: BLE001 - a parser failure falls back to the text rule
        logger.exception("parsing the cursor window failed")
        return True
    node: Node | None = tree.root_node.descendant_for_byte_range(at, at + width)
    if node is None:
        return True
    if language == "python" and node.type == ":" and node.parent is not None:
        if node.parent.type not in _PYTHON_BLOCK_PARENTS:
            return False
    depth = 0
    while node is not None and depth < 6:
        kind = node.type
        if "comment" in kind or ("string" in kind and kind != "string_start"):
            return False
        node = node.parent
        depth += 1
    return True


def extent_complete(candidate_so_far: str, multiline: bool, ctx: CompletionContext) -> bool:
    """Whether the streamed text already holds the whole decided extent (stop the stream).

    Single line: once a line break arrives. Multi-line: once the block has ended on a line
    that cannot turn out to continue it (``}`` might still become ``} else {``), the model
    started repeating the lines after the cursor, or it is looping.
    """
    text = normalize_newlines(candidate_so_far)
    if not multiline:
        return "\n" in text
    lines = text.split("\n")
    if len(lines) < 2:
        return False
    _, ended_at = block_extent(lines, ctx)
    if ended_at is not None:
        if ended_at < len(lines) - 1:
            return True
        if not could_become_continuation(lines[ended_at].strip()):
            return True
    # look at the newest lines only, so the check costs the same on every delta of a long
    # stream (a repeat the check misses is still cut by post-processing, it only costs tokens)
    newest = len(lines) - 2
    line = (ctx.line_prefix + lines[0]) if newest == 0 else lines[newest]
    if line.strip() and (newest > 0 or not ctx.line_prefix.strip()):
        following = next((f for f in ctx.following_lines if f.strip()), None)
        if following is not None and line.rstrip() == following.rstrip():
            return True  # the model started repeating the lines after the cursor
    tail = "\n".join(lines[max(0, newest - 3 * MAX_REPEATED_BLOCK_LINES) : newest + 1])
    return drop_repetition(tail) != tail
