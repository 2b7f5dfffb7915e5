"""The NES edit history: coalescing keystrokes into edits a person thinks in (a retyped
identifier, a changed line), multi-cursor changes, undo, coordinates that follow later changes,
LSP change events, and the memory bounds."""

from __future__ import annotations

from lsprotocol import types

from weft.documents import Document
from weft.nes.history import MAX_EDIT_CHARS, EditHistory, TextChange, revert

URI = "file:///w/a.py"


class Typist:
    """A document being edited one change at a time, fed to a history like text sync would."""

    def __init__(self, text: str, history: EditHistory | None = None, uri: str = URI) -> None:
        self.text = text
        self.uri = uri
        self.history = history if history is not None else EditHistory()
        self.version = 0
        self.clock = 100.0

    def replace(self, start: int, end: int, text: str, *, pause: float = 0.1) -> None:
        self.clock += pause
        self.version += 1
        line = self.text.count("\n", 0, start)
        self.history.record(
            self.uri, self.text, TextChange(start, end, text, line), self.version, self.clock
        )
        self.text = self.text[:start] + text + self.text[end:]

    def type(self, position: int, text: str) -> None:
        for index, char in enumerate(text):
            self.replace(position + index, position + index, char)

    def backspace(self, position: int, count: int) -> None:
        for index in range(count):
            self.replace(position - index - 1, position - index, "")


def only_edit(typist: Typist):
    edits = typist.history.edits(typist.uri)
    assert len(edits) == 1, edits
    return edits[0]


def test_typing_an_identifier_char_by_char_is_one_edit():
    t = Typist("x = \nprint(x)\n")
    t.type(4, "total")
    edit = only_edit(t)
    assert (edit.start, edit.old_text, edit.new_text, edit.line) == (4, "", "total", 0)
    assert t.text[edit.start : edit.end] == "total"


def test_selecting_and_retyping_an_identifier_is_one_replacement():
    t = Typist("value = foo + 1\n")
    t.replace(8, 11, "b")
    t.type(9, "ar")
    edit = only_edit(t)
    assert (edit.start, edit.old_text, edit.new_text) == (8, "foo", "bar")


def test_retyping_over_a_selection_that_shares_letters_stays_one_edit():
    # "size" selected and overtyped with "e", then "xtent": the typed "e" matches the old
    # last letter, which must not cut the edit short of the cursor.
    t = Typist("def f(size): pass\n")
    t.replace(6, 10, "e")
    t.type(7, "xtent")
    edit = only_edit(t)
    assert (edit.start, edit.old_text, edit.new_text) == (6, "size", "extent")


def test_backspacing_and_retyping_is_one_replacement():
    t = Typist("value = foo + 1\n")
    t.backspace(11, 3)
    t.type(8, "bar")
    edit = only_edit(t)
    assert (edit.start, edit.old_text, edit.new_text) == (8, "foo", "bar")
    assert revert(t.text, [edit]) == "value = foo + 1\n"


def test_backspacing_past_the_start_of_an_edit_extends_it_backwards():
    t = Typist("value = foo + 1\n")
    t.type(11, "_x")  # foo_x
    t.backspace(13, 5)  # erase foo_x entirely
    t.type(8, "bar")
    edit = only_edit(t)
    assert (edit.start, edit.old_text, edit.new_text) == (8, "foo", "bar")


def test_undo_nets_out_to_a_noop_edit_not_to_the_edit_before():
    t = Typist("a = 1\nvalue = foo + 1\n")
    t.replace(4, 5, "2")  # an earlier, unrelated edit
    t.replace(14, 17, "bar", pause=5)
    t.replace(14, 17, "foo")  # the editor's undo replaces the word back
    latest = t.history.last(URI)
    assert latest is not None and latest.is_noop
    assert t.history.edits(URI)[1].new_text == "2"


def test_multi_cursor_changes_each_extend_their_own_edit():
    # One didChange with two changes (applied in order), then the same again: two cursors
    # typing "xy" on two lines.
    history = EditHistory()
    doc = Document(URI, "a = \nb = \n", 1)
    changes = [
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(1, 4), types.Position(1, 4)), text="x"
        ),
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 4), types.Position(0, 4)), text="x"
        ),
    ]
    history.record_lsp(doc, changes, 2, now=1.0)
    doc = doc.with_changes(changes, 2)
    second = [
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(1, 5), types.Position(1, 5)), text="y"
        ),
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 5), types.Position(0, 5)), text="y"
        ),
    ]
    history.record_lsp(doc, second, 3, now=1.1)
    doc = doc.with_changes(second, 3)
    assert doc.text == "a = xy\nb = xy\n"
    edits = sorted(history.edits(URI), key=lambda e: e.start)
    assert [(e.start, e.old_text, e.new_text, e.line) for e in edits] == [
        (4, "", "xy", 0),
        (11, "", "xy", 1),
    ]
    for edit in edits:
        assert doc.text[edit.start : edit.end] == "xy"


def test_whole_line_replacement_is_trimmed_to_what_changed():
    # Some clients send the whole line (or the whole document) for a one-word change.
    t = Typist("first\nvalue = foo + 1\nlast\n")
    t.replace(6, 21, "value = bar + 1")
    edit = only_edit(t)
    assert (edit.start, edit.old_text, edit.new_text, edit.line) == (14, "foo", "bar", 1)


def test_whole_document_change_is_trimmed_without_a_line_diff():
    history = EditHistory()
    doc = Document(URI, "one\ntwo = foo\nthree\n", 1)
    history.record_lsp(
        doc,
        [types.TextDocumentContentChangeWholeDocument(text="one\ntwo = bar\nthree\n")],
        2,
        now=1.0,
    )
    (edit,) = history.edits(URI)
    assert (edit.start, edit.old_text, edit.new_text, edit.line) == (10, "foo", "bar", 1)


def test_a_client_resending_the_same_text_records_nothing():
    t = Typist("value = foo\n")
    t.replace(8, 11, "foo")
    assert t.history.edits(URI) == []


def test_edits_elsewhere_move_earlier_edits_with_the_text():
    t = Typist("a\nb = foo\n")
    t.replace(6, 9, "bar")
    t.replace(0, 0, "# header\n\n", pause=1)
    bar = next(e for e in t.history.edits(URI) if e.new_text == "bar")
    assert t.text[bar.start : bar.end] == "bar"
    assert bar.line == 3
    assert t.text.splitlines()[bar.line] == "b = bar"


def test_separate_places_are_separate_edits_newest_first():
    t = Typist("alpha = 7\nbeta = 8\n")
    t.replace(8, 9, "10")
    t.replace(18, 19, "20")
    edits = t.history.edits(URI)
    assert [e.new_text for e in edits] == ["20", "10"]


def test_a_change_across_two_edits_merges_them():
    t = Typist("a = 7; b = 8; c = 9\n")
    t.replace(4, 5, "10")  # a = 10; b = 8; c = 9
    c = t.text.index("9")
    t.replace(c, c + 1, "30")  # a = 10; b = 8; c = 30
    t.replace(5, t.text.index("30"), "")  # select from after "1" to before "30", delete
    edit = only_edit(t)
    assert t.text == "a = 130\n"
    assert revert(t.text, [edit]) == "a = 7; b = 8; c = 9\n"


def test_touching_an_edit_long_after_starts_a_new_edit():
    t = Typist("value = foo\n")
    t.replace(8, 11, "bar")
    t.type(11, "_x")
    t.clock += 1000
    t.type(13, "yz")
    assert [e.new_text for e in t.history.edits(URI)] == ["yz", "bar_x"]


def test_context_lines_around_an_edit():
    text = "".join(f"line{i}\n" for i in range(10))
    t = Typist(text)
    start = text.index("line5") + 4
    t.replace(start, start + 1, "FIVE")
    edit = only_edit(t)
    assert edit.context_before == "line2\nline3\nline4\nline"
    assert edit.context_after == "\nline6\nline7\nline8"
    assert edit.line == 5


def test_workspace_history_spans_documents_newest_first():
    history = EditHistory()
    a = Typist("x = 1\n", history, "file:///w/a.py")
    b = Typist("y = 2\n", history, "file:///w/b.py")
    a.replace(4, 5, "3")
    b.clock = a.clock + 1
    b.replace(4, 5, "4")
    assert [(e.uri, e.new_text) for e in history.recent()] == [
        ("file:///w/b.py", "4"),
        ("file:///w/a.py", "3"),
    ]
    history.forget("file:///w/b.py")
    assert [e.uri for e in history.recent()] == ["file:///w/a.py"]


def test_memory_is_bounded_per_document_and_workspace():
    history = EditHistory(per_document=4, workspace=6)
    docs = [
        Typist("".join(f"v{i} = 0\n" for i in range(20)), history, f"file:///w/{n}.py")
        for n in "ab"
    ]
    for round_ in range(10):
        for doc in docs:
            start = doc.text.index(f"v{round_} = ") + len(f"v{round_} = ")
            doc.replace(start, start + 1, "1")
    assert len(history) == 6
    assert all(len(history.edits(d.uri)) <= 4 for d in docs)
    assert history.recent(1)[0].line == 9  # the newest survives


def test_a_huge_paste_is_kept_as_an_opaque_edit():
    t = Typist("start\nend\n")
    t.replace(6, 6, "x" * (MAX_EDIT_CHARS + 1))
    edit = only_edit(t)
    assert edit.opaque and edit.old_text == edit.new_text == ""
    assert not edit.is_noop
    t.replace(3, 3, "!")  # an edit before it still moves it
    assert t.history.edits(URI)[1].start == 7
