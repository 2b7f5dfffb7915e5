"""Model servers for tests: each completion wire format on a :class:`LoopbackServer`.

A responder registers its vendor's routes and answers with a completion text split into
several chunks, in the real wire format (SSE or NDJSON, or one JSON body when the request asks
for no streaming or ``force_json`` is set). Everything is mutable between requests::

    with LoopbackServer() as srv:
        ollama = serve_ollama(srv, text="return a + b", chunks=3)
        ...                          # the backend at srv.url gets "return a + b" in 3 pieces
        ollama.fault = "rate_limit"  # the next request gets 429 with Retry-After
        ollama.fault = None          # ...and the one after works again

``text`` may be a callable taking the :class:`Recorded` request (e.g. a benchmark returning
the true continuation of the file). Faults (``fault=``): ``"http500"``, ``"rate_limit"``
(429 with ``retry_after``), ``"hang"`` (nothing for ``hang_s``), ``"close"`` (connection
dropped without an answer), ``"html"`` (200 with an HTML page), ``"bad_json"`` (a malformed
event in the stream), ``"cut"`` (the connection drops half-way through the stream), ``"stream_error"``
(the vendor's in-stream error event), ``"unknown_model"`` (the vendor's real answer for a
model it does not have). A slow trickle is ``delay_s`` (between chunks) and ``first_delay_s``.
``byte_split=n`` re-cuts the whole body into ``n``-byte chunks (splitting UTF-8 sequences and
``\\r\\n``). For a refused connection use :func:`closed_url`.

:data:`SERVERS` maps each wire format name to its ``serve_*`` function, and
:func:`backend_json` / :func:`backend_settings` give the weft ``backend`` settings pointing at a
responder, so tests can be parametrised over every format.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

from tests.loopback import Exchange, LoopbackServer, Recorded

TextSource = str | Callable[[Recorded], str]

FAULTS = (
    "http500",
    "rate_limit",
    "hang",
    "close",
    "html",
    "bad_json",
    "cut",
    "stream_error",
    "unknown_model",
)


def closed_url() -> str:
    """``http://127.0.0.1:PORT`` where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def split_text(text: str, chunks: int) -> list[str]:
    """``text`` in ``chunks`` nearly equal pieces (fewer when the text is shorter)."""
    chunks = max(1, min(chunks, len(text) or 1))
    size, extra = divmod(len(text), chunks)
    pieces, start = [], 0
    for index in range(chunks):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def sse(data: Any, event: str | None = None) -> str:
    """One SSE event (``data`` JSON-encoded unless it is a string)."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


class Responder:
    """The vendor-independent part: faults, chunking, streaming or not."""

    content_type = "text/event-stream"
    stream_by_default = False
    """What the vendor does when the request has no ``stream`` field."""

    def __init__(
        self,
        text: TextSource = "",
        *,
        chunks: int = 3,
        delay_s: float = 0.0,
        first_delay_s: float = 0.0,
        fault: str | None = None,
        retry_after: str = "2",
        hang_s: float = 30.0,
        force_json: bool = False,
        byte_split: int | None = None,
        model: str = "test-model",
        prefix: str = "",
    ) -> None:
        self.text = text
        self.chunks = chunks
        self.delay_s = delay_s
        self.first_delay_s = first_delay_s
        self.fault = fault
        self.retry_after = retry_after
        self.hang_s = hang_s
        self.force_json = force_json
        self.byte_split = byte_split
        self.model = model
        self.models = [model]
        self.prefix = prefix
        self.srv: LoopbackServer | None = None

    # -- vendor hooks --------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Callable[[Recorded, Exchange], None]]]:
        raise NotImplementedError

    def events(self, pieces: list[str]) -> list[str]:
        """One streamed event (or line) per piece, and nothing terminal."""
        raise NotImplementedError

    def terminal(self) -> list[str]:
        raise NotImplementedError

    def whole(self, text: str) -> Any:
        raise NotImplementedError

    def bad_json_event(self) -> str:
        return 'data: {"choices": [{"text": "oops"\n\n'

    def stream_error_event(self) -> str:
        return sse({"error": {"message": "the model crashed", "type": "server_error"}})

    def unknown_model_answer(self) -> tuple[int, str]:
        raise NotImplementedError

    # -- machinery -----------------------------------------------------------------------

    def install(self, srv: LoopbackServer) -> Responder:
        self.srv = srv
        for method, path, handler in self.routes():
            srv.route(method, self.prefix + path, handler)
        return self

    def requests(self) -> list[Recorded]:
        """Requests to this responder's completion routes."""
        assert self.srv is not None
        paths = {self.prefix + path for method, path, _ in self.routes() if method == "POST"}
        return [r for r in self.srv.requests if r.path in paths]

    def answer_text(self, record: Recorded) -> str:
        return self.text(record) if callable(self.text) else self.text

    def handle(self, record: Recorded, ex: Exchange) -> None:
        fault = self.fault
        if fault == "http500":
            ex.error(500, json.dumps({"error": "internal server error"}))
        elif fault == "rate_limit":
            ex.error(
                429,
                json.dumps(
                    {"error": {"message": "rate limit exceeded", "type": "rate_limit_error"}}
                ),
                headers={"Retry-After": self.retry_after},
            )
        elif fault == "hang":
            ex.hang(self.hang_s)
        elif fault == "close":
            ex.close()
        elif fault == "html":
            ex.raw_body(b"<html><body><h1>502 Bad Gateway</h1></body></html>", 200, "text/html")
        elif fault == "unknown_model":
            status, body = self.unknown_model_answer()
            ex.error(status, body)
        else:
            self.answer(record, ex, fault)

    def answer(self, record: Recorded, ex: Exchange, fault: str | None) -> None:
        text = self.answer_text(record)
        body = record.body if isinstance(record.body, dict) else {}
        streaming = body.get("stream", self.stream_by_default)
        if self.force_json or not streaming:
            if fault == "bad_json":
                ex.raw_body(b'{"choices": [{"text": "oops"', 200, "application/json")
            else:
                ex.json(self.whole(text))
            return
        events = self.events(split_text(text, self.chunks))
        if fault == "bad_json":
            events = events[:1] + [self.bad_json_event()] + events[1:] + self.terminal()
        elif fault == "stream_error":
            events = events[:1] + [self.stream_error_event()]
        elif fault == "cut":
            events = events[: max(1, len(events) // 2)]  # mid-way, before the terminal event
        else:
            events = events + self.terminal()
        chunks: list[str | bytes] = list(events)
        if self.byte_split:
            data = "".join(events).encode()
            chunks = [data[i : i + self.byte_split] for i in range(0, len(data), self.byte_split)]
        ex.stream(
            chunks,
            content_type=self.content_type,
            delay_s=self.delay_s,
            first_delay_s=self.first_delay_s,
            cut=fault == "cut",
        )

    def model_list(self, record: Recorded, ex: Exchange) -> None:
        ex.json({"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})


# -- Ollama ------------------------------------------------------------------------------


class OllamaResponder(Responder):
    """``POST /api/generate`` (NDJSON) and ``GET /api/tags``."""

    content_type = "application/x-ndjson"
    stream_by_default = True

    def routes(self) -> list[tuple[str, str, Callable[[Recorded, Exchange], None]]]:
        return [("POST", "/api/generate", self.handle), ("GET", "/api/tags", self.tags)]

    def _line(self, **fields: Any) -> str:
        return (
            json.dumps({"model": self.model, "created_at": "2026-01-01T00:00:00Z", **fields}) + "\n"
        )

    def events(self, pieces: list[str]) -> list[str]:
        return [self._line(response=piece, done=False) for piece in pieces]

    def terminal(self) -> list[str]:
        return [self._line(response="", done=True, done_reason="stop", eval_count=3)]

    def whole(self, text: str) -> Any:
        return {"model": self.model, "response": text, "done": True, "done_reason": "stop"}

    def bad_json_event(self) -> str:
        return '{"model": "m", "response": "oops"\n'

    def stream_error_event(self) -> str:
        return json.dumps({"error": "an error was encountered while running the model"}) + "\n"

    def unknown_model_answer(self) -> tuple[int, str]:
        return 404, json.dumps({"error": f'model "{self.model}" not found, try pulling it first'})

    def tags(self, record: Recorded, ex: Exchange) -> None:
        ex.json({"models": [{"name": m, "model": m, "size": 1} for m in self.models]})


# -- OpenAI-compatible -------------------------------------------------------------------


class OpenAICompletionsResponder(Responder):
    """``POST {prefix}/completions`` and ``GET {prefix}/models`` (prefix ``/v1`` by default)."""

    def __init__(self, text: TextSource = "", **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "/v1")
        super().__init__(text, **kwargs)

    def routes(self) -> list[tuple[str, str, Callable[[Recorded, Exchange], None]]]:
        return [("POST", "/completions", self.handle), ("GET", "/models", self.model_list)]

    def _chunk(self, text: str, finish: str | None) -> str:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        return sse(
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 0,
                "model": self.model,
                "choices": [choice],
            }
        )

    def events(self, pieces: list[str]) -> list[str]:
        return [self._chunk(piece, None) for piece in pieces]

    def terminal(self) -> list[str]:
        return [self._chunk("", "stop"), "data: [DONE]\n\n"]

    def whole(self, text: str) -> Any:
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "model": self.model,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
        }

    def unknown_model_answer(self) -> tuple[int, str]:
        message = f"The model `{self.model}` does not exist or you do not have access to it."
        return 404, json.dumps(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            }
        )


class OpenAIChatResponder(OpenAICompletionsResponder):
    """``POST {prefix}/chat/completions`` (chat chunks with ``delta.content``)."""

    path = "/chat/completions"

    def routes(self) -> list[tuple[str, str, Callable[[Recorded, Exchange], None]]]:
        return [("POST", self.path, self.handle), ("GET", "/models", self.model_list)]

    def _delta(self, delta: dict[str, Any], finish: str | None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return sse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": self.model,
                "choices": [choice],
            }
        )

    def events(self, pieces: list[str]) -> list[str]:
        first = self._delta({"role": "assistant", "content": ""}, None)
        return [first] + [self._delta({"content": piece}, None) for piece in pieces]

    def terminal(self) -> list[str]:
        return [self._delta({}, "stop"), "data: [DONE]\n\n"]

    def whole(self, text: str) -> Any:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }


class MistralResponder(OpenAIChatResponder):
    """``POST {prefix}/fim/completions``: Mistral answers FIM in chat-chunk shape."""

    path = "/fim/completions"

    def unknown_model_answer(self) -> tuple[int, str]:
        return 400, json.dumps(
            {
                "object": "error",
                "message": f"Invalid model: {self.model}",
                "type": "invalid_model",
                "param": None,
                "code": "1500",
            }
        )


# -- llama.cpp ---------------------------------------------------------------------------


class LlamaCppResponder(Responder):
    """``POST /infill`` and ``POST /completion`` (SSE), ``GET /v1/models`` and ``/props``."""

    def __init__(self, text: TextSource = "", **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self.has_models_route = True

    def routes(self) -> list[tuple[str, str, Callable[[Recorded, Exchange], None]]]:
        routes = [
            ("POST", "/infill", self.handle),
            ("POST", "/completion", self.handle),
            ("GET", "/props", self.props),
        ]
        if self.has_models_route:
            routes.append(("GET", "/v1/models", self.model_list))
        return routes

    def events(self, pieces: list[str]) -> list[str]:
        return [sse({"index": 0, "content": piece, "stop": False}) for piece in pieces]

    def terminal(self) -> list[str]:
        return [
            sse({"index": 0, "content": "", "stop": True, "stop_type": "eos", "model": self.model})
        ]

    def whole(self, text: str) -> Any:
        return {"index": 0, "content": text, "stop": True, "stop_type": "eos", "model": self.model}

    def stream_error_event(self) -> str:
        return sse({"error": {"code": 500, "message": "failed to decode", "type": "server_error"}})

    def unknown_model_answer(self) -> tuple[int, str]:
        return 404, json.dumps(
            {
                "error": {
                    "code": 404,
                    "message": f"model {self.model} not found",
                    "type": "not_found_error",
                }
            }
        )

    def props(self, record: Recorded, ex: Exchange) -> None:
        ex.json({"model_path": f"/models/{self.model}.gguf", "default_generation_settings": {}})


# -- Anthropic ---------------------------------------------------------------------------


class AnthropicResponder(Responder):
    """``POST /v1/messages`` (named SSE events) and ``GET /v1/models``."""

    def routes(self) -> list[tuple[str, str, Callable[[Recorded, Exchange], None]]]:
        return [("POST", "/v1/messages", self.handle), ("GET", "/v1/models", self.model_list)]

    def events(self, pieces: list[str]) -> list[str]:
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": self.model,
                "stop_reason": None,
                "usage": {"input_tokens": 9},
            },
        }
        events = [
            sse(start, "message_start"),
            sse(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
                "content_block_start",
            ),
            sse({"type": "ping"}, "ping"),
        ]
        for piece in pieces:
            delta = {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
            events.append(sse(delta, "content_block_delta"))
        return events

    def terminal(self) -> list[str]:
        return [
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
                "message_delta",
            ),
            sse({"type": "message_stop"}, "message_stop"),
        ]

    def whole(self, text: str) -> Any:
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
        }

    def bad_json_event(self) -> str:
        return 'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": {\n\n'

    def stream_error_event(self) -> str:
        return sse(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "error",
        )

    def unknown_model_answer(self) -> tuple[int, str]:
        return 404, json.dumps(
            {
                "type": "error",
                "error": {"type": "not_found_error", "message": f"model: {self.model}"},
            }
        )


# -- one-liners --------------------------------------------------------------------------


def serve_ollama(srv: LoopbackServer, text: TextSource = "", **kwargs: Any) -> OllamaResponder:
    """Ollama at ``srv.url``."""
    return OllamaResponder(text, **kwargs).install(srv)  # type: ignore[return-value]


def serve_openai(
    srv: LoopbackServer, text: TextSource = "", **kwargs: Any
) -> OpenAICompletionsResponder:
    """OpenAI ``/completions`` at ``srv.url + "/v1"``."""
    return OpenAICompletionsResponder(text, **kwargs).install(srv)  # type: ignore[return-value]


def serve_openai_chat(
    srv: LoopbackServer, text: TextSource = "", **kwargs: Any
) -> OpenAIChatResponder:
    """OpenAI ``/chat/completions`` at ``srv.url + "/v1"``."""
    return OpenAIChatResponder(text, **kwargs).install(srv)  # type: ignore[return-value]


def serve_mistral(srv: LoopbackServer, text: TextSource = "", **kwargs: Any) -> MistralResponder:
    """Mistral ``/fim/completions`` at ``srv.url + "/v1"``."""
    return MistralResponder(text, **kwargs).install(srv)  # type: ignore[return-value]


def serve_llamacpp(srv: LoopbackServer, text: TextSource = "", **kwargs: Any) -> LlamaCppResponder:
    """llama-server at ``srv.url``."""
    return LlamaCppResponder(text, **kwargs).install(srv)  # type: ignore[return-value]


def serve_anthropic(
    srv: LoopbackServer, text: TextSource = "", **kwargs: Any
) -> AnthropicResponder:
    """Anthropic at ``srv.url``."""
    return AnthropicResponder(text, **kwargs).install(srv)  # type: ignore[return-value]


SERVERS: dict[str, Callable[..., Responder]] = {
    "ollama": serve_ollama,
    "openai": serve_openai,
    "openai-chat": serve_openai_chat,
    "mistral": serve_mistral,
    "llamacpp": serve_llamacpp,
    "anthropic": serve_anthropic,
}
"""Wire format name → ``serve_*`` function, for tests parametrised over every backend."""


def backend_url(srv: LoopbackServer, responder: Responder) -> str:
    """The ``backend.url`` a weft backend should use for ``responder`` on ``srv``."""
    return srv.url + responder.prefix


BACKEND_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "ollama": ("ollama", {}),
    "openai": ("openai", {"api": "completions"}),
    "openai-chat": ("openai", {"api": "chat"}),
    "mistral": ("mistral", {}),
    "llamacpp": ("llamacpp", {}),
    "anthropic": ("anthropic", {}),
}
"""Wire format name → (``backend.kind``, other backend settings) of the weft backend for it."""


def backend_json(
    name: str, srv: LoopbackServer, responder: Responder, **overrides: Any
) -> dict[str, Any]:
    """The camelCase ``backend`` settings section pointing weft at ``responder``
    (for ``initializationOptions`` / ``workspace/configuration`` in e2e tests)."""
    kind, extra = BACKEND_KINDS[name]
    section = {"kind": kind, "url": backend_url(srv, responder), "model": responder.model}
    section.update(extra)
    section.update(overrides)
    return section


def backend_settings(name: str, srv: LoopbackServer, responder: Responder, **overrides: Any) -> Any:
    """The same as a validated ``weft.settings.BackendSettings``."""
    from weft.settings import BackendSettings

    return BackendSettings.model_validate(backend_json(name, srv, responder, **overrides))
