"""The VS Code extension's own test suites, run with node from pytest so one command covers them.

``npm test`` compiles the TypeScript and runs the unit tests of the extension's logic with the
``vscode`` module replaced; ``npm run test:protocol`` runs the real ``weft serve`` through
vscode-languageserver-protocol (the extension's JSON-RPC stack) against the loopback model
server; ``npm run test:host`` runs the whole extension (activate, controller, middleware and the
real vscode-languageclient) in a fake VS Code host against the real server; ``npm run lint``
runs eslint. When ``clients/vscode/node_modules`` is missing (a fresh clone) the suite runs
``npm ci`` itself first, so README's one test command covers the extension too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "clients" / "vscode"


def _npm() -> str:
    npm = shutil.which("npm")
    assert npm, "node 20+ and npm are required for the VS Code extension's tests"
    return npm


@pytest.fixture(scope="module", autouse=True)
def node_modules() -> None:
    """Install the extension's npm packages (package-lock.json) when they are missing."""
    if (EXTENSION / "node_modules").is_dir():
        return
    proc = subprocess.run(
        [_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"`npm ci` in clients/vscode failed, so the extension's tests cannot run "
        f"(they need the npm registry once):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )


def run_npm(script: str) -> subprocess.CompletedProcess[str]:
    npm = _npm()
    env = {**os.environ, "WEFT_TEST_PYTHON": sys.executable}
    return subprocess.run(
        [npm, "run", "--silent", script],
        cwd=EXTENSION,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("script", ["test", "test:protocol", "test:host", "lint"])
def test_npm_script_passes(script: str) -> None:
    proc = run_npm(script)
    assert proc.returncode == 0, (
        f"npm run {script} failed\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    )
    if script.startswith("test"):
        assert "# fail 0" in proc.stdout and "# pass 0" not in proc.stdout
