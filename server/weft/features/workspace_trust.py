"""The workspace's ``weft.toml`` in the server: loaded under its trust, re-read when saved, and
the ``weft.trustWorkspace`` command editors call when the user trusts the workspace.

Untrusted keys are ignored and the user is told once per workspace (again only when the file
changes) with ``window/showMessage``; every start logs it with ``window/logMessage``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from weft.trust import (
    EditorTrust,
    NoticeLog,
    RepoConfig,
    TrustStore,
    load_repo_config,
    untrusted_message,
)

logger = logging.getLogger(__name__)

TRUST_COMMAND = "weft.trustWorkspace"


def load(ls: Any) -> RepoConfig:
    """(Re-)read the workspace's ``weft.toml`` into ``ls.sources`` under its trust."""
    config = load_repo_config(ls.root, ls.editor_trust, TrustStore())
    ls.repo_config = config
    if config.error:
        ls.log(config.error, "error")
    ls.sources["weft.toml"] = config.settings
    return config


def tell_about_ignored_keys(ls: Any) -> None:
    """Log the ignored keys; show them once per workspace and file content."""
    config: RepoConfig = ls.repo_config
    if not config.ignored or config.path is None or config.sha256 is None:
        return
    message = untrusted_message(config)
    ls.log(message, "warning")
    if NoticeLog().first_time(config.path, config.sha256):
        ls.show(message, "warning")


def trust_workspace(ls: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    """The editor trusted the workspace: record the current ``weft.toml`` as ``weft trust`` does
    and apply it. Returns ``{trusted, path?, enabled}`` (the keys that now take effect)."""
    from weft.features.lifecycle import apply_sources

    ls.editor_trust = EditorTrust(True, ls.editor_trust.weft_toml_sha256)
    before = load(ls)
    enabled: list[str] = []
    if before.path is not None and before.sha256 is not None and before.error is None:
        TrustStore().trust(before.path, before.sha256)
        enabled = before.withheld
    after = load(ls)
    apply_sources(ls)
    result: dict[str, Any] = {"trusted": after.trusted, "enabled": enabled}
    if after.path is not None and after.sha256 is not None:
        result["path"] = str(after.path)
    return result


def _is_config(ls: Any, doc: Any) -> bool:
    config: RepoConfig | None = getattr(ls, "repo_config", None)
    if doc is None or doc.path is None or config is None or config.path is None:
        return False
    try:
        return Path(doc.path).resolve() == config.path.resolve()
    except OSError:
        return False


def register(server: Any) -> None:
    def on_document(event: str, uri: str, doc: Any) -> None:
        if event != "save" or not _is_config(server, doc):
            return
        from weft.features.lifecycle import apply_sources

        load(server)
        apply_sources(server)
        tell_about_ignored_keys(server)

    server.document_listeners.append(on_document)

    @server.command(TRUST_COMMAND)
    def trust(ls: Any, *args: Any) -> dict[str, Any]:
        return trust_workspace(ls, args)
