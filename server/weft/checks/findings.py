"""Findings and the readers of each checker's output (pure functions: text in, findings out).

A finding is 0-based (line, column in characters), like weft's documents; the tools report
1-based lines and columns (pyright 0-based), which each reader converts. Output that is not
about the checked file (mypy and go vet report imported files too) is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

ERROR, WARNING, INFO = 1, 2, 3
MAX_FINDINGS = 200
"""Most findings kept per checker and document (a file full of errors must stay cheap)."""


@dataclass(frozen=True)
class Finding:
    """One problem a checker found in a document."""

    line: int
    col: int
    end_line: int
    end_col: int
    message: str
    source: str
    code: str | None = None
    severity: int = ERROR


def _finding(
    source: str,
    line: int,
    col: int,
    message: str,
    *,
    end: tuple[int, int] | None = None,
    code: str | None = None,
    severity: int = ERROR,
) -> Finding:
    line, col = max(0, line), max(0, col)
    end_line, end_col = end if end is not None else (line, col)
    if (end_line, end_col) < (line, col):
        end_line, end_col = line, col
    return Finding(line, col, end_line, end_col, message.strip(), source, code, severity)


def capped(found: Iterable[Finding]) -> list[Finding]:
    out = []
    for f in found:
        out.append(f)
        if len(out) >= MAX_FINDINGS:
            break
    return out


def _same_file(reported: str, names: tuple[str, ...]) -> bool:
    reported = reported.replace("\\", "/").removeprefix("./")
    return any(
        reported == n or reported.endswith("/" + n) or n.endswith("/" + reported) for n in names
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# -- Python --------------------------------------------------------------------------------


def read_ruff(stdout: str) -> list[Finding]:
    """``ruff check --output-format json``: 1-based row and column."""
    data = _json(stdout)
    if not isinstance(data, list):
        return []

    def each() -> Iterator[Finding]:
        for item in data:
            if not isinstance(item, dict):
                continue
            start, end = item.get("location") or {}, item.get("end_location") or {}
            if not isinstance(start.get("row"), int):
                continue
            code = item.get("code")
            yield _finding(
                "ruff",
                start["row"] - 1,
                int(start.get("column") or 1) - 1,
                str(item.get("message", "")),
                end=(int(end.get("row", start["row"])) - 1, int(end.get("column") or 1) - 1)
                if end
                else None,
                code=str(code) if code else None,
                severity=ERROR if code is None or str(code).startswith(("E9", "F")) else WARNING,
            )

    return capped(each())


_LINE_COL = re.compile(
    r"^(?P<path>[^\n:]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?:(?P<level>error|warning|note):\s*)?"
    r"(?P<msg>.*?)(?:\s+\[(?P<code>[\w-]+)\])?$"
)


def read_path_line_col(output: str, source: str, names: tuple[str, ...]) -> list[Finding]:
    """``path:line:col: [error:] message [code]`` lines (pyflakes, mypy, go vet)."""

    def each() -> Iterator[Finding]:
        for raw in output.splitlines():
            m = _LINE_COL.match(raw.strip())
            if not m or not _same_file(m["path"], names) or m["level"] == "note":
                continue
            yield _finding(
                source,
                int(m["line"]) - 1,
                int(m["col"] or 1) - 1,
                m["msg"],
                code=m["code"],
                severity=WARNING if m["level"] == "warning" else ERROR,
            )

    return capped(each())


def read_pyright(stdout: str, names: tuple[str, ...]) -> list[Finding]:
    """``pyright --outputjson``: 0-based ranges."""
    data = _json(stdout)
    items = data.get("generalDiagnostics") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    levels = {"error": ERROR, "warning": WARNING, "information": INFO}

    def each() -> Iterator[Finding]:
        for item in items:
            if not isinstance(item, dict) or not _same_file(str(item.get("file", "")), names):
                continue
            rng = item.get("range") or {}
            start, end = rng.get("start") or {}, rng.get("end") or {}
            if item.get("severity") not in levels or not isinstance(start.get("line"), int):
                continue
            yield _finding(
                "pyright",
                start["line"],
                int(start.get("character", 0)),
                str(item.get("message", "")).split("\n", 1)[0],
                end=(int(end.get("line", start["line"])), int(end.get("character", 0))),
                code=item.get("rule"),
                severity=levels[item["severity"]],
            )

    return capped(each())


# -- TypeScript / JavaScript ----------------------------------------------------------------

_TSC = re.compile(
    r"^(?P<path>.+?)\((?P<line>\d+),(?P<col>\d+)\): (?P<level>error|warning) (?P<code>TS\d+): (?P<msg>.*)$"
)


def read_tsc(stdout: str, names: tuple[str, ...]) -> list[Finding]:
    """``tsc --pretty false``: ``file(line,col): error TS1234: message``."""

    def each() -> Iterator[Finding]:
        for raw in stdout.splitlines():
            m = _TSC.match(raw.strip())
            if not m or not _same_file(m["path"], names):
                continue
            yield _finding(
                "tsc",
                int(m["line"]) - 1,
                int(m["col"]) - 1,
                m["msg"],
                code=m["code"],
                severity=ERROR if m["level"] == "error" else WARNING,
            )

    return capped(each())


def read_eslint(stdout: str) -> list[Finding]:
    """``eslint --format json``: one result per file, 1-based positions."""
    data = _json(stdout)
    if not isinstance(data, list):
        return []

    def each() -> Iterator[Finding]:
        for result in data:
            for msg in (result or {}).get("messages") or []:
                if not isinstance(msg, dict) or not isinstance(msg.get("line"), int):
                    continue
                end = (
                    (int(msg["endLine"]) - 1, int(msg.get("endColumn") or 1) - 1)
                    if isinstance(msg.get("endLine"), int)
                    else None
                )
                yield _finding(
                    "eslint",
                    msg["line"] - 1,
                    int(msg.get("column") or 1) - 1,
                    str(msg.get("message", "")),
                    end=end,
                    code=msg.get("ruleId"),
                    severity=ERROR if msg.get("severity") == 2 else WARNING,
                )

    return capped(each())


# -- Rust ------------------------------------------------------------------------------------


def read_cargo(stdout: str, names: tuple[str, ...]) -> list[Finding]:
    """``cargo check --message-format json``: the primary span of each compiler message."""

    def each() -> Iterator[Finding]:
        for raw in stdout.splitlines():
            data = _json(raw) if raw.startswith("{") else None
            if not isinstance(data, dict) or data.get("reason") != "compiler-message":
                continue
            message = data.get("message") or {}
            level = message.get("level")
            if level not in ("error", "warning"):
                continue
            for span in message.get("spans") or []:
                if not span.get("is_primary") or not _same_file(str(span.get("file_name")), names):
                    continue
                code = (message.get("code") or {}).get("code")
                yield _finding(
                    "cargo",
                    int(span["line_start"]) - 1,
                    int(span["column_start"]) - 1,
                    str(message.get("message", "")),
                    end=(int(span["line_end"]) - 1, int(span["column_end"]) - 1),
                    code=code,
                    severity=ERROR if level == "error" else WARNING,
                )
                break

    return capped(each())
