"""Shape checks of LSP params, before cattrs structures them.

pygls hands every incoming message to cattrs, which structures whatever it is given: a
100 KB string where ``contentChanges`` expects an array is walked character by character, each
one failing as each alternative of a union and adding to an exception group (21 s and 130 MB
for one ``didChange``). :func:`check_params` looks only at JSON kinds (object, array, string,
number, boolean, null) against lsprotocol's type of the method's params, stops at the first
mismatch, and never descends into ``LSPAny``; its cost is bounded by the size of the message.

It is never stricter than the LSP types: extra keys are fine, enums are only checked for
their JSON kind (lsprotocol accepts custom values for some), an integral float passes for an
integer. Client capabilities are where real clients stray from the types (Neovim 0.9 sends
``callHierarchy`` as an array), so inside ``ClientCapabilities`` a value that does not fit is
dropped, as if the client had not sent it, instead of failing the whole ``initialize``. What
the check lets through, cattrs still structures (and a failure there is still answered).
"""

from __future__ import annotations

import enum
import functools
import logging
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from lsprotocol import types

logger = logging.getLogger(__name__)

_ANY_NAMES = frozenset({"LSPAny", "LSPObject", "LSPArray"})
_NONE = type(None)


class ShapeError(ValueError):
    """Params that cannot be the method's params; the message names where and why."""


TOO_COMPLEX = "params too complex to check"


class _Budget:
    """Steps left: union alternatives re-walk values, so the walk is capped, not trusted."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def spend(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise ShapeError(TOO_COMPLEX)


def params_type(method: str) -> Any:
    """lsprotocol's params class of ``method`` (None: no params, or a method lsprotocol does
    not know)."""
    entry = types.METHOD_TO_TYPES.get(method)
    return entry[2] if entry is not None else None


def is_notification_method(method: str) -> bool | None:
    """True for an LSP notification, False for an LSP request, None for a method LSP does not
    define."""
    entry = types.METHOD_TO_TYPES.get(method)
    if entry is None:
        return None
    return "id" not in attrs.fields_dict(entry[0])


def check_params(method: str, params: Any, size_hint: int) -> Any:
    """``params`` if they fit ``method``'s params type, with ``{}`` standing in for absent params
    of a type whose fields are all optional; raises :class:`ShapeError` otherwise.

    ``size_hint`` (the message's length in bytes) bounds the work: every JSON value costs at
    least one byte, and union alternatives may walk a value a few times.
    """
    cls = params_type(method)
    if cls is None:
        return params
    if params is None and _all_optional(cls):
        return {}
    budget = _Budget(8 * size_hint + 10_000)
    try:
        _check(params, cls, "params", budget)
    except RecursionError as exc:
        raise ShapeError("params nested too deeply") from exc
    return params


# -- the walk ---------------------------------------------------------------------------------


def _check(value: Any, tp: Any, where: str, budget: _Budget, prune: bool = False) -> None:
    budget.spend()
    tp = _resolve(tp)
    if tp is Any or tp is object:
        return
    if tp is _NONE:
        _expect(value is None, where, "null", value)
    elif tp is str:
        _expect(isinstance(value, str), where, "a string", value)
    elif tp is bool:
        _expect(isinstance(value, bool), where, "a boolean", value)
    elif tp is int:
        _expect(_is_integer(value), where, "an integer", value)
    elif tp is float:
        _expect(_is_number(value), where, "a number", value)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        _check_enum(value, tp, where)
    elif isinstance(tp, type) and attrs.has(tp):
        _check_object(value, tp, where, budget, prune)
    else:
        _check_generic(value, tp, where, budget, prune)


def _check_generic(value: Any, tp: Any, where: str, budget: _Budget, prune: bool) -> None:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        _check_union(value, args, where, budget, prune)
    elif origin is typing.Literal:
        _expect(value in args, where, " or ".join(map(repr, args)), value)
    elif origin in (list, tuple, Sequence) or (
        isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str
    ):
        _expect(isinstance(value, list), where, "an array", value)
        item = args[0] if args else Any
        if origin is tuple and args and args[-1] is not Ellipsis:
            _expect(len(value) == len(args), where, f"{len(args)} items", value)
            for index, (part, part_type) in enumerate(zip(value, args, strict=True)):
                _check(part, part_type, f"{where}[{index}]", budget)
            return
        for index, part in enumerate(value):
            _check(part, item, f"{where}[{index}]", budget)
    elif origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        _expect(isinstance(value, dict), where, "an object", value)
        item = args[1] if len(args) == 2 else Any
        for key, part in value.items():
            _check(part, item, f"{where}.{key}", budget)
    # anything else (a type this walk does not know) is left to cattrs


def _check_union(
    value: Any, options: tuple[Any, ...], where: str, budget: _Budget, prune: bool
) -> None:
    resolved = [_resolve(o) for o in options]
    if any(o is Any or o is object for o in resolved):
        return
    if len(resolved) == 2 and _NONE in resolved and value is not None:
        # Optional[X]: X itself, pruning inside it where pruning applies
        _check(value, next(o for o in resolved if o is not _NONE), where, budget, prune)
        return
    for option in _plausible(value, resolved):
        try:
            _check(value, option, where, budget)
            return
        except ShapeError as exc:
            if str(exc) == TOO_COMPLEX:
                raise
    raise ShapeError(f"{where}: {_kind(value)} fits none of its {len(resolved)} possible shapes")


def _plausible(value: Any, options: list[Any]) -> list[Any]:
    """The options whose JSON kind can be ``value``'s (so a string is never walked as an
    object); objects keep every object-shaped option, in order."""
    return [o for o in options if _kind_fits(value, o)]


def _kind_fits(value: Any, tp: Any) -> bool:
    if tp is _NONE:
        return value is None
    if tp is str or (isinstance(tp, type) and issubclass(tp, str)):
        return isinstance(value, str)
    if tp is bool:
        return isinstance(value, bool)
    if tp in (int, float) or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return _is_number(value) or isinstance(value, str)
    if isinstance(tp, type) and attrs.has(tp):
        return isinstance(value, dict)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return True
    if origin is typing.Union:
        return any(_kind_fits(value, _resolve(a)) for a in typing.get_args(tp))
    if origin in (dict, Mapping):
        return isinstance(value, dict)
    if origin is not None:
        return isinstance(value, list)
    return True


def _check_object(value: Any, cls: type, where: str, budget: _Budget, prune: bool) -> None:
    _expect(isinstance(value, dict), where, "an object", value)
    prune = prune or cls is types.ClientCapabilities
    for name, field_type, required in _fields(cls):
        if name not in value:
            if required:
                raise ShapeError(f"{where}.{name} is missing")
            continue
        try:
            _check(value[name], field_type, f"{where}.{name}", budget, prune)
        except ShapeError as exc:
            if not prune or required or str(exc) == TOO_COMPLEX:
                raise
            logger.debug("client capability ignored: %s", exc)
            del value[name]


def _check_enum(value: Any, cls: type[enum.Enum], where: str) -> None:
    if issubclass(cls, str):
        _expect(isinstance(value, str), where, "a string", value)
    elif issubclass(cls, int):
        _expect(_is_integer(value), where, "an integer", value)


# -- helpers ----------------------------------------------------------------------------------


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(JSON name, type, required) of an lsprotocol class, as lsprotocol's converter names them."""
    return tuple(
        (_json_name(f.name), f.type, f.default is attrs.NOTHING) for f in attrs.fields(cls)
    )


@functools.cache
def _all_optional(cls: type) -> bool:
    return attrs.has(cls) and not any(required for _, _, required in _fields(cls))


def _json_name(name: str) -> str:
    """lsprotocol's camelCase rename (``text_document`` → ``textDocument``, ``from_`` → ``from``)."""
    parts = name.removesuffix("_").split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def _resolve(tp: Any) -> Any:
    """Forward references (plain strings or ``ForwardRef``) → the lsprotocol type they name;
    the recursive ``LSPAny`` family → ``Any``."""
    name = tp if isinstance(tp, str) else getattr(tp, "__forward_arg__", None)
    if name is None:
        return tp
    if name in _ANY_NAMES:
        return Any
    return types.ALL_TYPES_MAP.get(name, Any)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _expect(ok: bool, where: str, expected: str, value: Any) -> None:
    if not ok:
        raise ShapeError(f"{where} must be {expected}, not {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {len(value)} characters" if len(value) > 40 else "a string"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
