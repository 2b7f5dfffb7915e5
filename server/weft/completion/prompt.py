"""FIM prompt templates: the exact special tokens each code-model family was trained on, the
stop strings that end its answer, which family a model name belongs to, and the hole-filling
chat prompt used for chat-only models.

Everything here is a pure function of strings. Formats follow the model authors' documents
(see ``shared/notes/performance.md`` §4):

========== ====================================================================== ==========
family     single-file prompt                                                      repo-level
========== ====================================================================== ==========
starcoder  ``<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>``                comments
starcoder2 same tokens                                                             ``<file_sep>``
codellama  ``<PRE> {prefix} <SUF>{suffix} <MID>``                                  comments
deepseek   ``<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>``             comments
qwen       ``<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>``          ``<|file_sep|>``
codegemma  ``<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>``          ``<|file_separator|>``
codestral  ``[SUFFIX]{suffix}[PREFIX]{prefix}`` (suffix first)                     comments
========== ====================================================================== ==========

Cross-file context (``extra``: ``(path, text)`` snippets, most relevant last):

* starcoder2, qwen and codegemma get it in their documented repo-level packing, with the
  current file's path where the format names files (starcoder2, qwen).
* The others have no documented multi-file tokens (DeepSeek's README packs files behind plain
  path comments), so each snippet goes at the top of the prefix as a comment block in the
  current file's comment syntax: a ``Path: <path>`` line, then every snippet line commented
  out, so the prefix stays valid code in the file's language. For a language whose comment
  syntax we do not know, the snippets are dropped rather than risk breaking the file.

No template emits a BOS token (``<s>``): prompts go as raw text to OpenAI-compatible, Ollama
(``raw``) and llama.cpp servers, whose tokenizers add BOS themselves; a literal ``<s>`` would
either be doubled or be tokenized as five plain characters.
"""

from __future__ import annotations

import logging
import re

from weft.index.languages import normalize_language

logger = logging.getLogger(__name__)

FILL_MARKER = "{{FILL_HERE}}"

# family -> (prompt format with {prefix} {suffix}, stop strings most important first).
# Backends with a cap on stop strings (OpenAI allows 4) keep the head of the list.
TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "starcoder": (
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        ("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_pad>"),
    ),
    "starcoder2": (
        "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        (
            "<|endoftext|>",
            "<file_sep>",
            "<fim_prefix>",
            "<fim_suffix>",
            "<fim_middle>",
            "<fim_pad>",
            "<repo_name>",
        ),
    ),
    # The spaces are part of the tokens (▁<PRE>, ▁<SUF>, ▁<MID>): meta-llama/codellama
    # generation.py infilling_prompt_tokens.
    "codellama": (
        "<PRE> {prefix} <SUF>{suffix} <MID>",
        ("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
    ),
    # Fullwidth bars and U+2581 are part of DeepSeek's token spellings.
    "deepseek": (
        "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
        ("<｜end▁of▁sentence｜>", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<|EOT|>"),
    ),
    "qwen": (
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        (
            "<|endoftext|>",
            "<|file_sep|>",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            "<|fim_pad|>",
            "<|repo_name|>",
            "<|im_start|>",
            "<|im_end|>",
        ),
    ),
    "codegemma": (
        "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        (
            "<|file_separator|>",
            "<eos>",
            "<end_of_turn>",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
        ),
    ),
    # Suffix first, as mistral-common encodes FIM ([SUFFIX] ... [PREFIX] ...).
    "codestral": (
        "[SUFFIX]{suffix}[PREFIX]{prefix}",
        ("</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"),
    ),
}

# Comment syntax per weft language name: (opener, closer); closer "" for line comments.
_HASH = ("#", "")
_SLASH = ("//", "")
_DASH = ("--", "")
_SLASH_LANGUAGES = (
    "javascript typescript tsx go rust java c cpp csharp kotlin swift scala zig dart php objc scss"
)
COMMENT_SYNTAX: dict[str, tuple[str, str]] = {
    **dict.fromkeys("python ruby bash yaml toml r perl elixir julia nim".split(), _HASH),
    **dict.fromkeys(_SLASH_LANGUAGES.split(), _SLASH),
    **dict.fromkeys("lua sql haskell elm".split(), _DASH),
    "clojure": (";;", ""),
    "erlang": ("%", ""),
    "ocaml": ("(*", "*)"),
    "css": ("/*", "*/"),
    **dict.fromkeys("html markdown vue svelte".split(), ("<!--", "-->")),
}

# Backend kinds that never receive a raw prompt string, so a template can never apply.
_NO_RAW_PROMPT_KINDS = frozenset({"anthropic", "mistral", "offline", "chat"})


def build_fim_prompt(
    template: str,
    prefix: str,
    suffix: str,
    path: str = "",
    language: str = "",
    extra: tuple[tuple[str, str], ...] = (),
    *,
    repo: str = "",
) -> str:
    """The raw FIM prompt for ``template`` (a key of :data:`TEMPLATES`; KeyError otherwise).

    ``repo`` (the workspace folder's name) fills the repo-name slot of starcoder2 and qwen
    repo-level prompts; it is left out when empty.
    """
    fmt = TEMPLATES[template][0]
    if template == "starcoder2":
        return _starcoder2(fmt, prefix, suffix, path, extra, repo)
    if template == "qwen":
        return _qwen(fmt, prefix, suffix, path, extra, repo)
    if template == "codegemma":
        head = "".join(f"{p}\n{_with_newline(t)}<|file_separator|>" for p, t in extra)
        return head + fmt.format(prefix=prefix, suffix=suffix)
    prefix = prefix_with_context(prefix, path, language, extra)
    return fmt.format(prefix=prefix, suffix=suffix)


def _starcoder2(
    fmt: str, prefix: str, suffix: str, path: str, extra: tuple[tuple[str, str], ...], repo: str
) -> str:
    # StarCoder 2 paper §5: <repo_name>r<file_sep>path\ncode<file_sep><fim_prefix>path\npre...
    if not path and not extra:
        return fmt.format(prefix=prefix, suffix=suffix)
    head = f"<repo_name>{repo}" if repo else ""
    head += "".join(f"<file_sep>{p}\n{_with_newline(t)}" for p, t in extra)
    current = f"{path}\n{prefix}" if path else prefix
    return f"{head}<file_sep>" + fmt.format(prefix=current, suffix=suffix)


def _qwen(
    fmt: str, prefix: str, suffix: str, path: str, extra: tuple[tuple[str, str], ...], repo: str
) -> str:
    # Qwen2.5-Coder examples: <|repo_name|>r\n<|file_sep|>path\ncode\n<|file_sep|>cur\n<|fim_prefix|>...
    if not path and not extra:
        return fmt.format(prefix=prefix, suffix=suffix)
    head = f"<|repo_name|>{repo}\n" if repo else ""
    head += "".join(f"<|file_sep|>{p}\n{_with_newline(t)}" for p, t in extra)
    current = f"<|file_sep|>{path}\n" if path else ""
    return head + current + fmt.format(prefix=prefix, suffix=suffix)


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def prefix_with_context(
    prefix: str, path: str, language: str, extra: tuple[tuple[str, str], ...]
) -> str:
    """``prefix`` with the ``extra`` snippets on top as comment blocks in the file's comment
    syntax (``extra`` dropped when the language has none we know). Also what endpoints that
    take prefix and suffix apart (Ollama ``suffix``, Mistral FIM) should send as the prompt."""
    if not extra:
        return prefix
    syntax = COMMENT_SYNTAX.get(normalize_language(language or None, path or None) or "")
    if syntax is None:
        logger.debug("no comment syntax for %r (%s): cross-file context dropped", language, path)
        return prefix
    return "".join(_comment_block(p, t, syntax) for p, t in extra) + prefix


def _comment_block(path: str, text: str, syntax: tuple[str, str]) -> str:
    opener, closer = syntax
    lines = [f"Path: {path}", *text.rstrip("\r\n").splitlines()]
    tail = f" {closer}" if closer else ""
    return "".join(f"{opener} {line}".rstrip() + tail + "\n" for line in lines) + "\n"


def stop_tokens(template: str) -> list[str]:
    """Strings that end an answer in ``template``'s family (empty for an unknown family)."""
    entry = TEMPLATES.get(template)
    return list(entry[1]) if entry else []


# (needle in the lower-cased, punctuation-free name, family), first hit wins: more specific
# needles first ("starcoder2" before "starcoder").
_MODEL_PATTERNS: tuple[tuple[str, str], ...] = (
    ("starcoder2", "starcoder2"),
    ("starcoder", "starcoder"),
    ("stablecode", "starcoder"),
    ("codellama", "codellama"),
    ("deepseekcoder", "deepseek"),
    ("codegemma", "codegemma"),
    ("codestral", "codestral"),
)


def template_for_model(model_name: str | None) -> str | None:
    """The FIM family of a model from its name (Ollama tag, HF id, API name), or None."""
    if not model_name:
        return None
    compact = re.sub(r"[^a-z0-9]", "", model_name.lower())
    for needle, family in _MODEL_PATTERNS:
        if needle in compact:
            return family
    # Only Qwen's coder models were trained on FIM, though every Qwen2.5 vocabulary has the tokens.
    if "qwen" in compact and "coder" in compact:
        return "qwen"
    return None


def resolve_template(
    setting: str, model_name: str | None, backend_kind: str, endpoint_takes_suffix: bool
) -> str | None:
    """The template to apply, or None to send prefix and suffix as they are.

    * backends that never take a raw prompt (anthropic, mistral, offline, chat) → None;
    * ``"raw"`` → None;
    * an explicit family → that family (a backend with a separate suffix field then sends
      the templated prompt raw, e.g. Ollama ``raw: true``);
    * ``"auto"`` → None when the endpoint takes prefix and suffix apart (Ollama ``suffix``,
      llama.cpp ``/infill``, Mistral FIM), since the server knows its model's tokens best;
      otherwise the family guessed from the model name (None when unknown: plain prefix).
    """
    if backend_kind in _NO_RAW_PROMPT_KINDS or setting == "raw":
        return None
    if setting in TEMPLATES:
        return setting
    if setting != "auto":
        logger.warning("unknown completion.template %r, using auto", setting)
    if endpoint_takes_suffix:
        return None
    return template_for_model(model_name)


_SYSTEM_PROMPT = (
    "You are a code completion engine. The user sends a file with one hole marked "
    f"{FILL_MARKER}. Reply with only the code that replaces {FILL_MARKER}:\n"
    "- no code fences, no explanation, no comments about what you did;\n"
    "- do not repeat code that is already before or after the hole;\n"
    "- keep the file's indentation and style, and make the code around the hole valid;\n"
    "- if nothing belongs in the hole, reply with nothing."
)


def build_chat_fill_messages(
    prefix: str,
    suffix: str,
    path: str,
    language: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> list[dict[str, str]]:
    """A system + user message pair asking a chat model to fill the hole at the cursor."""
    parts = [
        f'<context path="{other_path}">\n{_with_newline(text)}</context>'
        for other_path, text in extra
    ]
    if parts:
        parts.insert(0, "Code from other files of the project, for reference:")
    where = path or "this file"
    kind = f" ({language})" if language else ""
    parts.append(f"Fill the {FILL_MARKER} hole in {where}{kind}:")
    parts.append(f"<file>\n{prefix}{FILL_MARKER}{suffix}\n</file>")
    return [
        {"role": "system", "content": _SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
_OPEN_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n", re.M)


def strip_chat_answer(text: str, prefix: str = "") -> str:
    """The code in a chat model's answer: the first fenced block if there is one (dropping the
    prose around it), no ``<file>`` wrapper or hole marker, and without a leading echo of the
    text already before the cursor (pass ``prefix`` for that)."""
    text = text.replace("\r\n", "\n")
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(2).removesuffix("\n")
    elif (opened := _OPEN_FENCE.search(text)) is not None:
        text = text[opened.end() :]  # a fence left open when the stream stopped
    text = _strip_wrapper(text)
    if len(text) > 2 and text[0] == "`" == text[-1] and "`" not in text[1:-1] and "\n" not in text:
        text = text[1:-1]
    return _strip_prefix_echo(text, prefix) if prefix else text


_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


def chat_code_so_far(text: str, prefix: str = "") -> str | None:
    """The code a chat answer certainly starts with, from the part received so far.

    Only complete lines count (the last one may still become a fence). An answer opening with
    a fence streams its body; an unfenced one streams from its second complete line on, since
    a first line could be prose introducing a fence. None: nothing is certain yet. Whatever
    this returns is a prefix of ``strip_chat_answer`` of the whole answer (the caller checks).
    """
    lines = text.replace("\r\n", "\n").split("\n")[:-1]
    if lines and lines[0].strip() == "<file>":
        lines = lines[1:]
    if not lines:
        return None
    opened = _FENCE_LINE.match(lines[0])
    if opened is not None:
        closing = re.compile(r"^[ \t]*" + re.escape(opened.group(1)) + r"[ \t]*$")
        body: list[str] = []
        for line in lines[1:]:
            if closing.match(line):
                break
            body.append(line)
        code = "\n".join(body)
    elif len(lines) < 2 or any(_FENCE_LINE.match(line) for line in lines):
        return None
    else:
        code = "\n".join(line for line in lines if line.strip() != "</file>")
    code = code.replace(FILL_MARKER, "")
    return _strip_prefix_echo(code, prefix) if prefix else code


def _strip_wrapper(text: str) -> str:
    stripped = text.strip("\n")
    if stripped.startswith("<file>") and stripped.endswith("</file>"):
        text = stripped[len("<file>") : -len("</file>")].strip("\n")
    marker = text.find(FILL_MARKER)
    if marker >= 0:  # the model echoed the file: what it put in place of the marker is lost
        text = text[:marker] + text[marker + len(FILL_MARKER) :]
    return text


def _strip_prefix_echo(answer: str, prefix: str) -> str:
    """Drop the longest head of ``answer`` that repeats the end of ``prefix``, if it covers at
    least the text before the cursor on its line (shorter overlaps are likely real code)."""
    line = prefix[prefix.rfind("\n") + 1 :]
    core = line.lstrip()
    if not core:
        return answer[len(line) :] if line and answer.startswith(line) else answer
    best = 0
    start = answer.find(core)
    while start >= 0:
        end = start + len(core)
        if prefix.endswith(answer[:end]):
            best = end
        start = answer.find(core, start + 1)
    return answer[best:]
