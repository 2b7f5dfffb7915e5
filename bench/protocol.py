"""What the protocol layer costs per message on the keystroke path (issue 11): the time from a
frame's bytes to the handler being scheduled, through weft's ``WeftProtocol.receive`` (decode,
envelope, lifecycle, method, shape check, cattrs) against pygls's own path
(``json.loads(object_hook=structure_message)`` then ``handle_message``), in process, with the
handlers replaced by no-ops so only the protocol is timed; and the frame reader's cost per
frame.

Run: ``python bench/protocol.py [--repeat 20000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

URI = "file:///work/project/src/module.py"
MESSAGES = {
    "didChange (1 char)": {
        "jsonrpc": "2.0",
        "method": "textDocument/didChange",
        "params": {
            "textDocument": {"uri": URI, "version": 7},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 120, "character": 8},
                        "end": {"line": 120, "character": 8},
                    },
                    "text": "x",
                }
            ],
        },
    },
    "inlineCompletion": {
        "jsonrpc": "2.0",
        "id": 41,
        "method": "textDocument/inlineCompletion",
        "params": {
            "textDocument": {"uri": URI},
            "position": {"line": 120, "character": 9},
            "context": {"triggerKind": 2},
        },
    },
    "$/cancelRequest": {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 40}},
    "didChange (full 200 KB)": {
        "jsonrpc": "2.0",
        "method": "textDocument/didChange",
        "params": {
            "textDocument": {"uri": URI, "version": 8},
            "contentChanges": [{"text": "x = 1\n" * 34_000}],
        },
    },
}


class _NullWriter:
    def write(self, data: bytes) -> None:
        pass


def _server(weft_protocol: bool) -> Any:
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer

    from weft.protocol import WeftProtocol

    if weft_protocol:
        server = LanguageServer("bench", "0", protocol_cls=WeftProtocol)
        server.protocol.state = "initialized"
    else:
        server = LanguageServer("bench", "0")

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Any, params: Any) -> None:
        pass

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    def inline(ls: Any, params: Any) -> None:
        return None

    server.protocol.set_writer(_NullWriter())
    return server


def per_message(repeat: int) -> None:
    weft_server, pygls_server = _server(True), _server(False)
    structure = pygls_server.protocol.structure_message
    print(f"per message, median of {repeat} (µs): weft receive() | pygls")
    for name, message in MESSAGES.items():
        body = json.dumps(message).encode()
        n = repeat if len(body) < 10_000 else max(50, repeat // 200)
        weft_times, pygls_times = [], []
        for _ in range(n):
            started = time.perf_counter()
            weft_server.protocol.receive(body)
            weft_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            pygls_server.protocol.handle_message(json.loads(body, object_hook=structure))
            pygls_times.append(time.perf_counter() - started)
        print(
            f"  {name:26} {statistics.median(weft_times) * 1e6:8.1f} | "
            f"{statistics.median(pygls_times) * 1e6:8.1f}"
        )


def frames(repeat: int) -> None:
    from weft.transport import FrameReader

    body = json.dumps(MESSAGES["didChange (1 char)"]).encode()
    frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
    stream = frame * repeat
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]

    async def run() -> float:
        pending = list(chunks)

        async def read() -> bytes:
            return pending.pop(0) if pending else b""

        reader = FrameReader(read)
        started = time.perf_counter()
        while await reader.next_frame() is not None:
            pass
        return time.perf_counter() - started

    seconds = asyncio.run(run())
    print(f"frame reader: {seconds / repeat * 1e6:.2f} µs per {len(frame)}-byte frame")


def main() -> None:
    import logging

    logging.disable(logging.WARNING)  # pygls warns on every cancel for an unknown id
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20_000)
    args = parser.parse_args()
    per_message(args.repeat)
    frames(args.repeat)


if __name__ == "__main__":
    main()
