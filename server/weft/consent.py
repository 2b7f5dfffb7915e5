"""Edits that need the user's explicit consent, whatever the model says.

A poisoned comment can ask the agent to plant a command in ``weft.toml``, auto-approve settings
in ``.vscode/settings.json``, a task that runs on folder open, or ``!secret.env`` in
``.gitignore`` (the pattern of CVE-2025-53773). Those files change what runs, what is sent, or
what is protected, the next time anyone opens, installs, commits or builds the project. So an
edit to any of them is never delivered silently: the editor asks (a ``ChangeAnnotation`` with
``needsConfirmation``, or ``window/showMessageRequest``), and ``weft fix|refactor --apply``
leaves them out unless ``--allow-config-edits``. The rest of a fix is still delivered.

Patterns follow gitignore rules (a name without ``/`` matches at any depth, ``dir/`` matches a
folder and everything in it) and match case-insensitively. docs/security.md explains each group
and the judgement calls.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

from lsprotocol import types

from weft.ignore import Rule, compile_rules, last_match, normalize_rel

GROUPS: dict[str, tuple[str, ...]] = {
    "weft's own configuration": ("weft.toml", ".weftignore"),
    "an ignore file (what is kept private or out of version control)": (
        ".gitignore", ".gitattributes", ".gitmodules", ".aiignore", ".aiexclude",
        ".cursorignore", ".codeiumignore", ".continueignore", ".dockerignore", ".npmignore",
        ".prettierignore", ".eslintignore", ".ignore", ".rgignore", ".hgignore",
    ),
    "git metadata or hooks": (".git/", ".githooks/", ".husky/", "lefthook.yml", ".lefthook.yml",
                              "lefthook-local.yml", ".pre-commit-config.yaml"),
    "editor or tool configuration that can run code": (
        ".vscode/", "*.code-workspace", ".idea/", ".fleet/", "*.sublime-project", ".helix/",
        ".zed/", ".nvim.lua", ".nvimrc", ".exrc", ".vimrc", ".lvimrc", ".lazy.lua",
        ".dir-locals.el", ".dir-locals-2.el", ".envrc", ".devcontainer/", ".devcontainer.json",
        ".gitpod.yml",
    ),
    "AI agent configuration or instructions": (
        ".cursor/", ".cursorrules", ".claude/", "CLAUDE.md", "AGENTS.md", "GEMINI.md",
        ".gemini/", ".mcp.json", ".continue/", ".aider*", ".windsurfrules", ".clinerules",
        ".roo/",
    ),
    "CI or automation": (
        ".github/", ".gitlab-ci.yml", ".gitlab/", ".circleci/", ".travis.yml",
        "azure-pipelines.yml", "bitbucket-pipelines.yml", "Jenkinsfile", ".buildkite/",
        ".drone.yml", "appveyor.yml", ".woodpecker/", ".woodpecker.yml",
    ),
    "package-manager or build scripts that run on install, import or configure": (
        "package.json", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmfile.cjs", "bunfig.toml",
        "pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "noxfile.py", "pip.conf",
        ".pypirc", "Cargo.toml", "build.rs", ".cargo/", "Gemfile", "composer.json",
        "*.gradle", "*.gradle.kts", "gradle.properties", "gradle-wrapper.properties", "pom.xml",
        "CMakeLists.txt", "CMakePresets.json", "meson.build", ".bazelrc",
    ),
}  # fmt: skip

logger = logging.getLogger(__name__)

ANNOTATION_ID = "weft.needsConfirmation"
APPLY_ALL = "Apply all"
APPLY_WITHOUT = "Apply without them"


@functools.lru_cache(maxsize=1)
def _rules() -> list[tuple[str, list[Rule]]]:
    return [
        (group, compile_rules(patterns, source=group, ignore_case=True))
        for group, patterns in GROUPS.items()
    ]


def consent_reason(rel_path: str) -> str | None:
    """Why an edit to workspace-relative ``rel_path`` needs consent (its group), or None."""
    rel = normalize_rel(rel_path)
    if not rel:
        return None
    parts = rel.split("/")
    for group, rules in _rules():
        for depth in range(1, len(parts)):
            rule = last_match(rules, "/".join(parts[:depth]), True)
            if rule is not None and not rule.negate:
                return group
        rule = last_match(rules, rel, False)
        if rule is not None and not rule.negate:
            return group
    return None


def needing_consent(paths: Iterable[str]) -> dict[str, str]:
    """The paths among ``paths`` that need consent, each with its reason, sorted."""
    found = {path: reason for path in paths if (reason := consent_reason(path)) is not None}
    return dict(sorted(found.items()))


def describe(gated: dict[str, str]) -> str:
    """``.vscode/settings.json (editor or tool configuration that can run code), …``."""
    return ", ".join(f"{path} ({reason})" for path, reason in gated.items())


def question(gated: dict[str, str]) -> str:
    """The ``window/showMessageRequest`` text."""
    return (
        f"weft's edit also changes {describe(gated)}. Such files can run code or switch off "
        "protections the next time the project is opened, installed or built; a comment in the "
        f"code may have asked for it. {APPLY_ALL}, or apply the rest without them?"
    )


def change_annotation(gated: dict[str, str]) -> types.ChangeAnnotation:
    """The annotation carried by every gated change (clients ask before applying it)."""
    return types.ChangeAnnotation(
        label="Changes files that can run code or weaken protections",
        needs_confirmation=True,
        description="weft asks before changing " + describe(gated),
    )


def supports_annotations(capabilities: types.ClientCapabilities | None) -> bool:
    """Whether the client honours ``needsConfirmation`` on change annotations."""
    workspace = capabilities.workspace if capabilities else None
    edit = workspace.workspace_edit if workspace else None
    support = edit.change_annotation_support if edit else None
    return bool(edit and edit.document_changes and support is not None)


async def ask(server: Any, gated: dict[str, str]) -> bool:
    """Ask with ``window/showMessageRequest``; True only for an explicit "Apply all" (a
    dismissed question or a client that cannot ask means no)."""
    params = types.ShowMessageRequestParams(
        type=types.MessageType.Warning,
        message=question(gated),
        actions=[types.MessageActionItem(APPLY_ALL), types.MessageActionItem(APPLY_WITHOUT)],
    )
    try:
        answer = await server.window_show_message_request_async(params)
    except Exception as exc:  # noqa: BLE001 - a client that cannot ask has not consented
        logger.info("showMessageRequest failed: %s", exc)
        return False
    return answer is not None and answer.title == APPLY_ALL
