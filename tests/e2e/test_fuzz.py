"""A bounded fuzz of the real server (issue 11): a few thousand hostile messages with fixed
seeds (``tests/fuzzing.py``; ``bench/fuzz.py`` runs tens of thousands and prints the figures).
Every request the client can match gets exactly one answer, the server stays alive and
answering, exits 0 after shutdown, and logs no error of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzzing import run_fuzz


@pytest.mark.parametrize("seed", [1, 2])
async def test_every_request_is_answered_once_and_the_server_lives(seed: int, tmp_path: Path):
    report = await run_fuzz(2_500, seed, tmp_path)
    assert report.sent == 2_500 and report.answerable > 800
    assert report.unanswered == [], report.summary()
    assert report.answered_twice == [], report.summary()
    assert report.alive and not report.deaf, report.summary()
    assert report.output_errors == []  # the server's own output is always well framed
    assert report.exit_code == 0  # shutdown then exit
    log = (tmp_path / f"server-{seed}.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and " ERROR " not in log  # client mistakes are not errors
