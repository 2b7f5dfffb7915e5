"""The sandbox every command weft runs goes through (weft.sandbox), and the scratch copy that
``agent.verifyCommand`` runs in (weft.agent.verify): what a hostile command can and cannot do,
and that a real project's toolchain still works inside."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer
from weft import sandbox
from weft.agent.verify import copy_workspace, run_verify_command
from weft.ignore import WorkspaceFilter

PROBE = Path(__file__).resolve().parents[1] / "sandbox_probe.py"

pytestmark = pytest.mark.skipif(
    sandbox.availability() is not None, reason=f"no sandbox here: {sandbox.availability()}"
)


@pytest.fixture
def fake_home(monkeypatch: pytest.MonkeyPatch):
    # Not under /tmp: the sandbox's /tmp is a private one, which would hide it anyway.
    home = Path(tempfile.mkdtemp(prefix="weft-test-home-", dir="/var/tmp"))
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("FAKE-PRIVATE-KEY-0123456789\n")
    (home / ".netrc").write_text("machine example.com password hunter2\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("FAKE_SERVICE_API_KEY", "sk-" + "proj-" + "x" * 30)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "y" * 36)
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    yield home
    shutil.rmtree(home, ignore_errors=True)


def survivors(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


def probe_lines(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


async def test_hostile_command_is_contained(tmp_path: Path, fake_home: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    real = fake_home / "real.txt"  # a file of the user's outside the scratch copy
    real.write_text("untouched\n")
    marker = str(1000 + uuid.uuid4().int % 9000) + ".5"  # sleep's argument, unique per run
    with LoopbackServer() as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        result = await sandbox.run(
            [sys.executable, str(PROBE), "127.0.0.1", str(port), str(real), marker],
            work,
            writable=[work],
            timeout_s=30,
        )
        assert srv.requests == []
    lines = probe_lines(result.output)
    assert result.returncode == 1, result.output
    assert lines["HOME_WRITE"].startswith("blocked"), lines
    assert not (fake_home / "pwned-by-verify").exists()
    assert lines["REAL_WRITE"].startswith("blocked") and real.read_text() == "untouched\n"
    assert lines["SSH_KEY"].startswith("blocked") or "FAKE-PRIVATE" not in lines["SSH_KEY"]
    assert "FAKE-PRIVATE" not in result.output
    assert lines["ENV_KEYS"] == "none", lines
    assert lines["NETWORK"].startswith("blocked"), lines
    assert lines["DAEMON"] == "started"
    assert survivors(f"sleep {marker}") == []  # the setsid daemon died with the sandbox


async def test_timeout_kills_everything_the_command_started(tmp_path: Path) -> None:
    marker = str(2000 + uuid.uuid4().int % 9000) + ".25"
    started = time.monotonic()
    result = await sandbox.run(
        ["sh", "-c", f"setsid sleep {marker} & sleep {marker}"], tmp_path, timeout_s=1
    )
    assert result.timed_out and result.returncode is None
    assert time.monotonic() - started < 20
    assert survivors(f"sleep {marker}") == []


async def test_output_is_capped(tmp_path: Path) -> None:
    result = await sandbox.run(
        [sys.executable, "-c", "print('x' * 3_000_000)"], tmp_path, timeout_s=30, max_output=1000
    )
    assert result.ok and result.truncated and len(result.output) == 1000


def test_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("MY_SECRET", "s")
    monkeypatch.setenv("SOME_PASSWORD_HINT", "p")
    monkeypatch.setenv("RANDOM_VARIABLE", "r")
    env = sandbox.sandbox_env({"EXTRA_TOKEN": "t", "CI": "1"})
    assert "PATH" in env and env["TMPDIR"] == "/tmp" and env["CI"] == "1"
    for name in (
        "OPENAI_API_KEY",
        "MY_SECRET",
        "SOME_PASSWORD_HINT",
        "RANDOM_VARIABLE",
        "EXTRA_TOKEN",
    ):
        assert name not in env


async def test_no_sandbox_means_refusal_unless_the_user_switched_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    sandbox.availability.cache_clear()
    try:
        problem = sandbox.availability()
        assert problem is not None and "apt install bubblewrap" in problem
        assert 'agent.sandbox = "off"' in problem
        with pytest.raises(sandbox.SandboxUnavailable):
            await sandbox.run(["true"], tmp_path)
        with pytest.raises(sandbox.SandboxUnavailable):
            await run_verify_command(["true"], tmp_path, {}, 5)
        unsandboxed = await sandbox.run(["sh", "-c", "echo $HOME"], tmp_path, sandboxed=False)
        assert unsandboxed.ok
    finally:
        sandbox.availability.cache_clear()


def _layout(root: Path) -> None:
    (root / ".gitignore").write_text("private_notes.txt\nbuild/\n")
    (root / "private_notes.txt").write_text("CANARY-IGNORED\n")
    (root / "notes.txt").symlink_to("private_notes.txt")
    (root / ".env").write_text("CANARY-ENV\n")
    (root / "config.txt").symlink_to(".env")
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("CANARY-BUILD\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('hello')\n")


def test_scratch_copy_holds_no_excluded_file_whatever_links_point_at(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    _layout(root)
    dest = tmp_path / "copy"
    flt = WorkspaceFilter(root)
    copy_workspace(root, dest, lambda rel: flt.is_excluded(rel))
    copied = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert "src/app.py" in copied and ".gitignore" in copied
    for rel in ("private_notes.txt", "notes.txt", ".env", "config.txt", "build/out.txt"):
        assert rel not in copied, rel
    text = "".join(p.read_text() for p in dest.rglob("*") if p.is_file())
    assert "CANARY" not in text


async def test_verify_command_sees_the_edits_not_the_excluded_files(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    _layout(root)
    flt = WorkspaceFilter(root)
    result = await run_verify_command(
        ["sh", "-c", f"cat src/app.py; cat {root}/.env {root}/notes.txt 2>&1; ls -a"],
        root,
        {"src/app.py": "print('edited')\n"},
        30,
        lambda rel: flt.is_excluded(rel),
    )
    assert "print('edited')" in result.output
    assert "CANARY" not in result.output, result.output
    assert (root / "src" / "app.py").read_text() == "print('hello')\n"  # the user's tree


async def test_real_pytest_in_the_projects_venv_works_inside(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_add.py").write_text(
        "from pkg import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    subprocess.run(
        [
            sys.executable,
            "-m",
            "venv",
            "--system-site-packages",
            "--without-pip",
            str(root / ".venv"),
        ],
        check=True,
    )
    argv = [".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    passing = await run_verify_command(argv, root, {}, 120)
    assert passing.ok and "1 passed" in passing.output, passing.output
    broken = "def add(a, b):\n    return a - b\n"
    failing = await run_verify_command(argv, root, {"pkg/__init__.py": broken}, 120)
    assert not failing.ok and "1 failed" in failing.output, failing.output
    assert (
        not (root / ".pytest_cache").exists()
        and (root / "pkg" / "__init__.py").read_text() != broken
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_node_modules_work_inside(tmp_path: Path) -> None:
    root = tmp_path / "web"
    (root / "node_modules" / "leftpad").mkdir(parents=True)
    (root / "node_modules" / "leftpad" / "index.js").write_text("module.exports = { x: 42 };\n")
    (root / "index.js").write_text("console.log(require('leftpad').x + 1);\n")
    result = await run_verify_command(["node", "index.js"], root, {}, 60)
    assert result.ok and result.output.strip() == "43", result.output
