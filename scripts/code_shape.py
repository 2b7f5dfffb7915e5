"""The shape of the server's code, as issue 13 measures it.

    python scripts/code_shape.py [server/weft]

Prints the module count, the largest modules, the functions over 40 lines, and the ``Any``
annotations (all of them, and those naming the server or one of its services). Run
``duplicates --repo server --min-lines 6`` beside it for repeated blocks.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LONG_FUNCTION = 40
SERVER_NAMES = ("ls", "server", "index", "offline", "engine", "service")


def _annotations(node: ast.AST) -> list[tuple[str, ast.expr | None]]:
    out: list[tuple[str, ast.expr | None]] = []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        args = node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            out.append((arg.arg, arg.annotation))
        out.append(("return", node.returns))
    elif isinstance(node, ast.AnnAssign):
        target = node.target
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        out.append((name, node.annotation))
    return out


def _is_any(expr: ast.expr | None) -> bool:
    return expr is not None and any(
        isinstance(n, ast.Name) and n.id == "Any" for n in ast.walk(expr)
    )


def main(folder: str = "server/weft") -> None:
    root = Path(folder)
    modules = sorted(root.rglob("*.py"))
    sizes: list[tuple[int, str]] = []
    long: list[tuple[int, str]] = []
    any_all = 0
    any_server: list[str] = []
    for path in modules:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root).as_posix()
        sizes.append((len(text.splitlines()), rel))
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > LONG_FUNCTION:
                    long.append((length, f"{rel}:{node.lineno} {node.name}"))
            for name, annotation in _annotations(node):
                if _is_any(annotation):
                    any_all += 1
                    if name in SERVER_NAMES:
                        any_server.append(f"{rel}:{getattr(node, 'lineno', 0)} {name}")
    sizes.sort(reverse=True)
    long.sort(reverse=True)
    print(f"modules: {len(modules)}")
    print("largest: " + ", ".join(f"{rel} ({n})" for n, rel in sizes[:5]))
    print(f"functions over {LONG_FUNCTION} lines: {len(long)}")
    for n, where in long:
        print(f"  {n:4d} {where}")
    print(f"Any annotations: {any_all}")
    print(f"Any for the server or its services: {len(any_server)}")
    for where in any_server:
        print(f"  {where}")


if __name__ == "__main__":
    main(*sys.argv[1:])
