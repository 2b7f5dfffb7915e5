"""Which tree-sitter grammar parses which file: the official per-language wheels first, then the
optional ``tree-sitter-language-pack`` extra (pinned below 1.0, which downloads grammars at run
time and so fails offline).

Names are weft's language names, which match LSP language ids where one exists
(``python``, ``typescript``, ``typescriptreact`` → the tsx grammar, …).
"""

from __future__ import annotations

import functools
import importlib
import logging
from pathlib import PurePath

from tree_sitter import Language, Parser

logger = logging.getLogger(__name__)

# weft language name -> (module, attribute) of an official grammar wheel
OFFICIAL_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

# LSP language id -> weft language name, where they differ
LANGUAGE_ID_ALIASES: dict[str, str] = {
    "javascriptreact": "javascript",
    "jsx": "javascript",
    "typescriptreact": "tsx",
    "c++": "cpp",
    "py": "python",
    "golang": "go",
    "shellscript": "bash",
    "sh": "bash",
    "csharp": "csharp",
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".lua": "lua",
    ".sh": "bash",
    ".bash": "bash",
    ".zig": "zig",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".ex": "elixir",
    ".exs": "elixir",
    ".erl": "erlang",
    ".dart": "dart",
    ".r": "r",
    ".jl": "julia",
    ".sql": "sql",
    ".html": "html",
    ".css": "css",
    ".scss": "scss",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".md": "markdown",
    ".vue": "vue",
    ".svelte": "svelte",
    ".clj": "clojure",
    ".elm": "elm",
    ".nim": "nim",
    ".pl": "perl",
    ".m": "objc",
    ".cob": "cobol",
    ".cbl": "cobol",
}


def language_for_path(path: str | PurePath) -> str | None:
    """weft language name for a file, from its extension (None if unknown)."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())


def normalize_language(language_id: str | None, path: str | PurePath | None = None) -> str | None:
    """weft language name from an LSP language id, falling back to the path's extension."""
    if language_id:
        lid = language_id.lower()
        name = LANGUAGE_ID_ALIASES.get(lid, lid)
        if name == "typescript" and path is not None and str(path).endswith(".tsx"):
            return "tsx"
        if name in OFFICIAL_GRAMMARS or name in EXTENSIONS.values():
            return name
    return language_for_path(path) if path is not None else None


@functools.cache
def get_language(name: str) -> Language | None:
    """The grammar for a weft language name, or None when no grammar is installed."""
    spec = OFFICIAL_GRAMMARS.get(name)
    if spec is not None:
        try:
            module = importlib.import_module(spec[0])
            return Language(getattr(module, spec[1])())
        except (ImportError, AttributeError, ValueError) as exc:
            logger.warning("grammar %s not usable: %s", name, exc)
            return None
    try:
        from tree_sitter_language_pack import get_language as pack_language
    except ImportError:
        return None
    try:
        return pack_language(name)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - the pack raises assorted errors for unknown names
        return None


def get_parser(name: str) -> Parser | None:
    """A new parser for a weft language name (parsers are not thread-safe: one per user)."""
    language = get_language(name)
    return Parser(language) if language is not None else None


def has_grammar(name: str | None) -> bool:
    return bool(name) and get_language(name) is not None  # type: ignore[arg-type]
