"""Hash commands.

HGETALL is a dict under both protocols (a RESP3 map as is; RESP2 pairs zipped). HSET is
not retried after a lost connection: its reply counts the fields that were *new*, so a
second run answers differently even though the data ends up the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from ..errors import DataError
from ._args import Field, Key, Pattern, Value, list_or_args
from ._base import IDEMPOTENT, READONLY, Command
from ._decoders import ByteStr, pairs_to_dict

__all__ = [
    "HScanResponse",
    "hdel",
    "hexists",
    "hget",
    "hgetall",
    "hincrby",
    "hincrbyfloat",
    "hkeys",
    "hlen",
    "hmget",
    "hmset",
    "hscan",
    "hset",
    "hsetnx",
    "hstrlen",
    "hvals",
]

HScanResponse: TypeAlias = tuple[int, dict[ByteStr, ByteStr] | list[ByteStr]]

_chain = itertools.chain.from_iterable


def hset(
    name: Key,
    key: Field | None = None,
    value: Value | None = None,
    mapping: Mapping[Any, Value] | None = None,
    items: Sequence[Value] | None = None,
) -> Command[int]:
    """HSET ``key value``, and/or a ``mapping``, and/or flat ``items`` [f1, v1, f2, v2].

    Returns how many fields were added (updated ones do not count). DataError when
    nothing is given.
    """
    if mapping is None and items is None:
        if key is None:
            raise DataError("HSET: give key and value, mapping or items")
        return Command((b"HSET", name, key, value), None)
    args: list[Any] = [b"HSET", name]
    if items:
        args.extend(items)
    if key is not None:
        args += (key, value)
    if mapping:
        args.extend(_chain(mapping.items()))
    if len(args) == 2:
        raise DataError("HSET: give key and value, mapping or items (both were empty)")
    return Command(tuple(args), None)


def hget(name: Key, key: Field) -> Command[ByteStr | None]:
    """HGET. None when the field or the key is missing."""
    return Command((b"HGET", name, key), None, flags=READONLY)


def hmset(name: Key, mapping: Mapping[Any, Value]) -> Command[bool]:
    """HMSET (deprecated by Redis in favour of HSET). DataError for an empty mapping."""
    if not mapping:
        raise DataError("HMSET: mapping is empty")
    return Command((b"HMSET", name, *_chain(mapping.items())), bool, flags=IDEMPOTENT)


def hmget(name: Key, keys: Field | Iterable[Field], *args: Field) -> Command[list[ByteStr | None]]:
    """HMGET ``hmget(h, ["a", "b"])`` or ``hmget(h, "a", "b")``; None per missing field."""
    return Command((b"HMGET", name, *list_or_args(keys, args)), None, flags=READONLY)


def hgetall(name: Key) -> Command[dict[ByteStr, ByteStr]]:
    """HGETALL as a dict; ``{}`` for a missing key."""
    return Command((b"HGETALL", name), None, decode2=pairs_to_dict, flags=READONLY)


def hdel(name: Key, *keys: Field) -> Command[int]:
    """HDEL. How many fields were removed."""
    return Command((b"HDEL", name, *keys), None)


def hexists(name: Key, key: Field) -> Command[bool]:
    """HEXISTS as a bool."""
    return Command((b"HEXISTS", name, key), bool, flags=READONLY)


def hincrby(name: Key, key: Field, amount: int = 1) -> Command[int]:
    """HINCRBY. The new value; error if the field is not an integer."""
    return Command((b"HINCRBY", name, key, amount), None)


def hincrbyfloat(name: Key, key: Field, amount: float = 1.0) -> Command[float]:
    """HINCRBYFLOAT. The new value as float."""
    return Command((b"HINCRBYFLOAT", name, key, amount), float)


def hkeys(name: Key) -> Command[list[ByteStr]]:
    """HKEYS."""
    return Command((b"HKEYS", name), None, flags=READONLY)


def hvals(name: Key) -> Command[list[ByteStr]]:
    """HVALS."""
    return Command((b"HVALS", name), None, flags=READONLY)


def hlen(name: Key) -> Command[int]:
    """HLEN. 0 for a missing key."""
    return Command((b"HLEN", name), None, flags=READONLY)


def hsetnx(name: Key, key: Field, value: Value) -> Command[int]:
    """HSETNX. 1 if the field was created, 0 if it existed (an int, as in redis-py)."""
    return Command((b"HSETNX", name, key, value), None)


def hstrlen(name: Key, key: Field) -> Command[int]:
    """HSTRLEN. 0 for a missing field."""
    return Command((b"HSTRLEN", name, key), None, flags=READONLY)


def _hscan_reply(reply: Any) -> tuple[int, dict[Any, Any]]:
    cursor, items = reply
    return int(cursor), pairs_to_dict(items) if items else {}


def _hscan_novalues_reply(reply: Any) -> tuple[int, list[Any]]:
    cursor, items = reply
    return int(cursor), items or []


def hscan(
    name: Key,
    cursor: int = 0,
    match: Pattern | None = None,
    count: int | None = None,
    no_values: bool | None = None,
) -> Command[HScanResponse]:
    """HSCAN. ``(cursor, {field: value})``, or ``(cursor, [field])`` with ``no_values``
    (Redis 7.4 NOVALUES)."""
    args: tuple[Any, ...] = (b"HSCAN", name, cursor)
    if match is not None:
        args += (b"MATCH", match)
    if count is not None:
        args += (b"COUNT", count)
    if no_values:
        return Command((*args, b"NOVALUES"), _hscan_novalues_reply, flags=READONLY)
    return Command(args, _hscan_reply, flags=READONLY)
