"""What may leave the machine: secret redaction for prompts, privacy exclusion globs, and the
audit log of every prompt sent.

``redact_secrets`` masks credentials by shape (AWS, GitHub, GitLab, Slack, OpenAI, Anthropic,
Google, Stripe keys, JWTs, PEM private keys, bearer tokens, passwords in URLs) and by context
(string values assigned to names such as ``password``, ``api_key``, ``clientSecret``). The
masked text keeps its line count, so it stays useful as code and offsets of later lines only
shift within a line. Values that are plainly not secrets are left alone: non-literal
expressions (``password = form.get("password")``), empty strings, placeholders
(``"<token>"``, ``"${TOKEN}"``), prose with spaces, and low-entropy strings under names that
only contain a secret word (``token_type = "bearer"``).

``is_excluded_by_privacy`` matches workspace-relative paths against gitignore-style globs,
case-insensitively (a missed match leaks a file; a false one only loses context).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from weft.ignore import Rule, compile_rules, matches_rules
from weft.settings import PrivacySettings, Settings

logger = logging.getLogger(__name__)

MASK = "[REDACTED]"
KEY_MASK = "[REDACTED PRIVATE KEY]"

# Credentials recognisable by their shape alone. Each pattern starts with a literal, which lets
# the regex engine skip ahead with a fast search (an alternation, or a leading \b, costs ~100x);
# the word boundary before the match is checked in _mask_token instead.
_TOKENS = [
    re.compile(p)
    for p in (
        r"A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA|SCA)[0-9A-Z]{16}\b",
        r"gh[pousr]_[A-Za-z0-9]{36,255}\b",
        r"github_pat_[A-Za-z0-9_]{22,255}\b",
        r"gl(?:pat|dt|rt|ptt|ft|cbt|soat|imt)-[A-Za-z0-9_\-]{20,}",
        r"xox[abposr]-[A-Za-z0-9-]{10,}",
        r"xapp-\d-[A-Za-z0-9-]{10,}",
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
        r"sk-ant-[A-Za-z0-9_\-]{20,}",
        r"sk-(?=[A-Za-z_\-]*[0-9])[A-Za-z0-9_\-]{20,}",
        r"sk_(?:live|test)_[A-Za-z0-9]{16,}",
        r"rk_(?:live|test)_[A-Za-z0-9]{16,}",
        r"AIza[0-9A-Za-z_\-]{35}",
        r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    )
]

_PEM_BLOCK = re.compile(
    r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)(.*?)"
    r"(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.S,
)
# The tail of a key whose BEGIN line fell outside the text (a window that starts inside the
# key); a key whose END is outside is caught by _PEM_BLOCK's \Z.
_PEM_TAIL = re.compile(
    r"\A((?:[ \t]*[A-Za-z0-9+/=]+[ \t]*(?:\r\n|\r|\n))+)(?=[ \t]*-----END [A-Z0-9 ]*PRIVATE KEY)"
)

_AUTH_HEADER = re.compile(r"\b(?i:bearer|basic)[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)")
_URL_PASSWORD = re.compile(r"://[^\s:/@\"'`]+:([^\s@/\"'`]+)@")

# Names whose value is a secret when the name ends with one of these (case and _ - ignored).
_SECRET_NAME_ENDINGS = (
    "password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "accesskey",
    "secretkey", "privatekey", "signingkey", "encryptionkey", "masterkey", "credential",
    "credentials", "authkey",
)  # fmt: skip
# Names that merely contain one of these only hide high-entropy values.
_SECRET_NAME_PARTS = ("pass", "pwd", "secret", "token", "apikey", "privatekey", "credential")
# Every ending and part contains one of these: only lines holding one are examined.
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "credential")
_SECRET_WORD = re.compile("|".join(_SECRET_WORDS), re.I)

# A possessive name that starts at a name boundary: without both, every position inside a
# long identifier is retried with every shorter length (quadratic per line).
_NAME = r"""(?<![\w.$-])["']?(?P<name>[A-Za-z_$][\w.$-]*+)["']?"""
_ANNOTATION = r"(?::[ \t]*[A-Za-z_][\w\[\], .|]*?)?"
_ASSIGN = r"[ \t]*(?::=|=>|=|:)[ \t]*"
_QUOTED_ASSIGNMENT = re.compile(
    _NAME
    + _ANNOTATION
    + _ASSIGN
    + r"""[rRbBuUfF]{0,2}(?P<q>["'`])(?P<value>(?:\\.|(?!(?P=q))[^\\\r\n])*)(?P=q)"""
)
_BARE_ASSIGNMENT = re.compile(
    r"^[ \t]*(?:export[ \t]+)?"
    + _NAME
    + r"(?P<op>"
    + _ASSIGN
    + r")(?P<value>[^\s\"'`(){}\[\],;#]+)[ \t]*$",
    re.M,
)
_PLACEHOLDER = re.compile(
    r"^(?:<[^>]*>|\[[^\]]*\]|\*+|x+|\.+|-+)$|\$\{|\{\{|%\(|%s|\{\}|os\.environ"
)
_KEY_LIKE = re.compile(r"[A-Za-z0-9+/=_\-]{16,}")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_ATTRIBUTE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_BARE_KEYWORDS = frozenset(
    "none null nil true false undefined str string int bytes any optional required".split()
)


def redact_secrets(text: str) -> tuple[str, int]:
    """``text`` with secrets masked, and how many were masked. Line count is kept.

    Cheap substring checks gate each pass, so code without secrets costs tens of
    microseconds per few thousand characters (this runs on every completion request).
    """
    tally = [0]
    if "PRIVATE KEY" in text:
        text = _sub(_PEM_BLOCK, _mask_pem_block, text, tally)
        text = _sub(_PEM_TAIL, lambda m: _blank_lines(m.group(1), KEY_MASK), text, tally)
    text = _redact_assignments(text, tally)
    for pattern in _TOKENS:
        text = _sub(pattern, _mask_token, text, tally)
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered:
        text = _sub(_AUTH_HEADER, _mask_auth_header, text, tally)
    if "://" in text:
        text = _sub(_URL_PASSWORD, lambda m: _mask_group(m, 1), text, tally)
    return text, tally[0]


Replacer = Callable[[re.Match[str]], str | None]


def _sub(pattern: re.Pattern[str], replacer: Replacer, text: str, tally: list[int]) -> str:
    """``pattern.sub`` where ``replacer`` may decline (None); ``tally[0]`` counts masks."""

    def replace(match: re.Match[str]) -> str:
        masked = replacer(match)
        if masked is None:
            return match.group(0)
        tally[0] += 1
        return masked

    return pattern.sub(replace, text)


def _redact_assignments(text: str, tally: list[int]) -> str:
    """Mask assignment values on the lines that name a secret (and only those: running the
    assignment patterns over every line would cost milliseconds)."""
    out: list[str] = []
    done = 0
    for position in _secret_word_positions(text):
        if position < done:
            continue
        start, end = _line_bounds(text, position)
        line = _sub(_QUOTED_ASSIGNMENT, _mask_quoted_assignment, text[start:end], tally)
        out += [text[done:start], _sub(_BARE_ASSIGNMENT, _mask_bare_assignment, line, tally)]
        done = end
    out.append(text[done:])
    return "".join(out)


def _secret_word_positions(text: str) -> list[int]:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few non-ASCII letters change length when lowered
        return [m.start() for m in _SECRET_WORD.finditer(text)]
    positions = []
    for word in _SECRET_WORDS:
        found = lowered.find(word)
        while found >= 0:
            positions.append(found)
            found = lowered.find(word, found + len(word))
    return sorted(positions)


def _line_bounds(text: str, position: int) -> tuple[int, int]:
    """Start and end (before the line break) of the line holding ``position``."""
    newline = text.rfind("\n", 0, position)
    start = max(newline, text.rfind("\r", newline + 1, position)) + 1
    newline = text.find("\n", position)
    carriage = text.find("\r", position, newline if newline >= 0 else len(text))
    end = carriage if carriage >= 0 else newline if newline >= 0 else len(text)
    return start, end


def _blank_lines(body: str, marker: str) -> str:
    """``body`` with its first line's text replaced by ``marker`` and the rest emptied, line
    breaks kept."""
    pieces = re.split(r"(\r\n|\r|\n)", body)
    out, marked = [], False
    for piece in pieces:
        if piece in ("\r\n", "\r", "\n"):
            out.append(piece)
        elif piece.strip() and not marked:
            out.append(marker)
            marked = True
    return "".join(out)


def _mask_pem_block(match: re.Match[str]) -> str:
    return match.group(1) + _blank_lines(match.group(2), KEY_MASK) + match.group(3)


def _mask_token(match: re.Match[str]) -> str | None:
    before = match.string[match.start() - 1] if match.start() > 0 else " "
    return None if before.isalnum() or before == "_" else MASK


def _mask_group(match: re.Match[str], group: str | int) -> str:
    """The match with ``group`` replaced by the mask."""
    base = match.start()
    whole = match.group(0)
    return whole[: match.start(group) - base] + MASK + whole[match.end(group) - base :]


def _mask_quoted_assignment(match: re.Match[str]) -> str | None:
    value = match.group("value")
    if MASK in value or not _is_secret_value(match.group("name"), value):
        return None
    return _mask_group(match, "value")


def _mask_bare_assignment(match: re.Match[str]) -> str | None:
    value, name = match.group("value"), match.group("name")
    env_style = match.group("op") == "=" and re.fullmatch(r"[A-Z][A-Z0-9_]*", name)
    if (
        MASK in value
        or value.lower() in _BARE_KEYWORDS
        or _ATTRIBUTE.fullmatch(value)
        or not env_style
        and _IDENTIFIER.fullmatch(value)
        and _entropy(value) < 3.5
        or not _is_secret_value(name, value)
    ):
        return None
    return _mask_group(match, "value")


def _mask_auth_header(match: re.Match[str]) -> str | None:
    if not re.search(r"[\d+/=]", match.group(1)):  # a word, not a credential
        return None
    return match.group(0)[: match.start(1) - match.start()] + MASK


def _is_secret_value(name: str, value: str) -> bool:
    """Whether ``value`` assigned to ``name`` should be masked."""
    if len(value) < 4 or _PLACEHOLDER.search(value) or re.search(r"\s", value):
        return False
    key = re.sub(r"[^a-z0-9]", "", name.rsplit(".", 1)[-1].lower())
    if key.endswith(_SECRET_NAME_ENDINGS):
        return True
    return any(part in key for part in _SECRET_NAME_PARTS) and _looks_random(value)


def _looks_random(value: str) -> bool:
    """One long run of key-like characters with letters and digits, and high entropy (URLs,
    paths with dots, words and sentences are not)."""
    return (
        _KEY_LIKE.fullmatch(value) is not None
        and re.search(r"\d", value) is not None
        and re.search(r"[A-Za-z]", value) is not None
        and _entropy(value) >= 3.5
    )


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values()) if total else 0.0


def is_excluded_by_privacy(rel_path: str, globs: list[str] | tuple[str, ...]) -> bool:
    """Whether a workspace-relative path matches the gitignore-style ``globs`` (last matching
    pattern wins, ``!`` negates, ``#`` comments, a matched folder covers its contents), ignoring
    case. The same rules as :class:`weft.ignore.WorkspaceFilter` applies to privacy.exclude."""
    return matches_rules(_privacy_rules(tuple(globs)), rel_path.replace("\\", "/"))


@functools.lru_cache(maxsize=64)
def _privacy_rules(globs: tuple[str, ...]) -> list[Rule]:
    return compile_rules(globs, source="privacy.exclude", ignore_case=True)


def is_private_name(rel_path: str, privacy: PrivacySettings) -> bool:
    """Whether a path is excluded by the privacy rules alone (the built-in deny list minus
    ``excludeRemove``, then ``privacy.exclude``, each list on its own): for files outside any
    workspace, where no ignore file applies."""
    return is_excluded_by_privacy(rel_path, privacy.default_denies()) or is_excluded_by_privacy(
        rel_path, privacy.exclude
    )


def exclusion_of(
    root: Path | None, path: Path | None, settings: Settings, file_filter: Any = None
) -> str | None:
    """Why the file at ``path`` may not be read into a prompt (its exclusion reason), or None.

    The one decision the server and the command line share: inside ``root`` the workspace's
    ignore files and privacy rules apply to the lexical and the real path; outside it (or with
    no root) the privacy rules apply to the path's name and to its real name.
    """
    if path is None:
        return None
    if root is not None:
        try:
            rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
        except ValueError:
            rel = None
        if rel is None:
            try:
                rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
            except ValueError:
                rel = None
        if rel is not None:
            if file_filter is None:
                from weft.ignore import WorkspaceFilter

                file_filter = WorkspaceFilter(root, settings)
            return file_filter.exclusion_reason(rel, is_dir=False)  # type: ignore[no-any-return]
    for name in (Path(path).name, Path(os.path.realpath(path)).name):
        if is_private_name(name, settings.privacy):
            return "privacy.exclude"
    return None


_URL_SECRET_PARAM = re.compile(r"(?i)([?&](?:key|api_?key|token|access_token|sig)=)[^&#]+")


class AuditLog:
    """Appends one JSON line per prompt sent to a model: time, kind, backend, url, payload.

    The file is created with mode 0600 (it holds code). Writes are serialised by a lock and
    each record is one ``write`` on an ``O_APPEND`` descriptor, so lines never interleave.
    Failures are logged, never raised: auditing must not break completion.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.expanduser(os.fspath(path)))
        self._lock = threading.Lock()

    def record(self, kind: str, backend: str, url: str, payload: dict[str, Any]) -> None:
        try:
            line = json.dumps(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "kind": kind,
                    "backend": backend,
                    "url": _URL_SECRET_PARAM.sub(r"\1" + MASK, redact_secrets(url)[0]),
                    "payload": payload,
                },
                ensure_ascii=False,
                default=str,
            )
            with self._lock:
                self._append(line + "\n")
        except Exception as exc:  # noqa: BLE001 - never let auditing break a request
            logger.warning("audit log %s: %s", self.path, exc)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "surrogatepass"))
        finally:
            os.close(fd)
