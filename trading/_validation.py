"""Shared passes of the JSON configuration loaders (market data, risk limits).

Theory of operation
-------------------
A configuration file is validated in three passes so that *every* problem is reported
at once, each with its JSON path (``$.accounts[0].symbols[1].symbol``), instead of the
first one msgspec would stop at:

1. :func:`load_json`: the standard library parses the text with exact ``Decimal``
   numbers, NaN/Infinity turned into :class:`NonFinite` markers (so pass 2 can name
   them and their path), and duplicate keys recorded on each :class:`JsonObject`
   (plain ``json`` silently keeps the last). Invalid JSON is the only problem that stops
   here, as a :class:`~trading.errors.ConfigError` with line and column.
2. :func:`check`: walks the raw tree against a ``msgspec.inspect`` type (the schema
   msgspec itself uses): object shapes, unknown and missing keys, union tags, types,
   ``msgspec.Meta`` bounds. It never stops early and appends one
   :class:`~trading.errors.ConfigProblem` per problem.
3. Rules a type cannot say belong to each config module. :func:`is_clean` tells them
   whether a field passed pass 2, so each rule runs on the fields it needs as soon as
   those are sound, and one bad field does not hide a problem next to it.

:func:`parse_document` runs the three passes and the final ``msgspec.convert``;
:func:`read_document` and :func:`encode_document` are the file and JSON ends that both
config modules share, so a config module keeps only its types and its own rules.

The module is private to the package (leading underscore); its names are public to
``trading.market_data.config`` and ``trading.risk.config``, which share it so that the
two files report problems in the same words. It needs msgspec, not numpy.

:func:`check` raises ``TypeError`` for a schema construct it cannot read (an untagged
union of structs, an unsupported type): a programming error in the schema, never a
problem of the file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from trading.errors import ConfigError, ConfigProblem

__all__ = [
    "JsonObject",
    "NonFinite",
    "check",
    "encode_document",
    "is_clean",
    "key_path",
    "load_json",
    "parse_document",
    "read_document",
    "show",
]

_PATTERN_HINTS = {r"^\S+$": "must be non-empty without whitespace"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- pass 1: JSON ------------------------------------------------------------------------


class NonFinite:
    """Stands for NaN/Infinity found in the JSON text, so pass 2 can report its path."""

    def __init__(self, text: str) -> None:
        self.text = text


class JsonObject(dict[str, Any]):
    """A JSON object that remembers keys it saw more than once (json keeps the last)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def load_json(data: bytes | str) -> Any:
    """The raw JSON tree of ``data`` (pass 1). Raises :class:`ConfigError` with a single
    ``$`` problem for invalid JSON (line and column) or bytes that are not UTF-8."""
    try:
        return json.loads(
            data, parse_float=Decimal, parse_constant=NonFinite, object_pairs_hook=_object
        )
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [ConfigProblem("$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem("$", f"not UTF-8 text: {exc.reason}")]) from None


# -- pass 2: structure -------------------------------------------------------------------


def key_path(path: str, key: str) -> str:
    """``path`` extended by an object key: ``$.a.key``, or ``$.a["odd key"]`` when the
    key is not an identifier, so every path can be read back unambiguously."""
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def show(value: object) -> str:
    """Name a raw JSON value the way the user wrote it."""
    if isinstance(value, NonFinite):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    return "array" if isinstance(value, list) else "object"


def _bounds(value: Decimal | int, info: mi.IntType | mi.FloatType) -> Iterator[str]:
    if info.gt is not None and not value > info.gt:
        yield f"must be > {info.gt}, got {value}"
    if info.ge is not None and not value >= info.ge:
        yield f"must be >= {info.ge}, got {value}"
    if info.lt is not None and not value < info.lt:
        yield f"must be < {info.lt}, got {value}"
    if info.le is not None and not value <= info.le:
        yield f"must be <= {info.le}, got {value}"


def _scalar(value: object, info: mi.Type) -> Iterator[str]:
    """Problems of one scalar against its schema type, as messages without a path."""
    if isinstance(value, NonFinite) and isinstance(info, mi.IntType | mi.FloatType):
        yield f"must be a finite number, got {value.text}"
    elif isinstance(info, mi.IntType):
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"expected integer, got {show(value)}"
        else:
            yield from _bounds(value, info)
    elif isinstance(info, mi.FloatType):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            yield f"expected number, got {show(value)}"
        elif math.isinf(float(value)):
            yield f"must be a finite number, got {value}"
        else:
            yield from _bounds(value, info)
    elif isinstance(info, mi.DecimalType):
        yield from _decimal(value)
    elif isinstance(info, mi.StrType):
        yield from _string(value, info)
    elif isinstance(info, mi.NoneType):
        if value is not None:
            yield f"expected null, got {show(value)}"
    else:
        raise TypeError(f"config schema uses {type(info).__name__}, which check cannot read")


def _decimal(value: object) -> Iterator[str]:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return
    if isinstance(value, str):
        try:
            if Decimal(value).is_finite():
                return
        except InvalidOperation:
            pass
        yield f"expected a decimal number, got {show(value)}"
    elif isinstance(value, NonFinite):
        yield f"must be a finite number, got {value.text}"
    else:
        yield f"expected number, got {show(value)}"


def _string(value: object, info: mi.StrType) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"expected string, got {show(value)}"
        return
    if info.min_length is not None and len(value) < info.min_length:
        yield f"must have at least {info.min_length} character(s), got {json.dumps(value)}"
    if info.max_length is not None and len(value) > info.max_length:
        yield f"must have at most {info.max_length} characters, got {len(value)}"
    if info.pattern is not None and not re.search(info.pattern, value):
        hint = _PATTERN_HINTS.get(info.pattern, f"must match {info.pattern!r}")
        yield f"{hint}, got {json.dumps(value)}"


def check(value: object, info: mi.Type, path: str, out: list[ConfigProblem]) -> None:
    """Append every structural problem of ``value`` (raw JSON) against ``info`` to ``out``
    (pass 2). Raises ``TypeError`` for a schema construct it cannot read."""
    if isinstance(info, mi.StructType):
        _check_struct(value, info, path, out, skip=None)
    elif isinstance(info, mi.UnionType):
        _check_union(value, info, path, out)
    elif isinstance(info, mi.VarTupleType | mi.ListType):
        if not isinstance(value, list):
            out.append(ConfigProblem(path, f"expected array, got {show(value)}"))
            return
        if info.min_length is not None and len(value) < info.min_length:
            out.append(ConfigProblem(path, f"must have at least {info.min_length} item(s)"))
        if info.max_length is not None and len(value) > info.max_length:
            out.append(ConfigProblem(path, f"must have at most {info.max_length} items"))
        for index, item in enumerate(value):
            check(item, info.item_type, f"{path}[{index}]", out)
    else:
        out.extend(ConfigProblem(path, message) for message in _scalar(value, info))


def _check_struct(
    value: object, info: mi.StructType, path: str, out: list[ConfigProblem], skip: str | None
) -> None:
    if not isinstance(value, dict):
        out.append(ConfigProblem(path, f"expected object, got {show(value)}"))
        return
    fields = {field.encode_name: field for field in info.fields}
    for key in getattr(value, "duplicates", ()):
        out.append(ConfigProblem(key_path(path, key), "duplicate key (only the last would count)"))
    for key, item in value.items():
        if key == skip:
            continue
        field = fields.get(key)
        if field is None:
            expected = ", ".join(fields)
            out.append(
                ConfigProblem(key_path(path, key), f"unknown field, expected one of {expected}")
            )
        else:
            check(item, field.type, key_path(path, key), out)
    for name, field in fields.items():
        if field.required and name not in value:
            out.append(ConfigProblem(key_path(path, name), "required field missing"))


def _check_union(value: object, info: mi.UnionType, path: str, out: list[ConfigProblem]) -> None:
    members = [member for member in info.types if not isinstance(member, mi.NoneType)]
    if value is None and len(members) < len(info.types):
        return
    structs = [member for member in members if isinstance(member, mi.StructType)]
    if not structs:
        if len(members) != 1:
            raise TypeError(f"config schema union at {path} is not supported by check")
        check(value, members[0], path, out)
        return
    tag_field = structs[0].tag_field
    if tag_field is None or len(structs) != len(members):
        raise TypeError(f"config schema union at {path} must be of tagged structs")
    by_tag = {str(struct.tag): struct for struct in structs}
    expected = ", ".join(by_tag)
    if not isinstance(value, dict):
        out.append(ConfigProblem(path, f"expected object, got {show(value)}"))
        return
    tag_path = key_path(path, tag_field)
    if tag_field not in value:
        out.append(ConfigProblem(tag_path, f"required field missing, expected one of {expected}"))
        return
    tag = value[tag_field]
    if not isinstance(tag, str):
        out.append(ConfigProblem(tag_path, f"expected string, got {show(tag)}"))
    elif tag not in by_tag:
        out.append(ConfigProblem(tag_path, f"unknown {tag!r}, expected one of {expected}"))
    else:
        _check_struct(value, by_tag[tag], path, out, skip=tag_field)


# -- pass 3 helpers ---------------------------------------------------------------------


def is_clean(problems: list[ConfigProblem], path: str) -> bool:
    """True when no problem in ``problems`` is at ``path`` or inside it: the field
    passed pass 2, so a pass-3 rule may read it."""
    return not any(p.path == path or p.path.startswith((f"{path}.", f"{path}[")) for p in problems)


# -- the whole pipeline ------------------------------------------------------------------

_C = TypeVar("_C")

Rules = Callable[[dict[str, Any], list[ConfigProblem]], Iterable[ConfigProblem]]
"""Pass 3 of one config module: ``(raw top-level object, problems so far) -> more``."""

DocumentOrder = Callable[[list[ConfigProblem], dict[str, Any]], list[ConfigProblem]]
"""Sorts the problems of one config module by where they stand in the raw document."""


def parse_document(
    data: bytes | str,
    source: str | None,
    target: type[_C],
    schema: mi.Type,
    rules: Rules,
    in_order: DocumentOrder,
) -> _C:
    """Passes 1-3 over ``data``, then ``msgspec.convert`` into ``target``.

    Raises :class:`ConfigError` (naming ``source``) with every problem found, sorted by
    ``in_order``. The rules run on a top-level object only; they see the problems of
    pass 2 and must not modify them. If ``msgspec.convert`` still refuses a document
    the passes accepted (a gap in :func:`check`), that too is a :class:`ConfigError`
    with msgspec's path, so the user never sees a traceback.
    """
    try:
        raw = load_json(data)
    except ConfigError as exc:
        raise ConfigError(exc.problems, source) from None
    problems: list[ConfigProblem] = []
    check(raw, schema, "$", problems)
    if isinstance(raw, dict):
        problems.extend(list(rules(raw, problems)))
        problems = in_order(problems, raw)
    if problems:
        raise ConfigError(problems, source)
    try:
        return msgspec.convert(raw, target)
    except msgspec.ValidationError as exc:  # the checker missed something: still no traceback
        message, _, where = str(exc).partition(" - at `")
        raise ConfigError([ConfigProblem(where.rstrip("`") or "$", message)], source) from None


def read_document(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """The bytes of the file at ``path`` and its name (the ``source`` for
    :func:`parse_document`). An unreadable file raises :class:`ConfigError` naming it,
    with the operating system's reason."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            return file.read(), name
    except OSError as exc:
        raise ConfigError([ConfigProblem("$", f"cannot read file: {exc.strerror}")], name) from None


encode_document: Callable[[Any], bytes] = msgspec.json.Encoder(decimal_format="number").encode
"""JSON for a config object, with Decimals written as plain numbers (exactly as stored),
so :func:`parse_document` reads back the same values."""
