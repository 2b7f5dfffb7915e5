"""``textDocument/completion``: the fallback for clients without inline completion.

Neovim before 0.12, Vim, Emacs and Helix get a few AI items in the ordinary completion menu:
label = the suggestion's first line, a ``textEdit`` that inserts the whole suggestion from the
start of the word being typed (so the client's own filtering keeps the item), and
``isIncomplete`` so the client asks again as the user types. The answer never holds up the
client's other completion sources for long: after ``FALLBACK_WAIT_S`` the request is answered
with what is ready and the model call goes on, its result kept for the next request.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability

from weft.features.inline_completion import ACCEPT_COMMAND, Answer, suggest

logger = logging.getLogger(__name__)

FALLBACK_WAIT_S = 0.6
_WORD_TAIL = re.compile(r"[A-Za-z0-9_$]*\Z")


def to_completion_items(answer: Answer, markdown: bool = False) -> list[types.CompletionItem]:
    doc, offset = answer.doc, answer.offset
    line_start = doc.line_starts[doc.position_at(offset).line]
    word = _WORD_TAIL.search(doc.text[line_start:offset])
    word_text = word.group(0) if word else ""
    items = []
    for rank, s in enumerate(answer.suggestions):
        start = min(s.start, offset - len(word_text))
        new_text = doc.text[start : s.start] + s.text
        first = new_text.split("\n", 1)[0].rstrip("\r") or new_text.strip()
        items.append(
            types.CompletionItem(
                label=first[:80] or s.text[:80],
                kind=types.CompletionItemKind.Text,
                detail="weft",
                documentation=(
                    types.MarkupContent(types.MarkupKind.Markdown, f"```\n{new_text}\n```")
                    if markdown
                    else new_text  # a plain string needs no declared format
                ),
                filter_text=new_text,
                sort_text=f"0{rank}",
                preselect=rank == 0,
                text_edit=types.TextEdit(
                    types.Range(doc.position_at(start), doc.position_at(s.end)), new_text
                ),
                insert_text_format=types.InsertTextFormat.PlainText,
                command=types.Command(
                    title="weft: accepted",
                    command=ACCEPT_COMMAND,
                    arguments=[{"uri": doc.uri, "source": s.source, "length": len(s.text)}],
                ),
            )
        )
    return items


def enable(server: Any) -> None:
    """Register the fallback (called from ``initialize`` for clients without inline completion)."""

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " ", "\n"], resolve_provider=False),
    )
    async def completion(ls: Any, params: types.CompletionParams) -> types.CompletionList:
        invoked = bool(
            params.context and params.context.trigger_kind == types.CompletionTriggerKind.Invoked
        )
        task = asyncio.ensure_future(
            suggest(ls, params.text_document.uri, params.position, invoked)
        )
        try:
            answer = await asyncio.wait_for(asyncio.shield(task), FALLBACK_WAIT_S)
        except TimeoutError:
            # Let the call finish in the background; the next request finds it in the cache.
            ls.run_task(task, "completion fallback call")
            return types.CompletionList(is_incomplete=True, items=[])
        except asyncio.CancelledError:
            task.cancel()
            raise
        formats = get_capability(
            ls.client_capabilities,
            "text_document.completion.completion_item.documentation_format",
            [],
        )
        markdown = types.MarkupKind.Markdown in (formats or [])
        return types.CompletionList(
            is_incomplete=True, items=to_completion_items(answer, markdown) if answer else []
        )


def register(server: Any) -> None:
    """Nothing at start-up: ``enable`` runs at ``initialize`` when the client needs the fallback."""
