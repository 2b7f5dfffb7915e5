"""Definitions, references and imports of one source file, from a tree-sitter parse and the tags
queries in ``queries/<lang>-tags.scm``.

The queries follow aider's convention: ``@name.definition.<kind>`` on the name and
``@definition.<kind>`` on the whole definition, ``@name.reference.<kind>`` on a use, plus weft's
``@import`` (an import statement), ``@scope``/``@name.scope`` (a block that names its members,
such as a Rust ``impl``) and ``@name.scope`` inside a definition (a Go receiver, a C++
``Foo::`` qualifier). A query may start with ``; inherits: a, b`` to include other files.

Everything here is a pure function of (bytes, language) except the parsers and compiled queries,
which are cached per process. Trees are dropped as soon as the symbols are out (see
shared/notes/performance.md §2.3: trees cost ~27× the source, symbols ~133 bytes each).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import marshal
import time
from collections.abc import Iterable
from importlib import resources
from typing import NamedTuple

from tree_sitter import Node, Parser, Query, QueryCursor, Tree

from weft.index.imports import Import, extract_imports
from weft.index.languages import get_language, get_parser

logger = logging.getLogger(__name__)

REF_KINDS = ("call", "type", "class", "import", "implementation", "name")
REF_KIND_CODES = {kind: code for code, kind in enumerate(REF_KINDS)}
CLASS_LIKE = frozenset({"class", "struct", "interface", "scope"})
CONTAINERS = frozenset(
    {"class", "struct", "interface", "enum", "module", "namespace", "function", "method", "scope"}
)
# Nodes that wrap a definition without being one; its doc comment sits before the wrapper.
WRAPPERS = frozenset(
    {
        "decorated_definition",
        "export_statement",
        "template_declaration",
        "lexical_declaration",
        "variable_declaration",
        "type_declaration",
        "var_declaration",
        "const_declaration",
        "declaration",
        "expression_statement",
    }
)
# Siblings between a doc comment and its definition.
ANNOTATIONS = frozenset({"attribute_item", "decorator", "annotation", "marker_annotation"})
MAX_TEXT = 200
MAX_QUALNAME = 400
MAX_DOC_NESTING = 8
"""Definitions nested deeper than this in other definitions get no doc line."""
READ_CHUNK = 1 << 16


class Symbol(NamedTuple):
    """One definition. Lines are 0-based; columns are UTF-8 byte offsets in their line."""

    name: str
    kind: str
    qualname: str
    line: int
    col: int
    start_line: int
    end_line: int
    end_col: int
    signature: str
    doc: str


class FileSymbols(NamedTuple):
    """What the index keeps of a file: never its tree."""

    defs: list[Symbol]
    refs: dict[str, list[int]]  # name -> packed positions (see pack_ref)
    imports: list[Import]


EMPTY = FileSymbols([], {}, [])


def pack_ref(line: int, col: int, kind: str) -> int:
    """One reference position as an int (a fraction of the memory of a tuple)."""
    return (line << 24) | (min(col, 0xFFFFF) << 4) | REF_KIND_CODES.get(kind, 5)


def unpack_ref(packed: int) -> tuple[int, int, str]:
    """(line, col, kind) of a packed reference."""
    return packed >> 24, (packed >> 4) & 0xFFFFF, REF_KINDS[packed & 0xF]


# -- queries -----------------------------------------------------------------------------


def _read_query_source(name: str, seen: set[str] | None = None) -> str | None:
    """The text of ``<name>-tags.scm`` with its ``; inherits:`` files prepended."""
    seen = seen if seen is not None else set()
    if name in seen:
        return ""
    seen.add(name)
    try:
        folder = resources.files("weft.index").joinpath("queries")
        text = folder.joinpath(f"{name}-tags.scm").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    parts = []
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.startswith("; inherits:"):
        for parent in first.split(":", 1)[1].split(","):
            parent_text = _read_query_source(parent.strip(), seen)
            if parent_text:
                parts.append(parent_text)
    parts.append(text)
    return "\n".join(parts)


@functools.cache
def tags_query(language: str) -> Query | None:
    """The compiled tags query of a language, or None when weft has none for it."""
    grammar = get_language(language)
    source = _read_query_source(language)
    if grammar is None or source is None:
        return None
    try:
        return Query(grammar, source)
    except Exception as exc:  # noqa: BLE001 - a grammar version mismatch must not stop indexing
        logger.warning("tags query for %s does not compile: %s", language, exc)
        return None


def has_tags_query(language: str | None) -> bool:
    return bool(language) and tags_query(language) is not None  # type: ignore[arg-type]


# -- parsing -----------------------------------------------------------------------------


@functools.cache
def cached_parser(language: str) -> Parser | None:
    """One parser per language per process (workers and CLI; not for threads)."""
    return get_parser(language)


def parse_with_budget(
    parser: Parser, data: bytes, budget_s: float, old_tree: Tree | None = None
) -> Tree | None:
    """Parse ``data``; None when it takes longer than ``budget_s``.

    tree-sitter 0.26 has no timeout; the progress callback is its replacement. It does not help
    against a grammar whose lexer loops (the worker pool kills those).
    """
    deadline = time.monotonic() + budget_s

    def read(offset: int, _point: object) -> bytes:
        return data[offset : offset + READ_CHUNK]

    def progress(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline

    if old_tree is None:
        return parser.parse(read, encoding="utf8", progress_callback=progress)
    return parser.parse(read, old_tree, "utf8", progress)


def extract_file(data: bytes, language: str, budget_s: float | None = 5.0) -> FileSymbols | None:
    """Parse and extract a whole file; None when the parse ran out of time.

    ``budget_s=None`` parses without a progress callback (20% faster; worker processes, whose
    budget is enforced from outside).
    """
    parser = cached_parser(language)
    if parser is None:
        return EMPTY
    tree = parser.parse(data) if budget_s is None else parse_with_budget(parser, data, budget_s)
    if tree is None:
        return None
    return extract_tree(tree, data, language)


def extract_tree(
    tree: Tree, data: bytes, language: str, lines: tuple[int, int] | None = None
) -> FileSymbols:
    """Symbols of a parsed file; with ``lines`` (first, last, 0-based) only those whose
    definition or position intersects those lines."""
    query = tags_query(language)
    if query is None:
        return EMPTY
    return _collect(capture_all(query, tree.root_node, lines), data, language)


WIDE_ERROR = 1000
"""An ERROR node with more children than this is queried child by child (see below)."""
MAX_QUERY_DEPTH = 256
"""Captures start no deeper in the tree than this. A query cursor keeps a state per pattern
started at each level above it, so 40,000 nested ``{a:`` took 2.5 s where 30,000 took 0.02 s;
real definitions sit a few dozen levels deep."""

Point = tuple[int, int]


def capture_all(
    query: Query, root: Node, lines: tuple[int, int] | None = None
) -> dict[str, list[Node]]:
    """Every capture of ``query`` under ``root`` (within ``lines``, when given), in time linear
    in the tree.

    A query cursor, on each node it visits, looks along the node's later siblings for a named
    one; under an ERROR node made of a long run of anonymous tokens (100,000 ``(``) that look
    is as long as the run, which makes the query quadratic (8 s for one 195 KB file). So wide
    ERROR nodes are left out of the range the cursor walks, and their named children are
    queried one by one (tags queries capture named nodes only). Captures may repeat across
    ranges; :func:`_collect` keys everything by node.
    """
    wide = _wide_errors(root)
    if not wide:
        return _captures_in(query, root, lines, None, None)
    out: dict[str, list[Node]] = {}
    start: Point = root.start_point
    for node in wide:
        if node.start_point > start:
            _merge(out, _captures_in(query, root, lines, start, node.start_point))
        start = max(start, node.end_point)
    if start < root.end_point:
        _merge(out, _captures_in(query, root, lines, start, root.end_point))
    for node in wide:
        for child in node.named_children:
            if lines is None or (
                child.end_point[0] >= lines[0] and child.start_point[0] <= lines[1]
            ):
                _merge(out, capture_all(query, child, lines))
    return out


def _captures_in(
    query: Query,
    node: Node,
    lines: tuple[int, int] | None,
    start: Point | None,
    end: Point | None,
) -> dict[str, list[Node]]:
    cursor = QueryCursor(query)
    cursor.set_max_start_depth(MAX_QUERY_DEPTH)
    if lines is not None:
        start = max(start or (0, 0), (lines[0], 0))
        end = min(end or (lines[1] + 1, 0), (lines[1] + 1, 0))
    if start is not None and end is not None:
        if end <= start:
            return {}
        cursor.set_point_range(start, end)
    if lines is None:
        return cursor.captures(node)
    # In a range, captures() drops the names of definitions that only enclose it; matches()
    # keeps whole matches.
    captures: dict[str, list[Node]] = {}
    for _, match in cursor.matches(node):
        for cap, nodes in match.items():
            captures.setdefault(cap, []).extend(nodes)
    return captures


def _wide_errors(root: Node) -> list[Node]:
    """The outermost ERROR nodes under ``root`` with more than :data:`WIDE_ERROR` children, in
    document order (only subtrees holding errors are walked)."""
    if not root.has_error:
        return []
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error and node.child_count > WIDE_ERROR:
            found.append(node)
            continue
        stack.extend(child for child in reversed(node.children) if child.has_error)
    return found


def _merge(into: dict[str, list[Node]], more: dict[str, list[Node]]) -> None:
    for cap, nodes in more.items():
        into.setdefault(cap, []).extend(nodes)


# When one name is captured as two kinds, the more specific kind wins (a Go ``type X struct``
# is a struct, not a type; a JavaScript ``const f = () => 1`` is a function, not a variable).
KIND_RANK = {"variable": 0, "field": 1, "type": 1, "function": 2, "method": 4}


class _Def(NamedTuple):
    start: int
    end: int
    rank: int
    name: str
    kind: str
    name_node: Node | None
    node: Node | None
    scope: str | None  # an explicit qualifier (Go receiver, C++ Foo::)


def _text(data: bytes, node: Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _collect(captures: dict[str, list[Node]], data: bytes, language: str) -> FileSymbols:
    """Definitions, references and imports out of one ``QueryCursor.captures`` result.

    ``captures`` does not say which name belongs to which definition node (``matches`` does,
    at nearly twice the cost), so each name is paired with the innermost captured definition
    or scope node around it.
    """
    containers: dict[
        int, tuple[int, int, Node, bool]
    ] = {}  # node id -> (start, -end, node, scope?)
    names: list[tuple[int, str, Node]] = []  # (start, capture, node)
    refs: dict[int, tuple[str, int, int, str]] = {}
    import_nodes: dict[int, Node] = {}
    for cap, nodes in captures.items():
        if cap.startswith("name.reference."):
            kind = cap[15:]
            for node in nodes:
                known = refs.get(node.start_byte)
                if known is None or (known[3] == "type" and kind != "type"):  # specific wins
                    row, col = node.start_point
                    refs[node.start_byte] = (_text(data, node), row, col, kind)
        elif cap.startswith("name."):
            names.extend((node.start_byte, cap, node) for node in nodes)
        elif cap.startswith("definition.") or cap == "scope":
            for node in nodes:
                key = node.id
                if key not in containers or cap == "scope":
                    containers[key] = (node.start_byte, -node.end_byte, node, cap == "scope")
        elif cap == "import":
            for node in nodes:
                import_nodes.setdefault(node.start_byte, node)
    defs = _pair(
        sorted(containers.values(), key=lambda c: (c[0], c[1])),
        sorted(names, key=lambda n: n[0]),
        data,
    )
    symbols = _scoped_symbols(defs, data, language)
    def_starts = {d.name_node.start_byte for d in defs if d.name_node is not None}
    packed: dict[str, list[int]] = {}
    for start, (name, row, col, kind) in sorted(refs.items()):
        if start not in def_starts:
            packed.setdefault(name, []).append(pack_ref(row, col, kind))
    imports = [
        imp
        for _, node in sorted(import_nodes.items())
        for imp in extract_imports(language, node, data)
    ]
    return FileSymbols(symbols, packed, imports)


def _pair(
    containers: list[tuple[int, int, Node, bool]], names: list[tuple[int, str, Node]], data: bytes
) -> list[_Def]:
    """Definitions from names and the innermost container node around each."""
    by_name: dict[int, _Def] = {}
    scope_names: dict[int, str] = {}  # container id -> explicit qualifier or scope name
    stack: list[tuple[int, int, Node, bool]] = []
    index = 0
    for start, cap, node in names:
        end = node.end_byte
        while index < len(containers) and containers[index][0] <= start:
            stack.append(containers[index])
            index += 1
        # containers nest, so those that ended before this name are on top: pop them (each is
        # pushed and popped once, which keeps deep nesting linear); the innermost open one is
        # then last
        while stack and -stack[-1][1] < end:
            stack.pop()
        if not stack:
            continue
        container = stack[-1]
        cnode = container[2]
        if cap == "name.scope":
            scope_names[cnode.id] = _text(data, node).replace("::", ".")
            continue
        kind = cap[16:]
        rank = KIND_RANK.get(kind, 3)
        old = by_name.get(start)
        if old is None or old.rank < rank:
            by_name[start] = _Def(
                cnode.start_byte, cnode.end_byte, rank, _text(data, node), kind, node, cnode, None
            )
    defs = [
        d._replace(scope=scope_names.get(d.node.id))
        if d.node is not None and d.node.id in scope_names
        else d
        for d in by_name.values()
    ]
    for start, _neg_end, node, is_scope in containers:
        if is_scope and node.id in scope_names:
            defs.append(
                _Def(start, node.end_byte, 0, scope_names[node.id], "scope", None, node, None)
            )
    return defs


def _scoped_symbols(defs: Iterable[_Def], data: bytes, language: str) -> list[Symbol]:
    """Qualified names and method kinds from nesting: a function directly in a class is a method."""
    out: list[Symbol] = []
    stack: list[tuple[int, str, str]] = []  # (end byte, qualname, kind)
    for d in sorted(defs, key=lambda d: (d.start, -d.end, d.kind != "scope")):
        while stack and stack[-1][0] <= d.start:
            stack.pop()
        parent = stack[-1] if stack else None
        prefix = parent[1] if parent else ""
        if d.scope is not None:  # Foo:: or a Go receiver, inside any enclosing namespace
            prefix = f"{prefix}.{d.scope}" if prefix else d.scope
        qualname = f"{prefix}.{d.name}" if prefix else d.name
        if len(qualname) > MAX_QUALNAME:  # 20,000 nested functions: keep the inner names
            qualname = "…" + qualname[-MAX_QUALNAME:]
        if d.kind == "scope":
            stack.append((d.end, qualname, "scope"))
            continue
        kind = d.kind
        if kind == "function" and parent is not None and parent[2] in CLASS_LIKE:
            kind = "method"
        elif kind == "variable" and d.name.isupper():
            kind = "constant"
        if kind in CONTAINERS:
            stack.append((d.end, qualname, kind))
        node, name_node = d.node, d.name_node
        assert node is not None and name_node is not None
        name_row, name_col = name_node.start_point
        end_row, end_col = node.end_point
        out.append(
            Symbol(
                d.name,
                kind,
                qualname,
                name_row,
                name_col,
                node.start_point[0],
                end_row,
                end_col,
                _line_at(data, node.start_byte),
                # a node's parent and siblings cost tree-sitter a walk down from the root: for
                # definitions nested deeper than this, that walk would make nesting quadratic
                _doc(node, data, language, kind) if len(stack) <= MAX_DOC_NESTING else "",
            )
        )
    return out


def _line_at(data: bytes, offset: int) -> str:
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    line = data[start : end if end >= 0 else len(data)]
    return line[: MAX_TEXT * 2].decode("utf-8", "replace").strip()[:MAX_TEXT]


def _doc(node: Node, data: bytes, language: str, kind: str) -> str:
    """The first line of a definition's docstring or of the comment right above it."""
    if language == "python" and kind in CONTAINERS:
        body = node.child_by_field_name("body")
        first = body.named_child(0) if body is not None and body.named_child_count else None
        if first is not None and first.type == "expression_statement":
            string = first.named_child(0) if first.named_child_count else None
            if string is not None and string.type == "string":
                return first_doc_line(_text(data, string))
    comment = _comment_above(node)
    return first_doc_line(_text(data, comment)) if comment is not None else ""


def _comment_above(node: Node) -> Node | None:
    current: Node | None = node
    for _ in range(4):
        if current is None:
            return None
        prev = current.prev_named_sibling
        while prev is not None and prev.type in ANNOTATIONS:
            prev = prev.prev_named_sibling
        if prev is not None:
            if "comment" in prev.type and prev.end_point[0] >= current.start_point[0] - 1:
                # the first of a run of line comments
                while True:
                    earlier = prev.prev_named_sibling
                    if earlier is None or "comment" not in earlier.type:
                        break
                    if earlier.end_point[0] < prev.start_point[0] - 1:
                        break
                    prev = earlier
                return prev
            return None
        parent = current.parent
        if parent is None or parent.type not in WRAPPERS:
            return None
        current = parent
    return None


_DOC_STRIP = " \t\r*/#!-'\"`"


def first_doc_line(text: str) -> str:
    """The first line with words in a comment or docstring, without its markers."""
    for prefix in ("r", "u", "b", "R", "U", "B"):
        if text.startswith((prefix + '"', prefix + "'")):
            text = text[1:]
            break
    for line in text.splitlines():
        line = line.strip().lstrip(_DOC_STRIP).rstrip(_DOC_STRIP).strip()
        if line:
            return line[:MAX_TEXT]
    return ""


# -- serialisation -----------------------------------------------------------------------


BLOB_MAGIC = b"wS1"
_DIGEST = 8


def to_blob(symbols: FileSymbols) -> bytes:
    """Compact bytes for the on-disk cache (marshal: fast, and only plain types inside), behind
    a magic and a digest of the payload, so damage is found before ``marshal`` reads it."""
    payload = marshal.dumps(
        ([tuple(d) for d in symbols.defs], symbols.refs, [tuple(i) for i in symbols.imports]), 4
    )
    return BLOB_MAGIC + hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload


def blob_is_sound(blob: bytes) -> bool:
    """Whether ``blob`` is a :func:`to_blob` blob as written (marshal on damaged bytes can spend
    seconds building a list it was told holds 10^9 items; this check costs a hash)."""
    head = len(BLOB_MAGIC) + _DIGEST
    return (
        isinstance(blob, bytes)
        and blob.startswith(BLOB_MAGIC)
        and hashlib.blake2b(blob[head:], digest_size=_DIGEST).digest()
        == blob[len(BLOB_MAGIC) : head]
    )


def from_blob(blob: bytes) -> FileSymbols:
    """The inverse of :func:`to_blob`. Raises ValueError/EOFError/TypeError on damage."""
    if not blob_is_sound(blob):
        raise ValueError("damaged symbols blob")
    defs, refs, imports = marshal.loads(blob[len(BLOB_MAGIC) + _DIGEST :])
    if not isinstance(refs, dict) or any(len(d) != len(Symbol._fields) for d in defs):
        raise ValueError("not a symbols blob")
    new = tuple.__new__  # Symbol._make without its per-call checks: warm starts load ~10^5 of these
    return FileSymbols(
        [new(Symbol, d) for d in defs], refs, [Import(m, tuple(n), line) for m, n, line in imports]
    )
