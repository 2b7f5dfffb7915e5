"""Clean a raw model continuation into an inline completion item.

Every step is a pure function of the candidate text and a small :class:`CompletionContext`
built from the cursor's neighbourhood only (a few thousand characters around the cursor), so
the whole pipeline costs the same for a 100-line file and a 100 000-line one. The syntax guard
(``syntax_guard``) is the only step that parses, and it runs after this module.

``postprocess`` runs the steps in this fixed order (each one sees the previous one's output):

1. ``normalize_newlines``     raw ``\\r\\n`` / ``\\r`` to ``\\n`` (all steps work on ``\\n``);
   ``trim_whitespace``        trailing blanks, and a leading blank after a blank before the cursor;
2. ``selection_view``         with LSP 3.18 ``selectedCompletionInfo`` the text before the
                              cursor is read as if the selected popup item were accepted;
3. ``cut_single_line``        single-line mode keeps the first line only;
4. ``drop_repetition``        a model stuck in a loop: repeated lines, blocks, line tails;
5. ``cut_at_block_end``       multi-line mode stops where the text leaves the cursor's block;
6. ``normalize_indentation``  tabs vs spaces as the document indents;
7. ``trim_suffix_overlap``    drop the tail that repeats the following lines or the rest of
                              the cursor line;
8. ``balance_brackets``       closing characters the candidate re-types replace the
                              auto-closed ones after the cursor (the item's replace range);
9. ``reject_noop``            nothing left, or nothing that is not already there;
10. ``normalize_line_endings`` ``\\n`` to the document's line ending;
11. ``apply_selected_completion_info``  the item starts with the selected text and replaces
                              the selected range.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Protocol

logger = logging.getLogger(__name__)

NEIGHBOURHOOD_CHARS = 6000
"""How far before and after the cursor line the context looks (characters)."""
NEIGHBOURHOOD_LINES = 80
TAB_WIDTH = 4

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = frozenset(")]}")
CONTINUATION_KEYWORDS = ("elif", "else", "except", "finally", "catch", "case", "default")
BLOCK_OPENER_ENDINGS = ("{", "(", "[", "=>")


# -- context ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompletionContext:
    """What the post-processing steps know about the document around the cursor.

    ``text`` and ``offset`` are kept for the syntax guard; the steps read only the fields below
    them, which cover a bounded neighbourhood of the cursor.
    """

    text: str
    offset: int
    language: str | None
    line_ending: str
    indent_unit: str
    line_start: int
    line_end: int
    """Offset of the end of the cursor line, before its line ending."""
    line_prefix: str
    line_suffix: str
    """The rest of the cursor line after the cursor, without its line ending."""
    preceding_lines: tuple[str, ...]
    """Lines before the cursor line (nearest last), without line endings."""
    following_lines: tuple[str, ...]
    """Lines after the cursor line, without line endings."""


class SelectedCompletion(Protocol):
    """``selectedCompletionInfo`` as document offsets (the engine's ``Selected`` fits)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Selection:
    """A plain :class:`SelectedCompletion`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """An inline completion item: replace ``[start_offset, replace_end_offset)`` with
    ``insert_text`` (document offsets; the range never leaves the cursor's line)."""

    insert_text: str
    replace_end_offset: int
    start_offset: int


def context_for(text: str, offset: int, language: str | None) -> CompletionContext:
    """Build the context for a cursor at ``offset`` in ``text``, reading only its neighbourhood."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    newline = text.find("\n", offset)
    line_end = len(text) if newline < 0 else newline
    if line_end > offset and text[line_end - 1] == "\r" and newline >= 0:
        line_end -= 1
    line_suffix = text[offset:line_end]
    line_prefix = text[line_start:offset]
    before = text[max(0, line_start - NEIGHBOURHOOD_CHARS) : line_start]
    preceding = _split_lines(before, drop_first=line_start > NEIGHBOURHOOD_CHARS)
    preceding = preceding[-NEIGHBOURHOOD_LINES:]
    following: list[str] = []
    if newline >= 0:
        stop = newline + 1 + NEIGHBOURHOOD_CHARS
        after = text[newline + 1 : stop]
        following = _split_lines(after, drop_last=stop < len(text))[:NEIGHBOURHOOD_LINES]
        if after.endswith("\n") and following and following[-1] == "":
            following.pop()
    return CompletionContext(
        text=text,
        offset=offset,
        language=language,
        line_ending=_line_ending_near(text, line_start, newline),
        indent_unit=_indent_unit(preceding + [line_prefix + line_suffix] + following, language),
        line_start=line_start,
        line_end=line_end,
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        preceding_lines=tuple(preceding),
        following_lines=tuple(following),
    )


def _split_lines(chunk: str, drop_first: bool = False, drop_last: bool = False) -> list[str]:
    lines = [line.removesuffix("\r") for line in chunk.split("\n")]
    if chunk.endswith("\n") and not drop_last:
        lines.pop()  # the chunk ends at a line boundary: no partial line after it
    if drop_first and lines:
        lines = lines[1:]
    if drop_last and lines:
        lines = lines[:-1]
    return lines


def _line_ending_near(text: str, line_start: int, newline: int) -> str:
    """The cursor line's own line ending, else the previous line's (mixed files do exist)."""
    if newline >= 0:
        return "\r\n" if newline > 0 and text[newline - 1] == "\r" else "\n"
    if line_start >= 2 and text[line_start - 2] == "\r":
        return "\r\n"
    return "\n"


def _indent_unit(lines: list[str], language: str | None) -> str:
    tabs = spaces = 0
    widths: dict[int, int] = {}
    previous = 0
    for line in lines:
        # whitespace-only lines count for tabs vs spaces: the cursor line often is one
        if line.startswith("\t"):
            tabs += 1
        elif line.startswith(" "):
            spaces += 1
        if not line.strip():
            continue
        width = indent_width(line)
        if width > previous and not line.startswith("\t"):
            step = width - previous
            widths[step] = widths.get(step, 0) + 1
        previous = width
    if tabs > spaces or (tabs == spaces == 0 and language == "go"):
        return "\t"
    if widths:
        step = max(widths, key=lambda w: (widths[w], -w))
        if 2 <= step <= 8:
            return " " * step
    return "    "


# -- small text helpers ---------------------------------------------------------------------


def indent_width(line: str) -> int:
    """Columns of leading whitespace (a tab counts ``TAB_WIDTH``)."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += TAB_WIDTH
        else:
            break
    return width


def _quotes(language: str | None) -> str:
    if language == "rust":
        return '"'  # ' starts lifetimes and chars; counting it would misread `'a`
    if language in ("javascript", "typescript", "tsx", "go"):
        return "\"'`"
    return "\"'"


_HASH_COMMENTS = frozenset({"python", "ruby", "bash", "toml", "yaml", "r", "perl", "elixir"})
_DASH_COMMENTS = frozenset({"lua", "sql", "haskell", "elm"})
_SLASH_COMMENTS = frozenset(
    {
        "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
        "kotlin", "swift", "scala", "dart", "php", "zig", "objc",
    }
)  # fmt: skip


def _line_comment(language: str | None) -> str | None:
    """The line-comment token, or None where unknown (then nothing is skipped as a comment)."""
    if language in _HASH_COMMENTS:
        return "#"
    if language in _DASH_COMMENTS:
        return "--"
    if language in _SLASH_COMMENTS:
        return "//"
    return None


@dataclass(slots=True)
class BracketScan:
    """What a scan of some text found: closers with no opener in the text (in order),
    openers still open at its end, and the string still open at its end."""

    unpaired: str
    unclosed: list[str]
    string: str | None

    @property
    def balanced(self) -> bool:
        return not self.unpaired and not self.unclosed


def scan_brackets(text: str, language: str | None, string: str | None = None) -> BracketScan:
    """Scan ``text`` for brackets and quotes, starting inside ``string`` if given.

    Closing a string that was open before the scan counts as an unpaired closer, like ``)``.
    Line comments are skipped; single-quoted strings end at a newline (Python triple quotes and
    backticks do not).
    """
    quotes = _quotes(language)
    comment = _line_comment(language)
    stack: list[str] = []
    unpaired: list[str] = []
    outer = string  # a string opened before the text
    current = string
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if current is not None:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(current, i):
                i += len(current)
                if stack and stack[-1] == current:
                    stack.pop()
                elif current == outer:
                    unpaired.append(current)
                    outer = None
                current = None
                continue
            if ch == "\n" and len(current) == 1 and current != "`":
                if stack and stack[-1] == current:
                    stack.pop()
                current = None
                outer = None
            i += 1
            continue
        if comment and text.startswith(comment, i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if ch in quotes:
            delim = ch * 3 if language == "python" and text.startswith(ch * 3, i) else ch
            stack.append(delim)
            current = delim
            i += len(delim)
            continue
        if ch in OPENERS:
            stack.append(ch)
        elif ch in CLOSERS:
            if stack and OPENERS.get(stack[-1]) == ch:
                stack.pop()
            elif not stack:
                unpaired.append(ch)
        i += 1
    return BracketScan("".join(unpaired), stack, current)


def string_at_cursor(line_prefix: str, language: str | None) -> str | None:
    """The quote of a string left open on the cursor line before the cursor, if any."""
    return scan_brackets(line_prefix, language).string


def opens_block(line: str, language: str | None) -> bool:
    """Whether the code line ends by opening an indented body (``{``, ``:`` in Python, …)."""
    code = line.rstrip()
    if language == "python" and "#" in code:
        code = strip_python_comment(code)
    if not code:
        return False
    if language == "python" and code.endswith(":"):
        return True
    return code.endswith(BLOCK_OPENER_ENDINGS)


def strip_python_comment(line: str) -> str:
    """The line without a trailing ``#`` comment (a ``#`` inside a string stays)."""
    scan_to = line.find("#")
    while scan_to >= 0:
        if string_at_cursor(line[:scan_to], "python") is None:
            return line[:scan_to].rstrip()
        scan_to = line.find("#", scan_to + 1)
    return line.rstrip()


def _is_closer_line(stripped: str) -> bool:
    return bool(stripped) and stripped[0] in CLOSERS


def _is_continuation_line(stripped: str, language: str | None) -> bool:
    """``} else {``, ``else:``, ``except ...:``: closes one part of a block and opens the next."""
    if _is_closer_line(stripped) and opens_block(stripped, language):
        return True
    word = re.match(r"[A-Za-z_]+", stripped)
    return word is not None and word.group(0) in CONTINUATION_KEYWORDS


def could_become_continuation(stripped: str) -> bool:
    """Whether a line seen only in part may still turn out to be ``} else {``, ``else:``…"""
    if not stripped or stripped[0] in CLOSERS:
        return True
    return any(kw.startswith(stripped) or stripped.startswith(kw) for kw in CONTINUATION_KEYWORDS)


# -- steps ----------------------------------------------------------------------------------


def normalize_newlines(raw: str) -> str:
    """Model output with ``\\n`` line endings only (models trained on CRLF files emit ``\\r``)."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def trim_whitespace(text: str, ctx: CompletionContext) -> str:
    """Drop trailing blanks (on every line and at the end) and a leading blank that would
    double the blank already before the cursor."""
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).rstrip()
    if ctx.line_prefix.strip() and ctx.line_prefix[-1:] in (" ", "\t"):
        first, sep, rest = text.partition("\n")
        text = first.lstrip(" \t") + sep + rest
    return text


def cut_single_line(text: str) -> str:
    """Single-line mode: the first line only."""
    return text.split("\n", 1)[0]


MAX_REPEATED_BLOCK_LINES = 8
MAX_REPEATED_UNIT = 60


def drop_repetition(text: str) -> str:
    """Cut where the model starts looping: the same line 3 times in a row, the same block of
    lines 3 times in a row, or a line that ends in one unit repeated many times.

    Only the first copy is kept. Lines made of closing brackets alone repeat legitimately and
    never count.
    """
    raw_lines = text.split("\n")
    lines = [line.strip() for line in raw_lines]  # the first line has no indentation of its own
    cut = len(lines)
    for i, line in enumerate(raw_lines):
        if i >= cut:
            break
        if _tail_repeats(line):
            if i == 0:
                return _cut_repeating_tail(line)
            cut = i
            break
        for size in range(1, min(MAX_REPEATED_BLOCK_LINES, (len(lines) - i) // 3) + 1):
            block = lines[i : i + size]
            if not _meaningful_block(block):
                continue
            if (
                lines[i + size : i + 2 * size] == block
                and lines[i + 2 * size : i + 3 * size] == block
            ):
                cut = min(cut, i + size)
                break
    return "\n".join(raw_lines[:cut]).rstrip() if cut < len(lines) else text


def _meaningful_block(block: list[str]) -> bool:
    content = "".join(line.strip() for line in block)
    return len(content) >= 3 and not all(ch in CLOSERS or ch in ";,)" for ch in content)


def _repeating_tail(line: str) -> tuple[int, int] | None:
    """(start, size) of a unit that repeats up to the end of the line: 6+ copies of a short
    unit or 4+ of one of 8+ characters. Units of one character (``----``) do not count."""
    n = len(line)
    for size in range(2, min(MAX_REPEATED_UNIT, n // 4) + 1):
        unit = line[n - size :]
        if len(set(unit)) == 1:
            continue
        need = 6 if size < 8 else 4
        start, copies = n - size, 1
        while start >= size and line[start - size : start] == unit:
            start -= size
            copies += 1
        if copies >= need:
            return start, size
    return None


def _tail_repeats(line: str) -> bool:
    return _repeating_tail(line) is not None


def _cut_repeating_tail(line: str) -> str:
    """The first line itself degenerates: keep it up to the end of the unit's first copy."""
    found = _repeating_tail(line)
    return line if found is None else line[: found[0] + found[1]].rstrip()


def cut_at_block_end(text: str, ctx: CompletionContext) -> str:
    """Multi-line mode: stop where the candidate leaves the block it is written in.

    Completing a non-empty cursor line: the statement (with the block it opens, closing line
    included) ends at the next line indented no deeper than the cursor line. On an empty line:
    statements at the cursor's indentation follow each other until one leaves the cursor's
    block (a dedent), or a blank line follows a finished block (one function or method at a
    time). A dedented closing line is kept only when the document does not already close the
    block; ``} else {``, ``else:``, ``case x:`` continue a block instead of ending it.
    """
    lines = text.split("\n")
    keep, _ = block_extent(lines, ctx)
    return "\n".join(lines[:keep]).rstrip() if keep < len(lines) else text


def block_extent(lines: list[str], ctx: CompletionContext) -> tuple[int, int | None]:
    """How many candidate lines stay in the block, and the index of the line that ended it
    (None when the block has not ended yet)."""
    language = ctx.language
    first = ctx.line_prefix + lines[0]
    if first.strip() and (lines[0].strip() or opens_block(first, language)):
        head_index, head = 0, first
        new_line = not ctx.line_prefix.strip()
    else:
        # the candidate starts a new line: its first non-blank line leads
        head_index = next((i for i in range(1, len(lines)) if lines[i].strip()), len(lines))
        if head_index == len(lines):
            return len(lines), None
        head, new_line = lines[head_index], True
    width0 = indent_width(head)
    opened = opens_block(head, language)
    doc_closes = _document_closes_block(ctx, width0)
    block_done = saw_blank = False
    for i in range(head_index + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped:
            if block_done and new_line:
                return i, i
            saw_blank = True
            continue
        width = indent_width(lines[i])
        after_blank, saw_blank = saw_blank, False
        if width > width0:
            continue
        if opened and width == width0:
            if _is_continuation_line(stripped, language):
                continue
            if _is_closer_line(stripped):
                if not new_line:
                    return i + 1, i
                opened, block_done = False, True
                continue
            if not new_line or after_blank:
                return i, i
            opened, block_done = False, True  # Python: the block ended on its next sibling
        if width == width0:
            if not new_line:
                return i, i
            opened = opens_block(stripped, language)
            continue
        # left of the cursor's block
        if _is_continuation_line(stripped, language) and not doc_closes:
            width0, opened = width, True
            continue
        if _is_closer_line(stripped) and not doc_closes:
            return i + 1, i
        return i, i
    return len(lines), None


def _document_closes_block(ctx: CompletionContext, width: int) -> bool:
    """Whether the next non-blank line after the cursor already sits left of ``width``."""
    if ctx.line_suffix.strip():
        return True  # the cursor line goes on after the candidate; its structure stays
    for line in ctx.following_lines:
        if line.strip():
            return indent_width(line) < width
    return False


def normalize_indentation(text: str, ctx: CompletionContext) -> str:
    """Re-indent candidate lines with the document's indent character (tabs vs spaces)."""
    lines = text.split("\n")
    first = 0 if ctx.line_prefix == "" else 1
    body = [line for line in lines[first:] if line.strip()]
    if not body:
        return text
    if ctx.indent_unit == "\t":
        counts = [len(line) - len(line.lstrip(" ")) for line in body if line.startswith(" ")]
        if not counts:
            return text
        step = 4 if all(c % 4 == 0 for c in counts) else 2 if all(c % 2 == 0 for c in counts) else 0
        if not step:
            return text

        def fix(line: str) -> str:
            spaces = len(line) - len(line.lstrip(" "))
            return "\t" * (spaces // step) + line[spaces:]
    else:
        if not any(line.startswith("\t") for line in body):
            return text

        def fix(line: str) -> str:
            tabs = len(line) - len(line.lstrip("\t"))
            return ctx.indent_unit * tabs + line[tabs:]

    return "\n".join(fix(line) if i >= first else line for i, line in enumerate(lines))


def trim_suffix_overlap(text: str, ctx: CompletionContext) -> str:
    """Drop the tail of the candidate that repeats what already follows the cursor.

    Following lines: the first candidate line from which every remaining non-blank line
    matches the document's next non-blank lines (indentation included; the last candidate line
    may stop part-way) starts the repeat. The cursor line: a candidate that ends with the rest
    of the cursor line loses that ending, provided what remains is bracket-balanced (so
    ``f(x)`` before ``)`` is kept whole and gets its own ``)``).
    """
    text = trim_following_lines(text, ctx)
    return _trim_line_suffix(text, ctx)


def trim_following_lines(text: str, ctx: CompletionContext) -> str:
    """The candidate without the tail that repeats the document's next non-blank lines (the
    whole candidate counts too when it fills an otherwise empty cursor line)."""
    following = [line.rstrip() for line in ctx.following_lines if line.strip()]
    if not following:
        return text
    lines = text.split("\n")
    empty_line = not ctx.line_prefix.strip() and not ctx.line_suffix.strip()
    for i in range(len(lines)):
        if i == 0 and not empty_line:
            continue
        line = ctx.line_prefix + lines[0] if i == 0 else lines[i]
        if not line.strip() or not following[0].startswith(line.rstrip()):
            continue  # cheap filter: a repeat starts with the next line
        tail = [line.rstrip()] + [rest.rstrip() for rest in lines[i + 1 :] if rest.strip()]
        if _repeats(tail, following):
            return "\n".join(lines[:i]).rstrip()
    return text


def _repeats(tail: list[str], following: list[str]) -> bool:
    if len(tail) > len(following):
        return False
    if tail[:-1] != following[: len(tail) - 1]:
        return False
    last, target = tail[-1], following[len(tail) - 1]
    if last == target:
        return True
    # a partial last line (the stream stopped mid-line) still repeats, if it says enough
    return len(tail) > 1 and target.startswith(last) and len(last.strip()) >= 1


def _trim_line_suffix(text: str, ctx: CompletionContext) -> str:
    suffix = ctx.line_suffix.rstrip()
    if not suffix.strip():
        return text
    body = text.rstrip()
    if not body.endswith(suffix):
        return text
    remaining = body[: len(body) - len(suffix)]
    start_string = string_at_cursor(ctx.line_prefix, ctx.language)
    scan = scan_brackets(remaining, ctx.language, start_string)
    if scan.balanced and scan.string == start_string:
        return remaining.rstrip(" \t") if "\n" not in remaining else _rstrip_spaces(remaining)
    return text


def _rstrip_spaces(text: str) -> str:
    """Trailing spaces go, except on the last line: there they indent the rest of the cursor
    line, which now starts a line of its own (``}`` under its opener)."""
    lines = text.split("\n")
    return "\n".join([line.rstrip(" \t") for line in lines[:-1]] + lines[-1:])


def balance_brackets(text: str, ctx: CompletionContext) -> int:
    """How many characters after the cursor the candidate replaces: the closing brackets and
    quotes it types that are already there (auto-closed by the editor).

    The replace range stays on the cursor's line (LSP requires it).
    """
    suffix = ctx.line_suffix.rstrip()
    if not suffix.strip():
        return 0
    scan = scan_brackets(text, ctx.language, string_at_cursor(ctx.line_prefix, ctx.language))
    unpaired = scan.unpaired
    if not unpaired:
        return 0
    if suffix.startswith(unpaired):
        return len(unpaired)
    if unpaired.startswith(suffix):
        return len(suffix)
    return 0


def reject_noop(text: str, ctx: CompletionContext, consumed: int = 0) -> bool:
    """True when the candidate adds nothing: only whitespace, or exactly what already follows."""
    if not text.strip():
        return True
    if text == ctx.line_suffix[:consumed]:
        return True
    ahead = ctx.line_suffix
    if ctx.following_lines:
        ahead += "\n" + "\n".join(ctx.following_lines)
    return ahead.startswith(text)


def normalize_line_endings(text: str, line_ending: str) -> str:
    """``\\n`` to the document's line ending (CRLF files must not get bare ``\\n``)."""
    return text if line_ending == "\n" else text.replace("\n", line_ending)


def selection_view(
    ctx: CompletionContext, selected: SelectedCompletion
) -> CompletionContext | None:
    """The context as if the selected popup item were accepted (None if the selection is not
    a range on the cursor's line around the cursor, which LSP clients never send)."""
    if not (ctx.line_start <= selected.start <= ctx.offset <= selected.end <= ctx.line_end):
        return None
    return replace(
        ctx,
        line_prefix=ctx.text[ctx.line_start : selected.start] + selected.text,
        line_suffix=ctx.text[selected.end : ctx.line_end],
    )


def apply_selected_completion_info(
    text: str, consumed: int, ctx: CompletionContext, selected: SelectedCompletion | None
) -> Candidate:
    """The item for a continuation: with a selected popup item it starts with that item's text
    and replaces the item's range (LSP 3.18), extended over any auto-closed characters."""
    if selected is None:
        return Candidate(text, ctx.offset + consumed, ctx.offset)
    return Candidate(selected.text + text, selected.end + consumed, selected.start)


# -- the pipeline ---------------------------------------------------------------------------


def postprocess(
    ctx: CompletionContext,
    raw: str,
    multiline: bool,
    selected: SelectedCompletion | None = None,
) -> Candidate | None:
    """Run every step in the documented order; None when nothing worth showing is left.

    ``raw`` is the model's continuation from the cursor (after the selected item's text when
    ``selected`` is given).
    """
    view = ctx
    if selected is not None:
        found = selection_view(ctx, selected)
        if found is None:
            logger.debug("selectedCompletionInfo range is not around the cursor; no item")
            return None
        view = found
    text = trim_whitespace(normalize_newlines(raw), view)
    if not multiline:
        text = cut_single_line(text)
    text = drop_repetition(text)
    if multiline:
        text = cut_at_block_end(text, view)
    text = normalize_indentation(text, view)
    text = trim_suffix_overlap(text, view)
    consumed = balance_brackets(text, view)
    if reject_noop(text, view, consumed):
        return None
    text = normalize_line_endings(text, ctx.line_ending)
    return apply_selected_completion_info(text, consumed, ctx, selected)


def process_completion(
    ctx: CompletionContext,
    raw: str,
    multiline: bool,
    selected: SelectedCompletion | None = None,
) -> Candidate | None:
    """``postprocess`` then the syntax guard, keeping the selected item's text and range.

    The guard parses in the calling process here; the engine runs the same two steps with the
    guard in a parse process (``index/parse_host.py``).
    """
    from weft.completion.syntax_guard import guard_syntax

    cand = postprocess(ctx, raw, multiline, selected)
    if cand is None:
        return None
    keep = len(selected.text) if selected is not None else 0
    text = guard_syntax(
        ctx.text,
        cand.start_offset,
        cand.replace_end_offset,
        cand.insert_text,
        ctx.language,
        keep=keep,
    )
    return apply_guard(ctx, cand, text, keep)


def apply_guard(
    ctx: CompletionContext, cand: Candidate, guarded: str, keep: int
) -> Candidate | None:
    """``cand`` with the syntax guard's text (None when nothing worth showing is left)."""
    if guarded == cand.insert_text:
        return cand
    if (
        not guarded[keep:].strip()
        or guarded == ctx.text[cand.start_offset : cand.replace_end_offset]
    ):
        return None
    return replace(cand, insert_text=guarded)
