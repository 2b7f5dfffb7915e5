"""The VS Code extension's contributed settings must match weft's settings model exactly."""

from __future__ import annotations

import json

from scripts.gen_vscode_settings import (
    PACKAGE_JSON,
    RESTRICTED_KEYS,
    build_configuration,
    dumps,
    render,
)

from weft.settings import Settings, flatten_schema, settings_json_schema


def _package() -> dict:
    return json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))


def _contributed(package: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for category in package["contributes"]["configuration"]:
        out.update(category["properties"])
    return out


def test_package_json_is_what_the_generator_writes() -> None:
    current = PACKAGE_JSON.read_text(encoding="utf-8")
    assert current == dumps(render(json.loads(current))), (
        "clients/vscode/package.json drifted from weft.settings: run python scripts/gen_vscode_settings.py"
    )


def test_every_server_setting_is_contributed_and_nothing_else() -> None:
    schema = settings_json_schema()
    model_keys = {f"weft.{key}" for key, _ in flatten_schema(schema, schema.get("$defs", {}))}
    contributed = set(_contributed(_package()))
    client_keys = {key for key in contributed if key.startswith(("weft.server.", "weft.trace."))}
    assert contributed - client_keys == model_keys
    assert "weft.server.command" in client_keys


def test_defaults_and_types_follow_the_model() -> None:
    props = _contributed(_package())
    defaults = Settings().to_json()
    assert props["weft.backend.timeoutMs"]["default"] == defaults["backend"]["timeoutMs"]
    assert props["weft.backend.timeoutMs"]["type"] == "integer"
    assert props["weft.backend.kind"]["enum"] == [
        "auto",
        "ollama",
        "openai",
        "llamacpp",
        "mistral",
        "anthropic",
        "offline",
    ]
    assert props["weft.privacy.exclude"]["default"] == defaults["privacy"]["exclude"]
    assert props["weft.backend.url"]["type"] == ["string", "null"]
    assert props["weft.agent.verifyCommand"]["type"] == ["array", "null"]
    nested = props["weft.agent.backend"]["properties"]
    assert set(nested) == set(defaults["backend"])
    assert props["weft.server.command"]["type"] == "array"
    assert props["weft.server.command"]["default"] == []


def test_a_new_model_field_makes_the_check_fail(monkeypatch) -> None:
    """The drift check is live: a schema with one more leaf no longer matches package.json."""
    import scripts.gen_vscode_settings as gen

    original = gen.settings_json_schema

    def extended() -> dict:
        schema = original()
        schema["$defs"]["CompletionSettings"]["properties"]["brandNew"] = {
            "type": "boolean",
            "default": False,
        }
        return schema

    monkeypatch.setattr(gen, "settings_json_schema", extended)
    current = PACKAGE_JSON.read_text(encoding="utf-8")
    assert current != dumps(render(json.loads(current)))
    assert any("weft.completion.brandNew" in c["properties"] for c in build_configuration())


def test_settings_that_run_or_send_things_are_restricted_in_untrusted_workspaces() -> None:
    package = _package()
    restricted = package["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    assert restricted == RESTRICTED_KEYS
    contributed = _contributed(package)
    assert all(key in contributed for key in restricted)
    assert {"weft.server.command", "weft.agent.verifyCommand", "weft.backend.apiKeyEnv"} <= set(
        restricted
    )
