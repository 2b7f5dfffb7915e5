"""The command line (SPEC §1): `weft complete`, `weft doctor`, `weft serve --tcp`, bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer
from tests.wire import closed_url, serve_ollama


def weft(
    *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weft", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=dict(os.environ),
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    (root / "main.py").write_text("def add(a, b):\n    \n")
    return root


@pytest.fixture
def ollama():
    with LoopbackServer() as srv:
        serve_ollama(srv, text="return a + b\n")
        yield srv


def settings_for(srv: LoopbackServer) -> str:
    return json.dumps(
        {"backend": {"kind": "ollama", "url": srv.url, "model": "m", "timeoutMs": 3000}}
    )


def test_complete_prints_the_suggestion(project, ollama):
    run = weft("complete", f"{project / 'main.py'}:2:5", "--settings", settings_for(ollama))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "return a + b\n"
    (request,) = ollama.requests_to("/api/generate")
    assert request.body["prompt"] == "def add(a, b):\n    " and request.body["suffix"] == "\n"


def test_complete_json_gives_items_with_ranges(project, ollama):
    run = weft(
        "complete", f"{project / 'main.py'}:2:5", "--settings", settings_for(ollama), "--json"
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["items"][0]["insertText"] == "return a + b"
    assert data["items"][0]["range"] == {
        "start": {"line": 2, "column": 5},
        "end": {"line": 2, "column": 5},
    }


def test_complete_reads_weft_toml_from_the_root(project, ollama):
    (project / "weft.toml").write_text(
        f'[backend]\nkind = "ollama"\nurl = "{ollama.url}"\nmodel = "toml-model"\n'
    )
    assert weft("trust", str(project)).returncode == 0  # backend.url is trusted-only
    run = weft("complete", f"{project / 'main.py'}:2:5")
    assert run.returncode == 0, run.stderr
    assert ollama.requests_to("/api/generate")[-1].body["model"] == "toml-model"


def test_no_suggestion_prints_nothing_and_exits_0(project):
    with LoopbackServer() as srv:
        serve_ollama(srv, text="\n")
        run = weft("complete", f"{project / 'main.py'}:2:5", "--settings", settings_for(srv))
    assert (run.returncode, run.stdout) == (0, "")


@pytest.mark.parametrize(
    ("location", "settings", "message"),
    [
        ("missing.py:1:1", None, "no such file"),
        ("main.py:9:1", None, "past the end of the file"),
        ("main.py:1:99", None, "past the end of line 1"),
        ("main.py:0:1", None, "1-based"),
        ("main.py:x", None, "PATH:LINE:COL"),
        ("main.py:2:5", "{not json", "not valid JSON"),
        ("main.py:2:5", '{"backend": {"timeoutMs": "soon"}}', "backend.timeoutMs"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(project, location, settings, message):
    args = [
        "complete",
        str(project / location)
        if not location.startswith("main.py:x")
        else str(project / location),
    ]
    if settings:
        args += ["--settings", settings]
    run = weft(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and message in run.stderr


def test_non_utf8_file_is_bad_input(project):
    (project / "bin.py").write_bytes(b"x = '\xff\xfe'\n")
    run = weft("complete", f"{project / 'bin.py'}:1:1")
    assert run.returncode == 2 and "not UTF-8" in run.stderr and run.stdout == ""


def test_unreachable_backend_is_bad_input(project):
    settings = json.dumps({"backend": {"kind": "ollama", "url": closed_url(), "model": "m"}})
    run = weft("complete", f"{project / 'main.py'}:2:5", "--settings", settings)
    assert run.returncode == 2 and run.stdout == ""
    assert "model backend" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_doctor_shows_settings_origins_backend_and_grammars(project, ollama):
    (project / "weft.toml").write_text("[completion]\nmaxTokens = 99\n")
    run = weft("doctor", "--root", str(project), "--settings", settings_for(ollama))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "completion.maxTokens = 99    (weft.toml)" in out
    assert 'backend.model = "m"    (--settings)' in out
    assert "ollama at " + ollama.url + ": reachable" in out
    assert "models: test-model" in out
    assert "python: ok" in out and "rust: ok" in out
    assert "index:" in out


def test_doctor_masks_credentials_in_urls(project):
    settings = json.dumps({"backend": {"kind": "openai", "url": "http://user:pw@127.0.0.1:9/v1"}})
    run = weft("doctor", "--root", str(project), "--settings", settings)
    assert "user:pw" not in run.stdout and "***@127.0.0.1:9" in run.stdout


def test_serve_over_tcp_answers_initialize(project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "weft", "serve", "--tcp", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}},
            }
        )
        conn.sendall(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        data = b""
        while b'"result"' not in data:
            chunk = conn.recv(65536)
            assert chunk, "server closed the connection"
            data += chunk
        conn.close()
        assert (
            b'"completionProvider"' in data
        )  # a client without inline completion gets the fallback
        assert b'"inlineCompletionProvider"' not in data
    finally:
        proc.kill()
        proc.wait()
    assert proc.stdout.read() == b""  # nothing but JSON-RPC, and that went over TCP


def test_serve_stdio_writes_nothing_but_json_rpc(project):
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}},
        }
    )
    exit_msg = json.dumps({"jsonrpc": "2.0", "method": "exit"})
    payload = f"Content-Length: {len(body)}\r\n\r\n{body}Content-Length: {len(exit_msg)}\r\n\r\n{exit_msg}"
    run = subprocess.run(
        [sys.executable, "-m", "weft", "serve"],
        input=payload.encode(),
        capture_output=True,
        timeout=30,
        env=dict(os.environ),
    )
    out = run.stdout
    assert out.startswith(b"Content-Length: ")
    header, _, rest = out.partition(b"\r\n\r\n")
    length = int(header.split(b"\r\n")[0].split(b": ")[1])
    message = json.loads(rest[:length])
    assert message["id"] == 1 and "capabilities" in message["result"]


def test_version():
    run = weft("--version")
    assert run.returncode == 0 and run.stdout.startswith("weft ")
