"""The ``weft`` command line (SPEC §1). Only argument handling and printing live here.

Every subcommand reuses the functions the server uses; bad input gets one line on stderr
naming the problem and exit status 2, with nothing written to stdout; a failure of the machine
(a port in use) one line and status 1. No path prints a traceback (``WEFT_DEBUG=1`` does).
``weft`` alone prints its usage: editors start ``weft serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from weft import __version__

EXIT_BAD_INPUT = 2
CONFIG_EDITS_HELP = (
    "with --apply, also write edits to files that can run code or weaken weft's protections "
    "(weft.toml, ignore files, .vscode/, CI, package scripts; see docs/security.md)"
)


class CliError(Exception):
    """Bad input: printed as one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``weft serve: …``), exit status 2."""

    def error(self, message: str) -> Any:
        sys.stderr.write(f"{self.prog}: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1 to 65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="weft", description="AI completion and agent edits for any LSP editor.")
    parser.add_argument("--version", action="version", version=f"weft {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument(
        "--stdio", action="store_true", help="talk JSON-RPC over stdin/stdout (default)"
    )
    mode.add_argument("--tcp", type=_port, metavar="PORT", help="listen on 127.0.0.1:PORT instead")
    serve.add_argument("--log-file", help="also write logs to this file")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    complete = sub.add_parser(
        "complete", help="one inline completion through the editor's pipeline"
    )
    complete.add_argument("location", metavar="PATH:LINE:COL", help="1-based line and column")
    complete.add_argument(
        "--root", help="workspace root (default: nearest folder with .git or weft.toml)"
    )
    complete.add_argument("--settings", help="settings as JSON, or a JSON file")
    complete.add_argument("--json", action="store_true", help="print the items with ranges as JSON")

    index = sub.add_parser("index", help="build or refresh the on-disk index")
    index.add_argument("root", nargs="?", default=None)
    index.add_argument("--settings", help="settings as JSON, or a JSON file")
    index.add_argument("--json", action="store_true")

    fix = sub.add_parser("fix", help="run the Fix agent on PATH:LINE and print the verified diff")
    fix.add_argument("location", metavar="PATH:LINE")
    fix.add_argument("--root")
    fix.add_argument("--message", help="the diagnostic text")
    fix.add_argument("--settings", help="settings as JSON, or a JSON file")
    fix.add_argument("--apply", action="store_true", help="write the edit")
    fix.add_argument("--allow-config-edits", action="store_true", help=CONFIG_EDITS_HELP)

    refactor = sub.add_parser(
        "refactor", help="run a multi-file refactor and print the verified diff"
    )
    refactor.add_argument("instruction")
    refactor.add_argument("--root")
    refactor.add_argument("--settings", help="settings as JSON, or a JSON file")
    refactor.add_argument("--apply", action="store_true", help="write the edit")
    refactor.add_argument("--allow-config-edits", action="store_true", help=CONFIG_EDITS_HELP)

    trust = sub.add_parser(
        "trust", help="trust DIR's weft.toml as it is now (its trusted-only settings apply)"
    )
    trust.add_argument("dir", nargs="?", default=None, metavar="DIR")
    trust_mode = trust.add_mutually_exclusive_group()
    trust_mode.add_argument("--revoke", action="store_true", help="stop trusting DIR's weft.toml")
    trust_mode.add_argument("--list", action="store_true", help="list trusted files")

    doctor = sub.add_parser(
        "doctor", help="settings in effect, backend reachability, grammars, index"
    )
    doctor.add_argument("--root")
    doctor.add_argument("--settings", help="settings as JSON, or a JSON file")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            "weft: a command is needed: `weft serve` runs the language server, "
            "`weft --help` lists the others\n"
        )
        return EXIT_BAD_INPUT
    if args.command != "serve":
        logging.basicConfig(level=logging.WARNING, format="weft: %(message)s", force=True)
    try:
        return _command(args)
    except CliError as exc:
        sys.stderr.write(f"weft: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (unless asked)
        if os.environ.get("WEFT_DEBUG"):
            raise
        sys.stderr.write(f"weft: internal error: {exc!r} (WEFT_DEBUG=1 shows where)\n")
        return 1


def _command(args: argparse.Namespace) -> int:
    command = args.command
    if command == "serve":
        return _serve(args)
    if command == "complete":
        return asyncio.run(_complete(args))
    if command == "doctor":
        return asyncio.run(_doctor(args))
    if command == "index":
        from weft.index.command import run as run_index

        folder = _root_or_cwd(args.root)
        settings, _ = load_settings(folder, getattr(args, "settings", None))
        return run_index(str(folder), args.json, settings)
    if command == "fix":
        from weft.agent.command import run_fix

        return run_fix(args)
    if command == "refactor":
        from weft.agent.command import run_refactor

        return run_refactor(args)
    if command == "trust":
        from weft.trust_command import run_trust

        return run_trust(args)
    return EXIT_BAD_INPUT


# -- serve ------------------------------------------------------------------------------


def setup_logging(level: str = "info", log_file: str | None = None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    # pygls logs every message it sends at INFO: too costly and too loud on the keystroke path.
    for noisy in ("pygls", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, getattr(logging, level.upper())))


def _serve(args: argparse.Namespace) -> int:
    from weft.server import create_server
    from weft.transport import serve_stdio, serve_tcp

    if args.log_file:
        try:
            with open(args.log_file, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise CliError(f"cannot write the log file {args.log_file}: {exc.strerror}") from exc
    setup_logging(args.log_level, args.log_file)
    server = create_server()
    if not args.tcp:
        return serve_stdio(server)
    try:
        return serve_tcp(server, "127.0.0.1", args.tcp)
    except OSError as exc:
        sys.stderr.write(f"weft: cannot listen on 127.0.0.1:{args.tcp}: {exc.strerror or exc}\n")
        return 1


# -- settings and positions for one-shot commands ---------------------------------------


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding .git or weft.toml (else ``start``)."""
    return project_root(start) or start


def project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding .git or weft.toml; None outside any."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / "weft.toml").exists():
            return folder
    return None


def _root_or_cwd(root: str | None) -> Path:
    """``--root`` (an existing folder; CliError otherwise), or the current folder."""
    if not root:
        return Path.cwd()
    folder = Path(root)
    if not folder.exists():
        raise CliError(f"no such folder: {root}")
    if not folder.is_dir():
        raise CliError(f"not a folder: {root}")
    return folder.resolve()


def load_settings(root: Path | None, cli_value: str | None) -> tuple[Any, Any]:
    """Defaults → weft.toml (under its trust) → --settings, as the server merges them.
    Raises CliError."""
    from weft.settings import load_cli_source, merge_settings
    from weft.trust import load_repo_config, untrusted_message

    repo = load_repo_config(root)
    if repo.error:
        raise CliError(repo.error)
    if repo.ignored:
        sys.stderr.write(untrusted_message(repo) + "\n")
    try:
        cli = load_cli_source(cli_value)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    result = merge_settings([("weft.toml", repo.settings), ("--settings", cli)])
    for key in result.unknown_keys:
        sys.stderr.write(f"weft: unknown setting ignored: {key}\n")
    if result.settings is None:
        raise CliError(result.error or "invalid settings")
    return result.settings, result


def parse_location(location: str, parts: int) -> tuple[Path, list[int]]:
    """``PATH:LINE[:COL]`` → (path, [line, col]) with 1-based numbers. Raises CliError."""
    pieces = location.rsplit(":", parts)
    if len(pieces) != parts + 1:
        raise CliError(
            f"expected {'PATH:LINE:COL' if parts == 2 else 'PATH:LINE'}, got {location!r}"
        )
    try:
        numbers = [int(p) for p in pieces[1:]]
    except ValueError as exc:
        raise CliError(f"line and column must be numbers in {location!r}") from exc
    if any(n < 1 for n in numbers):
        raise CliError(f"line and column are 1-based in {location!r}")
    return Path(pieces[0]), numbers


def read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CliError(f"no such file: {path}") from exc
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start})") from exc


def offset_of(text: str, line: int, col: int) -> int:
    """Offset of 1-based (line, column in characters), by LSP's line rules. Raises CliError."""
    from weft.documents import split_lines

    lines = split_lines(text)
    if line > len(lines):
        raise CliError(f"line {line} is past the end of the file ({len(lines)} lines)")
    body = lines[line - 1].rstrip("\r\n")
    if col > len(body) + 1:
        raise CliError(f"column {col} is past the end of line {line} ({len(body)} characters)")
    return sum(len(x) for x in lines[: line - 1]) + col - 1


# -- complete ---------------------------------------------------------------------------


async def _complete(args: argparse.Namespace) -> int:
    from weft.completion.engine import CompletionEngine, CompletionRequest
    from weft.documents import UTF32, Document
    from weft.privacy import exclusion_of
    from weft.server import relative_path

    path, (line, col) = parse_location(args.location, 2)
    text = read_source(path)
    root, loose = _completion_root(path, args.root)
    settings, _ = load_settings(root, args.settings)
    excluded = exclusion_of(root, path, settings)
    if excluded is not None:
        raise CliError(f"{path} is excluded ({excluded}); weft sends nothing from it to a model")
    if len(text) > settings.index.max_file_kb * 1024:
        raise CliError(f"{path} is larger than index.maxFileKb ({settings.index.max_file_kb} KB)")
    offset = offset_of(text, line, col)
    doc = Document(path.resolve().as_uri(), text, 0, "", UTF32)
    settings = settings.model_copy(
        update={"completion": settings.completion.model_copy(update={"debounce_ms": 0})}
    )
    errors: list[str] = []
    engine = CompletionEngine(on_backend_error=lambda exc, kind: errors.append(str(exc)))
    backend = await one_shot_backend(settings, root, path.resolve(), loose)
    try:
        rel = relative_path(root, doc)
        suggestions = await engine.complete(
            CompletionRequest(doc, offset, path=rel), settings, backend
        )
    except Exception as exc:  # noqa: BLE001 - one line, exit 2
        if not errors:
            raise CliError(f"completion failed: {exc}") from exc
        suggestions = []
    finally:
        await backend.aclose()
        await engine.aclose()
    if errors:
        raise CliError(f"model backend: {errors[0]}")
    if not suggestions:
        if args.json:
            sys.stdout.write(json.dumps({"items": []}) + "\n")
        return 0
    if args.json:
        items = []
        for s in suggestions:
            items.append(
                {
                    "insertText": s.text,
                    "range": {"start": _pos(doc, s.start), "end": _pos(doc, s.end)},
                    "source": s.source,
                }
            )
        sys.stdout.write(json.dumps({"items": items}, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(
            suggestions[0].text + ("\n" if not suggestions[0].text.endswith("\n") else "")
        )
    return 0


def _pos(doc: Any, offset: int) -> dict[str, int]:
    p = doc.position_at(offset)
    return {"line": p.line + 1, "column": p.character + 1}


def _completion_root(path: Path, root: str | None) -> tuple[Path, bool]:
    """The root ``weft complete`` works in, and whether it is a loose folder (no project: the
    nearest .git or weft.toml is not there). A loose folder's own files are all it learns."""
    if root:
        return _root_or_cwd(root), False
    folder = path.resolve().parent
    found = project_root(folder)
    if found is not None:
        return found, False
    sys.stderr.write(
        f"weft: {path} is in no project (no .git or weft.toml above it): "
        f"using only the files in {folder}\n"
    )
    return folder, True


async def one_shot_backend(
    settings: Any, root: Path | None, target: Path | None = None, loose: bool = False
) -> Any:
    """The backend for a one-shot command: as configured; ``auto`` probes Ollama first.

    The offline engine learns the workspace, except ``target`` (the file being completed):
    its text at and after the cursor is what is predicted, so it must not be training data.
    The prompt's window still gives the engine the file's own context. In a ``loose`` folder
    (no project) it learns the folder's own files only and keeps no cache.
    """
    from weft.backends.registry import model_listed, probe
    from weft.privacy import AuditLog
    from weft.server import make_backend

    cfg = settings.backend
    audit = AuditLog(settings.privacy.audit_log)
    if cfg.kind == "auto":
        info = await probe(cfg.model_copy(update={"kind": "ollama"}), audit)
        if info.reachable and info.models:
            model = (
                cfg.model if cfg.model and model_listed(cfg.model, info.models) else info.models[0]
            )
            cfg = cfg.model_copy(update={"kind": "ollama", "model": model})
        else:
            cfg = cfg.model_copy(update={"kind": "offline"})
    if cfg.kind == "offline":
        from weft.offline.engine import OfflineEngine
        from weft.offline.workspace import offline_cache_dir, train_root

        engine = OfflineEngine(cache_dir=None if loose else offline_cache_dir(root, settings))
        if root is not None:
            await train_root(engine, root, settings, recursive=not loose)
            if target is not None:
                engine.remove_file(target)
        return engine.backend()
    return make_backend(cfg, audit=audit)


# -- doctor -----------------------------------------------------------------------------


async def _doctor(args: argparse.Namespace) -> int:
    from weft.backends.registry import probe
    from weft.index.languages import OFFICIAL_GRAMMARS, get_language
    from weft.settings import mask_credentials, masked_json

    root = _root_or_cwd(args.root)
    if not root.is_dir():
        raise CliError(f"no such folder: {root}")
    settings, merged = load_settings(root, args.settings)
    out = sys.stdout
    out.write(
        f"weft {__version__} (Python {sys.version.split()[0]})\nroot: {root}\n\nsettings in effect:\n"
    )
    for key, value in _flatten(masked_json(settings)):
        origin = merged.origins.get(key, "default")
        out.write(f"  {key} = {json.dumps(value)}    ({origin})\n")
    cfg = settings.backend
    kinds = ["ollama"] if cfg.kind == "auto" else ([] if cfg.kind == "offline" else [cfg.kind])
    out.write("\nbackend:\n")
    for kind in kinds:
        info = await probe(cfg.model_copy(update={"kind": kind}))
        state = "reachable" if info.reachable else f"NOT reachable ({info.error})"
        out.write(mask_credentials(f"  {kind} at {info.url}: {state}\n"))
        if info.models:
            out.write(f"  models: {', '.join(info.models[:20])}\n")
        if cfg.model and info.reachable and info.models and cfg.model not in info.models:
            out.write(f"  warning: model {cfg.model!r} is not among them\n")
    if cfg.kind in ("auto", "offline"):
        out.write("  offline engine: built in (used when no model server answers)\n")
    key_env = cfg.api_key_env
    if key_env:
        import os

        out.write(f"  api key: ${key_env} is {'set' if os.environ.get(key_env) else 'NOT set'}\n")
    out.write("\ngrammars:\n")
    for name in OFFICIAL_GRAMMARS:
        out.write(f"  {name}: {'ok' if get_language(name) is not None else 'missing'}\n")
    try:
        import tree_sitter_language_pack  # noqa: F401

        out.write("  tree-sitter-language-pack: installed (more languages)\n")
    except ImportError:
        out.write("  tree-sitter-language-pack: not installed (pip install 'weft[languages]')\n")
    out.write(f"\nindex: {_index_location(root, settings)}\n")
    from weft.trust_command import doctor_lines

    out.write("".join(line + "\n" for line in doctor_lines(root, settings)))
    return 0


def _index_location(root: Path, settings: Any) -> str:
    try:
        from weft.index.store import cache_path

        return str(cache_path(root, settings.index.cache_dir))
    except (ImportError, AttributeError):
        import os

        base = settings.index.cache_dir or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "weft"
        )
        return base


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
