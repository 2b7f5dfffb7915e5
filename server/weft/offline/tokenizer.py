"""Code tokens for the offline engine, with the whitespace that separates them kept inside them.

A token carries its own leading space (``" ="``, ``" foo"``), like the BPE vocabularies of
code models, so the model learns spacing without whitespace tokens diluting its context, and a
prediction is rebuilt by plain concatenation. A line break is one token, ``"\\n"`` plus the next
line's indentation (``"\\n\\n"`` plus indentation when blank lines came between), so a copied
block keeps its shape. Trailing whitespace is dropped; runs of two or more spaces or tabs inside
a line (alignment) are tokens of their own.

The default tokenizer is one compiled regular expression: identifiers are kept whole, numbers
are one token, multi-character operators are one token, and the words inside strings and
comments are tokens too (so a docstring's words predict each other). It needs no grammar, so
every language gets the same treatment.

``tree_sitter_tokens`` gives a grammar's leaves in the same format. Measured with
``bench/offline_eval.py --tokenizers`` and ``--tokens tree-sitter`` on CPython's standard
library (2 shared cores): the regex tokenizes 11.7-13.8 MB/s against 2.9-4.6 MB/s for parsing
plus walking leaves, and predicts better (rest-of-line exact match 34.5 % against 28.0 %,
next token 66.2 % against 52.7 %): whole comments and string contents are single leaves that
never repeat, and the half-typed line at the cursor parses with errors. So the regex is what
the engine uses.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_OPERATORS = (
    r"===|!==|\.\.\.|\*\*=|//=|<<=|>>=|->|=>|::|:=|\*\*|//|<<|>>|&&|\|\||\+\+|--"
    r"|[-+*/%&|^@=!<>]="
)
# One alternation whose whole match is the token, so ``findall`` does the work in C; only the
# line-break matches need rewriting afterwards.
_TOKEN_RE = re.compile(
    r"[ \t\f\v]*(?:\r\n|\n|\r)(?:[ \t\f\v]*(?:\r\n|\n|\r))*[ \t]*"
    r"| ?(?:[^\W\d]\w*|\d[\w.]*|" + _OPERATORS + r"|\S)"
    r"|[ \t\f\v]+"
)


def is_newline_token(token: str) -> bool:
    return token.startswith("\n")


def _newline_token(match: str) -> str:
    """``"\\n"`` (or ``"\\n\\n"`` after blank lines) plus the indentation of the next line."""
    cut = max(match.rfind("\n"), match.rfind("\r"))
    breaks = match.count("\n") + match.count("\r") - match.count("\r\n")
    return ("\n\n" if breaks > 1 else "\n") + match[cut + 1 :]


def tokenize(text: str) -> list[str]:
    """Tokens of ``text``; ``"".join(tokens)`` is ``text`` up to trailing spaces and CR/LF."""
    return [
        _newline_token(tok) if ("\n" in tok or "\r" in tok) else tok
        for tok in _TOKEN_RE.findall(text)
    ]


def tree_sitter_tokens(text: str, language: str) -> list[str] | None:
    """The grammar's leaves in the same token format, or None without a grammar.

    Kept for measurement (see the module docstring): walking every leaf costs one Python call
    per node, which is what makes it slower than the regex.
    """
    from weft.index.languages import get_parser

    parser = get_parser(language)
    if parser is None:
        return None
    data = text.encode("utf-8")
    tree = parser.parse(data)
    out: list[str] = []
    cursor = tree.walk()
    last_end = 0
    while True:
        node = cursor.node
        if node is not None and (node.child_count == 0 or node.type in ("string", "comment")):
            start, end = node.start_byte, node.end_byte
            if end > start:
                gap = data[last_end:start].decode("utf-8", "replace")
                piece = data[start:end].decode("utf-8", "replace")
                if "\n" in gap:
                    out.append("\n" + gap.rsplit("\n", 1)[1])
                    out.append(piece)
                elif gap == " ":
                    out.append(" " + piece)
                else:
                    if gap:
                        out.append(gap)
                    out.append(piece)
                last_end = end
            if cursor.goto_next_sibling():
                continue
        elif cursor.goto_first_child():
            continue
        elif cursor.goto_next_sibling():
            continue
        while True:
            if not cursor.goto_parent():
                return out
            if cursor.goto_next_sibling():
                break
