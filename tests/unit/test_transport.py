"""The frame reader (weft/transport.py) and the protocol's pure parts (weft/protocol.py): framing
errors resynchronise, nothing is held beyond the cap, ids are read from what arrived."""

from __future__ import annotations

import asyncio
import json

import pytest

from weft.protocol import Rejected, decode, sniff_request_id
from weft.transport import FrameReader


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def reader_over(chunks: list[bytes], **kwargs) -> tuple[FrameReader, list[tuple[str, bytes, int]]]:
    errors: list[tuple[str, bytes, int]] = []
    pending = list(chunks)

    async def read() -> bytes:
        return pending.pop(0) if pending else b""

    return FrameReader(read, lambda *e: errors.append(e), **kwargs), errors


async def frames_of(chunks: list[bytes], **kwargs) -> tuple[list[bytes], list[str]]:
    reader, errors = reader_over(chunks, **kwargs)
    out = []
    while (body := await reader.next_frame()) is not None:
        out.append(body)
    return out, [e[0] for e in errors]


async def test_frames_split_anywhere_across_reads():
    stream = frame(b'{"a":1}') + frame(b'{"b":2}')
    chunks = [stream[i : i + 3] for i in range(0, len(stream), 3)]
    assert (await frames_of(chunks))[0] == [b'{"a":1}', b'{"b":2}']


async def test_headers_in_any_case_order_and_line_ending():
    body = b'{"x":1}'
    stream = (
        b"Content-Type: application/vscode-jsonrpc\r\ncontent-length: 7\r\n\r\n"
        + body
        + b"CONTENT-LENGTH:7\n\n"
        + body
    )
    assert (await frames_of([stream]))[0] == [body, body]


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (b"Content-Type: x\r\n\r\n{}", "without Content-Length"),
        (b"Content-Length: abc\r\n\r\n{}", "unreadable Content-Length"),
        (b"Content-Length: -3\r\n\r\n{}", "unreadable Content-Length"),
        (b"garbage\r\n", "junk"),
    ],
)
async def test_broken_frames_resynchronise_on_the_next_header(broken, reason):
    frames, errors = await frames_of([broken + frame(b'{"ok":1}')])
    assert frames[-1] == b'{"ok":1}'
    assert any(reason in e for e in errors)


async def test_a_header_glued_to_a_short_body_is_found():
    body = b'{"jsonrpc":"2.0","id":1,"method":"m"}'
    stream = b"Content-Length: 10\r\n\r\n" + body + frame(b'{"ok":1}')
    frames, _ = await frames_of([stream])
    assert frames == [body[:10], b'{"ok":1}']


async def test_a_length_over_the_cap_is_skipped_without_being_held():
    big = b'{"jsonrpc":"2.0","id":7,"method":"m","params":"' + b"x" * 5000 + b'"}'
    stream = b"Content-Length: 9999999999999999\r\n\r\n" + big + frame(b'{"ok":1}')
    chunks = [stream[i : i + 700] for i in range(0, len(stream), 700)]
    reader, errors = reader_over(chunks, cap=1024)
    assert await reader.next_frame() == b'{"ok":1}'
    reason, head, code = errors[0]
    assert "over the" in reason and code == -32602
    assert sniff_request_id(head) == 7  # enough of the head to answer the request
    assert len(reader._buf) <= 1024  # nothing near the announced length was kept


async def test_a_body_that_stops_arriving_is_taken_as_it_is():
    never: asyncio.Event = asyncio.Event()
    sent = [b"Content-Length: 100\r\n\r\n" + b'{"id":1}']

    async def read() -> bytes:
        if sent:
            return sent.pop()
        await never.wait()
        return b""

    errors: list[str] = []
    reader = FrameReader(read, lambda r, h, c: errors.append(r), stall_s=0.05)
    assert await reader.next_frame() == b'{"id":1}'
    assert "only 8 bytes arrived" in errors[0]


async def test_pushed_back_bytes_are_read_first():
    reader, _ = reader_over([frame(b'{"b":2}')])
    reader.push_back(frame(b'{"a":1}'))
    assert [await reader.next_frame(), await reader.next_frame()] == [b'{"a":1}', b'{"b":2}']


def test_decode_returns_what_follows_the_first_value():
    first = {"jsonrpc": "2.0", "id": 1, "method": "m"}
    value, rest = decode(json.dumps(first).encode() + b"Content-Length: 2\r\n\r\n{}")
    assert value == first and rest == b"Content-Length: 2\r\n\r\n{}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": 1, "method": "m", "x": "\xff"}', "not valid UTF-8"),
        (b'{"id": 1', "not JSON"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_decode_errors_are_parse_errors(body, message):
    with pytest.raises(Rejected) as info:
        decode(body)
    assert info.value.code == -32700 and message in str(info.value)


def test_invalid_utf8_keeps_the_message_for_its_id():
    with pytest.raises(Rejected) as info:
        decode(b'{"jsonrpc": "2.0", "id": 5, "method": "m\xff"}')
    assert info.value.partial["id"] == 5


@pytest.mark.parametrize(
    ("head", "msg_id"),
    [
        (b'{"jsonrpc":"2.0","id":12,"method":"textDocument/hov', 12),
        (b'{"jsonrpc":"2.0","method":"x","id":"a', None),  # the id itself is cut
        (b'{"id": "s-1", "params": {"id": 9}, "method": "m"', "s-1"),
        (b'{"params": {"id": 9, "method": "m"}, "id": 3, "method"', 3),
        (b'{"id": 3, "result": {}}', None),  # a response: never answered
        (b'{"id": 3', None),  # no method seen: cannot tell
        (b"[1,2]", None),
        (b'{"id": true, "method": "m"}', None),
    ],
)
def test_sniff_request_id_reads_only_top_level_members(head, msg_id):
    assert sniff_request_id(head) == msg_id


async def test_the_rest_of_a_short_body_is_never_taken_for_a_header():
    # the cut falls inside a URI: what is left ("le:///a.py"...) looks like a header named "le"
    body = b'{"jsonrpc":"2.0","id":1,"method":"m","params":{"uri":"file:///a.py"}}'
    cut = body.index(b"le:///") - 2
    stream = b"Content-Length: %d\r\n\r\n" % cut + body + frame(b'{"ok":1}')
    frames, errors = await frames_of([stream])
    assert frames == [body[:cut], b'{"ok":1}']
    assert any("junk" in e for e in errors)
