"""Chat-model answers stream line by line once their code is certain, so a caller that has
what it needs can stop the model early; the whole-answer clean-up still has the last word."""

from __future__ import annotations

import asyncio

import pytest

from tests import wire
from weft.backends.base import FimRequest, collect
from weft.backends.registry import create_backend
from weft.completion.prompt import FILL_MARKER, chat_code_so_far, strip_chat_answer


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        ("x = 1", None),  # no complete line yet
        ("x = 1\n", None),  # one unfenced line could still be prose before a fence
        ("x = 1\ny = 2\nz", "x = 1\ny = 2"),
        ("```python\nx = 1\n", "x = 1"),
        ("```python\nx = 1\ny = 2\n``", "x = 1\ny = 2"),  # "``" may become the closing fence
        ("```python\nx = 1\n```\nThis sets x.\n", "x = 1"),  # prose after the fence is dropped
        ("Here it is:\n```python\nx = 1\n", None),  # prose first: leave it to the final clean-up
        ("<file>\nx = 1\ny = 2\n", "x = 1\ny = 2"),
        (f"x = {FILL_MARKER}1\ny = 2\n", "x = 1\ny = 2"),
    ],
)
def test_code_so_far(partial, expected):
    assert chat_code_so_far(partial) == expected


@pytest.mark.parametrize(
    "answer",
    [
        "```python\nreturn a + b\n```\n",
        "return a + b\nprint(1)\n",
        "Sure! Here is the code:\n```\nreturn a + b\n```\nIt adds.",
        "<file>\nreturn a + b\n</file>\n",
    ],
)
def test_every_certain_prefix_extends_to_the_final_answer(answer):
    final = strip_chat_answer(answer)
    for cut in range(len(answer) + 1):
        code = chat_code_so_far(answer[:cut])
        assert code is None or final.startswith(code), (answer[:cut], code, final)


def test_prefix_echo_is_dropped_while_streaming():
    assert chat_code_so_far("    total = a + b\n    return total\n", "def f(a, b):\n    tot") == (
        "al = a + b\n    return total"
    )


@pytest.mark.parametrize("name", ["openai-chat", "anthropic"])
async def test_first_line_arrives_before_the_answer_ends_and_stopping_aborts_it(loopback, name):
    text = "\n".join(f"line_{i} = {i}" for i in range(12)) + "\n"
    responder = wire.SERVERS[name](loopback, text=text, chunks=12, delay_s=0.15)
    backend = create_backend(wire.backend_settings(name, loopback, responder))
    request = FimRequest(prefix="def f():\n", suffix="\n", path="a.py", language="python")
    received = ""
    try:
        async for delta in backend.stream_fim(request):
            received += delta
            if "\n" in received:
                break  # what the engine does once a single line is complete
    finally:
        await backend.aclose()
    assert received.startswith("line_0 = 0\nline_1 = 1")
    await asyncio.sleep(0.3)
    (call,) = responder.requests()
    assert call.aborted  # stopping early closed the HTTP call


@pytest.mark.parametrize("name", ["openai-chat", "anthropic"])
async def test_whole_answer_is_unchanged(loopback, name):
    responder = wire.SERVERS[name](
        loopback, text="Here:\n```python\nreturn a + b\n```\nDone.", chunks=5
    )
    backend = create_backend(wire.backend_settings(name, loopback, responder))
    try:
        text = await collect(backend.stream_fim(FimRequest(prefix="def f(a, b):\n    ", suffix="")))
    finally:
        await backend.aclose()
    assert text == "return a + b"
