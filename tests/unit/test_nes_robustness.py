"""Bad input never breaks NES: random edits (half-typed code, brackets, line breaks of every
kind, non-BMP characters) in every supported language, then prediction, each prompt format and
arbitrary answers. Nothing raises, nothing is logged as an error, and every candidate lies
inside the snapshot it names."""

from __future__ import annotations

import logging
import random
import re

import pytest

from tests.unit.test_nes_predict import AREA, GO, RUST, SELF, TS, Session
from weft.nes.parse import parse_answer, syntax_checked
from weft.nes.prompts import FORMATS, NesInput, build_prompt

SOURCES = [
    (AREA, "python", "a.py"),
    (SELF, "python", "s.py"),
    (TS, "typescript", "t.ts"),
    (GO, "go", "g.go"),
    (RUST, "rust", "r.rs"),
]
WORD = re.compile(r"[A-Za-z_]\w*")
PIECES = ["", "x", "new_name", "\n", "\r\n", "\r", "(", ")", "{", "'", '"""', "é😀", "\t", "#"]


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_never_break_prediction_or_parsing(seed: int, caplog) -> None:
    rng = random.Random(seed)
    caplog.set_level(logging.WARNING)
    for text, language, name in SOURCES:
        s = Session(text, f"file:///w/{name}", language)
        for _ in range(15):
            words = list(WORD.finditer(s.text))
            if words and rng.random() < 0.5:  # retype a name: the scope analysis runs
                word = rng.choice(words)
                start, end, piece = word.start(), word.end(), rng.choice(["n", "value", "w2"])
            else:
                start = rng.randrange(len(s.text) + 1)
                end = min(len(s.text), start + rng.randint(0, 8))
                piece = rng.choice([*PIECES, s.text[rng.randrange(len(s.text) or 1) :][:12]])
            s.replace(start, end, piece)
            cursor = min(start + len(piece), len(s.text))
            for candidate in s.predict(cursor=cursor):
                assert 0 <= candidate.start <= candidate.end <= len(candidate.document.text)
                assert candidate.is_fresh(s.doc)
            for fmt in FORMATS:
                prompt = build_prompt(fmt, NesInput(s.doc, cursor, name, s.history.recent()))
                if prompt is None:
                    continue
                region = prompt.region.text
                for answer in (
                    "",
                    "junk",
                    region[::-1],
                    region + "\n" * 30,
                    f"```\n{region}x\n```",
                ):
                    for candidate in syntax_checked(parse_answer(prompt, answer)):
                        assert prompt.region.start <= candidate.start <= candidate.end
                        assert candidate.end <= prompt.region.end
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
