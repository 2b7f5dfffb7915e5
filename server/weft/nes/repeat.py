"""Repeated edits: the user added (or removed) an argument at one call site; the same edit is
offered at the other calls of the same callee in the file.

An argument added at one call is often a one-off (``print(x)`` → ``print(x, file=f)``), so the
edit is only repeated when something says it belongs everywhere: the callee's parameter list was
changed in a recent edit (in this file or another), or the user already made the same edit at
another call of the same callee. The edited call must parse cleanly before and after, and the
change must be exactly one argument added or removed; anything else predicts nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node, Tree

from weft.documents import Document
from weft.nes.candidate import Candidate, plural_more
from weft.nes.history import Edit, revert
from weft.nes.rename import Project
from weft.nes.scopes import parse_bounded
from weft.nes.text import byte_offset, char_offsets

RECENT = 10
"""Edits looked at for the signal (a changed definition, a previous identical edit)."""
LOOKBACK = 2000
"""How far before an earlier edit its call's callee may start."""
MAX_OTHER_DOCUMENTS = 3
"""Other files parsed per prediction to find a changed definition."""

CALLS: dict[str, str] = {
    "python": "call",
    "javascript": "call_expression",
    "typescript": "call_expression",
    "tsx": "call_expression",
    "go": "call_expression",
    "rust": "call_expression",
}
DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition"}),
    "javascript": frozenset({"function_declaration", "method_definition"}),
    "typescript": frozenset({"function_declaration", "method_definition"}),
    "tsx": frozenset({"function_declaration", "method_definition"}),
    "go": frozenset({"function_declaration", "method_declaration"}),
    "rust": frozenset({"function_item"}),
}
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})


@dataclass(frozen=True, slots=True)
class ArgumentEdit:
    """One argument added or removed at a call."""

    callee: str
    action: str
    """``add`` | ``remove``."""
    index: int
    text: str
    keyword: str | None
    """The keyword of a keyword argument (Python ``name=value``), else None."""
    arity: int
    """Arguments the call had before the edit."""


@dataclass(frozen=True, slots=True)
class _Call:
    node: Node
    callee: str
    args: list[Node]
    arguments: Node


def repeat_candidates(
    document: Document,
    edits: Sequence[Edit],
    history: Sequence[Edit],
    *,
    project: Project | None = None,
) -> list[Candidate]:
    """The latest edit of ``document`` (``edits[0]``) repeated at the callee's other calls."""
    language = document.language
    if language not in CALLS or not edits:
        return []
    latest = edits[0]
    if latest.opaque:
        return []
    current = _parse(document.text, language)
    change = argument_edit(document.text, latest, language, current)
    if change is None or current is None:
        return []
    if not (
        _repeated(document.text, change, edits[1:RECENT], language, current)
        or _definition_changed(document, change, history[:RECENT], current, project)
    ):
        return []
    return _apply_everywhere(document, change, current, latest, language)


def _parse(text: str, language: str) -> tuple[Tree, bytes] | None:
    data = text.encode("utf-8", "surrogatepass")
    tree = parse_bounded(data, language)
    return (tree, data) if tree is not None else None


def argument_edit(
    text: str, edit: Edit, language: str, current: tuple[Tree, bytes] | None = None
) -> ArgumentEdit | None:
    """The argument ``edit`` added to or removed from a call, if that is all it did."""
    if edit.opaque or edit.is_noop:
        return None
    original = revert(text, [edit])
    before = _parse(original, language)
    after = current or _parse(text, language)
    if before is None or after is None:
        return None
    old_start = byte_offset(original, edit.start)
    new_start = byte_offset(text, edit.start)
    old_call = _call_around(before, language, old_start, old_start + len(edit.old_text.encode()))
    new_call = _call_around(after, language, new_start, new_start + len(edit.new_text.encode()))
    if old_call is None or new_call is None or old_call.node.start_byte != new_call.node.start_byte:
        return None
    if old_call.callee != new_call.callee or old_call.node.has_error or new_call.node.has_error:
        return None
    return _difference(old_call, new_call, before[1], after[1], language)


def _call_around(parsed: tuple[Tree, bytes], language: str, start: int, end: int) -> _Call | None:
    """The innermost call whose argument list holds ``[start, end)`` inside its brackets."""
    tree, data = parsed
    node = tree.root_node.descendant_for_byte_range(start, end)
    while node is not None:
        if node.type == CALLS[language]:
            call = _describe(node, data)
            if call is not None:
                inner = (call.arguments.start_byte + 1, call.arguments.end_byte - 1)
                if inner[0] <= start and end <= inner[1]:
                    return call
        node = node.parent
    return None


def _describe(node: Node, data: bytes) -> _Call | None:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or arguments is None or arguments.type == "generator_expression":
        return None
    args = [child for child in arguments.named_children if child.type not in _COMMENTS]
    callee = data[function.start_byte : function.end_byte].decode("utf-8", "replace")
    return _Call(node, callee, args, arguments)


def _text(node: Node, data: bytes) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _keyword(node: Node, data: bytes) -> str | None:
    if node.type != "keyword_argument":
        return None
    name = node.child_by_field_name("name")
    return _text(name, data) if name is not None else None


def _difference(
    old: _Call, new: _Call, old_data: bytes, new_data: bytes, language: str
) -> ArgumentEdit | None:
    before = [_text(arg, old_data) for arg in old.args]
    after = [_text(arg, new_data) for arg in new.args]
    if len(after) == len(before) + 1:
        action, longer, shorter, nodes, data = "add", after, before, new.args, new_data
    elif len(after) == len(before) - 1:
        action, longer, shorter, nodes, data = "remove", before, after, old.args, old_data
    else:
        return None
    for index in range(len(longer)):
        if longer[:index] + longer[index + 1 :] == shorter:
            keyword = _keyword(nodes[index], data)
            return ArgumentEdit(new.callee, action, index, longer[index], keyword, len(before))
    return None


def _repeated(
    text: str,
    change: ArgumentEdit,
    earlier: Sequence[Edit],
    language: str,
    current: tuple[Tree, bytes],
) -> bool:
    """The user already made this very edit at another call."""
    for edit in earlier:
        if text.rfind(change.callee, max(0, edit.start - LOOKBACK), edit.start) < 0:
            continue  # no call of the callee just before it: skip two parses
        previous = argument_edit(text, edit, language, current)
        if previous is not None and (previous.callee, previous.action, previous.text) == (
            change.callee,
            change.action,
            change.text,
        ):
            return True
    return False


def _definition_changed(
    document: Document,
    change: ArgumentEdit,
    history: Sequence[Edit],
    current: tuple[Tree, bytes],
    project: Project | None,
) -> bool:
    """A recent edit touched the parameter list of a definition of the callee."""
    name = change.callee.rsplit(".", 1)[-1].rsplit("::", 1)[-1]
    by_uri: dict[str, list[Edit]] = {}
    for edit in history:
        by_uri.setdefault(edit.uri, []).append(edit)
    checked = 0
    for uri, edits in by_uri.items():
        if uri == document.uri:
            target, parsed = document, current
        else:
            if project is None or checked >= MAX_OTHER_DOCUMENTS:
                continue
            checked += 1
            other = project.document(uri)
            if other is None or other.language not in DEFINITIONS:
                continue
            target, parsed_other = other, _parse(other.text, other.language or "")
            if parsed_other is None:
                continue
            parsed = parsed_other
        if _edits_parameters(target, edits, parsed, name):
            return True
    return False


def _edits_parameters(
    document: Document, edits: list[Edit], parsed: tuple[Tree, bytes], name: str
) -> bool:
    tree, data = parsed
    language = document.language or ""
    ranges = _parameter_ranges(tree.root_node, data, DEFINITIONS.get(language, frozenset()), name)
    if not ranges:
        return False
    for edit in edits:
        if edit.opaque:
            continue
        start = byte_offset(document.text, edit.start)
        end = byte_offset(document.text, edit.end)
        if any(lo <= start and end <= hi for lo, hi in ranges):
            return True
    return False


def _parameter_ranges(
    root: Node, data: bytes, types: frozenset[str], name: str
) -> list[tuple[int, int]]:
    """Byte ranges of the parameter lists of definitions named ``name``."""
    needle = name.encode()
    result = []
    start = data.find(needle)
    seen: set[int] = set()
    while start >= 0:
        node = root.named_descendant_for_byte_range(start, start + len(needle))
        definition = node.parent if node is not None else None
        if (
            definition is not None
            and definition.type in types
            and definition.id not in seen
            and (found := definition.child_by_field_name("name")) is not None
            and found.id == node.id  # type: ignore[union-attr]
        ):
            seen.add(definition.id)
            params = definition.child_by_field_name("parameters")
            if params is not None:
                result.append((params.start_byte, params.end_byte))
        start = data.find(needle, start + 1)
    return result


def _apply_everywhere(
    document: Document,
    change: ArgumentEdit,
    current: tuple[Tree, bytes],
    latest: Edit,
    language: str,
) -> list[Candidate]:
    tree, data = current
    done_at = byte_offset(document.text, latest.start)
    sites: list[tuple[int, int, str]] = []
    for call in _calls_of(tree.root_node, data, change.callee, language):
        if call.node.start_byte <= done_at < call.node.end_byte or call.node.has_error:
            continue
        site = _site_edit(call, change, data)
        if site is not None:
            sites.append(site)
    chars = char_offsets(document.text, [b for site in sites for b in site[:2]])
    verb = "add" if change.action == "add" else "remove"
    preposition = "to" if change.action == "add" else "from"
    return [
        Candidate(
            document,
            chars[lo],
            chars[hi],
            text,
            f"{verb} `{change.text}` {preposition} `{change.callee}(…)`"
            f"{plural_more(len(sites) - 1)}",
            "repeat",
        )
        for lo, hi, text in sites
    ]


def _calls_of(root: Node, data: bytes, callee: str, language: str) -> list[_Call]:
    needle = callee.encode()
    calls = []
    start = data.find(needle)
    while start >= 0:
        node = root.descendant_for_byte_range(start, start + len(needle))
        while node is not None and node.type != CALLS[language]:
            if node.start_byte != start:
                node = None
                break
            node = node.parent
        if node is not None:
            call = _describe(node, data)
            if call is not None and call.callee == callee:
                calls.append(call)
        start = data.find(needle, start + 1)
    return calls


def _site_edit(call: _Call, change: ArgumentEdit, data: bytes) -> tuple[int, int, str] | None:
    """(start byte, end byte, text) that makes the same change at ``call``; None when the call
    does not have the shape the user's call had."""
    args = call.args
    texts = [_text(arg, data) for arg in args]
    if change.keyword is not None:
        keywords = [_keyword(arg, data) for arg in args]
        if change.action == "add":
            if change.keyword in keywords:
                return None
            return _insertion(call, len(args), change.text)
        if change.keyword not in keywords:
            return None
        return _removal(call, keywords.index(change.keyword))
    if len(args) != change.arity:
        return None
    if change.action == "add":
        return _insertion(call, change.index, change.text)
    if texts[change.index] != change.text:
        return None
    return _removal(call, change.index)


def _insertion(call: _Call, index: int, text: str) -> tuple[int, int, str]:
    args = call.args
    if not args:
        at = call.arguments.start_byte + 1
        return at, at, text
    if index < len(args):
        at = args[index].start_byte
        return at, at, f"{text}, "
    at = args[-1].end_byte
    return at, at, f", {text}"


def _removal(call: _Call, index: int) -> tuple[int, int, str]:
    args = call.args
    if len(args) == 1:
        return args[0].start_byte, args[0].end_byte, ""
    if index < len(args) - 1:
        return args[index].start_byte, args[index + 1].start_byte, ""
    return args[index - 1].end_byte, args[index].end_byte, ""
