"""Settings: five sources merged in order, unknown keys reported, invalid values rejected whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from weft.settings import (
    Settings,
    expand_dotted,
    load_cli_source,
    load_toml_source,
    merge_settings,
    render_settings_markdown,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_defaults_when_no_source():
    result = merge_settings([])
    assert result.settings == Settings()
    assert result.settings.backend.kind == "auto"
    assert result.settings.backend.timeout_ms == 5000
    assert ".env*" in result.settings.privacy.default_denies()
    assert result.settings.privacy.exclude == []


def test_later_sources_win_key_by_key():
    result = merge_settings(
        [
            (
                "weft.toml",
                {"backend": {"kind": "ollama", "model": "a"}, "completion": {"maxTokens": 50}},
            ),
            ("initializationOptions", {"backend": {"model": "b"}}),
            ("workspace/configuration", {"backend": {"timeoutMs": 900}}),
            ("--settings", {"completion": {"max_tokens": 7}}),
        ]
    )
    s = result.settings
    assert (s.backend.kind, s.backend.model, s.backend.timeout_ms) == ("ollama", "b", 900)
    assert s.completion.max_tokens == 7
    assert result.origins["backend.model"] == "initializationOptions"
    assert result.origins["completion.maxTokens"] == "--settings"


def test_camel_and_snake_case_and_dotted_keys_are_accepted():
    result = merge_settings(
        [("x", {"completion.debounceMs": 10, "context": {"max_prompt_tokens": 100}})]
    )
    assert result.settings.completion.debounce_ms == 10
    assert result.settings.context.max_prompt_tokens == 100


def test_expand_dotted_merges_siblings():
    assert expand_dotted({"a.b": 1, "a.c": 2, "a": {"d": 3}}) == {"a": {"b": 1, "c": 2, "d": 3}}


def test_unknown_keys_are_reported_with_their_source_and_ignored():
    result = merge_settings([("weft.toml", {"backend": {"kindd": "x"}, "nope": 1})])
    assert result.settings == Settings()
    assert sorted(result.unknown_keys) == ["weft.toml: backend.kindd", "weft.toml: nope"]


def test_invalid_value_names_the_key_and_yields_no_settings():
    result = merge_settings([("a", {"backend": {"kind": "gpt9", "timeoutMs": -1}})])
    assert result.settings is None
    assert "backend.kind" in result.error and "backend.timeoutMs" in result.error


def test_null_sections_mean_unset():
    # VS Code sends null for settings the user never touched.
    result = merge_settings(
        [("workspace/configuration", {"agent": {"backend": None}, "backend": None})]
    )
    assert result.settings == Settings()


def test_agent_backend_defaults_to_completion_backend():
    s = merge_settings([("x", {"backend": {"kind": "openai", "model": "m"}})]).settings
    assert s.agent.effective_backend(s.backend).model == "m"
    s2 = merge_settings([("x", {"agent": {"backend": {"kind": "anthropic"}}})]).settings
    assert s2.agent.effective_backend(s2.backend).kind == "anthropic"


def test_api_key_comes_only_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("WEFT_TEST_KEY", "sk-123")
    s = merge_settings([("x", {"backend": {"apiKeyEnv": "WEFT_TEST_KEY", "apiKey": "inline"}})])
    assert s.settings.backend.api_key() == "sk-123"
    assert "x: backend.apiKey" in s.unknown_keys


def test_base_url_defaults_per_kind():
    s = merge_settings([("x", {"backend": {"kind": "anthropic"}})]).settings
    assert s.backend.base_url() == "https://api.anthropic.com"
    s = merge_settings([("x", {"backend": {"kind": "openai", "url": "http://h:1/v1/"}})]).settings
    assert s.backend.base_url() == "http://h:1/v1"


def test_toml_source(tmp_path):
    (tmp_path / "weft.toml").write_text(
        '[backend]\nkind = "llamacpp"\n[completion]\nmultiline = "never"\n'
    )
    data, error = load_toml_source(tmp_path)
    assert error is None
    s = merge_settings([("weft.toml", data)]).settings
    assert (s.backend.kind, s.completion.multiline) == ("llamacpp", "never")


def test_broken_toml_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "weft.toml").write_text("[backend\n")
    data, error = load_toml_source(tmp_path)
    assert data is None and "weft.toml" in error


def test_cli_source_inline_json_or_file(tmp_path):
    assert load_cli_source('{"backend": {"kind": "offline"}}') == {"backend": {"kind": "offline"}}
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"completion": {"enabled": False}}))
    assert load_cli_source(str(f)) == {"completion": {"enabled": False}}
    with pytest.raises(ValueError, match="not valid JSON"):
        load_cli_source("{nope")
    with pytest.raises(ValueError, match="cannot read"):
        load_cli_source(str(tmp_path / "missing.json"))


def test_settings_are_immutable():
    s = Settings()
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        s.backend.kind = "ollama"  # type: ignore[misc]


def test_docs_settings_md_matches_the_model():
    """docs/settings.md is generated; regenerate with `python -m weft.settings > docs/settings.md`."""
    assert DOCS.read_text(encoding="utf-8") == render_settings_markdown()
