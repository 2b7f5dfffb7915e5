"""NES result shapes: ``textDocument/copilotInlineEdit`` exactly as Copilot's language server
answers it (never null, one edit at most, URI echoed byte for byte, version echoed, an accept
command), its request parsing as pygls hands it over, inline completion items with a replace
range, "Next edit: …" code actions, and the ids in show/accept notifications."""

from __future__ import annotations

import json

from lsprotocol import types
from pygls.protocol import _dict_to_object

from weft.documents import UTF8, UTF16, Document
from weft.nes.candidate import Candidate
from weft.nes.protocol import (
    ACCEPT_COMMAND,
    CODE_ACTION_KIND,
    InlineEditRequest,
    accepted_edit_id,
    copilot_inline_edit_result,
    inline_completion_item,
    next_edit_code_action,
    parse_inline_edit_request,
    shown_edit_id,
)

URI = "file:///w/m.py"
TEXT = "def area(w, height):\n    return width * height\n"
DOC = Document(URI, TEXT, 7, "python")


def rename_at(document: Document, needle: str, new: str, nth: int = 0) -> Candidate:
    index = -1
    for _ in range(nth + 1):
        index = document.text.index(needle, index + 1)
    return Candidate(
        document, index, index + len(needle), new, f"rename `{needle}` → `{new}`", "rename"
    )


def request(uri: str = URI, version: int | None = 7, line: int = 1, character: int = 4):
    return InlineEditRequest(uri, version, types.Position(line=line, character=character))


def test_copilot_result_has_the_exact_shape():
    result = copilot_inline_edit_result([rename_at(DOC, "width", "w")], request(), DOC, "e-1")
    assert result == {
        "edits": [
            {
                "text": "w",
                "textDocument": {"uri": URI, "version": 7},
                "range": {
                    "start": {"line": 1, "character": 11},
                    "end": {"line": 1, "character": 16},
                },
                "command": {
                    "title": "Accept next edit",
                    "command": ACCEPT_COMMAND,
                    "arguments": ["e-1"],
                },
            }
        ]
    }
    assert json.loads(json.dumps(result)) == result


def test_copilot_result_echoes_the_request_uri_byte_for_byte():
    spelled = "file:///w/%6D.py"  # another spelling of the same file, as a client may send it
    result = copilot_inline_edit_result(
        [rename_at(DOC, "width", "w")], request(uri=spelled), DOC, "e-2"
    )
    assert result["edits"][0]["textDocument"]["uri"] == spelled


def test_copilot_result_is_never_null_and_holds_one_edit_at_most():
    two = [rename_at(DOC, "height", "h", 1), rename_at(DOC, "width", "w")]
    assert len(copilot_inline_edit_result(two, request(), DOC, "x")["edits"]) == 1
    assert copilot_inline_edit_result([], request(), DOC, "x") == {"edits": []}
    # computed on another version, or asked about another version: nothing
    older = Document(URI, TEXT, 6, "python")
    assert copilot_inline_edit_result([rename_at(older, "width", "w")], request(), DOC, "x") == {
        "edits": []
    }
    assert copilot_inline_edit_result(two, request(version=6), DOC, "x") == {"edits": []}
    assert copilot_inline_edit_result(two, request(version=None), DOC, "x") == {"edits": []}


def test_copilot_result_skips_edits_in_other_documents():
    other = Document("file:///w/other.py", "width = 1\n", 1, "python")
    result = copilot_inline_edit_result(
        [rename_at(other, "width", "w"), rename_at(DOC, "height", "h", 1)], request(), DOC, "x"
    )
    assert [e["text"] for e in result["edits"]] == ["h"]


def test_positions_follow_the_negotiated_encoding():
    text = "s = '😀'; width = 1\n"
    for encoding, column in ((UTF16, 10), (UTF8, 12)):
        document = Document(URI, text, 1, "python", encoding)
        result = copilot_inline_edit_result(
            [rename_at(document, "width", "w")], request(version=1), document, "x"
        )
        assert result["edits"][0]["range"]["start"] == {"line": 0, "character": column}


def test_request_parsing_as_pygls_hands_it_over():
    raw = {
        "textDocument": {"uri": URI, "version": 7},
        "position": {"line": 1, "character": 4},
        "context": {"triggerKind": 2},
        "diagnostics": [],
    }
    for params in (raw, _dict_to_object(json.loads(json.dumps(raw)))):
        assert parse_inline_edit_request(params) == request()
    no_version = {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}
    assert parse_inline_edit_request(no_version) == request(version=None, line=0, character=0)
    for bad in (
        None,
        {},
        {"textDocument": {"uri": URI}},
        {"textDocument": {"uri": 3}, "position": {"line": 0, "character": 0}},
        {"textDocument": {"uri": URI, "version": "7"}, "position": {"line": 0, "character": 0}},
        {"textDocument": {"uri": URI}, "position": {"line": True, "character": 0}},
    ):
        assert parse_inline_edit_request(bad) is None, bad


def test_inline_completion_item_after_the_cursor_on_its_line():
    candidate = rename_at(DOC, "height", "h", 1)  # `return width * height`, cursor before it
    cursor = types.Position(line=1, character=11)
    item = inline_completion_item(candidate, DOC, cursor)
    assert item is not None
    assert item.insert_text == "width * h"
    assert item.range == types.Range(
        start=types.Position(line=1, character=11), end=types.Position(line=1, character=25)
    )


def test_inline_completion_item_that_retypes_before_the_cursor():
    candidate = Candidate(
        DOC, DOC.text.index("width"), DOC.text.index("width") + 5, "width_m", "", "model"
    )
    item = inline_completion_item(candidate, DOC, types.Position(line=1, character=14))
    assert item is not None and item.insert_text == "width_m"
    assert item.range is not None and item.range.start.character == 11


def test_no_inline_completion_item_elsewhere_or_stale():
    rename = rename_at(DOC, "width", "w")
    assert inline_completion_item(rename, DOC, types.Position(line=0, character=3)) is None
    assert inline_completion_item(rename, DOC, types.Position(line=1, character=20)) is None
    assert inline_completion_item(rename, DOC, types.Position(line=1, character=14)) is None
    later = Document(URI, TEXT, 8, "python")
    assert inline_completion_item(rename, later, types.Position(line=1, character=4)) is None
    assert inline_completion_item(rename, DOC, types.Position(line=9, character=0)) is None


def test_code_action_applies_the_edit_to_its_version_then_reports_acceptance():
    action = next_edit_code_action(rename_at(DOC, "width", "w"), "e-9")
    assert action.title == "Next edit: rename `width` → `w`"
    assert action.kind == CODE_ACTION_KIND and action.kind.startswith("refactor.rewrite")
    assert action.edit is not None and action.edit.document_changes is not None
    (change,) = action.edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document == types.OptionalVersionedTextDocumentIdentifier(uri=URI, version=7)
    (edit,) = change.edits
    assert isinstance(edit, types.TextEdit) and edit.new_text == "w"
    assert edit.range.start == types.Position(line=1, character=11)
    assert action.command == types.Command(
        title="Accept next edit", command=ACCEPT_COMMAND, arguments=["e-9"]
    )
    plain = next_edit_code_action(rename_at(DOC, "width", "w"), "e-9", document_changes=False)
    assert plain.edit is not None and plain.edit.changes is not None
    assert list(plain.edit.changes) == [URI]


def test_code_action_for_a_file_read_from_disk_has_no_version():
    closed = Document("file:///w/b.py", "from a import width\n", None, "python")
    action = next_edit_code_action(rename_at(closed, "width", "w"), "e")
    assert action.edit is not None and action.edit.document_changes is not None
    change = action.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version is None


def test_ids_in_show_and_accept_messages():
    shown = {"item": {"command": {"arguments": ["e-1"]}}}
    assert shown_edit_id(shown) == "e-1"
    assert shown_edit_id(_dict_to_object(json.loads(json.dumps(shown)))) == "e-1"
    assert accepted_edit_id(["e-2"]) == "e-2"
    for bad in (None, [], [""], [3], "e-3", {"arguments": ["x"]}):
        assert accepted_edit_id(bad) is None, bad
    assert shown_edit_id({"item": {}}) is None and shown_edit_id(None) is None
