"""Predict the rest of the line (and a repeated block) from the workspace model plus a cache.

At each step the candidate next tokens come from where the context occurred before: in the
workspace stream (``TokenModel.matches``), in the cache (the text around the cursor and recent
edits), and among the followers of the last token. Each candidate is scored with Witten-Bell
interpolation from the unigram up through every matched order (up to ``max_order`` tokens), the
cache's counts added at each order with a weight (so local usage wins when it has evidence, the
workspace otherwise). Greedy decoding stops at the line break, or early when the next token is
uncertain; the first token must extend what the user has typed of the current one. Once a match
of ``copy_match`` tokens agrees with a confident choice, the rest of that line is copied.

When the match that ends the line covers the whole current line and the line before it (and at
least ``long_match`` typed tokens), the lines that followed there are offered too, while they
stay inside the block the current line opens: a repeated block.

Measured on CPython's standard library (``bench/offline_eval.py``): Witten-Bell, Kneser-Ney
and stupid backoff predict within a point of each other; the cache is worth ~14 points of
rest-of-line exact match; beam search gained under a point for 2-3x the time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from weft.offline.model import SEP, TokenModel
from weft.offline.tokenizer import is_newline_token

logger = logging.getLogger(__name__)

_CLOSERS = set(")]}>\"'`,;: ")


@dataclass(frozen=True)
class PredictOptions:
    """Knobs of the predictor (defaults tuned with bench/offline_eval.py)."""

    prefix_chars: int = 8000
    suffix_chars: int = 3000
    max_order: int = 24
    max_candidates: int = 12
    followers_cap: int = 128
    smoothing: str = "wb"
    """"wb" Witten-Bell interpolation, "sb" stupid backoff."""
    copy_match: int = 8
    """Matched tokens needed before a confident choice starts copying the rest of its line."""
    copy_confidence: float = 0.5
    """Probability above which a token that a long match predicted starts copying its line."""
    global_cap: int = 128
    local_cap: int = 128
    cache_weight: float = 4.0
    first_threshold: float = 0.2
    step_threshold: float = 0.25
    max_steps: int = 24
    max_line_chars: int = 200
    long_match: int = 12
    block_context_lines: int = 1
    """Whole lines before the current one that a match must cover to offer a repeated block."""
    max_lines: int = 8


@dataclass
class _Local:
    """The cache: token sequences near the user (searched on demand; building an index per
    request would cost more than the few searches one prediction makes)."""

    seq: list[int] = field(default_factory=list)
    oov: dict[str, int] = field(default_factory=dict)
    oov_words: list[str] = field(default_factory=lambda: [""])
    _found: dict[int, list[int]] = field(default_factory=dict)

    def ids(self, model: TokenModel, toks: list[str]) -> list[int]:
        get = model.vocab.get
        out = [get(tok) for tok in toks]
        if None in out:
            for i, wid in enumerate(out):
                if wid is None:
                    tok = toks[i]
                    wid = self.oov.get(tok)
                    if wid is None:
                        wid = -len(self.oov_words)
                        self.oov[tok] = wid
                        self.oov_words.append(tok)
                    out[i] = wid
        return out  # type: ignore[return-value]

    def add(self, ids: list[int]) -> None:
        self.seq.extend(ids)
        self.seq.append(SEP)
        self._found.clear()

    def positions(self, wid: int) -> list[int]:
        """Where ``wid`` occurs with a successor (found with ``list.index``, in C)."""
        found = self._found.get(wid)
        if found is None:
            found = []
            seq = self.seq
            index = seq.index
            end = len(seq) - 1
            p = -1
            try:
                while True:
                    p = index(wid, p + 1, end)
                    found.append(p)
            except ValueError:
                pass
            self._found[wid] = found
        return found

    def matches(self, ctx: list[int], cap: int, max_len: int) -> list[tuple[int, int]]:
        if not ctx:
            return []
        positions = self.positions(ctx[-1])
        if not positions:
            return []
        seq = self.seq
        limit = min(max_len, len(ctx))
        out = []
        for p in positions[-cap:]:
            length = 1
            while length < limit and p - length >= 0 and seq[p - length] == ctx[-length - 1]:
                length += 1
            out.append((length, p))
        return out


class Predictor:
    """Completes a prefix with the workspace model and a cache of nearby text."""

    def __init__(self, model: TokenModel, options: PredictOptions | None = None) -> None:
        self.model = model
        self.options = options or PredictOptions()
        self._memo: tuple[tuple, _Local, list[int]] | None = None

    def word(self, local: _Local, wid: int) -> str:
        return local.oov_words[-wid] if wid < 0 else self.model.words[wid]

    def complete(
        self,
        prefix: str,
        suffix: str = "",
        recent: tuple[str, ...] = (),
        multiline: bool = True,
    ) -> str:
        """The predicted text to insert at the cursor ("" when unsure or nothing to say)."""
        opts = self.options
        window = prefix[-opts.prefix_chars :]
        if len(window) < len(prefix):
            cut = window.find("\n")
            window = window[cut:] if cut >= 0 else ""
        body, line = split_current_line(window)
        suffix_window = suffix[: opts.suffix_chars]
        rest_of_line, _, after_line = suffix_window.partition("\n")
        local, body_ids = self._cache_for(body, after_line, recent)
        toks = self.model.tokenize(line)
        if not toks and not body_ids:
            return ""
        if not toks or is_newline_token(toks[-1]):
            partial = ""
        else:
            partial = toks.pop()
        ctx = body_ids[-4 * opts.max_order :] + local.ids(self.model, toks)
        if not ctx and not partial:
            return ""
        text, state = self._decode_line(ctx, partial, local)
        if rest_of_line.strip():
            return fit_before(text, rest_of_line)
        if multiline and state is not None:
            block = self._repeated_block(state, local, prefix, suffix_window)
            if block:
                return text + block
        return text

    def _cache_for(
        self, body: str, after_line: str, recent: tuple[str, ...]
    ) -> tuple[_Local, list[int]]:
        """The cache for this document state, reused while only the current line changes."""
        key = (body, after_line, recent, self.model.version)
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1], self._memo[2]
        local = _Local()
        body_ids = local.ids(self.model, self.model.tokenize(body))
        local.add(body_ids)
        for text in (after_line, *recent):
            if text:
                local.add(local.ids(self.model, self.model.tokenize(text)))
        self._memo = (key, local, body_ids)
        return local, body_ids

    def _decode_line(
        self, ctx: list[int], partial: str, local: _Local
    ) -> tuple[str, tuple[str, int] | None]:
        """Greedy decoding to the end of the line.

        Returns the text and, when the line ended with a line break that a long enough match
        predicted, where that match continues (("global" or "local", position of the line
        break)). Decoding stops before the first token less probable than the thresholds. Once
        a long match agrees with a confident choice, the rest of its line is copied without
        scoring each token (the scores would follow the match anyway; copying is ~10x cheaper).
        """
        opts = self.options
        ids: list[int] = []
        pieces: list[str] = []
        chars = 0
        for step in range(opts.max_steps):
            scores, long_pos = self._next_scores(ctx + ids, partial if step == 0 else None, local)
            if not scores:
                break
            best = max(scores, key=scores.__getitem__)
            prob = scores[best]
            if prob < (opts.first_threshold if step == 0 else opts.step_threshold):
                break
            hit = long_pos if long_pos is not None and long_pos[2] == best else None
            text = self.word(local, best)
            if is_newline_token(text):
                return "".join(pieces), self._block_start(hit, ctx, ids, local)
            text = text[len(partial) :] if step == 0 else text
            pieces.append(text)
            chars += len(text)
            ids.append(best)
            if hit is not None and hit[3] >= opts.copy_match and prob >= opts.copy_confidence:
                return self._copy_line(hit, ctx, ids, pieces, chars, local)
            if chars > opts.max_line_chars:
                return "", None
        return "".join(pieces), None

    def _copy_line(
        self,
        hit: tuple[str, int, int, int],
        ctx: list[int],
        ids: list[int],
        pieces: list[str],
        chars: int,
        local: _Local,
    ) -> tuple[str, tuple[str, int] | None]:
        """Finish the line by copying what followed the long match ``hit``."""
        source = self.model.stream() if hit[0] == "global" else local.seq
        p = hit[1] + 1
        copied = 0
        while p < len(source) and len(ids) < self.options.max_steps:
            wid = source[p]
            if wid == SEP:
                break
            text = self.word(local, wid)
            if is_newline_token(text):
                state = self._block_start((hit[0], p, wid, hit[3] + 1 + copied), ctx, ids, local)
                return "".join(pieces), state
            pieces.append(text)
            chars += len(text)
            if chars > self.options.max_line_chars:
                return "", None
            ids.append(wid)
            copied += 1
            p += 1
        return "".join(pieces), None

    def _block_start(
        self,
        hit: tuple[str, int, int, int] | None,
        ctx: list[int],
        ids: list[int],
        local: _Local,
    ) -> tuple[str, int] | None:
        """Where a repeated block continues, if the match that ended the line vouches for it."""
        if hit is None:
            return None
        needed = len(ids) + self._block_evidence(ctx, local)
        return hit[:2] if hit[3] >= min(needed, self.options.max_order) else None

    def _next_scores(
        self, ctx: list[int], partial: str | None, local: _Local
    ) -> tuple[dict[int, float], tuple[str, int, int, int] | None]:
        """Probabilities of the likely next tokens (given the typed ``partial``, on the first
        step) and the longest long match: (source, position of its next token, that token,
        matched length)."""
        opts = self.options
        model = self.model
        max_len = opts.max_order
        tokens = model.stream()
        seq = local.seq
        # by_len[n][w]: occurrences whose context matched exactly n tokens and were followed by w
        g_by_len: dict[int, dict[int, int]] = {}
        l_by_len: dict[int, dict[int, int]] = {}
        long_pos: tuple[str, int, int, int] | None = None
        longest = min(opts.long_match, opts.copy_match) - 1
        size = len(tokens)
        for length, p in model.matches(ctx, opts.global_cap, max_len):
            nxt = tokens[p + 1] if p + 1 < size else SEP
            if nxt != SEP:
                bucket = g_by_len.get(length)
                if bucket is None:
                    bucket = g_by_len[length] = {}
                bucket[nxt] = bucket.get(nxt, 0) + 1
                if length > longest:
                    longest, long_pos = length, ("global", p + 1, nxt, length)
        if opts.cache_weight > 0:
            for length, p in local.matches(ctx, opts.local_cap, max_len):
                nxt = seq[p + 1]
                if nxt != SEP:
                    bucket = l_by_len.get(length)
                    if bucket is None:
                        bucket = l_by_len[length] = {}
                    bucket[nxt] = bucket.get(nxt, 0) + 1
                    if length > longest:
                        longest, long_pos = length, ("local", p + 1, nxt, length)
        followers = model.followers(ctx[-1], opts.followers_cap) if ctx else {}
        levels = [
            (length, g_by_len.get(length, _EMPTY), l_by_len.get(length, _EMPTY))
            for length in sorted(g_by_len.keys() | l_by_len.keys(), reverse=True)
        ]
        candidates = self._candidates(partial, followers, local, levels)
        if not candidates:
            return {}, None
        scores = self._score(candidates, followers, levels)
        if partial is not None:
            norm = 1.0 / sum(scores.values())
            scores = {w: p * norm for w, p in scores.items()}
        return scores, long_pos

    def _candidates(
        self,
        partial: str | None,
        followers: dict[int, int],
        local: _Local,
        levels: list[tuple[int, dict[int, int], dict[int, int]]],
    ) -> list[int]:
        """A few next tokens worth scoring: the best supported at the longest matches first."""
        limit = self.options.max_candidates
        weight = self.options.cache_weight
        out: list[int] = []
        chosen: set[int] = set()

        def consider(words: list[int]) -> bool:
            for w in words:
                if w in chosen:
                    continue
                if partial is not None and not self.word(local, w).startswith(partial):
                    continue
                chosen.add(w)
                out.append(w)
                if len(out) >= limit:
                    return True
            return False

        for _, g, loc in levels:
            merged: dict[int, float] = dict(g)
            for w, c in loc.items():
                merged[w] = merged.get(w, 0) + weight * c
            if consider(sorted(merged, key=merged.__getitem__, reverse=True)):
                return out
        if consider(sorted(followers, key=followers.__getitem__, reverse=True)):
            return out
        if not out and partial and partial.strip():
            # nothing in context: the most frequent known words that extend an identifier typed
            consider(self.model.words_with_prefix(partial))
            consider([w for t, w in local.oov.items() if t.startswith(partial)])
        return out

    def _score(
        self,
        candidates: list[int],
        followers: dict[int, int],
        levels: list[tuple[int, dict[int, int], dict[int, int]]],
    ) -> dict[int, float]:
        """Interpolated probability of each candidate from the unigram up to the longest match.

        Order 1 is the exact unigram count, order 2 the followers of the newest occurrences of
        the last token, higher orders the sampled occurrences that matched at least n-1 context
        tokens; the cache's counts join the workspace's at each order, weighted. ``smoothing``
        picks Witten-Bell interpolation or stupid backoff.
        """
        opts = self.options
        model = self.model
        weight = opts.cache_weight
        smoothing = opts.smoothing
        unigram = model.unigram
        denominator = model.total + 0.5 * len(unigram) + 1.0
        probs = {w: ((unigram[w] if w > SEP else 0) + 0.5) / denominator for w in candidates}
        # levels from low order to high: (global counts of candidates, global total, distinct)
        orders: list[tuple[list[float], float, int]] = []
        g_cand = [0] * len(candidates)
        l_cand = [0] * len(candidates)
        g_total = l_total = 0
        seen: set[int] = set()
        high: list[tuple[list[float], float, int]] = []
        for length, g, loc in levels:
            g_total += sum(g.values())
            l_total += sum(loc.values())
            seen.update(g)
            seen.update(loc)
            for i, w in enumerate(candidates):
                g_cand[i] += g.get(w, 0)
                l_cand[i] += loc.get(w, 0)
            if length > 1:
                counts = [gc + weight * lc for gc, lc in zip(g_cand, l_cand, strict=True)]
                high.append((counts, g_total + weight * l_total, len(seen)))
        # order 2: the sampled followers plus every cache occurrence of the last token
        bigram_total = float(sum(followers.values()))
        counts = [
            followers.get(w, 0) + weight * lc for w, lc in zip(candidates, l_cand, strict=True)
        ]
        distinct = len(followers) + sum(1 for w in seen if w not in followers)
        orders.append((counts, bigram_total + weight * l_total, distinct))
        orders.extend(reversed(high))
        if smoothing == "sb":
            return self._stupid_backoff(candidates, probs, orders)
        for counts, total, distinct in orders:
            if total > 0:
                norm = 1.0 / (total + distinct)
                for i, w in enumerate(candidates):
                    probs[w] = (counts[i] + distinct * probs[w]) * norm
        return probs

    @staticmethod
    def _stupid_backoff(
        candidates: list[int], probs: dict[int, float], levels: list[tuple[list[float], float, int]]
    ) -> dict[int, float]:
        scores = {}
        for i, w in enumerate(candidates):
            score = probs[w]
            penalty = 1.0
            for counts, total, _ in reversed(levels):
                if total > 0 and counts[i] > 0:
                    score = penalty * counts[i] / total
                    break
                penalty *= 0.4
            else:
                score = penalty * probs[w]
            scores[w] = score
        return scores

    def _block_evidence(self, ctx: list[int], local: _Local) -> int:
        """How many typed tokens a match must cover to vouch for the lines after it: the current
        line and ``block_context_lines`` whole lines before it, and never fewer than
        ``long_match`` (the tokens the match itself suggested on this line prove nothing and are
        not counted here)."""
        needed = len(ctx)  # the start of the file is as good as a line break
        breaks = 0
        for back in range(1, len(ctx) + 1):
            if is_newline_token(self.word(local, ctx[-back])):
                breaks += 1
                if breaks == 1 + self.options.block_context_lines:
                    needed = back
                    break
        # a match of max_order tokens is as long as matches get: strong enough
        return min(self.options.max_order - 1, max(self.options.long_match, needed))

    def _repeated_block(
        self, state: tuple[str, int], local: _Local, prefix: str, suffix: str
    ) -> str:
        """The lines that followed a long match, while they stay inside the block the current
        line opens (deeper indentation, plus a closing-bracket line at its level)."""
        source, pos = state
        seq = self.model.stream() if source == "global" else local.seq
        current_line = prefix.rsplit("\n", 1)[-1]
        base_indent = len(current_line) - len(current_line.lstrip(" \t"))
        lines: list[str] = []
        line: list[str] = []
        last_line = False
        for p in range(pos, min(len(seq), pos + 64 * self.options.max_lines)):
            wid = seq[p]
            text = self.word(local, wid) if wid != SEP else "\n\n"
            if not is_newline_token(text):
                line.append(text)
                continue
            if line:
                lines.append("".join(line))
                line = []
            indent = len(text.lstrip("\n"))
            if last_line or len(lines) >= self.options.max_lines or text.startswith("\n\n"):
                break
            if indent <= base_indent:
                following = seq[p + 1] if p + 1 < len(seq) else SEP
                closes = following != SEP and self.word(local, following)[:1] in ")]}"
                if indent < base_indent or not closes:
                    break
                last_line = True
            line.append("\n" + text.lstrip("\n"))
        block = "".join(lines)
        if not block.strip():
            return ""
        # never offer lines that already follow the cursor
        if suffix.lstrip("\n").startswith(block.lstrip("\n")):
            return ""
        return block


_EMPTY: dict[int, int] = {}


def split_current_line(text: str) -> tuple[str, str]:
    """(text before the current line, the line with the line break and blank lines before it).

    Tokenizing the two apart gives the same tokens as tokenizing the whole, because the cut
    falls where a line-break token starts.
    """
    nl = max(text.rfind("\n"), text.rfind("\r"))
    if nl < 0:
        return "", text
    body = text[:nl].rstrip(" \t\f\v\r\n")
    return body, text[len(body) :]


def fit_before(text: str, rest_of_line: str) -> str:
    """A prediction made to go in front of text already on the line: without what that text
    already has (``)``, ``":``, or all of it), and nothing in the middle of other text."""
    rest = rest_of_line.strip()
    if text.rstrip().endswith(rest):
        return text.rstrip()[: -len(rest)]
    if set(rest) <= _CLOSERS:
        return _trim_closers(text, rest_of_line)
    return ""


def _trim_closers(line: str, rest_of_line: str) -> str:
    """Drop the end of a prediction that the text after the cursor already has (``)``, ``":``)."""
    for k in range(min(len(line), len(rest_of_line)), 0, -1):
        overlap = rest_of_line[:k]
        if line.endswith(overlap) and set(overlap) <= _CLOSERS:
            return line[:-k]
    return line
