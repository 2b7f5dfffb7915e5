"""``weft trust [DIR] [--revoke | --list]`` and the trust lines of ``weft doctor``.

``weft trust`` shows what the file's trusted-only settings are before recording its hash, as
``direnv allow`` does for an ``.envrc``: the user should read what they are about to allow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from weft.trust import CONFIG_NAME, TrustStore, config_path, load_repo_config, state_dir


def _config_root(dir_arg: str | None) -> Path:
    """DIR, or the nearest folder at or above the current one holding ``weft.toml``."""
    from weft.cli import CliError

    if dir_arg:
        root = Path(dir_arg).resolve()
        if not root.is_dir():
            raise CliError(f"no such folder: {root}")
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CliError(f"no {CONFIG_NAME} in {here} or any folder above it")


def run_trust(args: Any) -> int:
    from weft.cli import CliError

    store = TrustStore()
    out = sys.stdout
    if args.list:
        for record in store.records():
            out.write(
                f"{record.path}  sha256:{record.sha256[:16]}  {record.trusted_at}  "
                f"{_state_of(Path(record.path), record.sha256)}\n"
            )
        return 0
    root = _config_root(args.dir)
    path = config_path(root)
    if args.revoke:
        if store.revoke(path):
            out.write(f"no longer trusted: {path}\n")
        else:
            out.write(f"was not trusted: {path}\n")
        return 0
    config = load_repo_config(root, store=store)
    if config.sha256 is None:
        raise CliError(f"no {CONFIG_NAME} in {root}")
    if config.error:
        raise CliError(config.error)
    record = store.trust(path, config.sha256)
    out.write(f"trusted: {path} (sha256:{record.sha256[:16]})\n")
    enabled = _restricted_values(config.raw or {}, config.withheld)
    if enabled:
        out.write("it may now set:\n")
        out.write("".join(f"  {key} = {json.dumps(value)}\n" for key, value in enabled))
    out.write("Any change to the file revokes this until you run `weft trust` again.\n")
    return 0


def _state_of(path: Path, sha: str) -> str:
    from weft.trust import sha256_hex

    try:
        return "current" if sha256_hex(path.read_bytes()) == sha else "changed since (not trusted)"
    except OSError:
        return "missing"


def _restricted_values(raw: dict[str, Any], keys: list[str]) -> list[tuple[str, Any]]:
    """(key, value) for each dotted camelCase key the file sets."""
    from pydantic.alias_generators import to_camel, to_snake

    from weft.settings import expand_dotted

    data = expand_dotted(raw)
    out = []
    for key in keys:
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, dict):
                node = None
                break
            node = node.get(part, node.get(to_snake(part), node.get(to_camel(part))))
        out.append((key, node))
    return out


def doctor_lines(root: Path, settings: Any) -> list[str]:
    """Workspace trust, audit log and sandbox, as ``weft doctor`` prints them."""
    from weft.sandbox import availability

    config = load_repo_config(root)
    lines = ["", "workspace trust:"]
    if config.sha256 is None:
        lines.append(f"  no {CONFIG_NAME} in {root}")
    else:
        state = "trusted" if config.trusted else "NOT trusted"
        lines.append(f"  {config.path}: {state} (sha256:{config.sha256[:16]})")
        for key in config.ignored:
            why = "untrusted" if key in config.withheld else "user settings only"
            lines.append(f"  ignored: {key} ({why})")
        if config.withheld:
            lines.append(f"  trust it with: weft trust {root}")
    lines.append(f"  trust store: {state_dir() / 'trusted'}")
    audit = settings.privacy.audit_log
    lines += ["", f"audit log: {audit if audit else 'off (privacy.auditLog)'}"]
    problem = availability()
    sandbox = settings.agent.sandbox
    if sandbox == "off":
        verdict = "OFF (agent.sandbox = off): commands run with your full rights"
    elif problem is None:
        verdict = "bubblewrap (no network, read-only file system, credentials hidden)"
    else:
        verdict = f"NOT available: {problem}"
    lines += ["", f"sandbox: {verdict}"]
    return lines
