"""docs/backends.md: every weft.toml and VS Code snippet is valid settings, and each kind has
a worked example."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from weft.settings import merge_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "backends.md"
BLOCK = re.compile(r"```(toml|json)\n(.*?)```", re.S)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(DOC.read_text(encoding="utf-8")) if kind == lang]


def test_toml_snippets_are_valid_settings() -> None:
    kinds = set()
    for body in blocks("toml"):
        result = merge_settings([("weft.toml", tomllib.loads(body))])
        assert result.settings is not None, (result.error, body)
        assert result.unknown_keys == [], body
        kinds.add((result.settings.backend.kind, result.settings.backend.api))
    assert {
        ("ollama", "completions"),
        ("llamacpp", "completions"),
        ("openai", "completions"),
        ("openai", "chat"),
        ("mistral", "completions"),
        ("anthropic", "completions"),
    } <= kinds


def test_vscode_snippets_match_the_toml_ones() -> None:
    tomls = blocks("toml")
    jsons = blocks("json")
    assert len(jsons) == len(tomls)
    for toml_body, json_body in zip(tomls, jsons, strict=True):
        data = json.loads(json_body)
        assert all(key.startswith("weft.") for key in data)
        from_json = merge_settings(
            [("vscode", {k.removeprefix("weft."): v for k, v in data.items()})]
        )
        assert from_json.settings is not None and from_json.unknown_keys == []
        from_toml = merge_settings([("weft.toml", tomllib.loads(toml_body))]).settings
        assert from_toml is not None
        # The JSON may leave out keys whose value is the default (e.g. timeoutMs).
        assert (
            from_json.settings.backend.model_copy(
                update={"timeout_ms": from_toml.backend.timeout_ms}
            )
            == from_toml.backend
        ), (toml_body, json_body)
