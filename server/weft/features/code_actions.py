"""Stage 2 in the editor: "Fix with weft" / "Refactor with weft…" code actions (SPEC §4).

Listing actions is cheap and never calls a model: one ``quickfix`` per diagnostic in range and
one ``refactor.rewrite`` on a selection, each carrying its arguments in ``data``.
``codeAction/resolve`` turns one into the ``weft.fix`` / ``weft.refactor`` command, and the
command runs the agent (``weft.agent.loop``) under one cancellable ``$/progress``, then delivers
the verified result as one ``workspace/applyEdit`` with versioned ``documentChanges``. A
document that changed while the agent worked is not edited: the run reports an error instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.uris import from_fs_path

from weft.agent.context import Diagnostic, Target
from weft.agent.edits import to_workspace_edit
from weft.agent.loop import (
    AgentConfigError,
    AgentLoop,
    AgentResult,
    AgentTask,
    agent_options,
    make_chat_client,
)
from weft.agent.repomap import RepoMapCache
from weft.agent.tools import PathRefused, workspace_for
from weft.checks.feature import with_known_diagnostics
from weft.consent import (
    ANNOTATION_ID,
    ask,
    change_annotation,
    describe,
    needing_consent,
    supports_annotations,
)
from weft.documents import Document

logger = logging.getLogger(__name__)

FIX_COMMAND = "weft.fix"
REFACTOR_COMMAND = "weft.refactor"
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


# -- listing (pure) ---------------------------------------------------------------------------


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    """Whether the ranges share a line (clients send the diagnostics of the cursor's line)."""
    return a.start.line <= b.end.line and b.start.line <= a.end.line


def _range_json(rng: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _diagnostic_json(diag: types.Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {"range": _range_json(diag.range), "message": diag.message}
    if diag.source:
        out["source"] = diag.source
    if diag.code is not None:
        out["code"] = diag.code
    if diag.severity is not None:
        out["severity"] = int(diag.severity)
    return out


def list_actions(params: types.CodeActionParams, with_command: bool) -> list[types.CodeAction]:
    """The actions for a request; ``with_command`` for clients that cannot resolve."""
    uri = params.text_document.uri
    only = [str(k) for k in params.context.only] if params.context.only else None
    actions: list[types.CodeAction] = []
    if _wanted(types.CodeActionKind.QuickFix, only):
        for diag in params.context.diagnostics:
            if not _overlaps(diag.range, params.range):
                continue
            message = diag.message.strip().splitlines()[0] if diag.message.strip() else "problem"
            args = {
                "uri": uri,
                "range": _range_json(diag.range),
                "diagnostics": [_diagnostic_json(diag)],
            }
            actions.append(
                _action(
                    f"Fix with weft: {message[:80]}",
                    types.CodeActionKind.QuickFix,
                    FIX_COMMAND,
                    args,
                    with_command,
                    [diag],
                )
            )
    selection = params.range
    if selection.start != selection.end and _wanted(types.CodeActionKind.RefactorRewrite, only):
        args = {"uri": uri, "range": _range_json(selection)}
        actions.append(
            _action(
                "Refactor with weft…",
                types.CodeActionKind.RefactorRewrite,
                REFACTOR_COMMAND,
                args,
                with_command,
            )
        )
    return actions


def _action(
    title: str,
    kind: str,
    command: str,
    args: dict[str, Any],
    with_command: bool,
    diagnostics: list[types.Diagnostic] | None = None,
) -> types.CodeAction:
    action = types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=diagnostics,
        data={"command": command, "arguments": [args]},
    )
    if with_command:
        action.command = types.Command(title=title, command=command, arguments=[args])
    return action


def resolve_action(action: types.CodeAction) -> types.CodeAction:
    """Attach the command that runs the agent (the model is only called when it runs).

    Raises ``JsonRpcInvalidParams`` (−32602) for an action whose ``data`` is not one of weft's.
    """
    from pygls.exceptions import JsonRpcInvalidParams

    data = action.data if isinstance(action.data, dict) else {}
    command = data.get("command")
    arguments = data.get("arguments") or []
    if command not in (FIX_COMMAND, REFACTOR_COMMAND) or not isinstance(arguments, list):
        raise JsonRpcInvalidParams("codeAction/resolve: data is not that of a weft code action")
    action.command = types.Command(title=action.title, command=command, arguments=arguments)
    return action


# -- running ----------------------------------------------------------------------------------


class BadArguments(ValueError):
    """Command arguments that do not have SPEC §4's shape."""


@dataclass(frozen=True)
class Request:
    kind: str
    uri: str | None
    start: tuple[int, int] | None
    end: tuple[int, int] | None
    diagnostics: list[dict[str, Any]]
    instruction: str


def _position(raw: Any) -> tuple[int, int]:
    try:
        line, character = int(raw["line"]), int(raw["character"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadArguments("range positions need integer line and character") from exc
    if line < 0 or character < 0:
        raise BadArguments("range positions may not be negative")
    return line, character


def parse_arguments(kind: str, args: tuple[Any, ...]) -> Request:
    """``weft.fix``: ``[{uri, range, diagnostics?}]``; ``weft.refactor``: ``[{instruction, uri?, range?}]``."""
    raw = args[0] if args else None
    if not isinstance(raw, dict):
        raise BadArguments(f"{kind} expects one object argument")
    uri = raw.get("uri")
    if uri is not None and not isinstance(uri, str):
        raise BadArguments("uri must be a string")
    rng = raw.get("range")
    start = end = None
    if rng is not None:
        if not isinstance(rng, dict):
            raise BadArguments("range must be an object")
        start, end = _position(rng.get("start")), _position(rng.get("end"))
    instruction = raw.get("instruction") or raw.get("message") or ""
    if not isinstance(instruction, str):
        raise BadArguments("instruction must be a string")
    diagnostics = raw.get("diagnostics") or []
    if not isinstance(diagnostics, list) or not all(isinstance(d, dict) for d in diagnostics):
        raise BadArguments("diagnostics must be a list of objects")
    if kind == "fix" and (uri is None or start is None):
        raise BadArguments("weft.fix needs uri and range")
    if kind == "refactor" and not instruction.strip():
        raise BadArguments("weft.refactor needs an instruction")
    return Request(kind, uri, start, end, diagnostics, instruction.strip())


def _result(
    applied: bool,
    files: list[str],
    summary: str,
    error: str | None = None,
    withheld: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"applied": applied, "files": files, "summary": summary}
    if error is not None:
        out["error"] = error
    if withheld:
        out["withheld"] = withheld
    return out


def _rel(root: Path, doc_path: Path | None) -> str | None:
    if doc_path is None:
        return None
    try:
        return Path(os.path.realpath(doc_path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return None


def open_documents(ls: Any, root: Path) -> dict[str, Document]:
    """Open documents inside ``root`` by relative path."""
    out: dict[str, Document] = {}
    for doc in list(ls.documents.values()):
        rel = _rel(root, doc.path)
        if rel is not None:
            out[rel] = doc
    return out


def stale_reason(
    result: AgentResult, at_start: dict[str, Document], now: dict[str, Document], root: Path
) -> str | None:
    """Why the edit may not be applied any more (a file it touches changed), or None."""
    for path in sorted(result.texts):
        original = result.originals.get(path)
        before, current = at_start.get(path), now.get(path)
        if current is not None:
            if before is not None and current.version != before.version:
                return (
                    f"{path} changed while weft was working (version {before.version} → "
                    f"{current.version}); nothing was applied. Run it again on the new text."
                )
            if before is None and current.text != original:
                return f"{path} was opened with different text while weft was working; nothing was applied."
            continue
        disk = root / path
        try:
            text = disk.read_text(encoding="utf-8", errors="replace") if disk.exists() else None
        except OSError:
            text = None
        if text != original:
            return f"{path} changed on disk while weft was working; nothing was applied."
    return None


def _task(request: Request, root: Path, docs: dict[str, Document]) -> AgentTask:
    target = None
    if request.uri is not None:
        doc_path = next((d.path for d in docs.values() if d.uri == request.uri), None)
        if doc_path is None and request.uri.startswith("file:"):
            from pygls.uris import to_fs_path

            fs = to_fs_path(request.uri)
            doc_path = Path(fs) if fs else None
        rel = _rel(root, doc_path)
        if rel is None:
            raise BadArguments(f"{request.uri} is not inside the workspace root")
        start = request.start or (0, 0)
        end = request.end or start
        target = Target(rel, start[0], max(start[0], end[0]), start[1])
    diagnostics = [
        Diagnostic(
            int(
                (d.get("range") or {})
                .get("start", {})
                .get("line", target.start_line if target else 0)
            ),
            str(d.get("message", "")),
            ":".join(str(x) for x in (d.get("source"), d.get("code")) if x not in (None, "")),
        )
        for d in request.diagnostics
    ]
    return AgentTask(request.kind, request.instruction, target, diagnostics)


async def run_agent_command(ls: Any, kind: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """Run ``weft.fix`` / ``weft.refactor`` and deliver the edit; always returns a result object."""
    try:
        request = parse_arguments(kind, args)
    except BadArguments as exc:
        return _result(False, [], "", f"invalid arguments: {exc}")
    root: Path | None = ls.root
    if root is None:
        return _result(False, [], "", "no workspace root: open a folder to use weft's agent")
    settings = ls.settings
    try:
        chat = make_chat_client(settings, ls.audit)
    except AgentConfigError as exc:
        return _result(False, [], "", str(exc))
    at_start = open_documents(ls, root)
    try:
        task = _task(request, root, at_start)
        workspace = workspace_for(
            root,
            settings,
            index=ls.index,
            overlays={rel: doc.text for rel, doc in at_start.items()},
            file_filter=ls.workspace_filter(),
        )
        if task.target is not None:
            workspace.resolve(task.target.path, for_write=True)
    except (BadArguments, PathRefused) as exc:
        await chat.aclose()
        return _result(False, [], "", str(exc))
    title = "weft: fixing" if kind == "fix" else "weft: refactoring"
    try:
        async with ls.progress(title, cancellable=True) as report:
            loop = AgentLoop(
                workspace,
                chat,
                agent_options(settings),
                report=lambda message: report(message),
                cancelled=lambda: report.cancelled,
                repo_cache=repo_cache_of(ls),
            )
            result = await loop.run(task)
    finally:
        await chat.aclose()
    logger.info(
        "agent %s: %d steps, error=%s, timings=%s",
        kind,
        result.steps,
        result.error,
        {k: [round(v, 1) for v in vs] for k, vs in result.timings.items()},
    )
    if result.error is not None:
        return _result(False, [], result.summary, result.error)
    return await deliver(ls, root, result, at_start)


@dataclass
class Consent:
    """A result after the user's word on the changes that need consent (``weft.consent``)."""

    result: AgentResult
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    change_annotations: dict[str, types.ChangeAnnotation] | None = None
    withheld: list[str] = dataclasses.field(default_factory=list)
    """URIs of the files left out."""
    refusal: str | None = None


async def settle_consent(ls: Any, result: AgentResult, uris: dict[str, str]) -> Consent:
    """Annotate the changes that need consent (clients that confirm annotations), or ask with
    ``window/showMessageRequest`` and leave them out unless the user says "Apply all"."""
    gated = needing_consent(result.texts)
    if not gated:
        return Consent(result)
    if supports_annotations(ls.client_capabilities):
        return Consent(
            result,
            dict.fromkeys(gated, ANNOTATION_ID),
            {ANNOTATION_ID: change_annotation(gated)},
        )
    if await ask(ls, gated):
        return Consent(result)
    rest = dataclasses.replace(
        result,
        texts={p: t for p, t in result.texts.items() if p not in gated},
        created=result.created - set(gated),
    )
    refusal = f"nothing was applied: every change needs your confirmation ({describe(gated)})"
    return Consent(rest, withheld=[uris[p] for p in gated], refusal=refusal)


async def deliver(
    ls: Any, root: Path, result: AgentResult, at_start: dict[str, Document]
) -> dict[str, Any]:
    """Send one ``workspace/applyEdit`` for a verified result, unless a file moved on."""
    now = open_documents(ls, root)
    uris = {
        path: now[path].uri
        if path in now
        else from_fs_path(str(root / path)) or (root / path).as_uri()
        for path in result.texts
    }
    files = [uris[p] for p in sorted(result.texts)]
    reason = stale_reason(result, at_start, now, root)
    if reason is not None:
        return _result(False, files, result.summary, reason)
    if not get_capability(ls.client_capabilities, "workspace.apply_edit", False):
        return _result(
            False, files, result.summary, "the editor does not accept workspace/applyEdit"
        )
    consent = await settle_consent(ls, result, uris)
    result, withheld = consent.result, consent.withheld
    files = [uris[p] for p in sorted(result.texts)]
    if not result.texts:
        return _result(False, [], result.summary, consent.refusal, withheld)
    versions = {path: doc.version for path, doc in now.items()}
    edit = to_workspace_edit(
        result.texts,
        result.originals,
        uris,
        versions,
        ls.position_encoding,
        consent.annotations,
        consent.change_annotations,
    )
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=f"weft: {result.summary}"[:120])
    )
    if not answer.applied:
        why = answer.failure_reason or "no reason given"
        return _result(
            False, files, result.summary, f"the editor did not apply the edit: {why}", withheld
        )
    return _result(True, files, result.summary, withheld=withheld)


# -- registration -----------------------------------------------------------------------------


def repo_cache_of(ls: Any) -> RepoMapCache:
    """The server's repository-map cache (created by :func:`register`)."""
    cache = getattr(ls, "repo_map_cache", None)
    if cache is None:
        cache = ls.repo_map_cache = RepoMapCache()
    return cache


def warm_repo_map(ls: Any) -> None:
    """Build the repository graph in a thread if it is stale, so a run does not wait for it."""
    index = ls.index
    cache = repo_cache_of(ls)
    if index is None or ls.root is None or getattr(ls, "_repo_map_warming", False):
        return
    try:
        if cache.fresh(index) is not None:
            return
        workspace = workspace_for(
            ls.root, ls.settings, index=index, file_filter=ls.workspace_filter()
        )
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation only
        logger.info("repository map not warmed: %s", exc)
        return

    async def warm() -> None:
        ls._repo_map_warming = True
        try:
            await asyncio.to_thread(cache.get, index, workspace._allowed)
        finally:
            ls._repo_map_warming = False

    ls.run_task(warm(), "repository map")


def register(server: Any) -> None:
    server.repo_map_cache = RepoMapCache()

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True),
    )
    def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is not None and ls.is_private(doc):
            return None
        resolvable = get_capability(
            ls.client_capabilities, "text_document.code_action.resolve_support", None
        )
        can_resolve = resolvable is not None and "command" in (resolvable.properties or [])
        params = with_known_diagnostics(ls, params)  # forwarded diagnostics, weft's own checks
        actions = list_actions(params, with_command=not can_resolve)
        if actions:
            warm_repo_map(ls)
        return actions or None

    @server.feature(types.CODE_ACTION_RESOLVE)
    def code_action_resolve(ls: Any, action: types.CodeAction) -> types.CodeAction:
        return resolve_action(action)

    @server.command(FIX_COMMAND)
    async def fix(ls: Any, *args: Any) -> dict[str, Any]:
        return await run_agent_command(ls, "fix", args)

    @server.command(REFACTOR_COMMAND)
    async def refactor(ls: Any, *args: Any) -> dict[str, Any]:
        return await run_agent_command(ls, "refactor", args)
