"""gitignore semantics of weft.ignore: .gitignore (nested), .weftignore, settings globs."""

from __future__ import annotations

from pathlib import Path

import pytest

from weft.ignore import WorkspaceFilter, compile_rule, last_match, normalize_rel
from weft.settings import Settings


def matches(pattern: str, path: str, is_dir: bool = False) -> bool:
    rule = compile_rule(pattern)
    assert rule is not None
    return last_match([rule], path, is_dir) is not None


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.log", "a.log", True),
        ("*.log", "deep/er/a.log", True),
        ("*.log", "a.log.txt", False),
        ("/build", "build", True),
        ("/build", "src/build", False),
        ("doc/*.txt", "doc/a.txt", True),
        ("doc/*.txt", "doc/sub/a.txt", False),
        ("doc/**/*.txt", "doc/sub/deeper/a.txt", True),
        ("doc/**/*.txt", "doc/a.txt", True),
        ("**/foo", "x/y/foo", True),
        ("foo/**", "foo/a/b", True),
        ("foo/**", "foo", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[ab]x", "bx", True),
        ("[!ab]x", "cx", True),
        ("[!ab]x", "ax", False),
        ("\\#hash", "#hash", True),
        ("secrets/**", "secrets/key", True),
        ("secrets/**", "app/secrets/key", False),
        (".env*", "app/.env.local", True),
    ],
)
def test_patterns(pattern, path, expected):
    assert matches(pattern, path) is expected


def test_dir_only_pattern():
    assert matches("out/", "out", is_dir=True)
    assert not matches("out/", "out", is_dir=False)


def test_comments_and_blanks_compile_to_nothing():
    assert compile_rule("# comment") is None
    assert compile_rule("   ") is None


def test_normalize_rel():
    assert normalize_rel("./a//b\\c.py") == "a/b/c.py"
    assert normalize_rel("a/../b") == "b"
    assert normalize_rel("../x") is None


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_workspace_filter_reasons(tmp_path: Path):
    write(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n!keep.log\n",
            "pkg/.gitignore": "generated.py\n",
            ".weftignore": "vendor/\n",
            "a.py": "",
            "x.log": "",
            "keep.log": "",
            "build/out.py": "",
            "pkg/generated.py": "",
            "pkg/real.py": "",
            "vendor/lib.py": "",
            ".env.local": "",
            "node_modules/m/index.js": "",
            "notes/secret.md": "",
        },
    )
    settings = Settings.model_validate({"index": {"exclude": ["notes/**"]}})
    flt = WorkspaceFilter(tmp_path, settings)
    assert flt.exclusion_reason("a.py") is None
    assert flt.exclusion_reason("x.log") == "gitignore"
    assert flt.exclusion_reason("keep.log") is None  # negated
    assert flt.exclusion_reason("build/out.py") == "gitignore"
    assert flt.exclusion_reason("pkg/generated.py") == "gitignore"  # nested .gitignore
    assert flt.exclusion_reason("generated.py") is None  # nested rules stay in their folder
    assert flt.exclusion_reason("pkg/real.py") is None
    assert flt.exclusion_reason("vendor/lib.py") == "weftignore"
    assert flt.exclusion_reason(".env.local") == "privacy.exclude"
    assert flt.exclusion_reason("node_modules/m/index.js") == "builtin"
    assert flt.exclusion_reason("notes/secret.md") == "index.exclude"
    assert flt.exclusion_reason("../outside.py") == "outside"
    assert flt.is_excluded("x.log") and not flt.is_excluded("a.py")


def test_negation_cannot_reinclude_inside_an_excluded_folder(tmp_path: Path):
    write(tmp_path, {".gitignore": "logs/\n!logs/keep.txt\n", "logs/keep.txt": ""})
    assert WorkspaceFilter(tmp_path).is_excluded("logs/keep.txt")


def test_git_info_exclude_and_virtualenv(tmp_path: Path):
    write(
        tmp_path,
        {".git/info/exclude": "local.py\n", "local.py": "", "env/pyvenv.cfg": "", "env/x.py": ""},
    )
    flt = WorkspaceFilter(tmp_path)
    assert flt.exclusion_reason("local.py") == "gitignore"
    assert flt.exclusion_reason("env/x.py") == "builtin"


def test_invalidate_rereads_ignore_files(tmp_path: Path):
    write(tmp_path, {"a.py": ""})
    flt = WorkspaceFilter(tmp_path)
    assert not flt.is_excluded("a.py")
    write(tmp_path, {".gitignore": "a.py\n"})
    flt.invalidate()
    assert flt.is_excluded("a.py")


def test_privacy_globs_ignore_case_in_the_workspace_filter(tmp_path):
    from weft.ignore import WorkspaceFilter

    flt = WorkspaceFilter(tmp_path)
    assert flt.exclusion_reason(".ENV", is_dir=False) == "privacy.exclude"
    assert flt.exclusion_reason("config/Secrets/db.txt", is_dir=False) == "privacy.exclude"
    assert not flt.is_excluded("src/envelope.py", is_dir=False)
