"""Workspace trust for a repository's ``weft.toml``, direnv-style.

A cloned repository is somebody else's text. Its ``weft.toml`` may tune completion freely, but
the settings declared trusted-only in :mod:`weft.settings` (commands, network destinations,
credentials, privacy switches, paths outside the workspace) take effect only when the user has
trusted **that exact content**: ``weft trust DIR`` records the file's real path and SHA-256
under ``$XDG_STATE_HOME/weft/trusted/`` (one small JSON file per path), and any change to the
file, including one made by weft's own agent, no longer matches until it is trusted again.

Editors add their own word (``initializationOptions.workspaceTrust``): VS Code says whether the
workspace is trusted (an untrusted one ignores the store), Neovim vouches for the hash of the
content the user accepted through ``vim.secure.read()``. User-level sources are never filtered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from weft.settings import split_by_trust

CONFIG_NAME = "weft.toml"
INIT_OPTION = "workspaceTrust"
"""The reserved ``initializationOptions`` key for the editor's trust word."""


def state_dir() -> Path:
    """``$XDG_STATE_HOME/weft`` (default ``~/.local/state/weft``)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "weft"


def config_path(root: Path) -> Path:
    """The ``weft.toml`` of ``root``, with the folder's symlinks resolved (the file's own name
    is kept: trust binds to its content, whatever a link points at)."""
    return Path(os.path.realpath(root)) / CONFIG_NAME


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class TrustRecord:
    """One trusted file: its path, the SHA-256 of the content trusted, and when."""

    path: str
    sha256: str
    trusted_at: str


class TrustStore:
    """The trusted ``weft.toml`` files: one JSON file per path under ``<state>/trusted/``, so
    concurrent writers for different workspaces never lose each other's entries."""

    def __init__(self, root: Path | None = None) -> None:
        self.dir = (root or state_dir()) / "trusted"

    def _entry(self, path: Path) -> Path:
        return self.dir / (sha256_hex(str(path).encode("utf-8", "surrogateescape"))[:32] + ".json")

    def get(self, path: Path) -> TrustRecord | None:
        try:
            data = json.loads(self._entry(path).read_text(encoding="utf-8"))
            record = TrustRecord(str(data["path"]), str(data["sha256"]), str(data["trustedAt"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return record if record.path == str(path) else None

    def is_trusted(self, path: Path, sha256: str) -> bool:
        record = self.get(path)
        return record is not None and record.sha256 == sha256

    def trust(self, path: Path, sha256: str) -> TrustRecord:
        record = TrustRecord(str(path), sha256, datetime.now(UTC).isoformat(timespec="seconds"))
        body = {"path": record.path, "sha256": record.sha256, "trustedAt": record.trusted_at}
        _write_private(self._entry(path), json.dumps(body) + "\n")
        return record

    def revoke(self, path: Path) -> bool:
        """Forget ``path``; False when it was not trusted."""
        if self.get(path) is None:
            return False
        with contextlib.suppress(FileNotFoundError):
            self._entry(path).unlink()
        return True

    def records(self) -> list[TrustRecord]:
        out = []
        for entry in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
                out.append(
                    TrustRecord(str(data["path"]), str(data["sha256"]), str(data["trustedAt"]))
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(out, key=lambda r: r.path)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically, readable by the user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class EditorTrust:
    """What the editor said (``initializationOptions.workspaceTrust``)."""

    trusted: bool | None = None
    """False: the editor's workspace is untrusted (VS Code Restricted Mode); None: not said."""
    weft_toml_sha256: str | None = None
    """The hash of the ``weft.toml`` content the user accepted in the editor (Neovim's
    ``vim.secure.read()``)."""


def editor_trust_from(
    options: Mapping[str, Any] | None,
) -> tuple[EditorTrust, dict[str, Any] | None]:
    """Split the editor's trust word out of ``initializationOptions``; the rest are settings."""
    if not isinstance(options, Mapping) or INIT_OPTION not in options:
        return EditorTrust(), dict(options) if isinstance(options, Mapping) else None
    rest = {k: v for k, v in options.items() if k != INIT_OPTION}
    raw = options.get(INIT_OPTION)
    raw = raw if isinstance(raw, Mapping) else {}
    trusted = raw.get("trusted")
    sha = raw.get("weftTomlSha256")
    return (
        EditorTrust(
            trusted if isinstance(trusted, bool) else None,
            sha.lower() if isinstance(sha, str) and sha else None,
        ),
        rest,
    )


@dataclass
class RepoConfig:
    """A workspace's ``weft.toml`` as weft may use it."""

    path: Path | None = None
    sha256: str | None = None
    """None when there is no file."""
    settings: dict[str, Any] | None = None
    """What may be merged: the whole file when trusted, else without trusted-only keys."""
    ignored: list[str] = field(default_factory=list)
    """Dotted keys the file sets but weft ignores (untrusted, or user-only)."""
    trusted: bool = False
    error: str | None = None
    raw: dict[str, Any] | None = None
    """The whole parsed file (for messages and ``weft trust``; never merged as it is)."""

    @property
    def withheld(self) -> list[str]:
        """Keys ignored only because the file is not trusted (trusting would enable them)."""
        if self.raw is None or self.trusted:
            return []
        _, strict = split_by_trust(self.raw, trusted=False)
        _, always = split_by_trust(self.raw, trusted=True)
        return [key for key in strict if key not in always]


def load_repo_config(
    root: Path | None, editor: EditorTrust | None = None, store: TrustStore | None = None
) -> RepoConfig:
    """Read ``root/weft.toml`` once, hash it, and keep what its trust allows."""
    if root is None:
        return RepoConfig()
    path = config_path(root)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return RepoConfig(path)
    except OSError as exc:
        return RepoConfig(path, error=f"cannot read {path}: {exc.strerror or exc}")
    sha = sha256_hex(data)
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return RepoConfig(path, sha, error=f"cannot read {path}: {exc}")
    trusted = is_trusted(path, sha, editor or EditorTrust(), store or TrustStore())
    kept, ignored = split_by_trust(raw, trusted)
    return RepoConfig(path, sha, kept, ignored, trusted, raw=raw)


def is_trusted(path: Path, sha: str, editor: EditorTrust, store: TrustStore) -> bool:
    """An untrusted editor workspace wins; else the store or the editor's vouched hash."""
    if editor.trusted is False:
        return False
    return store.is_trusted(path, sha) or editor.weft_toml_sha256 == sha


def untrusted_message(config: RepoConfig) -> str:
    """What the user is told when keys of ``weft.toml`` are ignored."""
    keys = ", ".join(config.ignored)
    withheld = config.withheld
    how = (
        f" To use them, review the file and run `weft trust {config.path.parent}` (or trust the "
        "workspace in your editor); any later change to the file needs trusting again."
        if withheld and config.path is not None
        else ""
    )
    user_only = [key for key in config.ignored if key not in withheld]
    only = (
        f" {', '.join(user_only)} can only be set in your own editor settings." if user_only else ""
    )
    return f"weft: {config.path} sets {keys}, which weft ignores.{how}{only}"


class NoticeLog:
    """Remembers which (``weft.toml`` path, content) the user was already told about, so the
    message comes once per workspace and again only when the file changes."""

    def __init__(self, root: Path | None = None) -> None:
        self.dir = (root or state_dir()) / "notified"

    def first_time(self, path: Path, sha256: str) -> bool:
        """True (and remembered) the first time this content is seen."""
        entry = self.dir / (sha256_hex(str(path).encode("utf-8", "surrogateescape"))[:32])
        try:
            if entry.read_text(encoding="utf-8").strip() == sha256:
                return False
        except OSError:
            pass
        with contextlib.suppress(OSError):
            _write_private(entry, sha256 + "\n")
        return True
