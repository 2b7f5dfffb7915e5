"""The one function that runs a checker process.

Every checker (ruff, mypy, tsc, …) starts through :func:`run_checker`, inside the sandbox that
every command weft runs gets (:mod:`weft.sandbox`: no network, a read-only file system but for
the checker's scratch and cache folders, no credentials, its own PID namespace). A run is
bounded (a deadline and an output cap) and cancellable: cancelling the awaiting task kills the
whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from weft import sandbox

OUTPUT_CAP = 1024 * 1024
"""Most bytes kept from each of stdout and stderr; the rest is read and dropped."""


@dataclass(frozen=True)
class RunResult:
    """What a checker process did."""

    returncode: int | None
    """None when it was killed (deadline)."""
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False


async def _read_capped(stream: asyncio.StreamReader | None, cap: int) -> tuple[bytes, bool]:
    if stream is None:
        return b"", False
    kept = bytearray()
    truncated = False
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            truncated = True
    return bytes(kept), truncated


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run_checker(
    argv: list[str],
    cwd: Path,
    timeout_s: float,
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    writable: Sequence[Path] = (),
    sandboxed: bool = True,
    output_cap: int = OUTPUT_CAP,
) -> RunResult:
    """Run ``argv`` in ``cwd`` with ``stdin`` as its input; kill it after ``timeout_s``.

    In the sandbox only ``writable`` (the checker's scratch and cache folders) may be written.
    Raises ``OSError`` when the program cannot be started and
    :class:`weft.sandbox.SandboxUnavailable` when ``sandboxed`` and there is no sandbox here.
    Cancelling the caller kills the process (and anything it started: it runs in its own
    process group, and in the sandbox in its own PID namespace).
    """
    if shutil.which(argv[0]) is None:  # the sandbox would only say so in its output
        raise FileNotFoundError(2, "no such program", argv[0])
    launch = sandbox.prepare(argv, cwd, writable=writable, env=env, sandboxed=sandboxed)
    proc = await asyncio.create_subprocess_exec(
        *launch.command,
        cwd=None if launch.cwd is None else str(launch.cwd),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=launch.env,
        start_new_session=True,
    )

    async def feed() -> None:
        if stdin is not None and proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(stdin.encode("utf-8", errors="surrogateescape"))
                await proc.stdin.drain()
            proc.stdin.close()

    async def communicate() -> tuple[tuple[bytes, bool], tuple[bytes, bool]]:
        _, out, err = await asyncio.gather(
            feed(), _read_capped(proc.stdout, output_cap), _read_capped(proc.stderr, output_cap)
        )
        await proc.wait()
        return out, err

    try:
        (out, out_cut), (err, err_cut) = await asyncio.wait_for(communicate(), timeout_s)
    except TimeoutError:
        _kill(proc)
        await proc.wait()
        return RunResult(None, "", f"timed out after {timeout_s:g} s", timed_out=True)
    except BaseException:  # cancelled by a newer version: the process must not outlive us
        _kill(proc)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    return RunResult(
        proc.returncode,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
        truncated=out_cut or err_cut,
    )
