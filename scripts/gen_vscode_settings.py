"""Generate ``contributes.configuration`` of the VS Code extension from weft's settings model.

Every leaf of :func:`weft.settings.settings_json_schema` becomes ``weft.<dotted key>`` with its
type, enum, bounds, description and default, grouped by section; the client's own settings
(``weft.server.*``, ``weft.trace.server``) are added by hand here because the server never sees
them. ``tests/unit/test_vscode_settings_drift.py`` fails when package.json and the model drift.

    python scripts/gen_vscode_settings.py          # rewrite clients/vscode/package.json
    python scripts/gen_vscode_settings.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_JSON = ROOT / "clients" / "vscode" / "package.json"

sys.path.insert(0, str(ROOT / "server"))

from weft.settings import (  # noqa: E402
    Settings,
    flatten_schema,
    settings_json_schema,
    trust_levels,
)

SECTION_TITLES = {
    "backend": "Backend (completion model)",
    "completion": "Inline completion",
    "context": "Prompt context",
    "agent": "Agent (fix and refactor)",
    "index": "Workspace index",
    "privacy": "Privacy",
    "checks": "Checks (the project's checkers)",
}

# Settings that let a workspace run programs, send data somewhere, read environment variables
# or weaken privacy: VS Code ignores their workspace values until the user trusts the workspace.
# The server's are the trusted-only keys of the settings model (one place decides).
RESTRICTED_KEYS = [
    "weft.server.command",
    "weft.server.python",
    *(f"weft.{key}" for key in trust_levels()),
]
USER_ONLY_KEYS = [f"weft.{key}" for key, level in trust_levels().items() if level == "user"]
"""Settings only the user's own settings may hold: scope ``machine`` (no workspace values)."""

CLIENT_SECTION: dict[str, Any] = {
    "title": "Server",
    "properties": {
        "weft.server.command": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "scope": "machine-overridable",
            "markdownDescription": "How to start the weft language server, as an argv (for example "
            '`["weft", "serve"]` or `["/path/to/python", "-m", "weft", "serve"]`). Empty: a private '
            "environment that the extension creates from the wheel it ships. Changing it restarts "
            "the server.",
        },
        "weft.server.python": {
            "type": "string",
            "default": "",
            "scope": "machine-overridable",
            "markdownDescription": "The Python (3.11 or newer) used to create the private server "
            "environment when `#weft.server.command#` is empty. Empty: the first of python3.13, "
            "python3.12, python3.11, python3, python on PATH that is new enough.",
        },
        "weft.server.logLevel": {
            "type": "string",
            "enum": ["debug", "info", "warning", "error"],
            "default": "info",
            "scope": "window",
            "description": "The server's log level (its log is in the weft output channel). "
            "Changing it restarts the server.",
        },
        "weft.trace.server": {
            "type": "string",
            "enum": ["off", "messages", "verbose"],
            "default": "off",
            "scope": "window",
            "description": "Trace the LSP messages between VS Code and the weft server.",
        },
    },
}


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key, or None when the model has no default there."""
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _types(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """The VS Code (JSON schema draft 7) typing of one pydantic schema property."""
    if "anyOf" in prop:
        out: dict[str, Any] = {"type": []}
        for option in prop["anyOf"]:
            sub = _types(option, defs)
            out["type"].append(sub.pop("type"))
            out.update(sub)
        return out
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[-1]]
        properties = {name: _leaf(sub, defs, None) for name, sub in target["properties"].items()}
        return {"type": "object", "properties": properties, "additionalProperties": False}
    out = {"type": prop.get("type", "string")}
    for key in ("enum", "items", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in prop:
            out[key] = prop[key]
    return out


def _leaf(prop: Mapping[str, Any], defs: Mapping[str, Any], default: Any) -> dict[str, Any]:
    out = _types(prop, defs)
    out["default"] = default if default is not None or "default" not in prop else prop["default"]
    if "description" in prop:
        out["description"] = prop["description"]
    return out


def build_configuration() -> list[dict[str, Any]]:
    """``contributes.configuration``: the client's own section, then one per settings section."""
    schema = settings_json_schema()
    defs = schema.get("$defs", {})
    defaults = Settings().to_json()
    sections: dict[str, dict[str, Any]] = {}
    for key, prop in flatten_schema(schema, defs):
        section = key.split(".", 1)[0]
        entry = _leaf(prop, defs, _lookup(defaults, key))
        entry["scope"] = "machine" if f"weft.{key}" in USER_ONLY_KEYS else "window"
        properties = sections.setdefault(section, {})
        properties[f"weft.{key}"] = entry
    categories = [CLIENT_SECTION]
    for section, properties in sections.items():
        title = SECTION_TITLES.get(section, section.capitalize())
        categories.append({"title": title, "properties": properties})
    return categories


def untrusted_workspaces() -> dict[str, Any]:
    return {
        "supported": "limited",
        "description": "In an untrusted workspace weft ignores workspace values of the settings "
        "that start programs, choose where code is sent, read environment variables or weaken "
        "privacy, and the trusted-only settings of the repository's weft.toml.",
        "restrictedConfigurations": RESTRICTED_KEYS,
    }


def render(package: dict[str, Any]) -> dict[str, Any]:
    """``package`` with its generated parts replaced (other keys keep their order)."""
    package = dict(package)
    contributes = dict(package.get("contributes", {}))
    contributes["configuration"] = build_configuration()
    package["contributes"] = contributes
    capabilities = dict(package.get("capabilities", {}))
    capabilities["untrustedWorkspaces"] = untrusted_workspaces()
    package["capabilities"] = capabilities
    return package


def dumps(package: Mapping[str, Any]) -> str:
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if package.json is stale")
    args = parser.parse_args(argv)
    current = PACKAGE_JSON.read_text(encoding="utf-8")
    wanted = dumps(render(json.loads(current)))
    if args.check:
        if current != wanted:
            sys.stderr.write(
                f"{PACKAGE_JSON} is stale: run python scripts/gen_vscode_settings.py\n"
            )
            return 1
        return 0
    if current != wanted:
        PACKAGE_JSON.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
