"""Initialize, settings flow and shutdown.

Settings come from five sources (see ``weft.settings``). At ``initialize`` weft reads
``weft.toml`` and ``initializationOptions``; at ``initialized`` it pulls
``workspace/configuration`` (section ``weft``) and registers ``workspace/didChangeConfiguration``
dynamically, re-pulling on every change. A merge that does not validate is reported once and
the previous settings stay in force.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.uris import to_fs_path

from weft.features import workspace_trust
from weft.settings import merge_settings
from weft.trust import INIT_OPTION, editor_trust_from

logger = logging.getLogger(__name__)

SOURCE_ORDER = ("weft.toml", "initializationOptions", "workspace/configuration", "--settings")


def apply_sources(server: Any) -> bool:
    """Re-merge ``server.sources``; swap the settings in when they validate."""
    result = merge_settings((name, server.sources.get(name)) for name in SOURCE_ORDER)
    for key in result.unknown_keys:
        server.log(f"unknown setting ignored: {key}", "warning")
    if result.settings is None:
        server.log(f"{result.error}; keeping the previous settings", "error")
        if server.settings_error != result.error:  # one message per problem, not per re-pull
            server.show(f"weft: {result.error}. The previous settings stay in force.", "error")
        server.settings_error = result.error
        return False
    server.settings_error = None
    old = server.settings
    server.settings = result.settings
    server.audit.set_path(result.settings.privacy.audit_log)
    if old.backend != result.settings.backend:
        server.run_task(server.close_backends(), "closing old backends")
        if result.settings.backend.kind == "auto":
            server.run_task(server.resolve_auto_backend(), "resolving backend auto")
    return True


def _root_of(params: types.InitializeParams) -> Path | None:
    uri = None
    if params.workspace_folders:
        uri = params.workspace_folders[0].uri
    elif params.root_uri:
        uri = params.root_uri
    if uri:
        fs = to_fs_path(uri)
        return Path(fs) if fs else None
    return Path(params.root_path) if params.root_path else None


def _configuration_section(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        # Trust is said once, at initialize; a client that echoes it here changes nothing.
        return {k: v for k, v in value.items() if k != INIT_OPTION}
    return None


async def pull_configuration(server: Any) -> None:
    """Ask the client for section ``weft`` and apply it."""
    if not get_capability(server.client_capabilities, "workspace.configuration", False):
        return
    try:
        items = await asyncio.wait_for(
            server.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="weft")])
            ),
            10,
        )
    except Exception as exc:  # noqa: BLE001 - a client that cannot answer keeps the other sources
        server.log(f"workspace/configuration failed: {exc}", "warning")
        return
    value = items[0] if items else None
    server.sources["workspace/configuration"] = _configuration_section(value)
    apply_sources(server)


def warm_up() -> None:
    """Import the completion pipeline and load common grammars before the first keystroke."""
    from weft.completion import engine, extent, postprocess, syntax_guard  # noqa: F401
    from weft.index.languages import get_language

    for name in ("python", "javascript", "typescript"):
        get_language(name)


def register(server: Any) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: Any, params: types.InitializeParams) -> None:
        ls.root = _root_of(params)
        ls.position_encoding = str(ls.workspace.position_encoding or "utf-16")
        init = params.initialization_options
        if init is not None and not isinstance(init, dict):
            ls.log("initializationOptions ignored: expected an object", "warning")
            init = None
        ls.editor_trust, init = editor_trust_from(init)
        if isinstance(init, dict) and isinstance(init.get("settings"), dict):
            init = init["settings"]  # clients that nest them (e.g. {"settings": {...}})
        ls.sources["initializationOptions"] = init
        workspace_trust.load(ls)
        apply_sources(ls)
        inline = get_capability(params.capabilities, "text_document.inline_completion", None)
        ls.inline_supported = inline is not None
        from weft.features import completion, inline_completion

        if ls.inline_supported:
            inline_completion.enable(ls)
        else:
            completion.enable(ls)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: Any, params: types.InitializedParams) -> None:
        await ls.register_dynamically(
            "workspace.did_change_configuration.dynamic_registration",
            types.WORKSPACE_DID_CHANGE_CONFIGURATION,
            types.DidChangeConfigurationRegistrationOptions(section="weft"),
        )
        await pull_configuration(ls)
        workspace_trust.tell_about_ignored_keys(ls)
        ls.run_task(asyncio.to_thread(warm_up), "warming up the completion pipeline")
        if ls.settings.backend.kind == "auto":
            ls.run_task(ls.resolve_auto_backend(), "resolving backend auto")
        for listener in list(ls.initialized_listeners):
            try:
                await listener()
            except Exception as exc:  # noqa: BLE001 - one feature failing must not stop the rest
                ls.log(f"start-up step failed: {exc!r}", "error")
        ls.log(f"weft {ls.version} ready (root {ls.root}, backend {ls.settings.backend.kind})")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(ls: Any, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings
        if isinstance(pushed, dict) and isinstance(pushed.get("weft"), dict):
            ls.sources["workspace/configuration"] = pushed["weft"]
            apply_sources(ls)
        await pull_configuration(ls)

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: Any, *args: Any) -> None:
        await ls.close_backends()
