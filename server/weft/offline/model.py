"""The workspace's token statistics, kept in a few flat arrays so that millions of tokens fit.

Every learned file's token ids sit in one ``array('i')`` (``tokens``), files separated by
``SEP``. A hash chain over the stream (``head[hash(a, b)]`` is the last position whose bigram
hashes there, ``prev[p]`` the one before it) finds where a context occurred, newest first; from
each occurrence the match is extended backwards as far as the context goes, which gives counts
for every order at once (an "infini-gram" without a suffix array) and the long matches that let
the predictor copy a repeated block. A second chain per token (``head1``/``prev1``) gives the
followers of the last token (order 2), and exact unigram counts sit under both.

Memory is 12 bytes per token plus a small hash table: Python dicts of millions of n-grams would
cost 70-100 bytes each (measured on CPython's standard library: 7.8 M tokens, 4.2 M distinct
6-grams), and even exact bigram dicts took 61 MB there, against a 200 MB budget.

Incremental: ``add_file`` appends, ``remove_file`` subtracts the unigram counts and blanks the
file's span (the chains skip blanked positions), ``compact`` rebuilds once half the stream is
dead. One writer at a time (the engine's lock); readers on another thread take no lock: they
see old or new values of single array cells, never torn objects, and the shape changes
(``compact``, ``reserve``) swap one ``_Chain`` object.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass

from weft.offline.tokenizer import tokenize

logger = logging.getLogger(__name__)

SEP = 0
"""Token id between files (and at position 0); never part of a query context."""
_MIN_HEAD_BITS = 12
_MAX_HEAD_BITS = 23
_HASH_MUL = 1_000_003


def _bigram_slot(a: int, b: int, mask: int) -> int:
    return ((a * _HASH_MUL) ^ b) & mask


@dataclass(frozen=True)
class _Chain:
    """The arrays that readers must see together (swapped as one object).

    ``prev[p]``/``head[slot]``: the previous position of the same bigram (ending at ``p``);
    ``prev1[p]``/``head1[token]``: the previous position of the same token.
    """

    tokens: array
    prev: array
    head: array
    mask: int
    prev1: array
    head1: array


class TokenModel:
    """Token stream, hash chains and unigram counts for a set of files."""

    def __init__(
        self,
        max_tokens_per_file: int = 400_000,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> None:
        self.tokenize = tokenizer
        """Text to tokens, for learning and for the predictor's queries alike."""
        self.vocab: dict[str, int] = {"": SEP}
        self.words: list[str] = [""]
        self.unigram = array("i", [0])
        self.total = 0
        self.spans: dict[str, tuple[int, int]] = {}
        self.dead = 0
        self.max_tokens_per_file = max_tokens_per_file
        self.version = 0
        self._sorted_words: list[str] | None = None
        self._sorted_stale = False
        self.bulk = False
        """While True (bulk training), new words leave the sorted word list stale until
        ``prepare``; otherwise each is inserted in place."""
        self._chain = self._empty_chain(_MIN_HEAD_BITS, 1)

    # ---- vocabulary -----------------------------------------------------------------------

    @staticmethod
    def _empty_chain(bits: int, vocabulary: int) -> _Chain:
        return _Chain(
            tokens=array("i", [SEP]),
            prev=array("i", [-1]),
            head=array("i", [-1]) * (1 << bits),
            mask=(1 << bits) - 1,
            prev1=array("i", [-1]),
            head1=array("i", [-1]) * vocabulary,
        )

    def _new_word(self, word: str) -> int:
        wid = len(self.words)
        self.words.append(word)
        self.vocab[word] = wid
        self.unigram.append(0)
        self._chain.head1.append(-1)
        if self._sorted_words is not None:
            if self.bulk:
                self._sorted_stale = True
            else:
                insort(self._sorted_words, word)
        return wid

    def ids_for(self, toks: list[str]) -> list[int]:
        """Ids of tokens, adding new ones to the vocabulary."""
        get = self.vocab.get
        out = []
        for tok in toks:
            wid = get(tok)
            if wid is None:
                wid = self._new_word(tok)
            out.append(wid)
        return out

    def prepare(self) -> None:
        """Build the sorted word list now (after bulk learning) rather than on a query."""
        if self._sorted_words is None or self._sorted_stale:
            self._sorted_words = sorted(self.words[1:])
            self._sorted_stale = False

    def words_with_prefix(self, prefix: str, limit: int = 3000) -> list[int]:
        """Ids of known words starting with ``prefix``, most frequent first (``limit`` scanned)."""
        words = self._sorted_words
        if words is None:  # stale is fine here (words are never removed): no stall mid-training
            self.prepare()
            words = self._sorted_words or []
        lo = bisect_left(words, prefix)
        out = []
        for word in words[lo : lo + limit]:
            if not word.startswith(prefix):
                break
            wid = self.vocab[word]
            if self.unigram[wid] > 0:  # words of forgotten files stay in the vocabulary
                out.append(wid)
        out.sort(key=self.unigram.__getitem__, reverse=True)
        return out

    # ---- learning -------------------------------------------------------------------------

    @property
    def token_count(self) -> int:
        return len(self._chain.tokens) - 1 - self.dead - len(self.spans)

    def reserve(self, expected_tokens: int) -> None:
        """Size the bigram hash table for about ``expected_tokens`` (rebuilding if it grows)."""
        bits = max(_MIN_HEAD_BITS, min(_MAX_HEAD_BITS, (max(expected_tokens, 1) // 4).bit_length()))
        if (1 << bits) > len(self._chain.head):
            self._relink(self._chain.tokens, bits)

    def add_file(self, path: str, text: str) -> int:
        """Learn a file (replacing what was learned from ``path`` before); returns its tokens."""
        if path in self.spans:
            self.remove_file(path)
        # bound the work on one file: past ~8 characters per kept token nothing more is kept
        toks = self.tokenize(text[: 8 * self.max_tokens_per_file])
        if len(toks) > self.max_tokens_per_file:
            toks = toks[: self.max_tokens_per_file]
        if not toks:
            return 0
        ids = self.ids_for(toks)
        chain = self._chain
        if len(chain.tokens) + len(ids) > 4 * len(chain.head) and len(chain.head) < (
            1 << _MAX_HEAD_BITS
        ):
            self.reserve(2 * (len(chain.tokens) + len(ids)))
            chain = self._chain
        start = len(chain.tokens)
        chain.tokens.extend(ids)
        chain.tokens.append(SEP)
        filler = array("i", [-1]) * (len(ids) + 1)
        chain.prev.extend(filler)
        chain.prev1.extend(filler)
        self._link(chain, start, ids)
        unigram = self.unigram
        for wid in ids:
            unigram[wid] += 1
        self.total += len(ids)
        self.spans[path] = (start, len(ids))
        self.version += 1
        return len(ids)

    def remove_file(self, path: str) -> None:
        """Forget a file: subtract its counts and blank its span (the chains skip blanks)."""
        span = self.spans.pop(path, None)
        if span is None:
            return
        start, length = span
        tokens = self._chain.tokens
        unigram = self.unigram
        for wid in tokens[start : start + length]:
            unigram[wid] -= 1
        self.total -= length
        tokens[start : start + length] = array("i", bytes(4 * length))
        self.dead += length + 1
        self.version += 1
        if self.dead > 100_000 and self.dead * 2 > len(tokens):
            self.compact()

    def compact(self) -> None:
        """Rebuild the stream from the live files (drops blanked spans)."""
        old = self._chain.tokens
        tokens = array("i", [SEP])
        spans = {}
        for path, (start, length) in sorted(self.spans.items(), key=lambda item: item[1][0]):
            spans[path] = (len(tokens), length)
            tokens.extend(old[start : start + length])
            tokens.append(SEP)
        self._relink(tokens, len(self._chain.head).bit_length() - 1)
        self.spans = spans
        self.dead = 0
        self.version += 1

    def _relink(self, tokens: array, bits: int) -> None:
        chain = self._empty_chain(bits, len(self.words))
        chain.tokens[:] = tokens
        chain.prev.extend(array("i", [-1]) * (len(tokens) - 1))
        chain.prev1.extend(array("i", [-1]) * (len(tokens) - 1))
        self._link(chain, 1, tokens[1:].tolist())
        self._chain = chain

    @staticmethod
    def _link(chain: _Chain, start: int, ids: list[int]) -> None:
        head, prev, mask = chain.head, chain.prev, chain.mask
        head1, prev1 = chain.head1, chain.prev1
        a = chain.tokens[start - 1]
        p = start
        for b in ids:
            if b != SEP:
                prev1[p] = head1[b]
                head1[b] = p
                if a != SEP:
                    slot = ((a * _HASH_MUL) ^ b) & mask
                    prev[p] = head[slot]
                    head[slot] = p
            a = b
            p += 1

    # ---- queries --------------------------------------------------------------------------

    def matches(self, ctx: list[int], cap: int, max_len: int) -> list[tuple[int, int]]:
        """Newest occurrences of the context's last two tokens, as (matched length, position).

        The matched length counts how many context tokens agree (≥ 2, ≤ ``max_len``); the
        token after ``position`` is what followed there.
        """
        if len(ctx) < 2:
            return []
        a, b = ctx[-2], ctx[-1]
        if a <= SEP or b <= SEP:
            return []
        chain = self._chain
        tokens, prev = chain.tokens, chain.prev
        p = chain.head[_bigram_slot(a, b, chain.mask)]
        limit = min(max_len, len(ctx))
        out: list[tuple[int, int]] = []
        steps = 0
        budget = 4 * cap
        try:
            while p > 0 and steps < budget:
                steps += 1
                if tokens[p] == b and tokens[p - 1] == a:
                    length = 2
                    while length < limit and tokens[p - length] == ctx[-length - 1]:
                        length += 1
                    out.append((length, p))
                    if len(out) >= cap:
                        break
                p = prev[p]
        except IndexError:  # a concurrent compaction swapped the arrays; answer with what we have
            pass
        return out

    def followers(self, wid: int, cap: int) -> dict[int, int]:
        """What followed the newest ``cap`` occurrences of token ``wid`` (counts)."""
        out: dict[int, int] = {}
        if wid <= SEP:
            return out
        chain = self._chain
        tokens, prev1 = chain.tokens, chain.prev1
        try:
            p = chain.head1[wid]
            seen = steps = 0
            while p > 0 and seen < cap and steps < 4 * cap:
                steps += 1
                if tokens[p] == wid:
                    nxt = tokens[p + 1]
                    if nxt != SEP:
                        out[nxt] = out.get(nxt, 0) + 1
                        seen += 1
                p = prev1[p]
        except IndexError:
            pass
        return out

    def stream(self) -> array:
        return self._chain.tokens

    # ---- persistence ----------------------------------------------------------------------

    def to_state(self) -> dict:
        """The model as plain data; the arrays themselves, not copies (pickle writes them one at
        a time, so saving costs one array's worth of memory, not the whole model's)."""
        chain = self._chain
        return {
            "words": self.words,
            "unigram": self.unigram,
            "total": self.total,
            "spans": self.spans,
            "dead": self.dead,
            "tokens": chain.tokens,
            "prev": chain.prev,
            "head": chain.head,
            "prev1": chain.prev1,
            "head1": chain.head1,
            "max_tokens_per_file": self.max_tokens_per_file,
        }

    @classmethod
    def from_state(cls, state: dict) -> TokenModel:
        """The model back from ``to_state`` data (it takes over the arrays); ValueError when the
        data is not a consistent model."""
        model = cls(max_tokens_per_file=int(state["max_tokens_per_file"]))
        model.words = list(state["words"])
        model.vocab = {word: i for i, word in enumerate(model.words)}
        model.unigram = _int_array(state["unigram"])
        model.total = int(state["total"])
        model.spans = {str(k): (int(v[0]), int(v[1])) for k, v in state["spans"].items()}
        model.dead = int(state["dead"])
        tokens, prev, head = (_int_array(state[k]) for k in ("tokens", "prev", "head"))
        prev1, head1 = _int_array(state["prev1"]), _int_array(state["head1"])
        if (
            len(model.unigram) != len(model.words)
            or len(head1) != len(model.words)
            or not len(prev) == len(prev1) == len(tokens)
            or not tokens
            or not head
            or len(head) & (len(head) - 1)
            or any(start + length >= len(tokens) for start, length in model.spans.values())
        ):
            raise ValueError("inconsistent offline model state")
        model._chain = _Chain(tokens, prev, head, len(head) - 1, prev1, head1)
        return model


def _int_array(data: object) -> array:
    if not isinstance(data, array) or data.typecode != "i":
        raise ValueError("offline model state: expected an int array")
    return data
