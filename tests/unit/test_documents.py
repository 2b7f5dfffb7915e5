"""Document snapshots: LSP line rules, position encodings, incremental changes."""

from __future__ import annotations

import pytest
from lsprotocol import types

from weft.documents import UTF8, UTF16, UTF32, Document, PositionError, line_ending_of, split_lines


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def test_lsp_line_rules_differ_from_splitlines():
    text = "a\fb\x0bc\u2028d\r\ne\rf\ng"
    # str.splitlines would break at \f, \v and U+2028 as well.
    assert len(text.splitlines()) == 7
    assert split_lines(text) == ["a\fb\x0bc\u2028d\r\n", "e\r", "f\n", "g"]
    doc = Document("file:///x.py", text)
    assert doc.line_count == 4
    assert doc.line_text(0) == "a\fb\x0bc\u2028d"
    assert doc.offset_at(pos(1, 1)) == text.index("\r", text.index("e"))
    assert doc.offset_at(pos(3, 1)) == len(text)


def test_form_feed_keeps_later_positions_right():
    text = "x = 1\n\f\ndef f():\n    pass\n"
    doc = Document("file:///x.py", text)
    assert doc.offset_at(pos(2, 4)) == text.index("f()")
    assert doc.position_at(text.index("pass")) == pos(3, 4)


@pytest.mark.parametrize(
    ("encoding", "character"),
    [(UTF16, 5), (UTF8, 8), (UTF32, 4)],
)
def test_position_encodings_count_code_units(encoding, character):
    # "é" is 1 UTF-16 unit / 2 UTF-8 bytes; "𝄞" is 2 UTF-16 units / 4 UTF-8 bytes.
    text = "é𝄞ab = 1\n"
    doc = Document("file:///x.py", text, encoding=encoding)
    offset = text.index(" ")  # after é, 𝄞, a, b: 4 code points
    assert doc.position_at(offset) == pos(0, character)
    assert doc.offset_at(pos(0, character)) == offset


def test_crlf_positions_and_line_ending_detection():
    text = "a = 1\r\nb = 2\r\n"
    doc = Document("file:///x.py", text)
    assert doc.offset_at(pos(1, 0)) == 7
    assert doc.position_at(7) == pos(1, 0)
    assert line_ending_of(text) == "\r\n"
    assert line_ending_of("a\nb\n") == "\n"
    assert line_ending_of("a") == "\n"


def test_character_past_line_end_clamps_to_line_end_not_next_line():
    doc = Document("file:///x.py", "ab\ncd\n")
    assert doc.offset_at(pos(0, 99)) == 2


def test_out_of_range_positions_raise_position_error():
    doc = Document("file:///x.py", "ab\n")
    with pytest.raises(PositionError):
        doc.offset_at(pos(5, 0))
    # lsprotocol rejects negative positions itself; huge characters clamp to the line end.
    assert doc.offset_at(pos(0, 2**31 - 1)) == 2


def test_incremental_changes_in_utf16_with_astral_characters():
    doc = Document("file:///x.py", "s = '𝄞'\nprint(s)\n", version=1)
    change = types.TextDocumentContentChangePartial(
        range=types.Range(pos(0, 8), pos(0, 8)),
        text="x",  # after the 2-unit 𝄞 and its quote
    )
    new = doc.with_changes([change], 2)
    assert new.text == "s = '𝄞'x\nprint(s)\n"
    assert new.version == 2


def test_several_changes_apply_in_order_and_whole_replacement():
    doc = Document("file:///x.py", "hello\nworld\n", version=1)
    changes = [
        types.TextDocumentContentChangePartial(
            range=types.Range(pos(1, 0), pos(1, 5)), text="there"
        ),
        types.TextDocumentContentChangePartial(range=types.Range(pos(0, 5), pos(0, 5)), text=","),
        types.TextDocumentContentChangeWholeDocument(text="new\n"),
        types.TextDocumentContentChangePartial(range=types.Range(pos(1, 0), pos(1, 0)), text="end"),
    ]
    assert doc.with_changes(changes[:2], 2).text == "hello,\nthere\n"
    assert doc.with_changes(changes, 3).text == "new\nend"


def test_change_inserting_into_crlf_pair_boundaries():
    doc = Document("file:///x.py", "a\r\nb", version=1)
    new = doc.with_changes(
        [
            types.TextDocumentContentChangePartial(
                range=types.Range(pos(0, 1), pos(1, 0)), text="\n"
            )
        ],
        2,
    )
    assert new.text == "a\nb"
    assert new.line_count == 2


def test_language_from_id_and_path():
    assert Document("file:///a/x.tsx", "", language_id="typescriptreact").language == "tsx"
    assert Document("file:///a/x.rs", "", language_id="").language == "rust"
    assert Document("untitled:Untitled-1", "", language_id="python").language == "python"


def test_incremental_line_starts_match_a_full_rescan_on_random_edits():
    import random

    rng = random.Random(7)
    pieces = ["a", "bc", "\n", "\r\n", "\r", "é", "𝄞", "  ", "\f", "x\ny"]
    doc = Document("file:///x.py", "start\nline two\r\nthree\rfour\n", version=0)
    for version in range(1, 3000):
        n = len(doc.text)
        a = rng.randint(0, n)
        b = min(n, a + rng.choice([0, 0, 1, 2, 5]))
        change = types.TextDocumentContentChangePartial(
            range=types.Range(doc.position_at(a), doc.position_at(b)),
            text="".join(rng.choice(pieces) for _ in range(rng.choice([0, 1, 1, 2, 3]))),
        )
        doc = doc.with_changes([change], version)
        fresh = Document(doc.uri, doc.text)
        assert doc.line_starts == fresh.line_starts, (version, doc.text)
