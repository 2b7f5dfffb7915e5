"""The shared HTTP layer: line splitting, SSE/NDJSON framing, Retry-After, error mapping."""

from __future__ import annotations

import email.utils
import json
import random

import httpx
import pytest

from weft.backends.base import (
    BackendError,
    BackendHTTPError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
    RateLimited,
    UnknownModel,
)
from weft.backends.http import (
    Frame,
    FrameReader,
    LineDecoder,
    SseParser,
    error_message_from_body,
    http_status_error,
    looks_like_unknown_model,
    merge_stops,
    normalize_template,
    parse_retry_after,
    retry_after_seconds,
    stream_error,
    transport_error,
)

TEXT = "α = 1\r\nbeta = '€'\n\nγ: 😀\rlast\r\n"
EXPECTED_LINES = ["α = 1", "beta = '€'", "", "γ: 😀", "last"]


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[str]:
    decoder = LineDecoder()
    lines: list[str] = []
    start = 0
    for cut in [*cuts, len(data)]:
        lines.extend(decoder.feed(data[start:cut]))
        start = cut
    assert decoder.finish() == ""
    return lines


def test_lines_whole() -> None:
    assert feed_in_pieces(TEXT.encode(), []) == EXPECTED_LINES


def test_lines_split_at_every_byte() -> None:
    data = TEXT.encode()
    assert feed_in_pieces(data, list(range(1, len(data)))) == EXPECTED_LINES


def test_lines_split_at_random_points() -> None:
    data = TEXT.encode()
    rng = random.Random(7)
    for _ in range(500):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, 8)))
        assert feed_in_pieces(data, cuts) == EXPECTED_LINES


def test_crlf_split_between_cr_and_lf_counts_once() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"a\r") == ["a"]
    assert decoder.feed(b"\nb\n") == ["b"]


def test_lone_cr_followed_by_text_in_next_chunk() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"a\r") == ["a"]
    assert decoder.feed(b"b\n") == ["b"]


def test_utf8_split_inside_sequence_then_cr() -> None:
    decoder = LineDecoder()
    euro = "€".encode()
    assert decoder.feed(euro[:1]) == []
    assert decoder.feed(b"") == []
    assert decoder.feed(euro[1:] + b"\r") == ["€"]
    assert decoder.feed(b"\n") == []


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert LineDecoder().feed(b"ok \xff\xfe\n") == ["ok \ufffd\ufffd"]


def test_unterminated_last_line_is_kept_for_finish() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"done\npart") == ["done"]
    assert decoder.finish() == "part"


def test_sse_events_multi_data_event_comments_error_field() -> None:
    parser = SseParser()
    lines = [
        ": keep-alive",
        "event: content_block_delta",
        'data: {"a":',
        "data: 1}",
        "",
        "data:[DONE]",
        "",
        'error: {"message": "bad"}',
        "",
        "",
    ]
    frames = [f for line in lines if (f := parser.feed(line)) is not None]
    assert frames == [
        Frame('{"a":\n1}', "content_block_delta"),
        Frame("[DONE]", ""),
        Frame('{"message": "bad"}', "error"),
    ]
    assert frames[0].json("t") == {"a": 1}
    assert frames[1].done


def test_sse_reader_drops_a_cut_last_line_but_keeps_complete_pending_data() -> None:
    reader = FrameReader("sse")
    assert reader.feed(b'data: {"x": 1}\n\ndata: [DONE]\n') == [Frame('{"x": 1}')]
    assert reader.finish() == [Frame("[DONE]")]
    reader = FrameReader("sse")
    assert reader.feed(b'data: {"x": 1}\n\ndata: {"cho') == [Frame('{"x": 1}')]
    assert reader.finish() == []


def test_ndjson_reader_skips_blank_lines() -> None:
    reader = FrameReader("ndjson")
    assert reader.feed(b'{"a": 1}\n\n{"b"') == [Frame('{"a": 1}')]
    assert reader.feed(b": 2}\r\n") == [Frame('{"b": 2}')]


def test_frame_bad_json_is_protocol_error() -> None:
    with pytest.raises(BackendProtocolError, match="invalid JSON"):
        Frame('{"a": ').json("ollama")


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 3600 ") == 3600.0
    assert parse_retry_after("-5") == 0.0
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(90.0)
    past = email.utils.formatdate(now - 90, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_retry_after_ms_wins() -> None:
    headers = httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})
    assert retry_after_seconds(headers) == 1.5
    assert retry_after_seconds(httpx.Headers({"Retry-After": "9"})) == 9.0


@pytest.mark.parametrize(
    ("status", "body", "unknown"),
    [
        (404, '{"error":"model \\"qwen\\" not found, try pulling it first"}', True),
        (
            404,
            '{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}',
            True,
        ),
        (400, '{"object":"error","message":"Invalid model: x","type":"invalid_model"}', True),
        (404, '{"type":"error","error":{"type":"not_found_error","message":"model: x"}}', True),
        (404, "404 page not found", False),
        (404, '{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}', False),
        (500, '{"error":"model not found"}', False),
    ],
)
def test_unknown_model_detection(status: int, body: str, unknown: bool) -> None:
    assert looks_like_unknown_model(status, body) is unknown


def test_status_errors() -> None:
    err = http_status_error("openai", "http://h/v1/completions", 500, '{"error": "boom"}', {}, "m")
    assert type(err) is BackendHTTPError and err.status == 500
    assert "HTTP 500" in str(err) and "boom" in str(err) and "http://h/v1/completions" in str(err)
    limited = http_status_error("openai", "u", 429, "slow down", {"retry-after": "7"}, "m")
    assert (
        isinstance(limited, RateLimited) and limited.retry_after_s == 7.0 and limited.status == 429
    )
    unknown = http_status_error("ollama", "u", 404, '{"error":"model \\"m\\" not found"}', {}, "m")
    assert isinstance(unknown, UnknownModel) and "'m'" in str(unknown)
    auth = http_status_error(
        "anthropic", "u", 401, '{"error":{"message":"invalid x-api-key"}}', {}, "m"
    )
    assert isinstance(auth, BackendHTTPError) and "authentication" in str(auth)


def test_error_message_excerpt_is_short_and_one_line() -> None:
    body = json.dumps({"error": {"message": "line one\nline two " + "x" * 1000}})
    message = error_message_from_body(body)
    assert "\n" not in message and len(message) <= 300 and message.startswith("line one line two")
    assert error_message_from_body("<html>\n<b>oops</b></html>") == "<html> <b>oops</b></html>"


def test_transport_errors() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/x")
    refused = transport_error(
        "ollama",
        "http://127.0.0.1:9/x",
        httpx.ConnectError("refused", request=request),
        answered=False,
    )
    assert isinstance(refused, BackendUnavailable) and "http://127.0.0.1:9/x" in str(refused)
    assert isinstance(
        transport_error("o", "u", httpx.ReadTimeout("t", request=request), answered=True),
        BackendTimeout,
    )
    assert isinstance(
        transport_error("o", "u", httpx.ConnectTimeout("t", request=request), answered=False),
        BackendUnavailable,
    )
    cut = transport_error(
        "o", "u", httpx.RemoteProtocolError("peer closed", request=request), answered=True
    )
    assert isinstance(cut, BackendProtocolError) and "stream cut" in str(cut)
    bad_url = transport_error(
        "o", "localhost:1", httpx.UnsupportedProtocol("no scheme"), answered=False
    )
    assert isinstance(bad_url, BackendUnavailable) and "invalid backend URL" in str(bad_url)


def test_stream_error_kinds() -> None:
    assert isinstance(
        stream_error(
            "a", {"type": "error", "error": {"type": "rate_limit_error", "message": "x"}}, "m"
        ),
        RateLimited,
    )
    assert isinstance(stream_error("o", {"error": 'model "m" not found'}, "m"), UnknownModel)
    other = stream_error(
        "a", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "m"
    )
    assert type(other) is BackendError and "Overloaded" in str(other)


def test_merge_stops_and_templates() -> None:
    assert merge_stops(["\n", ""], ["<EOT>", "\n"]) == ["\n", "<EOT>"]
    assert normalize_template("raw") is None and normalize_template("auto") is None
    assert normalize_template(None) is None and normalize_template("qwen") == "qwen"
