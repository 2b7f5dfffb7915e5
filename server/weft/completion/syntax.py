"""The keystroke path's two parses, bounded: the multi-line decision's check that a block opener
is code, and the syntax guard. Both run in a parse process (``index/parse_host.py``) on a
window of the document, so a grammar that loops or a pathological text costs the request at
most its budget and never holds the event loop.

A (document, grammar) pair that overran once is quarantined: later requests treat the language
as having no grammar (the text rule decides multi-line; suggestions are not guarded). The
request that met the overrun gets :class:`~weft.index.parse_host.ParseTimeout`, which the
engine answers with no suggestion.
"""

from __future__ import annotations

from weft.completion import extent, postprocess
from weft.completion.postprocess import Candidate, CompletionContext
from weft.completion.syntax_guard import WINDOW_CHARS, parse_window
from weft.index.languages import has_grammar
from weft.index.parse_host import ParseHost, ParseTimeout, ParseUnavailable


class BoundedSyntax:
    """What the completion engine parses, through one :class:`ParseHost`."""

    def __init__(self, host: ParseHost | None = None) -> None:
        self.host = host or ParseHost("syntax guard")

    async def decide_multiline(
        self, uri: str, text: str, offset: int, language: str | None, setting: str
    ) -> bool:
        decided = extent.decide_by_text(text, offset, language, setting)
        if isinstance(decided, bool):
            return decided
        if not language or not has_grammar(language):
            return True
        window, at = extent.opener_window(text, decided)
        try:
            return bool(await self.host.call("opener", (window, at, language), (uri, language)))
        except ParseTimeout:
            raise
        except ParseUnavailable:
            return True  # quarantined: the text rule alone, as without a grammar

    async def guard(
        self, uri: str, ctx: CompletionContext, cand: Candidate, keep: int
    ) -> Candidate | None:
        """``cand`` after the syntax guard (None when nothing worth showing is left)."""
        language = ctx.language
        if not cand.insert_text.strip() or not language or not has_grammar(language):
            return cand
        start, end = cand.start_offset, cand.replace_end_offset
        half = WINDOW_CHARS // 2
        lo, hi = parse_window(ctx.text, start, end, half, half)
        args = (ctx.text[lo:hi], start - lo, end - lo, cand.insert_text, language, keep)
        try:
            guarded = await self.host.call("guard", args, (uri, language))
        except ParseTimeout:
            raise
        except ParseUnavailable:
            return cand  # quarantined: unguarded, as without a grammar
        return postprocess.apply_guard(ctx, cand, guarded, keep)

    async def aclose(self) -> None:
        await self.host.close()
