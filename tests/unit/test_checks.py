"""weft's checks: each tool's output reader, the bounded runner, which checkers are chosen."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from weft.checks import findings
from weft.checks.checkers import CHECKERS, Target, locate, plan_cargo, plan_eslint
from weft.checks.runner import run_checker
from weft.checks.service import chosen, settings_key
from weft.checks.syntax import syntax_findings
from weft.documents import Document
from weft.settings import Settings

FILE = ("pkg/mod.py", "/ws/pkg/mod.py")


def test_ruff_json_is_read_one_based_to_zero_based() -> None:
    out = json.dumps(
        [
            {
                "code": "F401",
                "message": "`os` imported but unused",
                "location": {"row": 1, "column": 8},
                "end_location": {"row": 1, "column": 10},
                "filename": "/ws/pkg/mod.py",
            },
            {"code": None, "message": "SyntaxError: bad", "location": {"row": 3, "column": 1}},
            {"no": "location"},
        ]
    )
    got = findings.read_ruff(out)
    assert got[0] == findings.Finding(0, 7, 0, 9, "`os` imported but unused", "ruff", "F401")
    assert got[1].line == 2 and got[1].severity == findings.ERROR
    assert len(got) == 2
    assert findings.read_ruff("not json") == []


def test_mypy_lines_keep_this_file_and_drop_notes() -> None:
    out = (
        'pkg/mod.py:4:12: error: Incompatible return value type (got "int", expected "str")'
        "  [return-value]\n"
        "pkg/mod.py:4:12: note: see https://mypy.rtfd.io\n"
        "pkg/other.py:1:1: error: elsewhere  [misc]\n"
        "pkg/mod.py:9: warning: unused 'type: ignore' comment\n"
    )
    got = findings.read_path_line_col(out, "mypy", FILE)
    assert [(f.line, f.col, f.code, f.severity) for f in got] == [
        (3, 11, "return-value", findings.ERROR),
        (8, 0, None, findings.WARNING),
    ]
    assert got[0].message.startswith("Incompatible return value type")


def test_pyflakes_and_go_vet_lines() -> None:
    got = findings.read_path_line_col("<stdin>:2:1: undefined name 'x'\n", "pyflakes", ("<stdin>",))
    assert (got[0].line, got[0].col, got[0].message) == (1, 0, "undefined name 'x'")
    vet = (
        "# example.com/m\nvet: ./main.go:7:2: fmt.Printf format %d has arg s of wrong type string\n"
    )
    got = findings.read_path_line_col(vet.replace("vet: ", ""), "go vet", ("main.go",))
    assert (got[0].line, got[0].col) == (6, 1) and "wrong type" in got[0].message


def test_pyright_tsc_eslint_and_cargo_outputs() -> None:
    pyright = {
        "generalDiagnostics": [
            {
                "file": "/tmp/x/mod.py",
                "severity": "error",
                "message": 'Type "int" is not assignable to "str"\n  more',
                "range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 9}},
                "rule": "reportAssignmentType",
            },
            {"file": "/tmp/x/other.py", "severity": "error", "message": "no", "range": {}},
        ]
    }
    got = findings.read_pyright(json.dumps(pyright), ("/tmp/x/mod.py",))
    assert [(f.line, f.col, f.end_col, f.message) for f in got] == [
        (2, 4, 9, 'Type "int" is not assignable to "str"')
    ]
    tsc = "/tmp/x/a.ts(3,7): error TS2322: Type 'number' is not assignable to type 'string'.\n"
    got = findings.read_tsc(tsc, ("/tmp/x/a.ts",))
    assert (got[0].line, got[0].col, got[0].code) == (2, 6, "TS2322")
    eslint = [
        {
            "messages": [
                {
                    "ruleId": "no-unused-vars",
                    "severity": 2,
                    "message": "'a' is unused",
                    "line": 1,
                    "column": 7,
                    "endLine": 1,
                    "endColumn": 8,
                }
            ]
        }
    ]
    got = findings.read_eslint(json.dumps(eslint))
    assert (got[0].line, got[0].col, got[0].end_col, got[0].code) == (0, 6, 7, "no-unused-vars")
    cargo = json.dumps(
        {
            "reason": "compiler-message",
            "message": {
                "level": "error",
                "message": "mismatched types",
                "code": {"code": "E0308"},
                "spans": [
                    {
                        "file_name": "src/main.rs",
                        "line_start": 2,
                        "column_start": 18,
                        "line_end": 2,
                        "column_end": 20,
                        "is_primary": True,
                    }
                ],
            },
        }
    )
    got = findings.read_cargo(cargo + '\n{"reason":"build-finished"}\n', ("src/main.rs",))
    assert (got[0].line, got[0].col, got[0].code, got[0].message) == (
        1,
        17,
        "E0308",
        "mismatched types",
    )


def test_findings_are_capped() -> None:
    out = json.dumps(
        [{"code": "E1", "message": "m", "location": {"row": i, "column": 1}} for i in range(1, 999)]
    )
    assert len(findings.read_ruff(out)) == findings.MAX_FINDINGS


def test_tree_sitter_syntax_errors_in_characters() -> None:
    got = syntax_findings("x = 'é'\ndef f(:\n    pass\n", "python")
    assert got and got[0].source == "tree-sitter" and got[0].line == 1
    assert syntax_findings("x = 1\n", "python") == []
    assert syntax_findings("anything", "no-such-language") == []


# -- the runner --------------------------------------------------------------------------------


async def test_runner_passes_stdin_and_collects_output(tmp_path: Path) -> None:
    code = "import sys; data = sys.stdin.read(); print(data.upper()); print('err', file=sys.stderr)"
    result = await run_checker([sys.executable, "-c", code], tmp_path, 10, stdin="abc")
    assert (result.returncode, result.stdout, result.stderr) == (0, "ABC\n", "err\n")


async def test_runner_kills_at_the_deadline(tmp_path: Path) -> None:
    start = time.monotonic()
    result = await run_checker([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, 0.3)
    assert result.timed_out and result.returncode is None
    assert time.monotonic() - start < 10


async def test_runner_caps_output(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.write('x' * 3_000_000)"
    result = await run_checker([sys.executable, "-c", code], tmp_path, 20, output_cap=1000)
    assert result.truncated and len(result.stdout) == 1000 and result.returncode == 0


async def test_cancelling_a_run_kills_its_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    # Unsandboxed: the process group is what ends it (in the sandbox its PID namespace does too,
    # see test_sandbox.py), and the pid it writes is one the host can see.
    task = asyncio.ensure_future(
        run_checker([sys.executable, "-c", code], tmp_path, 60, sandboxed=False)
    )
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline, "the checker did not start"
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild):
        assert time.monotonic() < deadline, "the checker's own child outlived the cancel"
        await asyncio.sleep(0.02)


async def test_checkers_run_in_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checker sees no credentials and writes only its scratch and cache folders."""
    project, scratch = tmp_path / "project", tmp_path / "scratch"
    project.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("WEFT_TEST_API_KEY", "sk-live-123")
    code = (
        "import os, pathlib\n"
        "pathlib.Path(os.environ['OUT']).write_text('ok')\n"
        "print(os.environ.get('WEFT_TEST_API_KEY'))\n"
        "try:\n"
        "    pathlib.Path('planted.txt').write_text('x')\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno)\n"
    )
    env = {"OUT": str(scratch / "out.txt")}
    result = await run_checker(
        [sys.executable, "-c", code], project, 20, env=env, writable=[scratch]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "None"
    assert result.stdout.splitlines()[1].startswith("refused")
    assert (scratch / "out.txt").read_text() == "ok"
    assert not (project / "planted.txt").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie has exited
        return fh.read().split(") ", 1)[1][0] != "Z"


async def test_a_missing_program_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        await run_checker(["/no/such/checker"], tmp_path, 5)


# -- choosing ----------------------------------------------------------------------------------


def _checks(**changes: object) -> object:
    return Settings.model_validate({"checks": changes}).checks


def _doc(root: Path, name: str, language: str) -> Document:
    return Document((root / name).as_uri(), "x = 1\n", 1, language)


def test_project_code_and_project_copies_need_allow_project_code(tmp_path: Path) -> None:
    (tmp_path / "node_modules/.bin").mkdir(parents=True)
    local = tmp_path / "node_modules/.bin/tsc"
    local.write_text("#!/bin/sh\n")
    local.chmod(0o755)
    assert locate("tsc", tmp_path, None, allow_project=True) == [str(local)]
    assert locate("tsc", tmp_path, None, allow_project=False) != [str(local)]
    assert locate("tsc", tmp_path, ["/opt/tsc", "-x"], allow_project=False) == ["/opt/tsc", "-x"]
    fake = {"eslint": ["/bin/true"]}
    ts = _doc(tmp_path, "a.ts", "typescript")
    names = {c.name for c, _ in chosen(ts, tmp_path, _checks(eslint={"command": fake["eslint"]}))}
    assert "eslint" not in names  # its configuration is JavaScript from the project
    allowed = _checks(eslint={"command": fake["eslint"]}, allowProjectCode=True)
    assert "eslint" in {c.name for c, _ in chosen(ts, tmp_path, allowed)}


def test_pyflakes_only_without_ruff_and_disabled_checkers_never_run(tmp_path: Path) -> None:
    py = _doc(tmp_path, "a.py", "python")
    both = _checks(ruff={"command": ["/bin/true"]}, pyflakes={"command": ["/bin/true"]})
    names = [c.name for c, _ in chosen(py, tmp_path, both)]
    assert "ruff" in names and "pyflakes" not in names
    only_pyflakes = _checks(ruff={"enabled": False}, pyflakes={"command": ["/bin/true"]})
    names = [c.name for c, _ in chosen(py, tmp_path, only_pyflakes)]
    assert "pyflakes" in names and "ruff" not in names
    assert chosen(py, None, both) == []


def test_eslint_needs_a_config_and_cargo_a_saved_file(tmp_path: Path) -> None:
    target = Target(tmp_path, tmp_path / "a.ts", "a.ts", "", "typescript", True, tmp_path, tmp_path)
    assert plan_eslint(target, ["eslint"]) is None
    (tmp_path / "eslint.config.js").write_text("export default [];\n")
    assert plan_eslint(target, ["eslint"]) is not None
    (tmp_path / "Cargo.toml").write_text("[package]\n")
    rust = Target(
        tmp_path, tmp_path / "src/main.rs", "src/main.rs", "", "rust", False, tmp_path, tmp_path
    )
    assert plan_cargo(rust, ["cargo"]) is None
    assert plan_cargo(SimpleNamespace(**{**rust.__dict__, "on_disk": True}), ["cargo"]) is not None  # type: ignore[arg-type]


def test_every_checker_has_its_settings() -> None:
    checks = Settings().checks
    for checker in CHECKERS:
        cfg = getattr(checks, settings_key(checker.name))
        assert cfg.enabled is True and cfg.command is None
    schema = Settings.model_json_schema(by_alias=True)
    command = schema["$defs"]["CheckerSettings"]["properties"]["command"]
    assert command.get("trustedOnly") is True
    assert (
        schema["$defs"]["ChecksSettings"]["properties"]["allowProjectCode"]["trustedOnly"] is True
    )
    assert checks.publish is False
