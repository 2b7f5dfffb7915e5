"""Benchmark of next-edit suggestions (prints figures; not a test).

Cases, all from a real repository (this one by default):

- **history**: commits mined from ``git log`` — each file a commit changed in several hunks
  gives ordered edits (top to bottom): after hunk *i* is made, hunk *i+1* is the next edit;
- **renames** (synthesised): in the repository's Python files at HEAD, a function's parameter
  or local, or a class attribute used through ``self.``, renamed at its definition; the
  expected next edits are its other occurrences, from an independent oracle (``ast``);
- **noise** (synthesised and mined): ordinary edits after which nothing should be suggested —
  a changed number, string or operator, an edited comment, a new line of code, and the edits of
  commits that changed a file in one hunk.

Reported, for the model-free predictor: exact-match rate (the first suggestion, applied, gives
exactly the expected next state), position accuracy (it is placed on the expected edit),
coverage (something was suggested), rename chains completed by accepting every suggestion, the
false-positive rate on noise, and latency p50/p99. For the model-backed path, an oracle-scripted
model answers each format's prompt with the expected region, through the real prompt builders
and answer parsers (no HTTP): the same figures test the plumbing, not a model.

    python bench/nes.py                      # this repository, ~1 min
    python bench/nes.py --repo PATH --max-commits 200 --renames 300 --noise 600
"""

from __future__ import annotations

import argparse
import ast
import io
import random
import re
import statistics
import subprocess
import sys
import time
import tokenize
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from weft.documents import Document  # noqa: E402
from weft.index.languages import language_for_path  # noqa: E402
from weft.nes.candidate import Candidate  # noqa: E402
from weft.nes.history import EditHistory, TextChange  # noqa: E402
from weft.nes.parse import parse_answer  # noqa: E402
from weft.nes.predict import predict  # noqa: E402
from weft.nes.prompts import FORMATS, NesInput, build_prompt  # noqa: E402
from weft.nes.scopes import SUPPORTED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# -- a simulated editor ------------------------------------------------------------------------


@dataclass
class Editor:
    """One document, edited change by change, with the history text sync would keep."""

    uri: str
    text: str
    language: str
    history: EditHistory = field(default_factory=EditHistory)
    version: int = 1
    clock: float = 0.0

    @property
    def document(self) -> Document:
        return Document(self.uri, self.text, self.version, self.language)

    def change(self, start: int, end: int, new: str, pause: float = 0.4) -> None:
        self.clock += pause
        self.version += 1
        line = self.text.count("\n", 0, start)
        self.history.record(
            self.uri, self.text, TextChange(start, end, new, line), self.version, self.clock
        )
        self.text = self.text[:start] + new + self.text[end:]


def apply_all(text: str, candidates: Iterable[Candidate]) -> str:
    for candidate in sorted(candidates, key=lambda c: -c.start):
        text = text[: candidate.start] + candidate.text + text[candidate.end :]
    return text


def timed(function: Callable[[], list[Candidate]]) -> tuple[list[Candidate], float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


# -- cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    """Text before the user's edit, the edit, and what should come next."""

    kind: str
    path: str
    language: str
    before: str
    edit: tuple[int, int, str]
    """(start, end, text) in ``before``: the user's edit."""
    expected: str | None
    """The text after the next edit (None: nothing should be suggested)."""
    expected_span: tuple[int, int] | None = None
    """Where the next edit is, in the text after the user's edit."""
    final: str | None = None
    """For renames: the text once every occurrence is renamed."""
    earlier: list[tuple[int, int, str]] = field(default_factory=list)
    """Edits made before ``before`` was reached (history context), applied in order."""
    sites: list[tuple[int, int]] = field(default_factory=list)
    """For renames: the occurrences still to rename, after the user's edit."""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_lines: list[str]


def parse_hunks(diff: str) -> dict[str, list[Hunk]]:
    """Per file, the ``-U0`` hunks of a diff (renamed or new files are skipped)."""
    files: dict[str, list[Hunk]] = defaultdict(list)
    path: str | None = None
    hunk: Hunk | None = None
    header = re.compile(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
    for line in diff.splitlines(keepends=True):
        if line.startswith("diff --git "):
            path, hunk = None, None
        elif line.startswith("--- "):
            path = None if line.strip() == "--- /dev/null" else line[6:].rstrip("\n")
        elif line.startswith("+++ ") and line.strip() == "+++ /dev/null":
            path = None
        elif line.startswith("@@") and path is not None:
            match = header.match(line)
            if match is None:
                continue
            count = int(match.group(2)) if match.group(2) is not None else 1
            hunk = Hunk(int(match.group(1)), count, [])
            files[path].append(hunk)
        elif hunk is not None and line.startswith("+") and not line.startswith("+++"):
            hunk.new_lines.append(line[1:])
        elif line.startswith("\\"):
            continue
    return files


def hunk_edit(text: str, hunk: Hunk, shift: int) -> tuple[int, int, str]:
    """The hunk as (start, end, text) in ``text`` (whose lines moved by ``shift``)."""
    starts = line_starts(text)
    first = hunk.old_start - 1 + shift if hunk.old_count else hunk.old_start + shift
    first = min(max(first, 0), len(starts) - 1)
    last = min(first + hunk.old_count, len(starts) - 1)
    return starts[first], starts[last], "".join(hunk.new_lines)


def apply(text: str, edit: tuple[int, int, str]) -> str:
    start, end, new = edit
    return text[:start] + new + text[end:]


def history_cases(
    repo: Path, max_commits: int, pairs_per_file: int
) -> tuple[list[Case], list[Case]]:
    """(next-edit cases from multi-hunk files, one-hunk edits as noise)."""
    commits = git(repo, "log", "--format=%H %P", f"-{max_commits}").splitlines()
    cases: list[Case] = []
    noise: list[Case] = []
    for line in commits:
        parts = line.split()
        if len(parts) != 2:
            continue  # the root commit or a merge
        commit, parent = parts
        diff = git(repo, "diff", "-U0", "--no-color", "--no-renames", parent, commit)
        for path, hunks in parse_hunks(diff).items():
            language = language_for_path(path)
            if language not in SUPPORTED:
                continue
            try:
                text = git(repo, "show", f"{parent}:{path}")
            except subprocess.CalledProcessError:
                continue
            found = _ordered_edits(path, language, text, hunks, pairs_per_file)
            (cases if len(hunks) > 1 else noise).extend(found)
    return cases, noise


def _ordered_edits(
    path: str, language: str, text: str, hunks: list[Hunk], limit: int
) -> list[Case]:
    edits: list[tuple[int, int, str]] = []
    states = [text]
    shift = 0
    for hunk in hunks:
        edit = hunk_edit(states[-1], hunk, shift)
        edits.append(edit)
        states.append(apply(states[-1], edit))
        shift += len(hunk.new_lines) - hunk.old_count
    if len(hunks) == 1:
        return [Case("history-noise", path, language, text, edits[0], None)]
    out = []
    for index in range(min(len(hunks) - 1, limit)):
        after = states[index + 1]
        start, end, new = edits[index + 1]
        out.append(
            Case(
                "history",
                path,
                language,
                states[index],
                edits[index],
                apply(after, edits[index + 1]),
                expected_span=(start, end),
                earlier=edits[:index],
            )
        )
    return out


# -- synthesised renames (Python, with an ast oracle) -------------------------------------------


def python_files(repo: Path) -> list[str]:
    listed = git(repo, "ls-files", "*.py").splitlines()
    return [p for p in listed if not p.startswith("tests/fixtures/")]


def _char_offset(lines: list[str], line_starts: list[int], lineno: int, col: int) -> int:
    line = lines[lineno - 1]
    chars = len(line.encode("utf-8")[:col].decode("utf-8", "replace"))
    return line_starts[lineno - 1] + chars


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _walk_scope(node: ast.AST) -> Iterable[ast.AST]:
    """Nodes of one scope, not descending into nested scopes."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, _SCOPES):
            yield from _walk_scope(child)


def _walk_capturing(method: ast.AST, me: str) -> Iterable[ast.AST]:
    """Nodes of a method and of the closures in it that still see its ``me`` parameter."""
    for child in ast.iter_child_nodes(method):
        yield child
        if isinstance(child, ast.ClassDef):
            continue
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            params = child.args
            names = [a.arg for a in [*params.posonlyargs, *params.args, *params.kwonlyargs]]
            if me in names:
                continue
        yield from _walk_capturing(child, me)


def _nested_names(func: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in _walk_scope(func):
        if isinstance(node, _SCOPES):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name):
                    names.add(inner.id)
                elif isinstance(inner, ast.arg):
                    names.add(inner.arg)
    return names


def line_starts(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _parsed(text: str) -> tuple[ast.Module, list[str], list[int]] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    return tree, text.splitlines(keepends=True), line_starts(text)


def local_renames(text: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """(name, spans) of function parameters and locals, the first span its definition."""
    parsed = _parsed(text)
    if parsed is None:
        return []
    tree, lines, starts = parsed
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        nested = _nested_names(func)
        declared = {
            n
            for node in _walk_scope(func)
            if isinstance(node, ast.Global | ast.Nonlocal)
            for n in node.names
        }
        spans: dict[str, list[tuple[int, int, bool]]] = defaultdict(list)
        args = func.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                at = _char_offset(lines, starts, arg.lineno, arg.col_offset)
                spans[arg.arg].append((at, at + len(arg.arg), True))
        for node in _walk_scope(func):
            if isinstance(node, ast.Name):
                at = _char_offset(lines, starts, node.lineno, node.col_offset)
                spans[node.id].append((at, at + len(node.id), isinstance(node.ctx, ast.Store)))
        for name, occurrences in spans.items():
            occurrences.sort()
            if (
                len(occurrences) >= 2
                and occurrences[0][2]
                and name not in nested
                and name not in declared
                and name not in ("self", "cls")
                and all(text[a:b] == name for a, b, _ in occurrences)
            ):
                found.append((name, [(a, b) for a, b, _ in occurrences]))
    return found


def attribute_renames(text: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """(attribute, spans) of ``self.x`` attributes of a class, the first an assignment."""
    parsed = _parsed(text)
    if parsed is None:
        return []
    tree, lines, starts = parsed
    found = []
    for klass in ast.walk(tree):
        if not isinstance(klass, ast.ClassDef):
            continue
        spans: dict[str, list[tuple[int, int, bool]]] = defaultdict(list)
        for method in klass.body:
            if (
                not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                or not method.args.args
            ):
                continue
            if any(
                isinstance(d, ast.Name) and d.id == "staticmethod" for d in method.decorator_list
            ):
                continue
            me = method.args.args[0].arg
            for node in _walk_capturing(method, me):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == me
                    and node.end_lineno == node.lineno
                    and node.end_col_offset is not None
                ):
                    end = _char_offset(lines, starts, node.lineno, node.end_col_offset)
                    spans[node.attr].append(
                        (end - len(node.attr), end, isinstance(node.ctx, ast.Store))
                    )
        for name, occurrences in spans.items():
            occurrences.sort()
            if (
                len(occurrences) >= 2
                and occurrences[0][2]
                and all(text[a:b] == name for a, b, _ in occurrences)
            ):
                found.append((name, [(a, b) for a, b, _ in occurrences]))
    return found


def _class_body_names(
    klass: ast.ClassDef,
    lines: list[str],
    starts: list[int],
    spans: dict[str, list[tuple[int, int, bool]]],
) -> None:
    """Names bound in the class body itself (attributes, methods): members too."""
    for node in klass.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            line = lines[node.lineno - 1]
            column = line.find(
                node.name, line.find("def " if not isinstance(node, ast.ClassDef) else "class ")
            )
            at = starts[node.lineno - 1] + column
            spans[node.name].append((at, at + len(node.name), True))
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name) and isinstance(node, ast.Assign | ast.AnnAssign):
                at = _char_offset(lines, starts, target.lineno, target.col_offset)
                spans[target.id].append((at, at + len(target.id), True))
        for inner in (
            ast.walk(node)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            else ()
        ):
            if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
                at = _char_offset(lines, starts, inner.lineno, inner.col_offset)
                spans[inner.id].append((at, at + len(inner.id), False))


def rename_cases(repo: Path, count: int, rng: random.Random) -> list[Case]:
    """Half locals and parameters, half ``self.`` attributes (as far as there are some)."""
    locals_: list[tuple[str, str, str, list[tuple[int, int]]]] = []
    attributes: list[tuple[str, str, str, list[tuple[int, int]]]] = []
    for path in python_files(repo):
        text = (repo / path).read_text(encoding="utf-8", errors="replace")
        for name, spans in local_renames(text):
            locals_.append(("rename-local", path, name, spans))
        for name, spans in attribute_renames(text):
            attributes.append(("rename-attribute", path, name, spans))
    rng.shuffle(locals_)
    rng.shuffle(attributes)
    chosen = attributes[: count // 2]
    pool = chosen + locals_[: count - len(chosen)]
    cases = []
    for kind, path, name, spans in pool:
        text = (repo / path).read_text(encoding="utf-8", errors="replace")
        new = f"{name}_next"
        if new in text:
            continue
        first = spans[0]
        final = text
        for a, b in sorted(spans, reverse=True):
            final = final[:a] + new + final[b:]
        delta = len(new) - len(name)
        rest = [(a + delta, b + delta) for a, b in spans[1:]]
        cases.append(
            Case(
                kind,
                path,
                "python",
                text,
                (first[0], first[1], new),
                None,
                final=final,
                expected_span=rest[0],
                sites=rest,
            )
        )
    return cases


# -- synthesised noise -------------------------------------------------------------------------


def noise_cases(repo: Path, count: int, rng: random.Random) -> list[Case]:
    makers = [_number, _string, _comment, _operator, _new_line]
    cases: list[Case] = []
    files = python_files(repo)
    attempts = 0
    while len(cases) < count and attempts < count * 20:
        attempts += 1
        path = rng.choice(files)
        text = (repo / path).read_text(encoding="utf-8", errors="replace")
        maker = makers[len(cases) % len(makers)]
        edit = maker(text, rng)
        if edit is not None:
            cases.append(Case(f"noise-{maker.__name__[1:]}", path, "python", text, edit, None))
    return cases


def _tokens(text: str, kind: int) -> list[tokenize.TokenInfo]:
    try:
        return [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == kind]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []


def _offset(text: str, row: int, col: int) -> int:
    return line_starts(text)[row - 1] + col


def _pick(text: str, kind: int, rng: random.Random) -> tuple[int, int, str] | None:
    tokens = _tokens(text, kind)
    if not tokens:
        return None
    token = rng.choice(tokens)
    start = _offset(text, *token.start)
    return start, _offset(text, *token.end), token.string


def _number(text: str, rng: random.Random) -> tuple[int, int, str] | None:
    picked = _pick(text, tokenize.NUMBER, rng)
    if picked is None:
        return None
    start, end, value = picked
    return start, end, value[:-1] + ("7" if value[-1] != "7" else "3")


def _string(text: str, rng: random.Random) -> tuple[int, int, str] | None:
    return _word_in(text, tokenize.STRING, "changed", rng)


def _comment(text: str, rng: random.Random) -> tuple[int, int, str] | None:
    return _word_in(text, tokenize.COMMENT, "different", rng)


def _word_in(
    text: str, kind: int, replacement: str, rng: random.Random
) -> tuple[int, int, str] | None:
    """A word of a random token of ``kind`` (a string, a comment) replaced."""
    picked = _pick(text, kind, rng)
    word = re.search(r"[a-z]{3,}", picked[2]) if picked is not None else None
    if picked is None or word is None:
        return None
    return picked[0] + word.start(), picked[0] + word.end(), replacement


def _operator(text: str, rng: random.Random) -> tuple[int, int, str] | None:
    operators = [
        t for t in _tokens(text, tokenize.OP) if t.string in ("+", "-", "==", "!=", "<", ">")
    ]
    if not operators:
        return None
    token = rng.choice(operators)
    swap = {"+": "-", "-": "+", "==": "!=", "!=": "==", "<": ">", ">": "<"}[token.string]
    start = _offset(text, *token.start)
    return start, start + len(token.string), swap


def _new_line(text: str, rng: random.Random) -> tuple[int, int, str] | None:
    lines = text.splitlines(keepends=True)
    candidates = [i for i, line in enumerate(lines) if re.match(r"\s+(return|\w+ = )", line)]
    if len(candidates) < 2:
        return None
    at, copy = rng.sample(candidates, 2)
    indent = re.match(r"\s*", lines[at]).group(0)  # type: ignore[union-attr]
    body = lines[copy].strip()
    if body.startswith("return"):
        body = "result = " + body[len("return") :].strip()
    start = sum(len(line) for line in lines[:at])
    return start, start, f"{indent}{body}\n"


# -- running ---------------------------------------------------------------------------------


@dataclass
class Tally:
    cases: int = 0
    offered: int = 0
    exact: int = 0
    placed: int = 0
    chains: int = 0
    chains_done: int = 0
    out_of_reach: int = 0
    refused: int = 0
    """Prompts that could not be built (Sweep refuses inputs holding its own tokens)."""
    times: list[float] = field(default_factory=list)


def run_case(case: Case) -> Editor:
    editor = Editor(f"file:///repo/{case.path}", case.before, case.language)
    for edit in case.earlier:
        editor.text = apply(editor.text, edit)  # state reached earlier (not in the history)
    start, end, new = case.edit
    editor.change(start, end, new)
    return editor


def score_predictor(case: Case, tally: Tally) -> None:
    editor = run_case(case)
    cursor = case.edit[0] + len(case.edit[2])
    document = editor.document
    candidates, seconds = timed(lambda: predict(document, editor.history.recent(), cursor=cursor))
    tally.cases += 1
    tally.times.append(seconds)
    mine = [c for c in candidates if c.uri == document.uri]
    if case.kind.startswith("rename"):
        tally.chains += 1
    if not mine:
        return
    tally.offered += 1
    first = mine[0]
    if case.kind.startswith("rename"):
        _score_rename(case, editor, first, tally)
        return
    if case.expected is not None and first.applied() == case.expected:
        tally.exact += 1
    if case.expected_span is not None and _overlaps((first.start, first.end), case.expected_span):
        tally.placed += 1


def _score_rename(case: Case, editor: Editor, first: Candidate, tally: Tally) -> None:
    sites = case.sites
    new = case.edit[2]
    if (first.start, first.end) in sites:
        tally.placed += 1
        if first.text == new:
            tally.exact += 1
    for _ in range(len(sites) + 5):
        found = [
            c for c in predict(editor.document, editor.history.recent()) if c.uri == editor.uri
        ]
        if not found:
            break
        editor.change(found[0].start, found[0].end, found[0].text, pause=0.2)
    if editor.text == case.final:
        tally.chains_done += 1


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def score_oracle(case: Case, fmt: str, tally: Tally) -> None:
    """The model-backed path with a model that answers the expected region."""
    editor = run_case(case)
    cursor = case.edit[0] + len(case.edit[2])
    document = editor.document
    source = NesInput(
        document,
        cursor,
        case.path,
        editor.history.recent(),
        path_of=lambda uri: uri.removeprefix("file:///repo/"),
    )
    started = time.perf_counter()
    prompt = build_prompt(fmt, source)
    tally.cases += 1
    if prompt is None:
        tally.refused += 1
        return
    region = prompt.region
    expected_region = _expected_region(case, document.text, region.start, region.end)
    if expected_region is None or expected_region == region.text:
        tally.out_of_reach += 1
        tally.times.append(time.perf_counter() - started)
        return
    answer = _oracle_answer(fmt, expected_region)
    candidates = parse_answer(prompt, answer)
    tally.times.append(time.perf_counter() - started)
    if not candidates:
        return
    tally.offered += 1
    span = case.expected_span
    if span is not None and _overlaps((candidates[0].start, candidates[0].end), span):
        tally.placed += 1
    after = apply_all(document.text, candidates)
    tail = len(document.text) - region.end
    if (
        after[: region.start] == document.text[: region.start]
        and after[len(after) - tail :] == document.text[region.end :]
        and after[region.start : len(after) - tail] == expected_region
    ):
        tally.exact += 1


def _expected_region(case: Case, current: str, start: int, end: int) -> str | None:
    """What the region ``[start, end)`` of ``current`` should become; None when the next edit
    lies (partly) outside it."""
    if case.kind.startswith("rename"):
        region = current[start:end]
        for a, b in sorted(case.sites, reverse=True):
            if start <= a and b <= end:
                region = region[: a - start] + case.edit[2] + region[b - start :]
        return region
    target = case.expected
    assert target is not None
    tail = len(current) - end
    if current[:start] != target[:start] or current[end:] != target[len(target) - tail :]:
        return None
    return target[start : len(target) - tail]


def _oracle_answer(fmt: str, region: str) -> str:
    if fmt == "sweep":  # the model writes the window as the prompt's blocks are written
        return region + ("" if region.endswith("\n") else "\n")
    if fmt == "zeta":
        return "<|editable_region_start|>\n" + region + "\n<|editable_region_end|>"
    return f"```\n{region}\n```"


# -- keystroke cost ---------------------------------------------------------------------------


def keystroke_cost(repo: Path) -> list[float]:
    """Seconds per recorded keystroke, typing identifiers into the largest Python file."""
    path = max(python_files(repo), key=lambda p: (repo / p).stat().st_size)
    editor = Editor("file:///repo/big.py", (repo / path).read_text(encoding="utf-8"), "python")
    rng = random.Random(7)
    times = []
    for _ in range(200):
        at = rng.randrange(len(editor.text))
        for offset, char in enumerate("identifier"):
            started = time.perf_counter()
            editor.history.record(
                editor.uri,
                editor.text,
                TextChange(at + offset, at + offset, char, 0),
                1,
                editor.clock,
            )
            times.append(time.perf_counter() - started)
            editor.text = editor.text[: at + offset] + char + editor.text[at + offset :]
            editor.clock += 0.05
    return times


# -- report ----------------------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


def ms(values: list[float], q: float) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.2f}"


def report(title: str, tallies: dict[str, Tally]) -> None:
    print(f"\n{title}")
    print(
        f"  {'cases':<24}{'n':>6}{'offered':>9}{'exact':>8}{'placed':>8}{'chains':>8}"
        f"{'reach':>8}{'exact|reach':>12}{'p50 ms':>9}{'p99 ms':>9}"
    )
    for kind, t in sorted(tallies.items()):
        chains = pct(t.chains_done, t.chains) if t.chains else "   n/a"
        reachable = t.cases - t.out_of_reach - t.refused
        oracle = t.out_of_reach or t.refused
        reach = pct(reachable, t.cases) if oracle else "   n/a"
        in_reach = pct(t.exact, reachable) if oracle else "   n/a"
        print(
            f"  {kind:<24}{t.cases:>6}{pct(t.offered, t.cases):>9}{pct(t.exact, t.cases):>8}"
            f"{pct(t.placed, t.cases):>8}{chains:>8}{reach:>8}{in_reach:>12}"
            f"{ms(t.times, 0.5):>9}{ms(t.times, 0.99):>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--max-commits", type=int, default=400)
    parser.add_argument("--pairs-per-file", type=int, default=4)
    parser.add_argument("--renames", type=int, default=300)
    parser.add_argument("--noise", type=int, default=500)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    history, history_noise = history_cases(args.repo, args.max_commits, args.pairs_per_file)
    renames = rename_cases(args.repo, args.renames, rng)
    noise = noise_cases(args.repo, args.noise, rng) + history_noise
    print(
        f"repository {args.repo} ({git(args.repo, 'rev-parse', '--short', 'HEAD').strip()}): "
        f"{len(history)} history, {len(renames)} rename, {len(noise)} noise cases"
    )

    predictor: dict[str, Tally] = defaultdict(Tally)
    for case in history + renames + noise:
        kind = "noise" if case.kind.startswith(("noise", "history-noise")) else case.kind
        score_predictor(case, predictor[kind])
        if kind == "noise":
            score_predictor(case, predictor[case.kind])
    report("model-free predictor (exact/placed over all cases of the kind)", predictor)
    noise_tally = predictor["noise"]
    print(
        f"  false-positive rate on noise: {pct(noise_tally.offered, noise_tally.cases).strip()}"
        f" ({noise_tally.offered} of {noise_tally.cases}); by kind: "
        + ", ".join(
            f"{k.removeprefix('noise-')} {t.offered}/{t.cases}"
            for k, t in sorted(predictor.items())
            if k.startswith(("noise-", "history-noise"))
        )
    )
    suggested = [
        t for k, t in predictor.items() if k in ("history", "rename-local", "rename-attribute")
    ]
    offered = sum(t.offered for t in suggested)
    print(
        f"  precision where something was offered (history+renames): "
        f"exact {pct(sum(t.exact for t in suggested), offered).strip()}, "
        f"placed {pct(sum(t.placed for t in suggested), offered).strip()} of {offered}"
    )

    oracle: dict[str, Tally] = defaultdict(Tally)
    for fmt in FORMATS:
        for case in history + renames:
            score_oracle(case, fmt, oracle[f"{fmt}/{case.kind}"])
    report(
        "model-backed path, oracle-scripted model (plumbing: prompt window → answer → edits)",
        oracle,
    )

    keys = keystroke_cost(args.repo)
    print(
        f"\nhistory.record per keystroke: p50 {ms(keys, 0.5)} ms, p99 {ms(keys, 0.99)} ms "
        f"({len(keys)} keystrokes into the largest Python file)"
    )
    counts = Counter(c.kind for c in noise)
    print("noise cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(
        f"median predictor latency, all cases: "
        f"{1000 * statistics.median([x for t in predictor.values() for x in t.times]):.2f} ms"
    )


if __name__ == "__main__":
    main()
