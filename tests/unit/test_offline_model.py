"""The offline engine's tokenizer, token model and predictor (no server, no files)."""

from __future__ import annotations

import pickle

import pytest

from weft.offline.model import TokenModel
from weft.offline.predict import PredictOptions, Predictor, split_current_line
from weft.offline.tokenizer import tokenize, tree_sitter_tokens

SOURCE = """import os


def read(path):
    with open(path) as fh:
        return fh.read()


def write(path, data):
    with open(path, "w") as fh:
        fh.write(data)
"""


def trained(*texts: str) -> TokenModel:
    model = TokenModel()
    for i, text in enumerate(texts):
        model.add_file(f"f{i}.py", text)
    return model


# ---- tokenizer -------------------------------------------------------------------------------


def test_tokens_carry_their_leading_space_and_keep_identifiers_whole() -> None:
    assert tokenize("x = foo_bar(y)") == ["x", " =", " foo_bar", "(", "y", ")"]
    assert tokenize("a == b != c -> d") == ["a", " ==", " b", " !=", " c", " ->", " d"]


def test_line_break_token_holds_the_next_indentation() -> None:
    assert tokenize("if x:\n    y\n\n\nz") == ["if", " x", ":", "\n    ", "y", "\n\n", "z"]
    assert tokenize("a  \r\n  b") == ["a", "\n  ", "b"]


def test_tokens_rebuild_the_text() -> None:
    text = SOURCE.replace("\n\n\n", "\n\n")
    assert "".join(tokenize(text)) == text


def test_trailing_space_is_a_token_of_its_own() -> None:
    assert tokenize("x = ") == ["x", " =", " "]


def test_splitting_off_the_current_line_keeps_tokens_identical() -> None:
    for text in ("a\n\n    b = 1", "x = 1", "a  \n\n\n  foo(", "", "def f():\n    "):
        body, line = split_current_line(text)
        assert body + line == text
        assert tokenize(body) + tokenize(line) == tokenize(text)


def test_tree_sitter_tokens_in_the_same_format() -> None:
    assert tree_sitter_tokens("x = f(y)\n", "python") == ["x", " =", " f", "(", "y", ")"]
    assert tree_sitter_tokens("x = 1", "no-such-language") is None


# ---- model -----------------------------------------------------------------------------------


def test_matches_extend_backwards_as_far_as_the_context_agrees() -> None:
    model = trained(SOURCE)
    ctx = model.ids_for(tokenize("\n    with open(path"))
    hits = model.matches(ctx, cap=10, max_len=30)
    # "(path" ends both "def ...(path" (2 tokens agree) and both "with open(path" (all 5)
    assert sorted(length for length, _ in hits) == [2, 2, 5, 5]
    followers = {model.words[model.stream()[p + 1]] for length, p in hits if length == 5}
    assert followers == {")", ","}


def test_removing_a_file_forgets_it_completely() -> None:
    model = trained(SOURCE, "other = 1\n")
    model.remove_file("f0.py")
    assert model.token_count == len(tokenize("other = 1\n"))
    assert sum(model.unigram) == model.total == model.token_count
    ctx = model.ids_for(tokenize("with open"))
    assert model.matches(ctx, 10, 10) == []
    assert model.followers(model.vocab[" open"], 10) == {}


def test_updating_a_file_replaces_what_it_taught() -> None:
    model = trained("value = alpha()\n" * 3)
    predictor = Predictor(model, PredictOptions(cache_weight=0))
    assert predictor.complete("value = al") == "pha()"
    model.add_file("f0.py", "value = beta()\n" * 3)
    assert predictor.complete("value = ") == "beta()"
    assert model.unigram[model.vocab[" alpha"]] == 0


def test_compaction_keeps_predictions() -> None:
    model = TokenModel()
    model.add_file("keep.py", SOURCE)
    for i in range(4):
        model.add_file(f"tmp{i}.py", "junk = 1\n" * 50)
        model.remove_file(f"tmp{i}.py")
    before = Predictor(model).complete("def other(path):\n    with op")
    model.compact()
    assert model.dead == 0
    assert Predictor(model).complete("def other(path):\n    with op") == before == "en(path) as fh:"


def test_state_round_trip_and_damage_is_detected() -> None:
    model = trained(SOURCE)
    state = pickle.loads(pickle.dumps(model.to_state()))
    again = TokenModel.from_state(state)
    assert again.token_count == model.token_count
    assert Predictor(again).complete("    with op") == Predictor(model).complete("    with op")
    state["prev"] = state["prev"][:-4]
    with pytest.raises(ValueError):
        TokenModel.from_state(state)
    state = model.to_state()
    state["tokens"] = state["tokens"].tobytes()
    with pytest.raises(ValueError):
        TokenModel.from_state(state)


def test_a_file_is_cut_at_the_token_budget() -> None:
    model = TokenModel(max_tokens_per_file=100)
    assert model.add_file("big.py", "x = 1\n" * 1000) == 100


# ---- predictor -------------------------------------------------------------------------------


def test_completes_the_rest_of_the_line_from_the_workspace() -> None:
    predictor = Predictor(trained(SOURCE))
    assert predictor.complete("def other(path):\n    with op") == "en(path) as fh:"
    assert predictor.complete("def other(path):\n    with open(path) as fh:\n        ret") == (
        "urn fh.read()"
    )


def test_the_first_token_extends_what_was_typed() -> None:
    predictor = Predictor(trained("result = compute_total(items)\n" * 3))
    assert predictor.complete("result = comp") == "ute_total(items)"


def test_nothing_to_say_gives_an_empty_answer() -> None:
    assert Predictor(TokenModel()).complete("x = ") == ""
    assert Predictor(TokenModel()).complete("") == ""
    assert Predictor(trained(SOURCE)).complete("zzz qqq ") == ""


def test_cache_favours_the_current_file_over_the_workspace() -> None:
    workspace = trained("handler = make_default()\n" * 5)
    current = "handler = make_special()\nx = 1\nhandler = make_special()\ny = 2\n"
    predictor = Predictor(workspace)
    assert predictor.complete(current + "handler = ") == "make_special()"
    no_cache = Predictor(workspace, PredictOptions(cache_weight=0))
    assert no_cache.complete(current + "handler = ") == "make_default()"


def test_identifiers_only_in_the_current_file_are_completed() -> None:
    predictor = Predictor(trained(SOURCE))
    doc = "brand_new_name = 1\nprint(brand_new_name)\nprint(bra"
    assert predictor.complete(doc) == "nd_new_name)"


def test_recent_edits_feed_the_cache() -> None:
    predictor = Predictor(trained(SOURCE))
    recent = ("session.commit_pending_changes(force=True)\n",)
    assert predictor.complete("session.com", recent=recent) == "mit_pending_changes(force=True)"
    assert predictor.complete("session.com") != "mit_pending_changes(force=True)"


def test_text_already_after_the_cursor_is_not_repeated() -> None:
    predictor = Predictor(trained("call(alpha, beta)\n" * 5))
    assert predictor.complete("call(alpha, beta)\ncall(alpha, ") == "beta)"
    assert predictor.complete("call(alpha, beta)\ncall(alpha, ", suffix=")\n") == "beta"


HANDLERS = """def handle(request):
    user = request.user
    if not user.is_authenticated:
        log.warning("anonymous request")
        return deny(request)
    return serve(request)
"""


def test_a_repeated_block_is_offered_over_several_lines() -> None:
    predictor = Predictor(trained(HANDLERS))
    prefix = "def other(request):\n    user = request.user\n    if not user.is_auth"
    block = '\n        log.warning("anonymous request")\n        return deny(request)'
    assert predictor.complete(prefix) == "enticated:" + block
    assert predictor.complete(prefix, multiline=False) == "enticated:"
    # lines that already follow the cursor are not offered again
    assert predictor.complete(prefix, suffix=block + "\n") == "enticated:"


def test_no_block_without_the_previous_line_matching_too() -> None:
    predictor = Predictor(trained(HANDLERS))
    prefix = "def other(request):\n    account = request.account\n    if not user.is_auth"
    assert predictor.complete(prefix) == "enticated:"


def test_a_block_stops_where_the_current_block_ends() -> None:
    text = (
        "def f(items, limit=None):\n    for item in items:\n"
        "        total = add(item)\n        emit(total)\n    done()\n"
    )
    predictor = Predictor(trained(text * 2))
    completion = predictor.complete("def f(items, limit=None):\n    for item in ite")
    assert completion == "ms:\n        total = add(item)\n        emit(total)"


def test_no_grammar_and_odd_text_do_not_break_prediction() -> None:
    predictor = Predictor(trained("(defun foo (x) (bar x))\n" * 3, "\x00\x01\x02 ���\n"))
    assert predictor.complete("(defun foo (x) (b") == "ar x))"
    assert isinstance(predictor.complete("\x00\x01"), str)
    assert predictor.complete("x" * 50_000) == ""


def test_with_no_context_the_most_frequent_extension_of_the_word_wins() -> None:
    text = "".join(f"v{i} = 0\n" for i in range(40)) + "counter_total = 1\n" * 5 + "count = 2\n"
    predictor = Predictor(trained(text))
    assert predictor.complete("unknown_context_here(cou").startswith("nter_total")


def test_the_hash_table_grows_without_losing_occurrences() -> None:
    model = TokenModel()
    chunk = "".join(f"name_{i} = value_{i}\n" for i in range(3000))
    for i in range(4):
        model.add_file(f"part{i}.py", chunk)
    assert len(model._chain.head) > 1 << 12  # grew from the initial size
    ctx = model.ids_for(tokenize("\nname_17 ="))
    hits = model.matches(ctx, cap=10, max_len=10)
    assert len(hits) == 4 and all(length == 3 for length, _ in hits)
    assert Predictor(model).complete("name_2999 = ") == "value_2999"


def test_fit_before_text_already_on_the_line() -> None:
    from weft.offline.predict import fit_before

    assert fit_before("beta)", ")") == "beta"
    assert fit_before('x")', '"):') == "x"
    assert fit_before("name, value)", "value)") == "name, "
    assert fit_before("name)", "other_call(x)") == ""  # never wedge text into other text


def test_word_lookup_follows_new_words_in_and_out_of_bulk_learning() -> None:
    model = trained("alpha_one = 1\n")
    assert model.words_with_prefix("alpha_") == [model.vocab["alpha_one"]]
    model.add_file("b.py", "alpha_two = 2\nalpha_two = 3\n")  # inserted in place
    assert model.words_with_prefix("alpha_") == [model.vocab["alpha_two"], model.vocab["alpha_one"]]
    model.bulk = True
    model.add_file("c.py", "alpha_three = 3\n" * 3)
    model.bulk = False
    model.prepare()
    assert model.words_with_prefix("alpha_t")[0] == model.vocab["alpha_three"]
