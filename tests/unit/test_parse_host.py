"""The parse process (weft/index/parse_host.py): tree-sitter work under a budget, a child killed
and replaced when it overruns or dies, the (file, grammar) pair quarantined, the right call
blamed after a cancellation, a starved child given time, and the completion path's two parses
giving what they give in process."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from weft.completion import extent, postprocess
from weft.completion.syntax import BoundedSyntax
from weft.index.parse_host import ParseHost, ParseTimeout, ParseUnavailable

HANG = ("hello\n", 6, 6, "world\n", "cobol", 0)
"""Guard arguments on which the language pack's COBOL scanner never returns."""
FINE = ("def f():\n    ", 13, 13, "return (1\n", "python", 0)


@pytest.fixture
async def host():
    parse = ParseHost("test parser", budget_s=0.5)
    yield parse
    await parse.close()


async def test_a_task_answers_what_it_answers_in_process(host: ParseHost):
    from weft.completion.syntax_guard import guard_syntax

    assert await host.call("guard", FINE, ("f.py", "python")) == guard_syntax(*FINE[:5])
    assert await host.call("opener", ("if x:  # c\n", 4, "python")) is True
    problems = await host.call("problems", ("def f(:\n", "python"))
    assert [(p.line, p.kind) for p in problems] == [(1, "missing )")]


async def test_a_grammar_that_never_returns_is_cut_off_and_quarantined(host: ParseHost):
    with pytest.raises(ParseTimeout, match="budget"):
        await host.call("guard", HANG, ("hello.cob", "cobol"))
    assert host.is_quarantined(("hello.cob", "cobol")) and host.timeouts == 1
    with pytest.raises(ParseUnavailable, match="quarantined"):
        await host.call("guard", HANG, ("hello.cob", "cobol"))  # refused at once
    assert await host.call("guard", FINE, ("f.py", "python"))  # a new child serves the rest


async def test_a_child_that_dies_quarantines_what_killed_it(host: ParseHost):
    call = asyncio.ensure_future(host.call("guard", HANG, ("dies.cob", "cobol"), budget_s=30))
    await asyncio.sleep(0.3)
    os.kill(host._worker.process.pid, signal.SIGKILL)
    with pytest.raises(ParseTimeout, match="crashed"):
        await call
    assert host.quarantined[("dies.cob", "cobol")] == "crashed the parser process"
    assert await host.call("guard", FINE, ("f.py", "python"))


async def test_after_a_cancelled_call_the_overrun_is_blamed_on_it(host: ParseHost):
    await host.start()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(host.call("guard", HANG, ("first.cob", "cobol")), 0.1)
    # the next call waits for the abandoned one within its budget, which it overruns
    assert await host.call("guard", FINE, ("next.py", "python"))
    assert host.is_quarantined(("first.cob", "cobol"))
    assert not host.is_quarantined(("next.py", "python"))


async def test_a_starved_child_gets_more_time_and_nothing_is_quarantined(host: ParseHost):
    await host.start()
    pid = host._worker.process.pid
    os.kill(pid, signal.SIGSTOP)  # as on a loaded machine: the child gets no core
    asyncio.get_running_loop().call_later(0.8, os.kill, pid, signal.SIGCONT)
    assert await host.call("guard", FINE, ("f.py", "python"))  # past one 0.5 s budget
    assert host.timeouts == 0 and not host.quarantined


async def test_calls_after_close_are_refused(host: ParseHost):
    assert await host.call("guard", FINE)
    await host.close()
    with pytest.raises(ParseUnavailable, match="closed"):
        await host.call("guard", FINE)


CASES = [
    ("def add(a, b):\n    ", "return a + b\n", "python"),
    ("function f(x) {\n  ", "return (x + 1;\n}\n", "javascript"),
    ("x = [1, 2", ", 3]\ny = 4\n", "python"),
    ("fn main() {\n    ", "let x = vec![1, 2];\n}\n", "rust"),
]


@pytest.mark.parametrize(("before", "raw", "language"), CASES)
async def test_the_completion_path_guards_as_in_process(before, raw, language):
    syntax = BoundedSyntax(ParseHost("guard"))
    try:
        text = before + "\n\nz = 1\n"
        offset = len(before)
        ctx = postprocess.context_for(text, offset, language)
        multiline = await syntax.decide_multiline("u", text, offset, language, "auto")
        assert multiline == extent.decide_multiline(text, offset, language, "auto")
        expected = postprocess.process_completion(ctx, raw, multiline)
        cand = postprocess.postprocess(ctx, raw, multiline)
        got = await syntax.guard("u", ctx, cand, 0) if cand is not None else None
        assert got == expected
    finally:
        await syntax.aclose()
