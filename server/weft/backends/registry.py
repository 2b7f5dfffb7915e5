"""Backend construction from settings, and probing (for ``weft doctor`` and ``backend.kind = auto``).

``create_backend`` builds the HTTP backend for a concrete kind; ``auto`` and ``offline`` are not
HTTP backends and are resolved by the caller (``auto``: Ollama on localhost when
``probe`` finds it reachable with at least one model, else the offline engine).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx

from weft.backends.anthropic import AnthropicBackend
from weft.backends.base import BackendError, BackendInfo, CompletionBackend
from weft.backends.http import HttpBackend
from weft.backends.llamacpp import LlamaCppBackend
from weft.backends.mistral import MistralBackend
from weft.backends.ollama import OllamaBackend
from weft.backends.openai import OpenAIChatBackend, OpenAICompletionsBackend
from weft.settings import DEFAULT_URLS, BackendSettings

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_MS = 2000
"""Longest a probe waits (capped further by backend.timeoutMs)."""


def _openai(settings: BackendSettings, limits: httpx.Limits | None) -> HttpBackend:
    if settings.api == "chat":
        return OpenAIChatBackend(settings, limits=limits)
    return OpenAICompletionsBackend(settings, limits=limits)


_FACTORIES: dict[str, Callable[[BackendSettings, httpx.Limits | None], HttpBackend]] = {
    "ollama": lambda s, limits: OllamaBackend(s, limits=limits),
    "openai": _openai,
    "llamacpp": lambda s, limits: LlamaCppBackend(s, limits=limits),
    "mistral": lambda s, limits: MistralBackend(s, limits=limits),
    "anthropic": lambda s, limits: AnthropicBackend(s, limits=limits),
}


def create_backend(
    settings: BackendSettings, *, limits: httpx.Limits | None = None, audit: Any = None
) -> CompletionBackend:
    """The backend for ``settings.kind``; ValueError for ``auto``/``offline`` (not HTTP).
    ``audit`` (a ``weft.privacy.AuditLog``) records every request its client sends."""
    factory = _FACTORIES.get(settings.kind)
    if factory is None:
        raise ValueError(f"backend kind {settings.kind!r} has no HTTP backend; resolve it first")
    backend = factory(settings, limits)
    if audit is not None:
        backend.client.event_hooks = audit.hooks(settings.model)
    return backend


def auto_settings(settings: BackendSettings) -> BackendSettings:
    """What ``auto`` probes: Ollama at ``backend.url`` or its default URL."""
    return settings.model_copy(
        update={"kind": "ollama", "url": settings.url or DEFAULT_URLS["ollama"]}
    )


async def probe(settings: BackendSettings, audit: Any = None) -> BackendInfo:
    """Reachability and model list; never raises for a backend fault.

    For ``auto`` it probes Ollama (the caller picks Ollama when the result is reachable and
    lists at least one model). ``offline`` is always reachable and has no models. ``error`` also
    names a configured model the server does not list.
    """
    if settings.kind == "offline":
        return BackendInfo(kind="offline", url="", model=settings.model, reachable=True)
    target = auto_settings(settings) if settings.kind == "auto" else settings
    target = target.model_copy(update={"timeout_ms": min(target.timeout_ms, PROBE_TIMEOUT_MS)})
    info = BackendInfo(kind=settings.kind, url=target.base_url(), model=settings.model)
    backend = create_backend(target, audit=audit)
    try:
        # httpx's read timeout resets per chunk; the probe gets a hard deadline too.
        async with asyncio.timeout(target.timeout_ms / 1000):
            info.models = await backend.list_models()
        info.reachable = True
    except BackendError as exc:
        info.error = str(exc)
        return info
    except TimeoutError:
        info.error = f"{target.kind}: no answer from {info.url} within {target.timeout_ms} ms"
        return info
    finally:
        await backend.aclose()
    if settings.kind == "auto" and not info.models:
        info.error = "ollama: reachable but no model is pulled"
    elif settings.model and info.models and not model_listed(settings.model, info.models):
        info.error = (
            f"{target.kind}: model {settings.model!r} is not among the "
            f"{len(info.models)} models the server lists"
        )
    return info


def model_listed(model: str, models: list[str]) -> bool:
    """Ollama names ``qwen2.5-coder`` and ``qwen2.5-coder:latest`` the same model."""

    def norm(name: str) -> str:
        return name[: -len(":latest")] if name.endswith(":latest") else name

    return norm(model) in {norm(name) for name in models}
