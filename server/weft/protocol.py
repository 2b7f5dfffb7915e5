"""JSON-RPC and LSP rules that pygls leaves open: every request gets exactly one answer.

The transport (``weft.transport``) hands each frame's bytes to :meth:`WeftProtocol.receive`,
which takes a message through these steps before pygls sees it:

1. decode: bytes that are not UTF-8, or not JSON, are a parse error (−32700);
2. envelope: ``jsonrpc`` must be ``"2.0"``, an id an integer or a string, a method a string
   (−32600 Invalid Request);
3. lifecycle: requests before ``initialize`` get −32002, requests after ``shutdown`` and a
   second ``initialize`` get −32600; ``exit`` ends the server with status 0 after ``shutdown``
   and 1 without it (LSP §exit);
4. method: a request for a method nobody handles, or for a method LSP defines as a
   notification, gets −32601;
5. params: a message over its size cap, or whose params do not have the shape of the method's
   params (``weft.shapes``), or that cattrs cannot structure, gets −32602.

A notification that fails a step is dropped with one log line. Those are client mistakes,
logged at info without a traceback; only an exception inside weft's own handler is logged as
an error (and answered −32603).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcRequestCancelled,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCResponseMessage
from pygls.protocol.language_server import lsp_method

from weft.shapes import ShapeError, check_params, is_notification_method

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
LARGE_PARAMS_BYTES = 64 << 20
"""Cap for methods that carry document text or file lists (the frame cap too)."""
SMALL_PARAMS_BYTES = 1 << 20
"""Cap for every other method: no legitimate hover, code action or command comes near it."""
HEAD_SNIFF = 4 << 10
"""How much of an unreadable message is searched for its request id."""
SHUTDOWN_GRACE_S = 3.0
"""How long ``exit`` waits for a ``shutdown`` still running (pygls#433)."""

LARGE_METHODS = frozenset(
    {
        types.TEXT_DOCUMENT_DID_OPEN,
        types.TEXT_DOCUMENT_DID_CHANGE,
        types.TEXT_DOCUMENT_DID_SAVE,
        types.NOTEBOOK_DOCUMENT_DID_OPEN,
        types.NOTEBOOK_DOCUMENT_DID_CHANGE,
        types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        types.WORKSPACE_DID_CREATE_FILES,
        types.WORKSPACE_DID_RENAME_FILES,
        types.WORKSPACE_DID_DELETE_FILES,
    }
)

CLIENT_ERRORS = (
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcRequestCancelled,
    JsonRpcServerNotInitialized,
)
"""Errors that describe what the client sent, not a fault of weft's."""


class Rejected(Exception):
    """A message refused before pygls sees it: ``code`` and ``message`` of the answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.partial: Any = None
        """The decoded message when only its UTF-8 was wrong (so it can still be answered)."""


def decode(body: bytes) -> tuple[Any, bytes]:
    """The JSON value of a frame's body, and the bytes after it when the frame held more than
    one value (its Content-Length covered the next message too: those bytes are read again).
    Raises :class:`Rejected` (−32700) with the reason; its ``partial`` attribute holds the
    value when only the UTF-8 was wrong, so the request can still be answered."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = Rejected(PARSE_ERROR, f"message is not valid UTF-8 (byte {exc.start})")
        with contextlib.suppress(ValueError, RecursionError):
            error.partial = _first_value(body.decode("utf-8", "surrogateescape"))[0]
        raise error from None
    try:
        return _first_value(text)
    except RecursionError:
        raise Rejected(PARSE_ERROR, "message nested too deeply") from None
    except ValueError as exc:
        raise Rejected(PARSE_ERROR, f"message is not JSON ({exc})") from None


def _first_value(text: str) -> tuple[Any, bytes]:
    try:
        return json.loads(text), b""
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise
        rest = text[exc.pos :]
        return json.loads(text[: exc.pos]), rest.encode("utf-8", "surrogateescape")


def sniff_request_id(head: bytes) -> Any:
    """The id of a request whose text may be cut short: read from the top-level members of
    ``head`` in order, and only when a ``method`` member shows it is a request (never a
    response's id: answering that would resolve one of the client's own requests). None when
    it cannot be told."""
    text = head.decode("utf-8", "replace")
    scanner = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if not text.startswith("{", pos):
        return None
    found: dict[str, Any] = {}
    pos += 1
    while "id" not in found or "method" not in found:
        try:
            key, pos = scanner.raw_decode(text, _skip_ws(text, pos))
            pos = _skip_ws(text, pos)
            if not isinstance(key, str) or not (pos == len(text) or text.startswith(":", pos)):
                break
            found.setdefault(key, None)  # a method member, even cut short, makes a request
            value, pos = scanner.raw_decode(text, _skip_ws(text, pos + 1))
        except ValueError:
            break
        found[key] = value
        pos = _skip_ws(text, pos)
        if not text.startswith(",", pos):
            break
        pos += 1
    msg_id = found.get("id")
    return msg_id if "method" in found and valid_id(msg_id) else None


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def valid_id(value: Any) -> bool:
    """LSP ids are integers or strings (JSON-RPC also allows other numbers; they are echoed)."""
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def params_cap(method: str) -> int:
    return LARGE_PARAMS_BYTES if method in LARGE_METHODS else SMALL_PARAMS_BYTES


class WeftProtocol(LanguageServerProtocol):
    """pygls's LSP protocol behind the checks of the module docstring."""

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.state = "uninitialized"
        """uninitialized → initialized → shutdown (``exit`` ends the process)."""
        self.exit_code: int | None = None
        self.on_exit: Callable[[int], None] = lambda code: None
        """Set by the transport: stop reading and end with ``code``."""
        self._shutdown_future: Any = None
        self._initialized_seen = False

    # -- the entry point --------------------------------------------------------------------

    def receive(self, body: bytes) -> bytes:
        """Handle one frame's body; never raises. Returns the bytes the frame held beyond its
        message, for the transport to read again."""
        try:
            return self._receive(body)
        except Exception as exc:  # noqa: BLE001 - weft's bug: log it, keep serving
            logger.exception("internal error handling a message: %s", exc)
            return b""

    def framing_error(self, reason: str, head: bytes, code: int) -> None:
        """The transport could not frame a message: answer it when its id can be read."""
        msg_id = sniff_request_id(head) if head else None
        if msg_id is not None:
            self._refuse(msg_id, Rejected(code, reason), "", True)

    def _receive(self, body: bytes) -> bytes:
        try:
            data, leftover = decode(body)
        except Rejected as exc:
            partial = getattr(exc, "partial", None)
            if isinstance(partial, dict) and isinstance(partial.get("method"), str):
                msg_id = partial.get("id")
            else:
                msg_id = sniff_request_id(body[:HEAD_SNIFF])
            self._refuse(msg_id if valid_id(msg_id) else None, exc, "", True)
            return b""
        if leftover.strip():
            logger.info("framing error: the message's Content-Length covered more than it")
        else:
            leftover = b""
        if not isinstance(data, dict):
            kind = "a batch" if isinstance(data, list) else "not an object"
            self._refuse(
                None, Rejected(-32600, f"message is {kind} (LSP has no batches)"), "", True
            )
            return leftover
        if "method" in data:
            self._receive_call(data, len(body))
        elif "id" in data:
            self._receive_response(data)
        else:
            logger.info("message dropped: neither a request, a notification nor a response")
        return leftover

    def _receive_call(self, data: dict[str, Any], size: int) -> None:
        is_request = "id" in data
        msg_id = data.get("id")
        method = data.get("method")
        label = method if isinstance(method, str) else "?"
        try:
            self._check_envelope(data, is_request)
            assert isinstance(method, str)
            if method == types.EXIT and not is_request:
                self._exit()
                return
            self._check_lifecycle(method, is_request)
            self._check_method(method, is_request)
            message = self._structure(data, method, size)
        except Rejected as exc:
            self._refuse(msg_id if valid_id(msg_id) else None, exc, label, is_request)
            return
        if method == types.INITIALIZE:
            self.state = "initialized"
        elif method == types.SHUTDOWN:
            self.state = "shutdown"
        super().handle_message(message)
        if method == types.SHUTDOWN:
            self._shutdown_future = self._request_futures.get(msg_id)  # type: ignore[arg-type]

    # -- the checks -------------------------------------------------------------------------

    def _check_envelope(self, data: dict[str, Any], is_request: bool) -> None:
        if data.get("jsonrpc") != "2.0":
            raise Rejected(-32600, 'jsonrpc must be "2.0"')
        if not isinstance(data.get("method"), str):
            raise Rejected(-32600, "method must be a string")
        if is_request and not valid_id(data["id"]):
            raise Rejected(-32600, "id must be an integer or a string")

    def _check_lifecycle(self, method: str, is_request: bool) -> None:
        if self.state == "uninitialized" and method != types.INITIALIZE:
            raise Rejected(-32002, "the server is not initialized: send initialize first")
        if self.state == "shutdown":
            raise Rejected(-32600, "the server is shutting down: only exit is accepted")
        if self.state == "initialized" and method == types.INITIALIZE:
            raise Rejected(-32600, "initialize may only be sent once")
        if method == types.INITIALIZE and not is_request:
            raise Rejected(-32600, "initialize is a request")
        if method == types.INITIALIZED:
            if self._initialized_seen:
                raise Rejected(-32600, "initialized was already sent")
            self._initialized_seen = True

    def _check_method(self, method: str, is_request: bool) -> None:
        kind = is_notification_method(method)
        if is_request and kind is True:
            raise Rejected(-32601, f"{method} is a notification, not a request")
        if not is_request and kind is False:
            raise Rejected(-32600, f"{method} is a request: it needs an id")
        if method.startswith("$/") and not is_request and kind is None:
            raise Rejected(-32601, f"{method} is not handled")  # optional by the spec: ignore
        if method not in self.fm.builtin_features and method not in self.fm.features:
            if method == types.CANCEL_REQUEST:
                return
            raise Rejected(-32601, f"{method} is not handled")

    def _structure(self, data: dict[str, Any], method: str, size: int) -> Any:
        cap = params_cap(method)
        if size > cap:
            raise Rejected(-32602, f"message of {size} bytes is over the {cap >> 20} MiB cap")
        try:
            data["params"] = check_params(method, data.get("params"), size)
        except ShapeError as exc:
            raise Rejected(-32602, f"invalid params: {exc}") from None
        message_type = self.get_message_type(method)
        if message_type is None:
            return _plain(data)
        try:
            return self._converter.structure(data, message_type)
        except Exception:  # noqa: BLE001 - cattrs raises assorted errors; never format them
            raise Rejected(-32602, "invalid params: they do not match the method's types") from None

    # -- answers ----------------------------------------------------------------------------

    def _refuse(self, msg_id: Any, exc: Rejected, method: str, is_request: bool) -> None:
        """Answer a refused request (a message whose id could not be read gets id null, as
        JSON-RPC asks); drop a refused notification. One log line either way."""
        if not is_request:
            level = logging.DEBUG if method.startswith("$/") else logging.INFO
            logger.log(level, "notification %s dropped: %s", method, exc)
            return
        logger.info("request %r (%s) refused (%d): %s", msg_id, method or "?", exc.code, exc)
        self._send_response(msg_id, error=types.ResponseError(code=exc.code, message=str(exc)))

    def _receive_response(self, data: dict[str, Any]) -> None:
        """A client's answer to a request of weft's; a malformed one fails the waiting future
        instead of leaving it waiting for ever."""
        msg_id = data["id"]
        if not valid_id(msg_id):
            logger.info("response dropped: id must be an integer or a string")
            return
        response_type = self._result_types.pop(msg_id, None) or JsonRPCResponseMessage
        future = self._request_futures.get(msg_id)
        if future is None:
            logger.debug("response to an unknown request %r dropped", msg_id)
            return
        if data.get("error") is not None:
            error = _response_error(data["error"])
            self._handle_response(msg_id, None, error)
            return
        try:
            if "result" not in data:
                raise ValueError("a response needs a result or an error")
            result = self._converter.structure(data, response_type).result
        except Exception:  # noqa: BLE001 - cattrs raises assorted errors
            logger.info("malformed response to request %r", msg_id)
            self._request_futures.pop(msg_id, None)
            if not future.done():
                future.set_exception(JsonRpcInvalidParams("malformed response from the client"))
            return
        self._handle_response(msg_id, result)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        """pygls's, with client mistakes logged at info and no traceback."""
        self._request_futures.pop(msg_id, None)
        if future.cancelled():
            error = JsonRpcRequestCancelled(f'Request with id "{msg_id}" is canceled')
            self._send_response(msg_id, error=error.to_response_error())
            return
        exc = future.exception()
        if exc is None:
            self._send_response(msg_id, result=future.result())
            return
        if isinstance(exc, CLIENT_ERRORS):
            logger.info("request %r refused: %s", msg_id, exc)
            self._send_response(msg_id, error=exc.to_response_error())
            return
        if not isinstance(exc, JsonRpcException):
            logger.error("request %r failed", msg_id, exc_info=exc)
            exc = JsonRpcInternalError(f"internal error: {exc!r}")
        self._send_response(msg_id, error=exc.to_response_error())
        self._server._report_server_error(exc, JsonRpcInternalError)

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if error is not None:
            response: Any = types.ResponseErrorMessage(id=msg_id, error=error)
        else:
            response_type = self._result_types.pop(msg_id, JsonRPCResponseMessage)
            response = response_type(id=msg_id, result=result, jsonrpc="2.0")
        if not self._send_data(response) and error is None:
            failure = types.ResponseError(code=-32603, message="internal error: unsendable result")
            self._send_data(types.ResponseErrorMessage(id=msg_id, error=failure))

    def _send_data(self, data: Any) -> bool:  # type: ignore[override]
        """Frame and write one message; False when it could not be serialised."""
        if self.writer is None:
            return True
        try:
            body = json.dumps(data, default=self._serialize_message)
        except Exception as exc:  # noqa: BLE001 - weft's bug: a result that does not serialise
            logger.error("cannot serialise a message: %s", exc, exc_info=exc)
            return False
        payload = body.encode("utf-8")
        if self._include_headers:
            payload = b"Content-Length: %d\r\n\r\n" % len(payload) + payload
        try:
            self.writer.write(payload)
        except (BrokenPipeError, ConnectionError, OSError) as exc:
            logger.info("cannot write to the client: %s", exc)
        return True

    # -- lifecycle --------------------------------------------------------------------------

    def _exit(self) -> None:
        code = 0 if self.state == "shutdown" else 1
        self.exit_code = code
        pending = self._shutdown_future
        if pending is not None and not pending.done():
            asyncio.ensure_future(self._exit_after(pending, code))
            return
        self.on_exit(code)

    async def _exit_after(self, pending: Any, code: int) -> None:
        try:
            await asyncio.wait_for(asyncio.wrap_future(pending), SHUTDOWN_GRACE_S)
        except BaseException:  # noqa: BLE001 - whatever shutdown did, exit now
            pass
        self.on_exit(code)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        """Never reached (``receive`` ends the server itself); kept so pygls's own exit, which
        calls ``sys.exit`` from inside the reader, cannot run."""
        self._exit()
        yield from ()

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        """A cancel for a request already answered is a normal race, not a warning."""
        future = self._request_futures.pop(msg_id, None)
        if future is None:
            logger.debug("cancel for request %r, which is not running", msg_id)
        elif future.cancel():
            logger.debug("request %r cancelled", msg_id)

    # pygls keeps its own copy of every open document, rebuilt line by line on each change
    # (about 1 ms per keystroke on a 5,000-line file) and split with the wrong line rules;
    # weft never reads it (features/text_sync.py keeps weft's snapshots), so these built-ins
    # only pass the notification on.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


def _plain(data: dict[str, Any]) -> Any:
    from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage

    if "id" in data:
        return JsonRPCRequestMessage(data["id"], data["method"], "2.0", data.get("params"))
    return JsonRPCNotification(data["method"], "2.0", data.get("params"))


def _response_error(raw: Any) -> types.ResponseError:
    if isinstance(raw, dict) and isinstance(raw.get("code"), int):
        return types.ResponseError(
            code=raw["code"], message=str(raw.get("message", "")), data=raw.get("data")
        )
    return types.ResponseError(code=-32603, message="malformed error response from the client")
