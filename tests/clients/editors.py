"""The real editors the client tests drive: the distribution's Neovim and sid's Neovim 0.12 / Helix.

``scripts/sid-editors.sh`` unpacks Debian sid's ``neovim`` and ``hx`` into a private root (once,
then reused) and writes wrappers for them; the tests call it themselves, so a fresh clone's
``python -m pytest`` needs no manual step. A test that cannot get its editor fails saying why.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "sid-editors.sh"


@functools.cache
def sid_bin() -> Path:
    """The folder holding the ``nvim`` (0.12) and ``hx`` wrappers; unpacks them when needed."""
    proc = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise AssertionError(
            "Neovim 0.12 / Helix from Debian sid are required for these tests and "
            f"{SCRIPT.relative_to(REPO)} could not unpack them (it needs apt-get, dpkg and "
            f"access to deb.debian.org):\n{proc.stderr[-2000:]}"
        )
    return Path(lines[-1])


def nvim(version: str) -> str:
    """``"system"``: the distribution's nvim (0.7.2 on Debian 12); ``"0.12"``: sid's."""
    if version == "0.12":
        return str(sid_bin() / "nvim")
    found = shutil.which("nvim")
    assert found, "Neovim is required for these tests: apt-get install neovim"
    return found


def hx() -> str:
    return str(sid_bin() / "hx")
