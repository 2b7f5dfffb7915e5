"""FIM templates: exact prompt strings per family, repo-level packing, stops, model-name
detection, template resolution, and the hole-filling chat prompt."""

from __future__ import annotations

import pytest

from weft.completion.prompt import (
    FILL_MARKER,
    TEMPLATES,
    build_chat_fill_messages,
    build_fim_prompt,
    prefix_with_context,
    resolve_template,
    stop_tokens,
    strip_chat_answer,
    template_for_model,
)

PREFIX = "def add(a, b):\n    return "
SUFFIX = "\n\nprint(add(1, 2))\n"
EXTRA = (("lib/util.py", "def helper(x):\n    return x * 2\n"),)

# Written out literally, special characters included: a change to any token fails here.
EXACT_PROMPTS = {
    "starcoder": "<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>",
    "starcoder2": "<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>",
    "codellama": "<PRE> def add(a, b):\n    return  <SUF>\n\nprint(add(1, 2))\n <MID>",
    "deepseek": "<｜fim▁begin｜>def add(a, b):\n    return <｜fim▁hole｜>\n\nprint(add(1, 2))\n<｜fim▁end｜>",
    "qwen": "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>",
    "codegemma": "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>",
    "codestral": "[SUFFIX]\n\nprint(add(1, 2))\n[PREFIX]def add(a, b):\n    return ",
}


def test_every_family_is_pinned():
    assert set(EXACT_PROMPTS) == set(TEMPLATES)


@pytest.mark.parametrize("family", sorted(EXACT_PROMPTS))
def test_single_file_prompt_is_exact(family):
    assert build_fim_prompt(family, PREFIX, SUFFIX) == EXACT_PROMPTS[family]


def test_deepseek_tokens_use_fullwidth_bars_and_lower_one_eighth_block():
    prompt = build_fim_prompt("deepseek", "a", "b")
    assert "\uff5cfim\u2581begin\uff5c" in prompt
    assert "|fim_begin|" not in prompt


def test_codellama_spacing_survives_empty_prefix_and_suffix():
    assert build_fim_prompt("codellama", "", "") == "<PRE>  <SUF> <MID>"


def test_no_template_emits_bos():
    for family in TEMPLATES:
        prompt = build_fim_prompt(family, "x", "y", path="a.py", language="python", extra=EXTRA)
        assert not prompt.startswith("<s>"), family


def test_braces_in_code_are_not_format_fields():
    prompt = build_fim_prompt("qwen", "d = {'a': {x}}", "{suffix}")
    assert prompt == "<|fim_prefix|>d = {'a': {x}}<|fim_suffix|>{suffix}<|fim_middle|>"


def test_starcoder2_repo_level_packing():
    prompt = build_fim_prompt("starcoder2", PREFIX, SUFFIX, path="src/app.py", extra=EXTRA)
    assert prompt == (
        "<file_sep>lib/util.py\ndef helper(x):\n    return x * 2\n"
        "<file_sep><fim_prefix>src/app.py\ndef add(a, b):\n    return "
        "<fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>"
    )


def test_starcoder2_repo_name_and_path_only():
    prompt = build_fim_prompt("starcoder2", "x = ", "", path="a.py", repo="proj")
    assert prompt == "<repo_name>proj<file_sep><fim_prefix>a.py\nx = <fim_suffix><fim_middle>"


def test_qwen_repo_level_packing():
    extra = (("a.py", "A = 1"), ("b.py", "B = 2\n"))
    prompt = build_fim_prompt("qwen", "C = ", "\n", path="pkg/c.py", extra=extra, repo="proj")
    assert prompt == (
        "<|repo_name|>proj\n"
        "<|file_sep|>a.py\nA = 1\n"
        "<|file_sep|>b.py\nB = 2\n"
        "<|file_sep|>pkg/c.py\n"
        "<|fim_prefix|>C = <|fim_suffix|>\n<|fim_middle|>"
    )


def test_qwen_path_without_repo_name():
    prompt = build_fim_prompt("qwen", "C = ", "", path="c.py")
    assert prompt == "<|file_sep|>c.py\n<|fim_prefix|>C = <|fim_suffix|><|fim_middle|>"


def test_codegemma_uses_file_separator_for_other_files():
    prompt = build_fim_prompt("codegemma", "C = ", "", path="c.py", extra=(("a.py", "A = 1"),))
    assert prompt == "a.py\nA = 1\n<|file_separator|><|fim_prefix|>C = <|fim_suffix|><|fim_middle|>"


def test_deepseek_puts_other_files_in_prefix_as_comments():
    prompt = build_fim_prompt(
        "deepseek", PREFIX, SUFFIX, path="src/app.py", language="python", extra=EXTRA
    )
    assert prompt == (
        "<｜fim▁begin｜># Path: lib/util.py\n# def helper(x):\n#     return x * 2\n\n"
        "def add(a, b):\n    return <｜fim▁hole｜>\n\nprint(add(1, 2))\n<｜fim▁end｜>"
    )


def test_codellama_comment_syntax_follows_language():
    prompt = build_fim_prompt(
        "codellama", "let x = ", ";", path="a.ts", language="typescript", extra=(("b.ts", "f()"),)
    )
    assert prompt == "<PRE> // Path: b.ts\n// f()\n\nlet x =  <SUF>; <MID>"


def test_codestral_comment_context_goes_after_prefix_token():
    prompt = build_fim_prompt("codestral", "x = ", "", language="python", extra=(("b.py", "y"),))
    assert prompt == "[SUFFIX][PREFIX]# Path: b.py\n# y\n\nx = "


def test_block_comment_languages_close_each_line():
    assert prefix_with_context("p", "a.css", "css", (("b.css", "a {}\n\nb {}"),)) == (
        "/* Path: b.css */\n/* a {} */\n/* */\n/* b {} */\n\np"
    )


def test_language_from_path_when_id_missing():
    assert prefix_with_context("p", "main.go", "", (("x.go", "y"),)) == "// Path: x.go\n// y\n\np"


def test_extra_dropped_for_unknown_comment_syntax():
    assert prefix_with_context("p", "data.json", "json", (("x.json", "{}"),)) == "p"
    prompt = build_fim_prompt("starcoder", "p", "s", path="notes.txt", extra=EXTRA)
    assert prompt == "<fim_prefix>p<fim_suffix>s<fim_middle>"


def test_prefix_with_context_without_extra_is_identity():
    assert prefix_with_context(PREFIX, "a.py", "python", ()) is PREFIX


@pytest.mark.parametrize(
    ("family", "must_have"),
    [
        ("starcoder", "<|endoftext|>"),
        ("starcoder2", "<file_sep>"),
        ("codellama", "<EOT>"),
        ("deepseek", "<｜end▁of▁sentence｜>"),
        ("qwen", "<|endoftext|>"),
        ("qwen", "<|file_sep|>"),
        ("codegemma", "<|file_separator|>"),
        ("codestral", "[PREFIX]"),
    ],
)
def test_stop_tokens(family, must_have):
    assert must_have in stop_tokens(family)


def test_stop_tokens_unknown_family_and_copies():
    assert stop_tokens("nope") == []
    stops = stop_tokens("qwen")
    stops.clear()
    assert stop_tokens("qwen")


def test_stop_tokens_cover_every_special_token_a_prompt_uses():
    for family, (fmt, stops) in TEMPLATES.items():
        tokens = [
            t for t in fmt.replace("{prefix}", "\0").replace("{suffix}", "\0").split("\0") if t
        ]
        for token in tokens:
            assert token.strip() in stops, (family, token)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("qwen2.5-coder:1.5b", "qwen"),
        ("Qwen/Qwen2.5-Coder-7B", "qwen"),
        ("hf.co/bartowski/Qwen2.5-Coder-3B-GGUF:Q4_K_M", "qwen"),
        ("qwen3-coder:30b", "qwen"),
        ("deepseek-coder-v2", "deepseek"),
        ("deepseek-coder:6.7b-base", "deepseek"),
        ("codellama:7b-code", "codellama"),
        ("CodeLlama-13b-hf", "codellama"),
        ("starcoder2:3b", "starcoder2"),
        ("bigcode/starcoder2-15b", "starcoder2"),
        ("bigcode/starcoderbase", "starcoder"),
        ("stable-code:3b", "starcoder"),
        ("codestral-latest", "codestral"),
        ("codegemma", "codegemma"),
        ("codegemma:2b-code", "codegemma"),
        ("qwen2.5:7b", None),
        ("llama3.1:8b", None),
        ("gpt-4o-mini", None),
        ("deepseek-r1", None),
        ("", None),
        (None, None),
    ],
)
def test_template_for_model(model, family):
    assert template_for_model(model) == family


@pytest.mark.parametrize(
    ("setting", "model", "kind", "takes_suffix", "expected"),
    [
        ("raw", "qwen2.5-coder:1.5b", "openai", False, None),
        ("codellama", "qwen2.5-coder:1.5b", "openai", False, "codellama"),
        ("qwen", None, "ollama", True, "qwen"),  # forced: Ollama then sends raw: true
        ("auto", "qwen2.5-coder:1.5b", "openai", False, "qwen"),
        ("auto", "qwen2.5-coder:1.5b", "ollama", True, None),
        ("auto", "qwen2.5-coder:1.5b", "llamacpp", True, None),
        ("auto", "unknown-model", "openai", False, None),
        ("auto", "codestral-latest", "mistral", True, None),
        ("codestral", "codestral-latest", "mistral", True, None),  # FIM API has no raw mode
        ("qwen", "claude-sonnet", "anthropic", False, None),
        ("deepseek", None, "offline", True, None),
        ("bogus", "starcoder2:3b", "openai", False, "starcoder2"),  # unknown → auto
    ],
)
def test_resolve_template(setting, model, kind, takes_suffix, expected):
    assert resolve_template(setting, model, kind, takes_suffix) == expected


def test_chat_fill_messages():
    messages = build_chat_fill_messages(PREFIX, SUFFIX, "src/app.py", "python", EXTRA)
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert FILL_MARKER in system and "no code fences" in system
    assert f"<file>\n{PREFIX}{FILL_MARKER}{SUFFIX}\n</file>" in user
    assert "src/app.py (python)" in user
    assert '<context path="lib/util.py">\ndef helper(x):\n    return x * 2\n</context>' in user
    assert user.index("<context") < user.index("<file>")


def test_chat_fill_messages_without_path_or_extra():
    user = build_chat_fill_messages("a", "b", "", "")[1]["content"]
    assert "this file:" in user and "<context" not in user
    assert user.endswith(f"<file>\na{FILL_MARKER}b\n</file>")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("a + b", "a + b"),
        ("```python\na + b\n```", "a + b"),
        ("Here is the code:\n\n```py\na + b\n```\n\nThis adds the numbers.", "a + b"),
        ("~~~\nx = 1\ny = 2\n~~~", "x = 1\ny = 2"),
        ("```python\na + b", "a + b"),  # fence left open at the end of the stream
        ("`a + b`", "a + b"),
        ("<file>\na + b\n</file>", "a + b"),
        ("```\nif x:\n    y()\n```", "if x:\n    y()"),
        ("```python\r\na + b\r\n```", "a + b"),
    ],
)
def test_strip_chat_answer_fences_and_chatter(answer, expected):
    assert strip_chat_answer(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("    return a + b", "a + b"),  # the whole cursor line repeated
        ("return a + b", "a + b"),  # the line repeated without its indentation
        ("def add(a, b):\n    return a + b", "a + b"),  # several lines repeated
        ("```python\ndef add(a, b):\n    return a + b\n```", "a + b"),
        ("a + b", "a + b"),  # no echo
        ("b + return_value", "b + return_value"),  # the line text later on is no echo
    ],
)
def test_strip_chat_answer_prefix_echo(answer, expected):
    assert strip_chat_answer(answer, PREFIX) == expected


def test_strip_chat_answer_indentation_only_line():
    assert strip_chat_answer("    pass", "def f():\n    ") == "pass"
    assert strip_chat_answer("pass", "def f():\n    ") == "pass"


def test_strip_chat_answer_removes_echoed_marker():
    assert strip_chat_answer(f"x = {FILL_MARKER}") == "x = "
