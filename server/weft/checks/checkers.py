"""The checkers weft knows: when each is present, the argv that checks the document's current
text (on stdin, or a temporary copy the tool reads in place of the file), and its reader.

A checker runs only when its tool is present: the command set in ``checks.<name>.command``,
else (when project code may run) the project's own copy in ``node_modules/.bin``, ``.venv/bin``
or ``venv/bin``, else the program on ``PATH``. Checkers that execute code from the project
itself (eslint's JavaScript config, cargo's build scripts and proc macros, mypy's plugins) and
project-local executables need ``checks.allowProjectCode``: a stranger's repository must not
run code just by being opened.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from weft.checks import findings
from weft.checks.findings import Finding
from weft.checks.runner import RunResult

PROJECT_BINS = ("node_modules/.bin", ".venv/bin", "venv/bin")
ESLINT_CONFIGS = (
    "eslint.config.js",
    "eslint.config.mjs",
    "eslint.config.cjs",
    "eslint.config.ts",
    ".eslintrc",
    ".eslintrc.js",
    ".eslintrc.cjs",
    ".eslintrc.json",
    ".eslintrc.yml",
    ".eslintrc.yaml",
)


@dataclass(frozen=True)
class Target:
    """The document to check."""

    root: Path
    path: Path
    rel: str
    text: str
    language: str
    on_disk: bool
    """Whether the file on disk holds exactly ``text`` (tools that cannot read stdin or an
    overlay only check a saved file)."""
    scratch: Path
    """A private temporary folder for copies and overlays."""
    cache: Path
    """A folder for the tools' caches, outside the project."""


@dataclass(frozen=True)
class Job:
    """One checker process to run."""

    argv: list[str]
    cwd: Path
    read: Callable[[RunResult], list[Finding]]
    stdin: str | None = None
    files: dict[Path, str] = field(default_factory=dict)
    """Files to write before the run (temporary copies, overlays)."""
    env: dict[str, str] = field(default_factory=dict)


Planner = Callable[[Target, list[str]], Job | None]


@dataclass(frozen=True)
class Checker:
    name: str
    """The settings key: ``checks.<name>``."""
    tool: str
    languages: frozenset[str]
    plan: Planner
    runs_project_code: bool = False


def locate(
    tool: str, root: Path, command: list[str] | None, allow_project: bool
) -> list[str] | None:
    """The argv prefix that runs ``tool``, or None when it is not present."""
    if command:
        return list(command)
    if allow_project:
        for folder in PROJECT_BINS:
            candidate = root / folder / tool
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return [str(candidate)]
    found = shutil.which(tool)
    return [found] if found else None


def _copy(target: Target) -> Path:
    return target.scratch / Path(target.rel).name


def _names(target: Target) -> tuple[str, ...]:
    return (target.rel, str(target.path))


# -- planners ---------------------------------------------------------------------------------


def plan_ruff(t: Target, exe: list[str]) -> Job:
    argv = [*exe, "check", "--output-format", "json", "--no-cache", "--force-exclude"]
    argv += ["--stdin-filename", str(t.path), "-"]
    return Job(argv, t.root, lambda r: findings.read_ruff(r.stdout), stdin=t.text)


def plan_pyflakes(t: Target, exe: list[str]) -> Job:
    return Job(
        [*exe, "-"],
        t.root,
        lambda r: findings.read_path_line_col(r.stdout + r.stderr, "pyflakes", ("<stdin>", "-")),
        stdin=t.text,
    )


def plan_mypy(t: Target, exe: list[str]) -> Job:
    copy = _copy(t)
    argv = [*exe, "--show-column-numbers", "--show-error-codes", "--no-error-summary"]
    argv += ["--no-pretty", "--no-color-output", "--hide-error-context"]
    argv += ["--follow-imports=silent", "--cache-dir", str(t.cache / "mypy")]
    argv += ["--shadow-file", str(t.path), str(copy), str(t.path)]
    names = _names(t)
    return Job(
        argv,
        t.root,
        lambda r: findings.read_path_line_col(r.stdout, "mypy", names),
        files={copy: t.text},
    )


def plan_pyright(t: Target, exe: list[str]) -> Job:
    copy = _copy(t)
    names = (str(copy),)
    return Job(
        [*exe, "--outputjson", str(copy)],
        t.root,
        lambda r: findings.read_pyright(r.stdout, names),
        files={copy: t.text},
    )


def _relative_import_missing(f: Finding) -> bool:
    # the copy sits in a temporary folder, so relative imports cannot resolve there
    return f.code in ("TS2307", "TS2792") and ("'./" in f.message or "'../" in f.message)


def plan_tsc(t: Target, exe: list[str]) -> Job:
    copy = _copy(t)
    names = (str(copy), copy.name)
    argv = [*exe, "--noEmit", "--pretty", "false", "--skipLibCheck", str(copy)]
    if t.language == "tsx":
        argv[-1:-1] = ["--jsx", "preserve"]
    return Job(
        argv,
        t.root,
        lambda r: [
            f for f in findings.read_tsc(r.stdout, names) if not _relative_import_missing(f)
        ],
        files={copy: t.text},
    )


def plan_eslint(t: Target, exe: list[str]) -> Job | None:
    if not any((t.root / name).exists() for name in ESLINT_CONFIGS):
        return None  # eslint without a project configuration only complains about that
    argv = [*exe, "--format", "json", "--stdin", "--stdin-filename", str(t.path)]
    return Job(argv, t.root, lambda r: findings.read_eslint(r.stdout), stdin=t.text)


def plan_go_vet(t: Target, exe: list[str]) -> Job | None:
    if not any((d / "go.mod").exists() for d in (t.path.parent, *t.path.parents)):
        return None
    copy = _copy(t)
    overlay = t.scratch / "overlay.json"
    names = (t.path.name, t.rel, str(t.path))
    return Job(
        [*exe, "vet", f"-overlay={overlay}", "."],
        t.path.parent,
        lambda r: findings.read_path_line_col(r.stderr, "go vet", names),
        files={copy: t.text, overlay: json.dumps({"Replace": {str(t.path): str(copy)}})},
        env={
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOFLAGS": "-mod=mod",
            "GOCACHE": str(t.cache / "go-build"),
        },
    )


def plan_cargo(t: Target, exe: list[str]) -> Job | None:
    if not t.on_disk or not (t.root / "Cargo.toml").exists():
        return None  # cargo reads the crate from disk: only a saved file can be checked
    names = (t.rel,)
    return Job(
        [*exe, "check", "--message-format", "json", "--quiet", "--offline"],
        t.root,
        lambda r: findings.read_cargo(r.stdout, names),
        env={"CARGO_TARGET_DIR": str(t.cache / "cargo-target")},
    )


PYTHON = frozenset({"python"})
ECMA = frozenset({"typescript", "tsx", "javascript", "jsx"})

CHECKERS: tuple[Checker, ...] = (
    Checker("ruff", "ruff", PYTHON, plan_ruff),
    Checker("pyflakes", "pyflakes", PYTHON, plan_pyflakes),
    Checker("mypy", "mypy", PYTHON, plan_mypy, runs_project_code=True),
    Checker("pyright", "pyright", PYTHON, plan_pyright),
    Checker("tsc", "tsc", frozenset({"typescript", "tsx"}), plan_tsc),
    Checker("eslint", "eslint", ECMA, plan_eslint, runs_project_code=True),
    Checker("goVet", "go", frozenset({"go"}), plan_go_vet),
    Checker("cargo", "cargo", frozenset({"rust"}), plan_cargo, runs_project_code=True),
)
"""Every checker; ``pyflakes`` runs only when ``ruff`` does not (ruff includes its checks)."""
