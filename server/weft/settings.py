"""weft's settings: one frozen pydantic model, camelCase in JSON, merged from five sources.

Sources, later wins: built-in defaults → ``weft.toml`` at the workspace root →
``initializationOptions`` → ``workspace/configuration`` section ``weft`` → ``--settings``.

Trust is a property of a setting, declared here next to it: a field declared with
``json_schema_extra={"trustedOnly": True}`` names a command, a network destination or a
credential, or weakens privacy, so ``weft.toml`` may set it only once the user has trusted that
file's exact content (``weft.trust``). ``"userOnly": True`` goes further: only the user's own
sources (editor settings, ``initializationOptions``, ``--settings``) may set it, never a
repository. :func:`trust_levels` lists both.
A source is a nested dict; dotted keys (``"backend.kind": "ollama"``, as VS Code may send
them) are expanded first. Unknown keys are reported and dropped; a merge that does not
validate is reported once, naming the keys, and the caller keeps its previous settings.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

BackendKind = Literal["auto", "ollama", "openai", "llamacpp", "mistral", "anthropic", "offline"]
TemplateName = Literal[
    "auto",
    "raw",
    "starcoder",
    "starcoder2",
    "codellama",
    "deepseek",
    "qwen",
    "codegemma",
    "codestral",
]

DEFAULT_URLS: dict[str, str] = {
    "ollama": "http://127.0.0.1:11434",
    "llamacpp": "http://127.0.0.1:8080",
    "openai": "https://api.openai.com/v1",
    "mistral": "https://api.mistral.ai/v1",
    "anthropic": "https://api.anthropic.com",
}

DEFAULT_PRIVACY_EXCLUDE = [
    ".env*",
    "**/.env*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    "secrets/**",
    "**/secrets/**",
]
"""The built-in privacy deny list: always in force, ``privacy.exclude`` adds to it and only the
trusted-only ``privacy.excludeRemove`` takes patterns out."""

TRUSTED_ONLY: dict[str, Any] = {"trustedOnly": True}
"""``json_schema_extra`` of a setting that a repository's ``weft.toml`` may set only when trusted."""
USER_ONLY: dict[str, Any] = {"trustedOnly": True, "userOnly": True}
"""``json_schema_extra`` of a setting that only the user's own sources may set."""


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="ignore",
        frozen=True,
    )


class BackendSettings(_Model):
    """Where model calls go."""

    kind: BackendKind = Field(
        "auto",
        description="Model server kind. auto: Ollama on localhost if it answers with a model, "
        "else the built-in offline engine.",
        json_schema_extra=TRUSTED_ONLY,  # each kind has a default URL: a network destination
    )
    url: str | None = Field(
        None,
        description="Base URL as each vendor's SDK takes it (null: the kind's default, e.g. "
        "http://127.0.0.1:11434 for Ollama, https://api.openai.com/v1 for OpenAI).",
        json_schema_extra=TRUSTED_ONLY,
    )
    model: str | None = Field(None, description="Model name sent to the backend.")
    api_key_env: str | None = Field(
        None,
        description="Name of the environment variable that holds the API key (null: no key). "
        "Keys are never read from settings themselves.",
        json_schema_extra=TRUSTED_ONLY,
    )
    api: Literal["completions", "chat"] = Field(
        "completions",
        description="openai kind only: completions (FIM via /completions) or chat (a "
        "hole-filling prompt via /chat/completions).",
    )
    timeout_ms: int = Field(
        5000,
        ge=100,
        le=600_000,
        description="Hard deadline for one model call, streaming included.",
    )

    def base_url(self) -> str:
        """The configured URL, or the kind's default, without a trailing slash."""
        return (self.url or DEFAULT_URLS.get(self.kind, DEFAULT_URLS["ollama"])).rstrip("/")

    def api_key(self) -> str | None:
        """The API key from the named environment variable, if any."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class CompletionSettings(_Model):
    """Inline completion."""

    enabled: bool = Field(True, description="Offer inline completions.")
    debounce_ms: int = Field(
        75,
        ge=0,
        le=5000,
        description="Wait this long after an automatic trigger before calling the model.",
    )
    max_tokens: int = Field(128, ge=1, le=4096, description="Most tokens the model may generate.")
    multiline: Literal["auto", "always", "never"] = Field(
        "auto",
        description="auto: multi-line after a block opener or on an empty line, else one line.",
    )
    template: TemplateName = Field(
        "auto",
        description="FIM prompt template. auto: chosen from the model name (or left to the "
        "endpoint when it takes prefix and suffix apart); raw: never apply a template.",
    )
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")


class ContextSettings(_Model):
    """What goes into a completion prompt."""

    max_prompt_tokens: int = Field(
        2048,
        ge=64,
        le=131_072,
        description="Budget for prefix + suffix (+ cross-file context), in estimated tokens.",
    )
    cross_file: bool = Field(
        True, description="Add definitions from other workspace files to prompts."
    )


class AgentSettings(_Model):
    """Stage 2: fix and refactor code actions."""

    backend: BackendSettings | None = Field(
        None,
        description="Chat model for the agent, same shape as backend (null: use backend).",
        json_schema_extra=TRUSTED_ONLY,
    )
    max_steps: int = Field(
        12, ge=1, le=100, description="Most model turns per run (tool calls and repairs)."
    )
    verify_command: list[str] | None = Field(
        None,
        description="argv run in a sandboxed scratch copy of the workspace with the edits "
        "applied; a non-zero exit is fed back to the model (null: only the re-parse check).",
        json_schema_extra=TRUSTED_ONLY,
    )
    verify_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="Deadline for verifyCommand, seconds."
    )
    tool_calling: bool = Field(
        True, description="Use tool calling; false: a single-shot prompt for models without tools."
    )
    sandbox: Literal["on", "off"] = Field(
        "on",
        description="on: commands weft runs (verifyCommand) run in a bubblewrap sandbox with no "
        "network, a read-only file system and no credentials, and are refused where no sandbox "
        "is available; off: they run with your full rights (user settings only).",
        json_schema_extra=USER_ONLY,
    )

    def effective_backend(self, fallback: BackendSettings) -> BackendSettings:
        """The agent's backend: its own when set, else the completion backend."""
        return self.backend or fallback


class IndexSettings(_Model):
    """The tree-sitter workspace index."""

    enabled: bool = Field(True, description="Build and maintain the workspace index.")
    exclude: list[str] = Field(default_factory=list, description="Extra globs never indexed.")
    max_file_kb: int = Field(
        1024, ge=1, le=1_048_576, description="Files larger than this are skipped."
    )
    cache_dir: str | None = Field(
        None,
        description="Where the on-disk index lives (null: $XDG_CACHE_HOME/weft).",
        json_schema_extra=TRUSTED_ONLY,
    )
    workspace_symbols: bool = Field(
        False,
        description="Answer workspace/symbol from the index (off: leave it to language servers).",
    )


class PrivacySettings(_Model):
    """What may leave the machine."""

    redact_secrets: bool = Field(
        True,
        description="Mask API keys, tokens and private keys in everything sent to a model.",
        json_schema_extra=TRUSTED_ONLY,
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Globs never read into a prompt, indexed or edited, in addition to the "
        "built-in deny list (.env*, *.pem, *.key, id_rsa*, .netrc, .ssh/, secrets/**, …); a "
        "`!` pattern here re-includes only what these globs excluded.",
    )
    exclude_remove: list[str] = Field(
        default_factory=list,
        description="Patterns of the built-in deny list to switch off, exactly as listed in "
        'docs/security.md (e.g. "*.key").',
        json_schema_extra=TRUSTED_ONLY,
    )
    audit_log: str | None = Field(
        None,
        description="Append one JSON line per HTTP request sent to a model server (time, "
        "endpoint, model, bytes, which redactions fired) to this file (null: off).",
        json_schema_extra=TRUSTED_ONLY,
    )

    def default_denies(self) -> tuple[str, ...]:
        """The built-in deny list minus ``excludeRemove``."""
        removed = set(self.exclude_remove)
        return tuple(glob for glob in DEFAULT_PRIVACY_EXCLUDE if glob not in removed)


class CheckerSettings(_Model):
    """One of the project's checkers (see docs/architecture.md, checks)."""

    enabled: bool = Field(True, description="Run this checker when its tool is present.")
    command: list[str] | None = Field(
        None,
        description="argv prefix that runs the tool (null: the project's own copy when "
        "checks.allowProjectCode, else the program on PATH).",
        json_schema_extra={"trustedOnly": True},
    )


class ChecksSettings(_Model):
    """weft's own checks: the project's checkers on the open document, in the background."""

    enabled: bool = Field(
        True, description="Run the project's checkers on open documents (in the background)."
    )
    publish: bool = Field(
        False,
        description="Also publish the findings as diagnostics (off: they only back 'Fix with "
        "weft' code actions, so the usual language servers' diagnostics are not doubled).",
    )
    delay_ms: int = Field(
        800, ge=0, le=60_000, description="Pause in typing before the checkers run."
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Deadline for one checker run.")
    allow_project_code: bool = Field(
        False,
        description="Allow checkers that execute code from the project (eslint configs, "
        "cargo build scripts, mypy plugins) and the project's own tool copies "
        "(node_modules/.bin, .venv/bin).",
        json_schema_extra={"trustedOnly": True},
    )
    syntax: bool = Field(True, description="Report tree-sitter syntax errors (every language).")
    ruff: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    pyflakes: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    mypy: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    pyright: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    tsc: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    eslint: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    go_vet: CheckerSettings = Field(default_factory=lambda: CheckerSettings())
    cargo: CheckerSettings = Field(default_factory=lambda: CheckerSettings())


class Settings(_Model):
    """All of weft's settings."""

    backend: BackendSettings = Field(default_factory=lambda: BackendSettings())
    completion: CompletionSettings = Field(default_factory=lambda: CompletionSettings())
    context: ContextSettings = Field(default_factory=lambda: ContextSettings())
    agent: AgentSettings = Field(default_factory=lambda: AgentSettings())
    index: IndexSettings = Field(default_factory=lambda: IndexSettings())
    privacy: PrivacySettings = Field(default_factory=lambda: PrivacySettings())
    checks: ChecksSettings = Field(default_factory=lambda: ChecksSettings())

    def to_json(self) -> dict[str, Any]:
        """camelCase JSON, as clients send it."""
        return self.model_dump(by_alias=True, mode="json")


def settings_json_schema() -> dict[str, Any]:
    """The JSON schema of :class:`Settings`, camelCase keys."""
    return Settings.model_json_schema(by_alias=True)


# -- trust -------------------------------------------------------------------------------

TrustLevel = Literal["trusted", "user"]


def _trust_of(info: Any) -> TrustLevel | None:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if extra.get("userOnly"):
        return "user"
    return "trusted" if extra.get("trustedOnly") else None


def trust_levels(model: type[BaseModel] = Settings, prefix: str = "") -> dict[str, TrustLevel]:
    """Dotted camelCase key → ``trusted`` (trusted-only) or ``user`` (user-level only), for
    every restricted setting; a restricted section covers all its keys."""
    out: dict[str, TrustLevel] = {}
    for name, info in model.model_fields.items():
        key = prefix + to_camel(name)
        level = _trust_of(info)
        sub = _submodel(info.annotation)
        if level is not None:
            out[key] = level
        elif sub is not None:
            out.update(trust_levels(sub, key + "."))
    return out


def split_by_trust(
    raw: Mapping[str, Any], trusted: bool, model: type[BaseModel] = Settings, prefix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """A repository source without the keys it may not set: trusted-only keys unless
    ``trusted``, user-only keys always. Returns what is kept and the dotted camelCase names of
    what was dropped. Unknown keys are kept (the merge reports them)."""
    fields = _field_index(model)
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in expand_dotted(raw).items():
        hit = fields.get(str(key))
        if hit is None:
            kept[key] = value
            continue
        name, annotation = hit
        dotted = prefix + to_camel(name)
        level = _trust_of(model.model_fields[name])
        if level == "user" or (level == "trusted" and not trusted):
            dropped.append(dotted)
            continue
        sub = _submodel(annotation)
        if sub is not None and isinstance(value, Mapping):
            value, more = split_by_trust(value, trusted, sub, dotted + ".")
            dropped.extend(more)
        kept[key] = value
    return kept, dropped


# -- merging -----------------------------------------------------------------------------


@dataclass
class MergeResult:
    """The outcome of :func:`merge_settings`."""

    settings: Settings | None
    """The validated settings, or None when the merge did not validate."""
    unknown_keys: list[str] = field(default_factory=list)
    """Dotted keys that no setting has (each prefixed by its source name)."""
    error: str | None = None
    """One message naming every invalid key, when ``settings`` is None."""
    origins: dict[str, str] = field(default_factory=dict)
    """Dotted key → the source that set it last."""


def expand_dotted(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"backend.kind": "x"}`` into ``{"backend": {"kind": "x"}}``, recursively."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, Mapping):
            value = expand_dotted(value)
        parts = str(key).split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            node[last] = deep_merge(node[last], value)
        else:
            node[last] = value
    return out


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``over`` into ``base``; nested dicts merge, anything else replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _field_index(model: type[BaseModel]) -> dict[str, tuple[str, Any]]:
    """Both spellings of each field name → (python name, annotation)."""
    index: dict[str, tuple[str, Any]] = {}
    for name, info in model.model_fields.items():
        index[name] = (name, info.annotation)
        index[to_camel(name)] = (name, info.annotation)
    return index


def _submodel(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def clean_source(
    raw: Mapping[str, Any], model: type[BaseModel] = Settings, prefix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """Drop unknown keys and ``None`` placeholders for sections; keys become snake_case.

    Returns the cleaned dict and the dotted names of the keys that were dropped.
    """
    fields = _field_index(model)
    cleaned: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in raw.items():
        hit = fields.get(str(key))
        if hit is None:
            unknown.append(prefix + str(key))
            continue
        name, annotation = hit
        sub = _submodel(annotation)
        if sub is not None and isinstance(value, Mapping):
            value, more = clean_source(value, sub, f"{prefix}{to_camel(name)}.")
            unknown.extend(more)
        elif sub is not None and value is None and annotation is sub:
            continue  # a null section means "not set" (VS Code sends nulls)
        cleaned[name] = value
    return cleaned, unknown


def _origins(raw: Mapping[str, Any], source: str, prefix: str, out: dict[str, str]) -> None:
    for key, value in raw.items():
        dotted = f"{prefix}{to_camel(key)}"
        if isinstance(value, Mapping):
            _origins(value, source, dotted + ".", out)
        else:
            out[dotted] = source


def format_validation_error(error: ValidationError) -> str:
    """One line naming each invalid key in camelCase dotted form."""
    parts = []
    for item in error.errors():
        key = ".".join(to_camel(str(p)) for p in item["loc"] if not isinstance(p, int))
        parts.append(f"{key}: {item['msg']}")
    return "invalid settings: " + "; ".join(parts)


def merge_settings(sources: Iterable[tuple[str, Mapping[str, Any] | None]]) -> MergeResult:
    """Merge named sources (earliest first) over the defaults and validate the result."""
    merged: dict[str, Any] = {}
    unknown: list[str] = []
    origins: dict[str, str] = {}
    for name, raw in sources:
        if not raw:
            continue
        if not isinstance(raw, Mapping):
            return MergeResult(None, unknown, f"invalid settings from {name}: expected an object")
        cleaned, dropped = clean_source(expand_dotted(raw))
        unknown.extend(f"{name}: {key}" for key in dropped)
        _origins(cleaned, name, "", origins)
        merged = deep_merge(merged, cleaned)
    try:
        return MergeResult(Settings.model_validate(merged), unknown, None, origins)
    except ValidationError as exc:
        return MergeResult(None, unknown, format_validation_error(exc), origins)


def load_toml_source(root: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    """``weft.toml`` at ``root``: (contents, None), (None, None) if absent, (None, error)."""
    if root is None:
        return None, None
    path = root / "weft.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh), None
    except FileNotFoundError:
        return None, None
    except UnicodeDecodeError as exc:
        return None, f"cannot read {path}: it is not UTF-8 text (byte {exc.start})"
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return None, f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"


def load_cli_source(value: str | None) -> dict[str, Any] | None:
    """``--settings``: inline JSON, or the path of a JSON file. Raises ValueError."""
    if not value:
        return None
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read settings file {value}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"settings are not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("settings must be a JSON object")
    return data


_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def mask_credentials(text: str) -> str:
    """Replace ``user:password@`` in every URL of ``text`` with ``***@``."""
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def masked_json(settings: Settings) -> dict[str, Any]:
    """Settings for display. Keys never live in settings, so only URLs with credentials are masked."""
    data = settings.to_json()
    for section in (data["backend"], data["agent"]["backend"] or {}):
        if section.get("url"):
            section["url"] = mask_credentials(section["url"])
    return data


def render_settings_markdown() -> str:
    """``docs/settings.md``, generated from the JSON schema (see scripts/gen_settings_docs.py)."""
    schema = settings_json_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# Settings reference",
        "",
        "<!-- Generated from weft.settings by `python -m weft.settings > docs/settings.md`. Do not edit. -->",
        "",
        "Sources, later wins: built-in defaults → `weft.toml` at the workspace root → "
        "`initializationOptions` → `workspace/configuration` section `weft` → `--settings`.",
        "In VS Code each key is `weft.<key>`; in `weft.toml` sections are tables (`[backend]`).",
        "API keys are never settings: `backend.apiKeyEnv` names the environment variable.",
        "",
        "Column *trust*: **trusted-only** keys take effect from a repository's `weft.toml` only "
        "after `weft trust` (or trusting the workspace in the editor) for that exact file "
        "content; **user only** keys are never read from `weft.toml`. Your own editor settings, "
        "`initializationOptions` and `--settings` may set every key. See docs/security.md.",
        "",
        "| key | type | default | trust | description |",
        "|---|---|---|---|---|",
    ]
    for key, prop in flatten_schema(schema, defs):
        description = prop.get("description", "").replace("|", "\\|")
        default = json.dumps(prop.get("default", [] if prop.get("type") == "array" else None))
        trust = (
            "user only"
            if prop.get("userOnly")
            else "trusted-only"
            if prop.get("trustedOnly")
            else "safe"
        )
        lines.append(
            f"| `{key}` | {_type_text(prop, defs)} | `{default}` | {trust} | {description} |"
        )
    return "\n".join(lines) + "\n"


def flatten_schema(
    schema: Mapping[str, Any], defs: Mapping[str, Any], prefix: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """Leaf settings as (dotted camelCase key, schema property), sections expanded."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref")
        if ref:
            out.extend(flatten_schema(defs[ref.rsplit("/", 1)[-1]], defs, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", dict(prop)))
    return out


def _type_text(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " \\| ".join(_type_text(p, defs) for p in prop["anyOf"])
    if "$ref" in prop:
        return "object (same keys as `backend`)"
    if prop.get("type") == "array":
        return f"array of {prop.get('items', {}).get('type', 'any')}"
    return str(prop.get("type", "any"))


if __name__ == "__main__":  # pragma: no cover - documentation generator
    import sys

    sys.stdout.write(render_settings_markdown())
