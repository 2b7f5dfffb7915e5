"""Import statements: what a file imports (from its ``@import`` nodes) and which workspace files
those imports name (Python, JavaScript/TypeScript, and quoted C/C++ includes).

Extraction reads one import node at a time, so it costs nothing next to the tags query.
Resolution is a pure function of the importing path and the set of workspace paths.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Container
from typing import NamedTuple

from tree_sitter import Node


class Import(NamedTuple):
    """``module`` as written (``..pkg.mod``, ``./util``, ``fmt``, ``foo.h``, ``<stdio.h>``);
    ``names`` imported from it (``*`` for all); ``line`` 0-based."""

    module: str
    names: tuple[str, ...]
    line: int


def _text(data: bytes, node: Node | None) -> str:
    if node is None:
        return ""
    return data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _unquote(text: str) -> str:
    return text.strip().strip("'\"`")


def _python(node: Node, data: bytes) -> list[Import]:
    line = node.start_point[0]
    if node.type == "future_import_statement":
        return [Import("__future__", tuple(_dotted_names(node, data)), line)]
    if node.type == "import_statement":
        out = []
        for child in node.children_by_field_name("name"):
            target = child.child_by_field_name("name") if child.type == "aliased_import" else child
            out.append(Import(_text(data, target), (), line))
        return out
    module = _text(data, node.child_by_field_name("module_name")).replace(" ", "")
    names = _dotted_names(node, data)
    if any(child.type == "wildcard_import" for child in node.named_children):
        names.append("*")
    return [Import(module, tuple(names), line)]


def _dotted_names(node: Node, data: bytes) -> list[str]:
    names = []
    for child in node.children_by_field_name("name"):
        target = child.child_by_field_name("name") if child.type == "aliased_import" else child
        names.append(_text(data, target))
    return names


def _ecma(node: Node, data: bytes) -> list[Import]:
    line = node.start_point[0]
    if node.type == "call_expression":  # require('x') or import('x')
        function = node.child_by_field_name("function")
        if function is None or _text(data, function) not in ("require", "import"):
            return []
        args = node.child_by_field_name("arguments")
        first = args.named_child(0) if args is not None else None
        return [Import(_unquote(_text(data, first)), (), line)] if first is not None else []
    source = node.child_by_field_name("source")
    if source is None:  # TS: import x = require('y')
        for child in node.named_children:
            if child.type == "import_require_clause":
                source = child.child_by_field_name("source")
    if source is None:
        return []
    names: list[str] = []
    _ecma_names(node, data, names)
    return [Import(_unquote(_text(data, source)), tuple(names), line)]


def _ecma_names(node: Node, data: bytes, names: list[str]) -> None:
    for child in node.named_children:
        if child.type in ("import_specifier", "export_specifier"):
            names.append(_text(data, child.child_by_field_name("name")))
        elif child.type == "namespace_import" or child.type == "namespace_export":
            names.append("*")
        elif child.type == "identifier" and node.type == "import_clause":
            names.append("default")
        elif child.type in ("import_clause", "named_imports", "export_clause"):
            _ecma_names(child, data, names)
    if node.type == "export_statement" and not names:
        names.append("*")


def _go(node: Node, data: bytes) -> list[Import]:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "import_spec":
            path = current.child_by_field_name("path")
            out.append(Import(_unquote(_text(data, path)), (), current.start_point[0]))
        else:
            stack.extend(reversed(current.named_children))
    return out


def _path_and_names(path: str, sep: str) -> Import:
    path = path.strip().rstrip(";").strip()
    if path.endswith("}") and "{" in path:
        head, _, body = path.partition("{")
        names = tuple(n.strip() for n in body.rstrip("}").split(",") if n.strip())
        return Import(head.rstrip(sep).rstrip(":").rstrip(sep), names, 0)
    if " as " in path:
        path = path.split(" as ", 1)[0].strip()
    head, _, last = path.rpartition(sep)
    return Import(head, (last,), 0) if head else Import(last, (), 0)


def _rust(node: Node, data: bytes) -> list[Import]:
    argument = node.child_by_field_name("argument")
    imp = _path_and_names(_text(data, argument), "::")
    return [imp._replace(line=node.start_point[0])]


def _java(node: Node, data: bytes) -> list[Import]:
    text = _text(data, node).removeprefix("import").strip().removeprefix("static").strip()
    imp = _path_and_names(text.replace(" ", ""), ".")
    return [imp._replace(line=node.start_point[0])]


def _c(node: Node, data: bytes) -> list[Import]:
    path = node.child_by_field_name("path")
    if path is None:
        return []
    text = _text(data, path)
    module = text if text.startswith("<") else _unquote(text)
    return [Import(module, (), node.start_point[0])]


EXTRACTORS: dict[str, Callable[[Node, bytes], list[Import]]] = {
    "python": _python,
    "javascript": _ecma,
    "typescript": _ecma,
    "tsx": _ecma,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "c": _c,
    "cpp": _c,
}


def extract_imports(language: str, node: Node, data: bytes) -> list[Import]:
    """The imports one ``@import`` node makes (never raises on odd syntax)."""
    extractor = EXTRACTORS.get(language)
    if extractor is None:
        return [Import(_text(data, node).splitlines()[0][:200], (), node.start_point[0])]
    try:
        return extractor(node, data)
    except (AttributeError, IndexError, ValueError):
        return []


# -- resolution --------------------------------------------------------------------------

ECMA_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
PY_ROOTS = ("", "src/", "lib/", "python/")


def _inside(path: str) -> str | None:
    path = posixpath.normpath(path)
    return None if path.startswith(("../", "/")) or path == ".." else path


def _python_module_files(base: str, dotted: str, files: Container[str]) -> list[str]:
    joined = posixpath.join(base, dotted.replace(".", "/")) if dotted else base
    stem = _inside(joined) if joined else None
    if not stem or stem == ".":
        return [path for path in ("__init__.py",) if not dotted and path in files]
    for candidate in (f"{stem}.py", f"{stem}.pyi", f"{stem}/__init__.py", f"{stem}/__init__.pyi"):
        if candidate in files:
            return [candidate]
    return []


def _python_source_root(importer: str, files: Container[str]) -> str:
    """The folder above the importer's top-level package (``src/`` layouts and the like)."""
    directory = posixpath.dirname(importer)
    while directory and f"{directory}/__init__.py" in files:
        directory = posixpath.dirname(directory)
    return f"{directory}/" if directory else ""


def resolve_python(importer: str, imp: Import, files: Container[str]) -> list[str]:
    module = imp.module
    if module.startswith("."):
        level = len(module) - len(module.lstrip("."))
        base = posixpath.dirname(importer)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        bases = [base]
        module = module[level:]
    else:
        bases = list(
            dict.fromkeys(
                (
                    _python_source_root(importer, files).rstrip("/"),
                    *(r.rstrip("/") for r in PY_ROOTS),
                )
            )
        )
    for base in bases:
        found = _python_module_files(base, module, files)
        submodules = [
            hit
            for name in imp.names
            if name != "*"
            for hit in _python_module_files(base, f"{module}.{name}" if module else name, files)
        ]
        if found or submodules:
            return list(dict.fromkeys(found + submodules))
    return []


def resolve_ecma(importer: str, imp: Import, files: Container[str]) -> list[str]:
    spec = imp.module
    if not spec.startswith("."):
        return []  # a package (node_modules) or a path alias
    target = _inside(posixpath.join(posixpath.dirname(importer), spec))
    if target is None:
        return []
    stems = [target]
    for js, ts in ((".js", ".ts"), (".jsx", ".tsx"), (".mjs", ".mts"), (".cjs", ".cts")):
        if target.endswith(js):
            stems.append(target[: -len(js)])
            if target[: -len(js)] + ts in files:
                return [target[: -len(js)] + ts]
    if target in files:
        return [target]
    for stem in stems:
        for ext in ECMA_EXTENSIONS:
            for candidate in (stem + ext, f"{stem}/index{ext}"):
                if candidate in files:
                    return [candidate]
    return []


def resolve_c(importer: str, imp: Import, files: Container[str]) -> list[str]:
    if imp.module.startswith("<"):
        return []
    for base in (posixpath.dirname(importer), "", "include"):
        candidate = _inside(posixpath.join(base, imp.module))
        if candidate is not None and candidate in files:
            return [candidate]
    return []


RESOLVERS: dict[str, Callable[[str, Import, Container[str]], list[str]]] = {
    "python": resolve_python,
    "javascript": resolve_ecma,
    "typescript": resolve_ecma,
    "tsx": resolve_ecma,
    "c": resolve_c,
    "cpp": resolve_c,
}


def resolve_import(importer: str, language: str, imp: Import, files: Container[str]) -> list[str]:
    """Workspace-relative paths that ``imp`` (made by ``importer``) names; [] when none."""
    resolver = RESOLVERS.get(language)
    return resolver(importer, imp, files) if resolver is not None else []
