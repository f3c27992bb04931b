"""Argument aliases and the few argument helpers that several families share.

The aliases mirror redis-py's ``redis.typing`` names (``KeyT`` -> ``Key``, ``ExpiryT`` ->
``Expiry``...) so signatures read the same. They describe what a builder *accepts*;
anything the encoder cannot send (``None``, ``bool``, ``dict``) still fails there with a
``DataError`` naming the argument's position, before a byte is written.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, TypeAlias

from ..errors import DataError
from ._base import Key, Value

__all__ = [
    "AbsExpiry",
    "ChannelT",
    "Expiry",
    "Field",
    "Key",
    "Keys",
    "Number",
    "Pattern",
    "ScoreBound",
    "StreamId",
    "Timeout",
    "Value",
    "expiry_args",
    "list_or_args",
    "milliseconds",
    "seconds",
    "unix_milliseconds",
    "unix_seconds",
]

Field: TypeAlias = Value  # hash fields, set/list members, stream fields
Pattern: TypeAlias = Key  # glob-style patterns (KEYS, SCAN MATCH, PUBSUB CHANNELS)
ChannelT: TypeAlias = Key
Keys: TypeAlias = Key | Iterable[Key]  # one key, or an iterable of keys
Number: TypeAlias = int | float
Expiry: TypeAlias = int | datetime.timedelta  # relative: seconds/milliseconds or a timedelta
AbsExpiry: TypeAlias = int | datetime.datetime  # absolute: unix time or a datetime
ScoreBound: TypeAlias = float | str | bytes  # str/bytes allow "(1", "-inf", "[a" (BYLEX)
StreamId: TypeAlias = int | bytes | str | memoryview
Timeout: TypeAlias = int | float | bytes | str  # seconds, for blocking pops


def list_or_args(keys: Any, args: tuple[Any, ...] | None) -> list[Any]:
    """redis-py's ``list_or_args``: ``mget("a", "b")`` and ``mget(["a", "b"])`` alike.

    A str/bytes/bytearray/memoryview is one key (they are iterable, but never a list of
    keys); any other iterable is expanded; anything else is a single argument.
    """
    if isinstance(keys, (bytes, str, bytearray, memoryview)):
        out = [keys]
    else:
        try:
            out = list(keys)
        except TypeError:
            out = [keys]
    if args:
        out.extend(args)
    return out


def seconds(value: Any) -> Any:
    """A relative expiry in whole seconds: a timedelta is truncated like redis-py.

    Other values go through unchanged; the encoder rejects what it cannot send.
    """
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds())
    return value


def milliseconds(value: Any) -> Any:
    """A relative expiry in whole milliseconds (timedelta converted, rest unchanged)."""
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return value


def unix_seconds(value: Any) -> Any:
    """An absolute expiry as unix seconds; a naive datetime is taken as local time."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    return value


def unix_milliseconds(value: Any) -> Any:
    """An absolute expiry as unix milliseconds."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def expiry_args(
    command: str,
    ex: Expiry | str | None,
    px: Expiry | None,
    exat: AbsExpiry | None,
    pxat: AbsExpiry | None,
) -> tuple[Any, ...]:
    """The EX/PX/EXAT/PXAT pair of SET and GETEX (the caller checked exclusivity).

    As in redis-py, ``ex`` may also be a string of digits (``"10"``).
    """
    if ex is not None:
        if isinstance(ex, datetime.timedelta):
            return (b"EX", int(ex.total_seconds()))
        if _is_int(ex):
            return (b"EX", ex)
        if isinstance(ex, str) and ex.isdigit():
            return (b"EX", int(ex))
        raise DataError(f"{command}: ex must be an int or datetime.timedelta, got {ex!r}")
    if px is not None:
        if isinstance(px, datetime.timedelta):
            return (b"PX", int(px.total_seconds() * 1000))
        if _is_int(px):
            return (b"PX", px)
        raise DataError(f"{command}: px must be an int or datetime.timedelta, got {px!r}")
    if exat is not None:
        return (b"EXAT", unix_seconds(exat))
    if pxat is not None:
        return (b"PXAT", unix_milliseconds(pxat))
    return ()
