"""A seeded LSP fuzzer against the real server (issue 11), shared by ``tests/e2e/test_fuzz.py``
(a few thousand messages) and ``bench/fuzz.py`` (tens of thousands).

Messages are well-formed requests and notifications, the same with their params, fields, ids,
``jsonrpc`` or method mutated, bytes that are not UTF-8 or not JSON, and frames with broken
headers. Every few messages a probe (``weft.status``) must come back; its latency is the
server's responsiveness while it digests what came before.

What is counted:

- *answerable* requests: a well-framed body that is a JSON object with ``method`` and an id
  the client could match (an integer or a string); each must be answered exactly once;
- requests inside broken frames may be answered (when their id can be read), never twice;
- stalls: probes answered after more than a second.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.raw_client import RawClient, frame

STALL_S = 1.0

MODEL_ANSWER = "x = (1, [2, 3])\n    return x  # done\n"
"""What the loopback model answers: code, so the syntax guard parses every suggestion."""


def fuzz_settings(model_url: str) -> dict[str, Any]:
    return {
        "backend": {"kind": "ollama", "url": model_url, "model": "m", "timeoutMs": 2000},
        "completion": {"debounceMs": 0},
        "index": {"enabled": True},
    }


LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "c", "plaintext", "cobol")


@dataclass
class FuzzReport:
    seed: int
    sent: int = 0
    answerable: int = 0
    unanswered: list[Any] = field(default_factory=list)
    answered_twice: list[Any] = field(default_factory=list)
    damaged_frames: int = 0
    damaged_answered: int = 0
    probes: int = 0
    probe_latencies: list[float] = field(default_factory=list)
    alive: bool = True
    deaf: bool = False
    """A probe went unanswered for 30 s (the run stopped there)."""
    exit_code: int | None = None
    output_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def stalls(self) -> list[float]:
        return [s for s in self.probe_latencies if s > STALL_S]

    def summary(self) -> str:
        worst = max(self.probe_latencies, default=0.0)
        median = sorted(self.probe_latencies)[len(self.probe_latencies) // 2] if self.probes else 0
        return (
            f"seed {self.seed}: {self.sent} messages sent in {self.seconds:.1f} s, "
            f"{self.answerable} answerable requests, {len(self.unanswered)} unanswered, "
            f"{len(self.answered_twice)} answered twice; {self.damaged_frames} broken frames "
            f"({self.damaged_answered} of their requests answered); {self.probes} probes, "
            f"median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms, "
            f"{len(self.stalls)} over {STALL_S:.0f} s; alive {self.alive}"
            f"{' but deaf' if self.deaf else ''}, exit {self.exit_code}"
        )


# -- values -----------------------------------------------------------------------------------


def random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return random_scalar(rng)
    if roll < 0.7:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.98:
        keys = ["uri", "textDocument", "position", "range", "line", "character", "text", "id"]
        return {
            rng.choice(keys + [random_text(rng, 6)]): random_json(rng, depth + 1)
            for _ in range(rng.randint(0, 4))
        }
    return nested(rng.randint(100, 800))


def random_scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            2**31,
            10**30,
            1.5,
            -0.0,
            "",
            random_text(rng, rng.randint(1, 30)),
            "x" * rng.choice((1_000, 100_000)),
            "\ud800",
            "file:///" + random_text(rng, 8),
        ]
    )


def random_text(rng: random.Random, length: int) -> str:
    alphabet = string.ascii_letters + string.digits + "  \n\t(){}[];:'\"\\é中😀\u2028\x0c"
    return "".join(rng.choice(alphabet) for _ in range(length))


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


# -- documents --------------------------------------------------------------------------------


def hostile_text(rng: random.Random, language: str) -> str:
    return rng.choice(
        [
            "def f(x):\n    return x\n",
            "function f() { return 1 }\n" * rng.randint(1, 50),
            "(" * rng.choice((10, 1_000, 20_000)),
            "x = " + "(" * 5_000 + "1" + ")" * 5_000 + "\n",
            "function f(){" * 2_000,
            "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. HELLO.\n",
            "hello\n",
            random_text(rng, rng.randint(0, 500)),
            "\x00\x01\x02 binary",
        ]
    )


class Docs:
    """What the fuzzer opened, so that some changes and requests hit real documents."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.open: dict[str, int] = {}

    def uri(self, rng: random.Random) -> str:
        if self.open and rng.random() < 0.8:
            return rng.choice(sorted(self.open))
        suffix = rng.choice((".py", ".js", ".ts", ".go", ".rs", ".c", ".txt", ".cob"))
        return (self.root / f"f{rng.randint(0, 30)}{suffix}").as_uri()


def position(rng: random.Random) -> dict[str, int]:
    return {"line": rng.choice((0, 0, 1, 3, 10_000)), "character": rng.choice((0, 1, 5, 9_999))}


def a_range(rng: random.Random) -> dict[str, Any]:
    start = position(rng)
    return {"start": start, "end": rng.choice((start, position(rng)))}


def valid_call(rng: random.Random, docs: Docs) -> tuple[str, Any, bool]:
    """(method, params, is_request) of a message with the right shape."""
    uri = docs.uri(rng)
    roll = rng.randrange(12)
    if roll == 0:
        language = rng.choice(LANGUAGES)
        docs.open[uri] = 1
        text = hostile_text(rng, language)
        item = {"uri": uri, "languageId": language, "version": 1, "text": text}
        return "textDocument/didOpen", {"textDocument": item}, False
    if roll in (1, 2):
        version = docs.open.get(uri, 0) + 1
        docs.open[uri] = version
        change: dict[str, Any] = {"text": random_text(rng, rng.randint(0, 20))}
        if rng.random() < 0.8:
            change["range"] = a_range(rng)
        params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
        return "textDocument/didChange", params, False
    if roll == 3:
        docs.open.pop(uri, None)
        return "textDocument/didClose", {"textDocument": {"uri": uri}}, False
    if roll in (4, 5):
        context = {"triggerKind": rng.choice((1, 2))}
        params = {"textDocument": {"uri": uri}, "position": position(rng), "context": context}
        return "textDocument/inlineCompletion", params, True
    if roll == 6:
        context = {"diagnostics": [], "only": rng.choice((None, ["quickfix"]))}
        params = {"textDocument": {"uri": uri}, "range": a_range(rng), "context": context}
        return "textDocument/codeAction", params, True
    if roll == 7:
        data = rng.choice(
            [
                {"command": "weft.fix", "arguments": [{"uri": uri, "range": a_range(rng)}]},
                random_json(rng),
            ]
        )
        return "codeAction/resolve", {"title": "Fix with weft", "data": data}, True
    if roll == 8:
        command = rng.choice(("weft.status", "weft.acceptCompletion", "weft.nothing"))
        return "workspace/executeCommand", {"command": command, "arguments": [{}]}, True
    if roll == 9:
        return "workspace/symbol", {"query": random_text(rng, 3)}, True
    if roll == 10:
        return "$/cancelRequest", {"id": f"f{rng.randint(0, 10_000)}"}, False
    return rng.choice(
        [
            ("textDocument/didSave", {"textDocument": {"uri": uri}}, False),
            ("$/setTrace", {"value": "off"}, False),
            ("weft/unknownNotification", {}, False),
            ("textDocument/hover", {"textDocument": {"uri": uri}, "position": position(rng)}, True),
        ]
    )


# -- mutations --------------------------------------------------------------------------------


def mutate(rng: random.Random, message: dict[str, Any]) -> dict[str, Any]:
    roll = rng.randrange(9)
    if roll == 0:
        message["params"] = random_json(rng)
    elif roll == 1 and isinstance(message.get("params"), dict):
        _mutate_deep(rng, message["params"])
    elif roll == 2:
        message["jsonrpc"] = rng.choice(["1.0", 2, None])
    elif roll == 3:
        message.pop("jsonrpc", None)
    elif roll == 4:
        methods = ["textDocument/didOpen", "initialized", "weft/x", "", 5, "$/progress"]
        message["method"] = rng.choice(methods + (["exit"] if "id" in message else []))
    elif roll == 5 and "id" in message:
        message["id"] = rng.choice([True, None, 1.5, [1], {"a": 1}])
    elif roll == 6:
        message.pop("params", None)
    elif roll == 7 and "id" in message:
        del message["id"]  # a request method sent as a notification
    else:
        message["params"] = {"textDocument": "x" * 100_000, "contentChanges": "y" * 100_000}
    return message


def _mutate_deep(rng: random.Random, value: dict[str, Any]) -> None:
    node = value
    for _ in range(rng.randint(1, 4)):
        children = [k for k, v in node.items() if isinstance(v, dict)]
        if not children or rng.random() < 0.4:
            break
        node = node[rng.choice(children)]
    if node:
        key = rng.choice(sorted(node))
        if rng.random() < 0.3:
            del node[key]
        else:
            node[key] = random_json(rng)


# -- frames -----------------------------------------------------------------------------------


@dataclass
class Outgoing:
    data: bytes
    expect: Any = None
    """An id that must be answered exactly once (None: no answer is owed)."""
    damaged: Any = None
    """The id of a request inside a broken frame (it may be answered, at most once)."""


def make_message(rng: random.Random, docs: Docs, seq: int, broken_frames: bool = True) -> Outgoing:
    method, params, is_request = valid_call(rng, docs)
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    msg_id = f"f{seq}"
    if is_request:
        message["id"] = msg_id
    roll = rng.random()
    if roll < 0.45:
        return _outgoing(frame(message), message)
    if roll < 0.8 or not broken_frames:
        message = mutate(rng, message)
        return _outgoing(frame(message), message)
    return _broken(rng, message, msg_id)


def _outgoing(data: bytes, message: dict[str, Any]) -> Outgoing:
    answerable = (
        "method" in message
        and "id" in message
        and isinstance(message["id"], int | str)
        and not isinstance(message["id"], bool)
    )
    return Outgoing(data, expect=message["id"] if answerable else None)


def _broken(rng: random.Random, message: dict[str, Any], msg_id: str) -> Outgoing:
    body = json.dumps(message).encode()
    owed = msg_id if "id" in message else None
    roll = rng.randrange(8)
    if roll == 0:  # not UTF-8, but its id can be read: still answered
        return Outgoing(frame(body.replace(b'"params"', b'"\xffparams"', 1)), expect=owed)
    if roll == 1:
        return Outgoing(frame(body[: _cut(rng, body)]), damaged=owed)
    if roll == 2:
        short = _cut(rng, body)
        return Outgoing(b"Content-Length: %d\r\n\r\n" % short + body, damaged=owed)
    if roll == 3:
        return Outgoing(b"Content-Type: x\r\n\r\n" + body, damaged=owed)
    if roll == 4:
        value = rng.choice([b"abc", b"-5", b"9999999999999999", b"", b"1e3"])
        return Outgoing(b"Content-Length: " + value + b"\r\n\r\n" + body, damaged=owed)
    if roll == 5:
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        return Outgoing(junk + b"\r\n" + frame(body), damaged=owed)
    if roll == 6:
        return Outgoing(
            b"content-length: %d\nX-Other: 1\n\n" % len(body) + body,
            expect=owed if _answerable_body(message) else None,
        )
    return Outgoing(frame(rng.choice([b"[]", b"[1,2]", b"null", b"42", b'"s"', b"{}"])))


def _cut(rng: random.Random, body: bytes) -> int:
    """A length inside ``body``, drawn so that the random sequence does not depend on the
    body's length (a run replays the same way whatever the workspace path)."""
    return 1 + int(rng.random() * (len(body) - 1))


def _answerable_body(message: dict[str, Any]) -> bool:
    return _outgoing(b"", message).expect is not None


# -- the run ----------------------------------------------------------------------------------


async def run_fuzz(
    count: int,
    seed: int,
    workdir: Path,
    batch: tuple[int, int] = (5, 25),
    on_progress: Callable[[FuzzReport], None] | None = None,
    server_path: Path | None = None,
    broken_frames: bool = True,
) -> FuzzReport:
    """Send ``count`` fuzz messages to a fresh server in ``workdir``; the report (without
    ``broken_frames``, every frame's header is right)."""
    from tests.loopback import LoopbackServer
    from tests.wire import serve_ollama

    with LoopbackServer() as model:
        serve_ollama(model, text=MODEL_ANSWER)
        return await _run(
            count, seed, workdir, batch, on_progress, server_path, model.url, broken_frames
        )


async def _run(
    count: int,
    seed: int,
    workdir: Path,
    batch: tuple[int, int],
    on_progress: Callable[[FuzzReport], None] | None,
    server_path: Path | None,
    model_url: str,
    broken_frames: bool,
) -> FuzzReport:
    rng = random.Random(seed)
    report = FuzzReport(seed)
    root = workdir / f"ws-{seed}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "app.js").write_text("function hello() { return 1 }\n")
    client = await RawClient.start(
        workdir / "cache",
        fuzz_settings(model_url),
        log=workdir / f"server-{seed}.log",
        server_path=server_path,
    )
    started = time.monotonic()
    expected: set[Any] = set()
    damaged: set[Any] = set()
    try:
        await client.initialize(root)
        docs = Docs(root)
        seq = 0
        while seq < count:
            for _ in range(min(rng.randint(*batch), count - seq)):
                seq += 1
                out = make_message(rng, docs, seq, broken_frames)
                await client.send_bytes(out.data)
                report.sent += 1
                if out.expect is not None:
                    expected.add(out.expect)
                if out.damaged is not None:
                    damaged.add(out.damaged)
                    report.damaged_frames += 1
            # a complete frame after the batch ends whatever a broken frame left unfinished
            await client.send_bytes(frame(b"{}"))
            answered = await _probe(client, report)
            if on_progress is not None:
                on_progress(report)
            if not client.alive or not answered:
                report.deaf = client.alive and not answered
                break  # dead, or alive and deaf: what is left would only wait
        await _settle(client, expected, timeout=30 if report.stalls[-1:] != [30.0] else 1)
        report.alive = client.alive
        report.answerable = len(expected)
        report.unanswered = sorted(str(i) for i in expected if not client.responses.get(i))
        report.answered_twice = sorted(
            str(i) for i in expected | damaged if len(client.responses.get(i, ())) > 1
        )
        report.damaged_answered = sum(1 for i in damaged if client.responses.get(i))
        report.output_errors = list(client.output_errors)
        if client.alive and not report.deaf:
            try:
                await client.request("shutdown", timeout=30)
                await client.notify("exit")
                report.exit_code = await client.exit_code(30)
            except TimeoutError:
                report.deaf = True
    finally:
        report.seconds = time.monotonic() - started
        await client.close()
    return report


async def _probe(client: RawClient, report: FuzzReport) -> bool:
    msg_id = f"p{report.probes}"
    report.probes += 1
    sent = time.monotonic()
    await client.send(
        {
            "jsonrpc": "2.0",
            "id": msg_id,
            "method": "workspace/executeCommand",
            "params": {"command": "weft.status", "arguments": []},
        }
    )
    try:
        await client.answer(msg_id, timeout=30)
    except TimeoutError:
        report.probe_latencies.append(30.0)
        return False
    report.probe_latencies.append(client.arrived[msg_id] - sent)
    return True


async def _settle(client: RawClient, expected: set[Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and client.alive:
        if all(client.responses.get(i) for i in expected):
            return
        await asyncio.sleep(0.05)
