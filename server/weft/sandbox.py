"""Running a command in a sandbox: every program weft starts on the user's behalf goes through
:func:`run` (today ``agent.verifyCommand``; any later checker should too).

On Linux the sandbox is bubblewrap (``bwrap``):

- no network (``--unshare-net``: a fresh namespace with only its own loopback);
- the file system read-only (``--ro-bind / /``) except the ``mounts`` marked writable and a
  private, empty ``/tmp``; credential stores in the home folder (``~/.ssh``, ``~/.aws``,
  ``~/.gnupg``, ``~/.config/gh``, ``~/.netrc``, ``~/.docker``, ``~/.kube``, ``~/.npmrc``, …) and
  shell histories are masked with empty ones;
- the environment rebuilt from an allow-list (``PATH``, ``HOME``, locale, toolchain homes), and
  never a name that looks like a credential (``*_KEY``, ``*TOKEN*``, ``*SECRET*``,
  ``*PASSWORD*``, …), whatever the caller passes;
- its own PID namespace (``--unshare-pid --die-with-parent``): when the command ends, times out
  or weft dies, everything it started dies with it, ``setsid`` daemons included.

Without bubblewrap (or on another OS) there is no sandbox: :func:`availability` says why and
:func:`run` raises :class:`SandboxUnavailable` unless the caller passes ``sandboxed=False``
(the user's ``agent.sandbox = "off"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_OUTPUT_BYTES = 1_000_000
"""Output kept from one command (stdout and stderr together); the rest is read and dropped."""

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt install bubblewrap`; Fedora: `sudo dnf install "
    'bubblewrap`; Arch: `sudo pacman -S bubblewrap`), or set agent.sandbox = "off" in your own '
    "editor settings to run commands with your full rights"
)

CREDENTIAL_STORES = (
    ".ssh", ".aws", ".azure", ".gnupg", ".password-store", ".docker", ".kube", ".terraform.d",
    ".config/gh", ".config/hub", ".config/gcloud", ".config/op", ".config/git/credentials",
    ".local/share/keyrings", ".netrc", ".git-credentials", ".npmrc", ".pypirc", ".yarnrc",
    ".vault-token", ".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials",
    ".m2/settings.xml", ".gradle/gradle.properties", ".config/weft", ".local/state/weft",
    ".mozilla", ".config/google-chrome", ".config/chromium", ".config/BraveSoftware",
    ".thunderbird", ".bash_history", ".zsh_history", ".python_history", ".node_repl_history",
    ".psql_history", ".mysql_history", ".lesshst", ".viminfo",
)  # fmt: skip
"""Paths under ``$HOME`` the sandboxed command never sees (replaced by empty ones)."""
SYSTEM_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root/.ssh")

ENV_ALLOWED = frozenset(
    "PATH HOME USER LOGNAME SHELL LANG LANGUAGE TERM TZ COLUMNS LINES NO_COLOR FORCE_COLOR "
    "VIRTUAL_ENV CONDA_PREFIX CONDA_DEFAULT_ENV PYTHONPATH PYTHONIOENCODING PYTHONUTF8 "
    "PYENV_ROOT PYENV_VERSION JAVA_HOME GOPATH GOROOT GOCACHE GOMODCACHE GOFLAGS CARGO_HOME "
    "RUSTUP_HOME NODE_PATH NVM_DIR NVM_BIN DENO_DIR BUN_INSTALL".split()
)
ENV_ALLOWED_PREFIXES = ("LC_",)
_CREDENTIAL_NAME = re.compile(
    r"KEY$|_KEY_|TOKEN|SECRET|PASSW|PASSWD|CREDENTIAL|_AUTH|AUTH_|COOKIE|SESSION|PRIVATE", re.I
)


class SandboxUnavailable(RuntimeError):
    """No sandbox can run here; ``str()`` says why and how to get one."""


@dataclass(frozen=True)
class Mount:
    """Make host path ``source`` appear at ``target`` inside the sandbox."""

    source: Path
    target: Path
    writable: bool = False


@dataclass(frozen=True)
class SandboxResult:
    """What the command did: its exit status (None when it timed out or could not start)."""

    returncode: int | None
    output: str
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def is_credential_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    return bool(_CREDENTIAL_NAME.search(name))


def sandbox_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The command's environment: the allow-listed variables of ours, ``extra``, ``TMPDIR=/tmp``,
    and never a variable whose name says it holds a credential."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in ENV_ALLOWED or name.startswith(ENV_ALLOWED_PREFIXES)
    }
    env.update(extra or {})
    env["TMPDIR"] = "/tmp"
    return {name: value for name, value in env.items() if not is_credential_name(name)}


@functools.lru_cache(maxsize=1)
def availability() -> str | None:
    """None when :func:`run` can sandbox here; else why not (with how to get a sandbox)."""
    if not sys.platform.startswith("linux"):
        return f'weft sandboxes commands with bubblewrap, which needs Linux ({sys.platform} has none); set agent.sandbox = "off" in your own editor settings to run commands unsandboxed'
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}"
    try:
        probe = subprocess.run(
            [bwrap, *_base_flags(), "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not start ({exc}): {INSTALL_HINT}"
    if probe.returncode != 0:
        why = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = why[-1] if why else f"exit status {probe.returncode}"
        return (
            f"bubblewrap cannot create a sandbox here ({detail}); unprivileged user namespaces "
            f"may be switched off (sysctl kernel.unprivileged_userns_clone=1): {INSTALL_HINT}"
        )
    return None


def _base_flags() -> list[str]:
    return [
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup: no network, own PID namespace
        "--die-with-parent",
        "--new-session",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
    ]  # fmt: skip


def _mask_flags(home: Path) -> list[str]:
    """Empty stand-ins for the credential stores that exist (bwrap cannot mount over a path
    that is not there, and has no need to)."""
    flags: list[str] = []
    paths: Iterable[Path] = (
        *(home / rel for rel in CREDENTIAL_STORES),
        *(Path(p) for p in SYSTEM_SECRETS),
    )
    for path in paths:
        try:
            if path.is_symlink() or not path.exists():
                continue
            if path.is_dir():
                flags += ["--tmpfs", str(path)]
            else:
                flags += ["--ro-bind", "/dev/null", str(path)]
        except OSError:
            continue
    return flags


def bwrap_argv(
    argv: Sequence[str],
    cwd: Path,
    mounts: Sequence[Mount] = (),
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The full ``bwrap`` command line for ``argv`` (pure; :func:`run` executes it)."""
    home = Path(os.path.expanduser("~"))
    flags = [shutil.which("bwrap") or "bwrap", *_base_flags(), *_mask_flags(home)]
    for mount in mounts:
        kind = "--bind" if mount.writable else "--ro-bind"
        flags += [kind, str(mount.source), str(mount.target)]
    flags.append("--clearenv")
    for name, value in sandbox_env(env).items():
        flags += ["--setenv", name, value]
    flags += ["--chdir", str(cwd), "--", *argv]
    return flags


async def run(
    argv: Sequence[str],
    cwd: Path,
    *,
    writable: Sequence[Path] = (),
    mounts: Sequence[Mount] = (),
    timeout_s: float = 120.0,
    env: Mapping[str, str] | None = None,
    sandboxed: bool = True,
    max_output: int = MAX_OUTPUT_BYTES,
) -> SandboxResult:
    """Run ``argv`` with working directory ``cwd`` and wait at most ``timeout_s``.

    ``writable`` paths stay writable at their own place, ``mounts`` place host paths elsewhere
    inside the sandbox; everything else is read-only (``cwd`` is always visible, and ``/tmp``
    is a private, empty one, so a ``cwd`` under the host's ``/tmp`` is mounted in). Raises :class:`SandboxUnavailable` when
    ``sandboxed`` and no sandbox can run here. With ``sandboxed=False`` (the user's
    ``agent.sandbox = "off"``) the command runs directly, with the user's environment.
    """
    if not argv:
        return SandboxResult(None, "empty command")
    launch = prepare(argv, cwd, writable=writable, mounts=mounts, env=env, sandboxed=sandboxed)
    return await _execute(launch.command, launch.cwd, launch.env, timeout_s, max_output)


@dataclass(frozen=True)
class Launch:
    """How to start a command: the argv to execute, where, and with which environment."""

    command: list[str]
    cwd: Path | None
    env: dict[str, str]


def prepare(
    argv: Sequence[str],
    cwd: Path,
    *,
    writable: Sequence[Path] = (),
    mounts: Sequence[Mount] = (),
    env: Mapping[str, str] | None = None,
    sandboxed: bool = True,
) -> Launch:
    """The launch of ``argv`` in the sandbox (or directly, when not ``sandboxed``), for callers
    that run the process themselves (the checkers feed stdin and read stdout apart). Raises
    :class:`SandboxUnavailable` when ``sandboxed`` and no sandbox can run here."""
    if not sandboxed:
        return Launch(list(argv), cwd, {**os.environ, **(env or {})})
    problem = availability()
    if problem is not None:
        raise SandboxUnavailable(problem)
    every = [*(Mount(p, p, writable=True) for p in writable), *mounts]
    if not any(Path(cwd).is_relative_to(m.target) for m in every):
        every.append(Mount(Path(cwd), Path(cwd)))
    return Launch(bwrap_argv(argv, cwd, every, env), None, sandbox_env(env))


async def _execute(
    command: list[str],
    cwd: Path | None,
    env: dict[str, str] | None,
    timeout_s: float,
    max_output: int,
) -> SandboxResult:
    try:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return SandboxResult(None, f"cannot run {command[0]!r}: {exc.strerror or exc}")
    chunks: list[bytes] = []
    kept = [0, False]  # bytes kept, truncated

    async def read_all() -> None:
        assert proc.stdout is not None
        while data := await proc.stdout.read(65536):
            room = max_output - kept[0]
            if room > 0:
                chunks.append(data[:room])
                kept[0] += min(room, len(data))
            if len(data) > room:
                kept[1] = True

    try:
        await asyncio.wait_for(asyncio.gather(read_all(), proc.wait()), timeout_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill_group(proc)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.wait(), 5)
        if isinstance(exc, asyncio.CancelledError):
            raise
        output = b"".join(chunks).decode("utf-8", "replace")
        return SandboxResult(None, output, timed_out=True, truncated=bool(kept[1]))
    output = b"".join(chunks).decode("utf-8", "replace")
    if (missing := _EXEC_FAILED.match(output)) is not None:
        return SandboxResult(None, f"cannot run {missing.group(1)!r}: {missing.group(2)}")
    return SandboxResult(proc.returncode, output, truncated=bool(kept[1]))


_EXEC_FAILED = re.compile(r"\Abwrap: execvp (.+?): ([^\n]+)\n?\Z")


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    # The command leads its own session; killing bwrap's group ends the sandbox (its init dies
    # with its parent, and the kernel ends every process of the PID namespace with it).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
