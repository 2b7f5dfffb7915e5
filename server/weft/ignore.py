"""Which workspace files weft must leave alone: ``.gitignore`` (nested ones too, and
``.git/info/exclude``), ``.weftignore``, the ``index.exclude`` and ``privacy.exclude`` globs, and
folders no one wants indexed (VCS metadata, ``node_modules``, virtualenvs, caches).

Patterns follow gitignore semantics everywhere, settings globs included: a pattern without a
slash matches a name at any depth, one with a slash is anchored at its base folder, ``**``
crosses folders, a trailing ``/`` matches folders only, ``!`` re-includes, and nothing inside an
excluded folder can be re-included. The index and the agent share one :class:`WorkspaceFilter`.

Decisions are made on the lexical path and on the real one: a committed symlink named
``notes.txt`` that points at a ``.gitignore``d ``secret.env`` is as excluded as its target, and
one that leads out of the root is ``outside``. The built-in privacy deny list and
``privacy.exclude`` are two separate rule lists, so a ``!`` in settings never re-includes what
the deny list excludes.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from weft.settings import Settings

logger = logging.getLogger(__name__)

BUILTIN_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
    }
)
IGNORE_FILES = ((".gitignore", "gitignore"), (".weftignore", "weftignore"))

# reasons, most binding first
BUILTIN = "builtin"
PRIVACY = "privacy.exclude"
INDEX = "index.exclude"
GITIGNORE = "gitignore"
WEFTIGNORE = "weftignore"
OUTSIDE = "outside"


@dataclass(frozen=True)
class Rule:
    """One gitignore line, compiled against paths relative to ``base`` (a folder, '' = root)."""

    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    base: str
    source: str


def _translate(glob: str) -> str:
    """gitignore glob (already unanchored with a leading ``**/`` if needed) → regex source."""
    out = []
    i, n = 0, len(glob)
    while i < n:
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            c = glob[i]
            if c == "*":
                out.append("[^/]*")
            elif c == "?":
                out.append("[^/]")
            elif c == "[":
                end = glob.find("]", i + 2 if glob[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
                if end < 0:
                    out.append(re.escape(c))
                else:
                    body = glob[i + 1 : end]
                    if body[:1] in ("!", "^"):
                        body = "^" + body[1:]
                    out.append("[" + body.replace("\\", "\\\\") + "]")
                    i = end
            elif c == "\\" and i + 1 < n:
                i += 1
                out.append(re.escape(glob[i]))
            else:
                out.append(re.escape(c))
            i += 1
    return "".join(out)


def compile_rule(
    line: str, base: str = "", source: str = "", ignore_case: bool = False
) -> Rule | None:
    """A :class:`Rule` from one gitignore line; None for blanks and comments.

    ``ignore_case`` is for privacy globs: on a case-insensitive file system ``.ENV`` is the
    same file as ``.env``, and a miss would leak it.
    """
    line = line.rstrip("\n").rstrip("\r")
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    elif line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    if not anchored and not line.startswith("**/"):
        line = "**/" + line
    try:
        regex = re.compile(_translate(line), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
    except re.error:
        logger.warning("ignoring unusable pattern %r in %s", line, source or "settings")
        return None
    return Rule(regex, negate, dir_only, base, source)


def compile_rules(
    lines: Iterable[str], base: str = "", source: str = "", ignore_case: bool = False
) -> list[Rule]:
    rules = (compile_rule(line, base, source, ignore_case) for line in lines)
    return [rule for rule in rules if rule is not None]


def matches_rules(rules: list[Rule], rel_path: str) -> bool:
    """Whether a relative file path is excluded by ``rules`` alone, gitignore-style: a
    matched folder excludes everything under it; otherwise the file's last match decides."""
    rel = normalize_rel(rel_path)
    if not rel:
        return False
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        rule = last_match(rules, "/".join(parts[:depth]), True)
        if rule is not None and not rule.negate:
            return True
    rule = last_match(rules, rel, False)
    return rule is not None and not rule.negate


def last_match(rules: Iterable[Rule], rel_path: str, is_dir: bool) -> Rule | None:
    """The last rule that matches (gitignore: the last match decides)."""
    found = None
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.base:
            if not rel_path.startswith(rule.base + "/"):
                continue
            subject = rel_path[len(rule.base) + 1 :]
        else:
            subject = rel_path
        if rule.regex.fullmatch(subject):
            found = rule
    return found


def normalize_rel(rel_path: str | os.PathLike[str]) -> str | None:
    """'a/b.py' from 'a\\b.py', './a/b.py', 'a//b.py'; None for paths that leave the root."""
    text = os.fspath(rel_path).replace("\\", "/")
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def privacy_rule_lists(settings: Settings) -> tuple[list[Rule], list[Rule]]:
    """The built-in deny list (minus ``privacy.excludeRemove``) and ``privacy.exclude``, as two
    rule lists that are matched separately (case-insensitively: on a case-insensitive file
    system ``.ENV`` is ``.env``, and a miss would leak it)."""
    privacy = settings.privacy
    return (
        compile_rules(privacy.default_denies(), source=PRIVACY, ignore_case=True),
        compile_rules(privacy.exclude, source=PRIVACY, ignore_case=True),
    )


class WorkspaceFilter:
    """Decides whether a workspace-relative path is excluded, and why.

    Ignore files are read lazily per folder and cached; call :meth:`invalidate` when one
    changes. Reasons: ``builtin``, ``privacy.exclude``, ``index.exclude``, ``gitignore``,
    ``weftignore``, ``outside`` (the path leaves the root). The agent may treat only privacy,
    gitignore and weftignore as binding; the index honours them all.
    """

    def __init__(self, root: str | os.PathLike[str], settings: Settings | None = None) -> None:
        self.root = Path(root)
        self._real_root = os.path.realpath(self.root)
        settings = settings or Settings()
        self._privacy = privacy_rule_lists(settings)
        self._index = compile_rules(settings.index.exclude, source=INDEX)
        self._ignore_files: dict[tuple[str, str], list[Rule]] = {}
        self._dir_reasons: dict[str, str | None] = {}
        self._real_dirs: dict[str, str | None] = {}

    def invalidate(self) -> None:
        """Forget cached ignore files and folder decisions (an ignore file changed)."""
        self._ignore_files.clear()
        self._dir_reasons.clear()
        self._real_dirs.clear()

    def is_excluded(self, rel_path: str | os.PathLike[str], is_dir: bool | None = None) -> bool:
        return self.exclusion_reason(rel_path, is_dir) is not None

    def exclusion_reason(
        self, rel_path: str | os.PathLike[str], is_dir: bool | None = None
    ) -> str | None:
        """Why ``rel_path`` is excluded, or None when it is not: its lexical path first, then
        the path it really is once symlinks are resolved."""
        rel = normalize_rel(rel_path)
        if rel is None:
            return OUTSIDE
        if not rel:
            return None
        reason = self._lexical_reason(rel, is_dir)
        if reason is not None:
            return reason
        real = self._real_rel(rel)
        if real == rel:
            return None
        return OUTSIDE if real is None else self._lexical_reason(real, is_dir)

    def _real_rel(self, rel: str) -> str | None:
        """``rel`` with symlinks resolved, relative to the real root (None: it leaves the root).
        Folders are resolved once and cached; only a final component that is a link costs a
        ``realpath``."""
        parent, _, name = rel.rpartition("/")
        real_parent = self._real_dir(parent) if parent else ""
        if real_parent is None:
            return None
        candidate = f"{real_parent}/{name}" if real_parent else name
        full = os.path.join(self._real_root, candidate)
        if not os.path.islink(full):
            return candidate
        return self._inside(os.path.realpath(full))

    def _real_dir(self, rel_dir: str) -> str | None:
        if rel_dir in self._real_dirs:
            return self._real_dirs[rel_dir]
        real = self._inside(os.path.realpath(os.path.join(self._real_root, rel_dir)))
        if len(self._real_dirs) > 100_000:
            self._real_dirs.clear()
        self._real_dirs[rel_dir] = real
        return real

    def _inside(self, real: str) -> str | None:
        if real == self._real_root:
            return ""
        prefix = self._real_root.rstrip(os.sep) + os.sep
        if not real.startswith(prefix):
            return None
        return real[len(prefix) :].replace(os.sep, "/")

    def _lexical_reason(self, rel: str, is_dir: bool | None) -> str | None:
        parent = rel.rpartition("/")[0]
        if parent:
            reason = self._dir_reason(parent)
            if reason is not None:
                return reason
        if is_dir is None:
            is_dir = (self.root / rel).is_dir()
        if is_dir:
            return self._dir_reason(rel)
        return self._own_reason(rel, False)

    def _dir_reason(self, rel_dir: str) -> str | None:
        if rel_dir in self._dir_reasons:
            return self._dir_reasons[rel_dir]
        parent = rel_dir.rpartition("/")[0]
        reason = self._dir_reason(parent) if parent else None
        if reason is None:
            reason = self._own_reason(rel_dir, True)
        self._dir_reasons[rel_dir] = reason
        return reason

    def _own_reason(self, rel: str, is_dir: bool) -> str | None:
        """Rules that apply to the path itself (its folders are known to be included)."""
        name = rel.rpartition("/")[2]
        if is_dir and (name in BUILTIN_DIRS or (self.root / rel / "pyvenv.cfg").is_file()):
            return BUILTIN
        for reason, rules in (*((PRIVACY, r) for r in self._privacy), (INDEX, self._index)):
            rule = last_match(rules, rel, is_dir)
            if rule is not None and not rule.negate:
                return reason
        for filename, reason in IGNORE_FILES:
            rule = last_match(self._rules_for(rel, filename), rel, is_dir)
            if rule is not None and not rule.negate:
                return reason
        return None

    def _rules_for(self, rel: str, filename: str) -> list[Rule]:
        """Rules of every ``filename`` from the root down to the path's folder, in order."""
        rules: list[Rule] = []
        if filename == ".gitignore":
            rules.extend(self._load("", ".git/info/exclude", "info/exclude"))
        parts = rel.split("/")[:-1]
        for depth in range(len(parts) + 1):
            folder = "/".join(parts[:depth])
            rules.extend(self._load(folder, filename, filename))
        return rules

    def _load(self, folder: str, filename: str, kind: str) -> list[Rule]:
        key = (folder, filename)
        cached = self._ignore_files.get(key)
        if cached is not None:
            return cached
        path = self.root / folder / filename
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        source = f"{folder}/{filename}" if folder else filename
        rules = compile_rules(text.splitlines(), base=folder, source=source)
        self._ignore_files[key] = rules
        return rules
