"""The pure parts of the code-action feature: listing, resolving, arguments, staleness, edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from weft.agent.edits import to_workspace_edit
from weft.agent.loop import AgentResult
from weft.documents import Document
from weft.features.code_actions import (
    BadArguments,
    list_actions,
    parse_arguments,
    resolve_action,
    stale_reason,
)

URI = "file:///ws/a.py"


def params(
    rng: types.Range, diagnostics: list[types.Diagnostic], only: list[str] | None = None
) -> types.CodeActionParams:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(URI),
        range=rng,
        context=types.CodeActionContext(diagnostics=diagnostics, only=only),
    )


def r(a: int, b: int, c: int, d: int) -> types.Range:
    return types.Range(types.Position(a, b), types.Position(c, d))


DIAG = types.Diagnostic(
    range=r(3, 4, 3, 9), message="name 'x' is not defined\nmore detail", source="pyright"
)
FAR = types.Diagnostic(range=r(30, 0, 30, 1), message="far away")


def test_one_fix_per_diagnostic_in_range_and_a_refactor_on_selection() -> None:
    actions = list_actions(params(r(3, 0, 4, 0), [DIAG, FAR]), with_command=False)
    assert [(a.title, a.kind) for a in actions] == [
        ("Fix with weft: name 'x' is not defined", "quickfix"),
        ("Refactor with weft…", "refactor.rewrite"),
    ]
    assert all(a.command is None and a.edit is None for a in actions)
    assert actions[0].data == {
        "command": "weft.fix",
        "arguments": [
            {
                "uri": URI,
                "range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 9}},
                "diagnostics": [
                    {
                        "range": {
                            "start": {"line": 3, "character": 4},
                            "end": {"line": 3, "character": 9},
                        },
                        "message": "name 'x' is not defined\nmore detail",
                        "source": "pyright",
                    }
                ],
            }
        ],
    }


def test_empty_selection_gets_no_refactor_and_only_filters() -> None:
    assert [a.kind for a in list_actions(params(r(3, 5, 3, 5), [DIAG]), False)] == ["quickfix"]
    assert [
        a.kind for a in list_actions(params(r(3, 0, 4, 0), [DIAG], only=["refactor"]), False)
    ] == ["refactor.rewrite"]
    assert list_actions(params(r(3, 0, 4, 0), [DIAG], only=["source"]), False) == []


def test_clients_without_resolve_get_the_command_directly() -> None:
    action = list_actions(params(r(3, 0, 3, 0), [DIAG]), with_command=True)[0]
    assert action.command is not None and action.command.command == "weft.fix"


def test_resolve_attaches_the_command() -> None:
    action = list_actions(params(r(3, 0, 4, 0), [DIAG]), with_command=False)[1]
    resolved = resolve_action(action)
    assert resolved.command == types.Command(
        title="Refactor with weft…",
        command="weft.refactor",
        arguments=[
            {
                "uri": URI,
                "range": {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 0}},
            }
        ],
    )


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("fix", ()),
        ("fix", ("x",)),
        ("fix", ({"uri": URI},)),
        (
            "fix",
            (
                {
                    "uri": URI,
                    "range": {
                        "start": {"line": -1, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                },
            ),
        ),
        ("fix", ({"uri": URI, "range": {"start": {"line": "a"}}},)),
        (
            "fix",
            (
                {
                    "uri": URI,
                    "range": {
                        "start": {"line": 0, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "diagnostics": "x",
                },
            ),
        ),
        ("refactor", ({"instruction": ""},)),
        ("refactor", ({"instruction": 3},)),
    ],
)
def test_bad_arguments(kind: str, args: tuple) -> None:
    with pytest.raises(BadArguments):
        parse_arguments(kind, args)


def test_good_arguments() -> None:
    req = parse_arguments(
        "refactor",
        (
            {
                "instruction": " extract it ",
                "uri": URI,
                "range": {"start": {"line": 1, "character": 2}, "end": {"line": 3, "character": 0}},
            },
        ),
    )
    assert (req.instruction, req.start, req.end) == ("extract it", (1, 2), (3, 0))


def test_stale_when_an_open_document_moved_or_disk_changed(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("old\n")
    (tmp_path / "b.py").write_text("disk\n")
    result = AgentResult(
        originals={"a.py": "old\n", "b.py": "disk\n"}, texts={"a.py": "new\n", "b.py": "new\n"}
    )
    v1 = Document("file:///x/a.py", "old\n", 1)
    v2 = Document("file:///x/a.py", "old\nmore\n", 2)
    assert stale_reason(result, {"a.py": v1}, {"a.py": v1}, tmp_path) is None
    assert "version 1 → 2" in stale_reason(result, {"a.py": v1}, {"a.py": v2}, tmp_path)
    (tmp_path / "b.py").write_text("changed\n")
    assert "b.py changed on disk" in stale_reason(result, {"a.py": v1}, {"a.py": v1}, tmp_path)
    opened = Document("file:///x/a.py", "typed\n", 5)
    result.originals["b.py"] = "changed\n"
    assert "opened with different text" in stale_reason(result, {}, {"a.py": opened}, tmp_path)


def test_workspace_edit_shapes() -> None:
    edit = to_workspace_edit(
        {"a.py": "x = 2\n", "new.py": "y\n"},
        {"a.py": "x = 1\n", "new.py": None},
        {"a.py": "file:///ws/a.py", "new.py": "file:///ws/new.py"},
        {"a.py": 4},
    )
    a, create, new = edit.document_changes
    assert a.text_document == types.OptionalVersionedTextDocumentIdentifier("file:///ws/a.py", 4)
    assert a.edits == [types.TextEdit(r(0, 0, 1, 0), "x = 2\n")]
    assert isinstance(create, types.CreateFile) and create.options.overwrite is False
    assert new.text_document.version is None and new.edits == [types.TextEdit(r(0, 0, 0, 0), "y\n")]
