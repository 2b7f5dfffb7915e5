"""Re-parse checks and the verify command in a scratch copy."""

from __future__ import annotations

import sys
from pathlib import Path

from weft.agent.verify import new_syntax_problems, run_verify_command, syntax_problems, trim_output


def test_new_errors_are_found_and_old_ones_tolerated() -> None:
    assert new_syntax_problems("a.py", "x = 1\n", "x = (1\n")
    assert new_syntax_problems("a.py", "x = 1\n", "x = 2\n") == []
    broken = "def f(:\n    pass\n"
    assert syntax_problems(broken, "python")
    assert new_syntax_problems("a.py", broken, broken + "y = 1\n") == []
    assert new_syntax_problems("a.py", None, "def g(:\n    pass\n") != []
    assert new_syntax_problems("notes.unknownext", "a", "(((") == []


def test_missing_nodes_count() -> None:
    problems = syntax_problems("function f() { return 1;\n", "javascript")
    assert problems and any("missing" in p.kind or p.kind == "syntax error" for p in problems)


async def test_verify_runs_in_a_copy_with_edits(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("VALUE = 1\n")
    (root / ".env").write_text("SECRET=1\n")
    script = (
        "import os, pathlib; print(open('a.py').read().strip()); "
        "print('env' if os.path.exists('.env') else 'noenv'); "
        "pathlib.Path('a.py').write_text('clobbered'); raise SystemExit(3)"
    )
    result = await run_verify_command(
        [sys.executable, "-c", script], root, {"a.py": "VALUE = 2\n"}, 30, lambda rel: rel == ".env"
    )
    assert not result.ok and result.returncode == 3
    assert "VALUE = 2" in result.output and "noenv" in result.output
    assert (root / "a.py").read_text() == "VALUE = 1\n"


async def test_verify_timeout_kills_the_command(tmp_path: Path) -> None:
    result = await run_verify_command(
        [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, {}, 0.5
    )
    assert result.timed_out and not result.ok


async def test_missing_program_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    result = await run_verify_command(["/nonexistent/tool"], tmp_path, {}, 5)
    assert not result.ok and "cannot run" in result.output


def test_trim_output_keeps_head_and_tail() -> None:
    text = "HEAD" + "x" * 10000 + "TAIL"
    out = trim_output(text, 1000)
    assert out.startswith("HEAD") and out.endswith("TAIL") and len(out) < 1100
