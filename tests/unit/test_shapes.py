"""Shape checks of params before cattrs (weft/shapes.py): wrong JSON kinds are refused with a
message naming where, real clients' messages pass (Neovim's odd capabilities included), and
the walk is bounded by the message's size."""

from __future__ import annotations

import glob
import json
import os

import pytest
import pytest_lsp
from lsprotocol import converters, types

from weft.shapes import ShapeError, check_params, is_notification_method

RANGE = {"start": {"line": 0, "character": 1}, "end": {"line": 2, "character": 0}}


def recorded_clients() -> list[str]:
    folder = os.path.join(os.path.dirname(pytest_lsp.__file__), "clients")
    return sorted(glob.glob(os.path.join(folder, "*.json")))


@pytest.mark.parametrize("path", recorded_clients(), ids=os.path.basename)
def test_real_clients_initialize_params_pass(path: str):
    data = json.load(open(path, encoding="utf-8"))
    params = {"processId": 1, "rootUri": None, "capabilities": data.get("capabilities", data)}
    checked = check_params("initialize", params, 100_000)
    converters.get_converter().structure(checked, types.InitializeParams)  # and cattrs agrees


def test_a_capability_of_the_wrong_shape_is_dropped_not_refused():
    # Neovim 0.9.1 sends callHierarchy as an array
    caps = {"textDocument": {"callHierarchy": [{"dynamicRegistration": False}], "hover": {}}}
    params = check_params("initialize", {"processId": None, "capabilities": caps}, 1000)
    assert params["capabilities"]["textDocument"] == {"hover": {}}


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (
            "textDocument/didChange",
            {
                "textDocument": {"uri": "file:///a", "version": 2},
                "contentChanges": [{"text": "x"}, {"range": RANGE, "text": "y", "rangeLength": 1}],
            },
        ),
        (
            "textDocument/codeAction",
            {
                "textDocument": {"uri": "file:///a"},
                "range": RANGE,
                "context": {
                    "diagnostics": [{"range": RANGE, "message": "m", "code": 5, "data": {"x": []}}],
                    "only": ["quickfix"],
                    "triggerKind": 1,
                },
            },
        ),
        (
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": "file:///a"},
                "position": {"line": 3.0, "character": 0},  # an integral float is an integer
                "context": {
                    "triggerKind": 2,
                    "selectedCompletionInfo": {"range": RANGE, "text": "t"},
                },
            },
        ),
        ("workspace/executeCommand", {"command": "weft.fix", "arguments": [{"any": ["thing"]}]}),
        ("codeAction/resolve", {"title": "t", "data": {"command": "weft.fix", "arguments": []}}),
        ("$/cancelRequest", {"id": "abc"}),
        ("shutdown", None),
        ("weft/custom", "anything"),  # a method LSP does not define: not checked here
    ],
)
def test_well_formed_params_pass(method, params):
    assert check_params(method, params, 10_000) == params


@pytest.mark.parametrize(
    ("method", "params", "where"),
    [
        (
            "textDocument/didChange",
            {"textDocument": {"uri": "u", "version": 1}, "contentChanges": "x" * 100_000},
            "params.contentChanges must be an array, not a string of 100000 characters",
        ),
        (
            "textDocument/codeAction",
            {"textDocument": {"uri": "u"}, "range": RANGE, "context": {"diagnostics": "d"}},
            "params.context.diagnostics must be an array",
        ),
        (
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": "u"},
                "position": {"line": 0, "character": "7"},
                "context": {"triggerKind": 1},
            },
            "params.position.character must be an integer",
        ),
        (
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": "u"}, "position": {"line": 0, "character": 0}},
            "params.context is missing",
        ),
        ("workspace/symbol", "query", "params must be an object, not a string"),
        ("workspace/symbol", None, "params must be an object, not null"),
        ("$/cancelRequest", {"id": True}, "params.id"),
        ("codeAction/resolve", {"title": {"a": 1}}, "params.title must be a string"),
    ],
)
def test_wrong_shapes_are_refused_with_where_and_why(method, params, where):
    with pytest.raises(ShapeError) as info:
        check_params(method, params, 200_000)
    assert where in str(info.value)


def test_params_of_an_all_optional_type_may_be_absent():
    assert check_params("initialized", None, 10) == {}


def test_the_walk_is_bounded_by_the_message_size():
    # a small size hint cannot pay for a walk over 10,000 diagnostics
    diagnostics = [{"range": RANGE, "message": "m"}] * 10_000
    params = {"textDocument": {"uri": "u"}, "range": RANGE, "context": {"diagnostics": diagnostics}}
    with pytest.raises(ShapeError, match="too complex"):
        check_params("textDocument/codeAction", params, size_hint=10)
    assert check_params("textDocument/codeAction", params, size_hint=len(json.dumps(params)))


def test_request_and_notification_methods():
    assert is_notification_method("textDocument/didOpen") is True
    assert is_notification_method("textDocument/hover") is False
    assert is_notification_method("weft/anything") is None
