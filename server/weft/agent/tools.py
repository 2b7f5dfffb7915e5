"""The agent's view of the workspace and its five read-only tools (SPEC §4).

Everything the model reads goes through :class:`Workspace`: paths are workspace-relative with
``/``; anything that resolves outside the root (``..``, absolute paths, symlinks that escape,
``/repo-evil`` next to ``/repo``) or into an excluded file is refused with a reason the model
can read. Open documents are read from the editor's text, not the disk. Secrets are masked and
invisible control characters dropped before text reaches a prompt. Results are capped in size.

The tools are the only thing the model can do; none of them writes, runs or fetches anything,
whatever a file it reads asks for.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from weft.agent.text_search import SearchPatternError, compile_pattern, search_lines

logger = logging.getLogger(__name__)

MAX_RESULT_CHARS = 8000
MAX_READ_LINES = 400
MAX_MATCHES = 50
MAX_LINE_CHARS = 400
SEARCH_BUDGET_S = 2.0

# Unicode tag characters and bidi controls carry hidden instructions and reorder text on screen.
_INVISIBLE = re.compile("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069\u200b-\u200f]")


class PathRefused(Exception):
    """A path the agent may not read or edit; ``str()`` is the reason, for the model."""


class IndexLike(Protocol):
    """The part of ``weft.index.WorkspaceIndex`` the agent uses (paths relative, lines 0-based)."""

    def find_definitions(
        self, name: str, prefix: bool = False, limit: int | None = None
    ) -> list[Any]: ...

    def find_references(self, name: str, limit: int | None = None) -> list[Any]: ...

    def list_files(self, glob: str | None = None) -> list[str]: ...


def resolve_in_root(root: Path, rel: str, *, for_write: bool = False) -> tuple[Path, str]:
    """The real path of workspace-relative ``rel`` and its normalised relative form.

    Raises :class:`PathRefused` for anything that is not plainly inside ``root``. Containment is
    checked on resolved real paths, component by component, so a sibling that shares the root's
    prefix is outside; for writes the last component may not be a symlink and the deepest
    existing ancestor must resolve inside the root.
    """
    if not isinstance(rel, str) or not rel.strip():
        raise PathRefused("empty path")
    if "\x00" in rel:
        raise PathRefused("path contains a NUL character")
    text = rel.strip()
    if text.startswith(("file:", "/", "\\", "~")) or re.match(r"^[A-Za-z]:", text):
        raise PathRefused(f"{rel!r} is absolute; give a path relative to the workspace root")
    parts = re.split(r"[\\/]+", text)
    if any(part == ".." for part in parts):
        raise PathRefused(f"{rel!r} climbs out of the workspace with '..'")
    parts = [part for part in parts if part not in ("", ".")]
    if not parts:
        raise PathRefused(f"{rel!r} is the workspace root, not a file")
    real_root = Path(os.path.realpath(root))
    target = real_root.joinpath(*parts)
    resolved = Path(os.path.realpath(target))
    if not resolved.is_relative_to(real_root) or resolved == real_root:
        raise PathRefused(f"{rel!r} resolves outside the workspace root")
    if for_write and target.is_symlink():
        raise PathRefused(f"{rel!r} is a symbolic link; the agent edits only regular files")
    if for_write and resolved.is_dir():
        raise PathRefused(f"{rel!r} is a folder, not a file")
    return resolved, resolved.relative_to(real_root).as_posix()


def strip_invisible(text: str) -> str:
    """``text`` without Unicode tag characters, bidi controls and zero-width characters."""
    return _INVISIBLE.sub("", text)


def cap(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [cut: {len(text) - limit} more characters]"


def number_lines(lines: Iterable[str], first: int) -> str:
    """``lines`` prefixed with their 1-based numbers, as read_file returns them."""
    return "".join(
        f"{first + i:>5}| {line.rstrip(chr(13) + chr(10))}\n" for i, line in enumerate(lines)
    )


def definition_rows(workspace: Workspace, name: str, limit: int = 200) -> list[dict[str, Any]]:
    """Definitions of ``name`` the agent may see: {path, line (1-based), kind, signature}.

    The index (``weft.index.WorkspaceIndex``) answers ``SymbolHit(path, symbol)`` with 0-based
    lines.
    """
    index = workspace.index
    if index is None:
        return []
    rows = []
    for hit in index.find_definitions(name, limit=limit * 2):
        if not workspace._allowed(hit.path):
            continue
        symbol = hit.symbol
        rows.append(
            {
                "path": hit.path,
                "line": symbol.line + 1,
                "kind": symbol.kind,
                "signature": workspace.for_prompt((symbol.signature or symbol.name).strip()),
            }
        )
    return rows[:limit]


@dataclass
class Workspace:
    """What the agent may see of one workspace."""

    root: Path
    is_excluded: Callable[[str], bool] = lambda rel: False
    overlays: dict[str, str] = field(default_factory=dict)
    """Workspace-relative path → text of an open document (the editor's text wins over disk)."""
    index: IndexLike | None = None
    redact: Any = False
    """Mask secrets (``privacy.redactSecrets``; any true value)."""
    max_file_bytes: int = 1024 * 1024
    fired: Counter[str] = field(default_factory=Counter)
    """Which redaction rules fired, over everything this workspace gave the model."""

    def __post_init__(self) -> None:
        self.root = Path(os.path.realpath(self.root))

    def resolve(self, rel: str, *, for_write: bool = False) -> str:
        """Normalised relative path of ``rel``, or :class:`PathRefused` with the reason."""
        _, norm = resolve_in_root(self.root, rel, for_write=for_write)
        lexical = "/".join(p for p in re.split(r"[\\/]+", rel.strip()) if p not in ("", "."))
        for candidate in {norm, lexical}:
            if self.is_excluded(candidate) or candidate == ".git" or candidate.startswith(".git/"):
                raise PathRefused(f"{rel!r} is excluded by the workspace's ignore/privacy rules")
        return norm

    def read_raw(self, rel: str) -> str | None:
        """Text of an allowed file (None if it does not exist). Raises PathRefused."""
        return self._read(self.resolve(rel), rel)

    def _read(self, norm: str, shown: str) -> str | None:
        if norm in self.overlays:
            return self.overlays[norm]
        path = self.root / norm
        if not path.is_file():
            return None
        if path.stat().st_size > self.max_file_bytes:
            raise PathRefused(f"{shown!r} is larger than index.maxFileKb; not read")
        data = path.read_bytes()
        if b"\x00" in data[:8192]:
            raise PathRefused(f"{shown!r} is a binary file")
        return data.decode("utf-8", errors="replace")

    @property
    def redactions(self) -> int:
        return sum(self.fired.values())

    def for_prompt(self, text: str) -> str:
        """Text as it may be sent to the model: invisible characters dropped, secrets masked.
        Call it on values, before they are serialised (JSON's escaping hides assignments)."""
        text = strip_invisible(text)
        if self.redact:
            from weft.privacy import redact_counting

            text = redact_counting(text, self.fired)
        return text

    def read_for_prompt(self, norm: str) -> str | None:
        """An allowed file's text as it may be sent (whole-file redaction, so a private key's
        lines are masked even where one line alone does not look like one)."""
        text = self._read(norm, norm)
        return None if text is None else self.for_prompt(text)

    def list_files(self, glob: str | None = None) -> list[str]:
        """Allowed workspace files, sorted, optionally filtered by a glob."""
        if self.index is not None:
            try:
                paths = list(self.index.list_files(None))
            except Exception:  # an index still building must not stop the agent
                logger.exception("index.list_files failed; walking the tree")
                paths = self._walk()
        else:
            paths = self._walk()
        paths.extend(self.overlays)
        return sorted(p for p in set(paths) if _glob_ok(p, glob) and self._allowed(p))

    def _allowed(self, rel: str) -> bool:
        """Whether a path known to lie inside the root (listed, indexed) may be shown."""
        return not (rel == ".git" or rel.startswith(".git/") or self.is_excluded(rel))

    def _walk(self) -> list[str]:
        """Files under the root, skipping excluded folders and symlinks that lead out or to
        excluded files (folders behind symlinks are not entered)."""
        out: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            base = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            prefix = "" if base == "." else base + "/"
            dirnames[:] = [d for d in dirnames if d != ".git" and not self.is_excluded(prefix + d)]
            for name in filenames:
                rel = prefix + name
                if os.path.islink(os.path.join(dirpath, name)):
                    try:
                        self.resolve(rel)
                    except PathRefused:
                        continue
                out.append(rel)
        return out


def _glob_ok(path: str, glob: str | None) -> bool:
    if not glob:
        return True
    if "/" not in glob:
        return fnmatch.fnmatch(PurePosixPath(path).name, glob) or fnmatch.fnmatch(path, glob)
    if fnmatch.fnmatch(path, glob):
        return True
    # "**/" also matches zero directories, as in gitignore and most editors.
    return "**/" in glob and fnmatch.fnmatch(path, glob.replace("**/", ""))


# -- the tools -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: name, description, JSON schema of its parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


def _schema(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


TOOLS: list[ToolSpec] = [
    ToolSpec(
        "read_file",
        "Read a workspace file (path relative to the root, '/' separators). Returns numbered "
        "lines; give start_line/end_line (1-based, inclusive) for part of a long file.",
        _schema(
            {
                "path": {"type": "string"},
                "start_line": {"type": "integer"},
                "end_line": {"type": "integer"},
            },
            ["path"],
        ),
    ),
    ToolSpec(
        "find_definitions",
        "Where a symbol is defined: a JSON list of {path, line, kind, signature}.",
        _schema({"name": {"type": "string"}}, ["name"]),
    ),
    ToolSpec(
        "find_references",
        "Where a symbol is used: a JSON list of {path, line, text}.",
        _schema({"name": {"type": "string"}}, ["name"]),
    ),
    ToolSpec(
        "list_files",
        "Workspace files, one path per line, optionally filtered by a glob such as '**/*.py'.",
        _schema({"glob": {"type": "string"}}, []),
    ),
    ToolSpec(
        "search_text",
        "Search workspace files with a regular expression (RE2 syntax, matched line by line): "
        f"a JSON list of {{path, line, text}}, at most {MAX_MATCHES}. Optional glob to limit "
        "the files.",
        _schema({"pattern": {"type": "string"}, "glob": {"type": "string"}}, ["pattern"]),
    ),
]

TOOL_NAMES = frozenset(spec.name for spec in TOOLS)


@dataclass
class ToolBox:
    """Runs the model's tool calls against a :class:`Workspace`; every answer is a string."""

    workspace: Workspace
    read_paths: set[str] = field(default_factory=set)

    def call(self, name: str, args: Any) -> str:
        """The result of one call, or an ``error: …`` line the model can act on."""
        if name not in TOOL_NAMES:
            return (
                f"error: there is no tool {name!r}; the tools are {', '.join(sorted(TOOL_NAMES))}"
            )
        if not isinstance(args, dict):
            return "error: tool arguments must be a JSON object"
        try:
            result = getattr(self, name)(**_known_args(name, args))
        except PathRefused as exc:
            return f"error: refused: {exc}"
        except TypeError as exc:
            return f"error: bad arguments for {name}: {exc}"
        except (re.error, SearchPatternError) as exc:
            return f"error: invalid regular expression: {exc}"
        except OSError as exc:
            return f"error: cannot read: {exc.strerror or exc}"
        return cap(self.workspace.for_prompt(result))

    def read_file(
        self, path: str, start_line: int | None = None, end_line: int | None = None
    ) -> str:
        norm = self.workspace.resolve(path)
        text = self.workspace.read_for_prompt(norm)
        if text is None:
            return f"error: {path!r} does not exist"
        self.read_paths.add(norm)
        lines = _lsp_lines(text)
        total = len(lines)
        first = max(1, int(start_line or 1))
        last = min(total, int(end_line or total))
        if last - first + 1 > MAX_READ_LINES:
            last = first + MAX_READ_LINES - 1
        body = number_lines(lines[first - 1 : last], first)
        if first > 1 or last < total:
            body += f"[lines {first}-{last} of {total}]\n"
        return body or f"[{path} is empty]\n"

    def find_definitions(self, name: str) -> str:
        _check_name(name)
        return _json_rows(definition_rows(self.workspace, name.strip(), MAX_MATCHES))

    def find_references(self, name: str) -> str:
        _check_name(name)
        index = self.workspace.index
        rows: list[dict[str, Any]] = []
        texts: dict[str, list[str]] = {}
        for ref in index.find_references(name.strip(), limit=MAX_MATCHES * 4) if index else []:
            if not self.workspace._allowed(ref.path):
                continue
            if ref.path not in texts:
                try:
                    texts[ref.path] = (self.workspace.read_for_prompt(ref.path) or "").splitlines()
                except (PathRefused, OSError):
                    texts[ref.path] = []
            lines = texts[ref.path]
            text = lines[ref.line] if 0 <= ref.line < len(lines) else ""
            rows.append(
                {"path": ref.path, "line": ref.line + 1, "text": text.strip()[:MAX_LINE_CHARS]}
            )
            if len(rows) >= MAX_MATCHES:
                break
        return _json_rows(rows)

    def list_files(self, glob: str | None = None) -> str:
        files = self.workspace.list_files(glob)
        return "\n".join(files) + "\n" if files else "(no files)\n"

    def search_text(self, pattern: str, glob: str | None = None) -> str:
        """Linear-time RE2 over the workspace's files (see ``agent/text_search.py``)."""
        program = compile_pattern(pattern)
        deadline = time.monotonic() + SEARCH_BUDGET_S

        def read(path: str) -> str | None:
            try:
                # Search the text as the model may see it: a pattern cannot probe a secret.
                return self.workspace.read_for_prompt(path)
            except (PathRefused, OSError):
                return None

        found, out_of_time = search_lines(
            program, self.workspace.list_files(glob), read, MAX_MATCHES, deadline
        )
        rows = [
            {"path": path, "line": line, "text": text.strip()[:MAX_LINE_CHARS]}
            for path, line, text in found
        ]
        if out_of_time:
            logger.info(
                "search_text stopped after %.1f s with %d matches", SEARCH_BUDGET_S, len(rows)
            )
        return _json_rows(rows)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise TypeError("name must be a non-empty string")


def _lsp_lines(text: str) -> list[str]:
    from weft.documents import split_lines

    lines = split_lines(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _known_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters the tool declares (models add extras); ints accepted as strings."""
    spec = next(s for s in TOOLS if s.name == name)
    out: dict[str, Any] = {}
    for key, value in args.items():
        prop = spec.parameters["properties"].get(key)
        if prop is None or value is None:
            continue
        if prop["type"] == "integer":
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{key} must be an integer") from exc
        elif not isinstance(value, str):
            raise TypeError(f"{key} must be a string")
        out[key] = value
    missing = [k for k in spec.parameters["required"] if k not in out]
    if missing:
        raise TypeError(f"missing {', '.join(missing)}")
    return out


def _json_rows(rows: list[dict[str, Any]]) -> str:
    if len(rows) > MAX_MATCHES:
        rows = rows[:MAX_MATCHES]
    return json.dumps(rows, ensure_ascii=False)


def workspace_for(
    root: Path,
    settings: Any,
    index: IndexLike | None = None,
    overlays: dict[str, str] | None = None,
    file_filter: Any = None,
) -> Workspace:
    """The agent's :class:`Workspace` under ``settings`` (ignore rules, redaction, size cap)."""
    if file_filter is None:
        from weft.ignore import WorkspaceFilter

        file_filter = WorkspaceFilter(root, settings)
    return Workspace(
        root=root,
        is_excluded=_binding_exclusions(file_filter),
        overlays=dict(overlays or {}),
        index=index,
        redact=settings.privacy.redact_secrets,
        max_file_bytes=settings.index.max_file_kb * 1024,
    )


def _binding_exclusions(file_filter: Any) -> Callable[[str], bool]:
    """The filter's verdict, minus ``index.exclude`` (which only keeps files out of the index).

    SPEC §2: files matched by .gitignore, .weftignore or privacy.exclude are never read into a
    prompt nor edited; weft's built-in exclusions (VCS and dependency folders) bind as well.
    """
    reason_of = getattr(file_filter, "exclusion_reason", None)
    if reason_of is None:
        return file_filter.is_excluded  # type: ignore[no-any-return]

    def is_excluded(rel: str) -> bool:
        reason = reason_of(rel)
        return reason is not None and reason != "index.exclude"

    return is_excluded
