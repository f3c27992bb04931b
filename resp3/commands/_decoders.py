"""Reply decoders shared by several families, and the reply type aliases.

Typing choice
-------------
A string reply is ``bytes`` by default and ``str`` when the client decodes responses;
the builders cannot know which, so they follow redis-py 8 and annotate string replies
as ``ByteStr = bytes | str`` (``Command[ByteStr | None]`` for GET). Callers that enable
``decode_responses`` narrow with ``isinstance`` or ``typing.cast``. Compound replies
use the same names as ``redis.typing`` (``ScanResponse``, ``ZSetRangeResponse``...),
where a union covers the shapes redis-py itself returns under protocol 3 and 2 (a few
replies really differ: BLPOP is a list under RESP3 and a tuple under RESP2). ``Any`` is
kept for what the server decides at run time: script results and INFO values.

Decoder contract
----------------
A decoder is a module-level function ``(reply) -> value`` (no closure per call). It runs
only on success replies (the client raises error replies first), must accept ``bytes``
and ``str`` alike, and, unless the command sets ``decode2``, both the RESP3 and RESP2
shape of its reply. The values are redis-py's, shape for shape, so code moves over
unchanged.
"""

from __future__ import annotations

import datetime
from typing import Any, TypeAlias

__all__ = [
    "ByteStr",
    "ScanResponse",
    "float_or_none",
    "ok",
    "ok_or_none",
    "pairs_to_dict",
    "pairs_to_str_dict",
    "pong",
    "scan",
    "set_to_list",
    "str_if_bytes",
    "str_or_none",
    "time_pair",
    "timestamp_to_datetime",
    "to_set",
    "tuple_or_none",
]

ByteStr: TypeAlias = bytes | str
ScanResponse: TypeAlias = tuple[int, list[ByteStr]]

_OK = (b"OK", "OK")
_PONG = (b"PONG", "PONG")


def ok(reply: Any) -> bool:
    """``+OK`` -> True (redis-py's ``bool_ok``)."""
    return reply in _OK


def ok_or_none(reply: Any) -> bool | None:
    """SET without GET: ``+OK`` -> True, a null (NX/XX condition unmet) -> None."""
    return None if reply is None else reply in _OK


def pong(reply: Any) -> bool:
    """PING: True for ``+PONG``."""
    return reply in _PONG


def str_if_bytes(reply: Any) -> Any:
    """Bytes -> str (UTF-8, undecodable bytes replaced); anything else unchanged."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def str_or_none(reply: Any) -> str | None:
    """A string reply as ``str``; a null stays None."""
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return reply if reply is None else str(reply)


def float_or_none(reply: Any) -> float | None:
    """A RESP2 score (``b"1.5"``, ``b"inf"``) or a RESP3 double -> float; null -> None."""
    return None if reply is None else float(reply)


def to_set(reply: Any) -> set[Any]:
    """SMEMBERS & co: a RESP3 set is returned as is, a RESP2 array becomes a set."""
    if isinstance(reply, set):
        return reply
    return set(reply) if reply else set()


def set_to_list(reply: Any) -> Any:
    """A RESP3 set reply as a list (redis-py's parser returns sets as lists)."""
    return list(reply) if isinstance(reply, set) else reply


def pairs_to_dict(reply: Any) -> dict[Any, Any]:
    """``[k1, v1, k2, v2]`` -> ``{k1: v1, k2: v2}``; a RESP3 map is returned as is."""
    if isinstance(reply, dict):
        return reply
    if reply is None:
        return {}
    it = iter(reply)
    return dict(zip(it, it, strict=False))


def pairs_to_str_dict(reply: Any) -> dict[str, Any]:
    """Flat pairs or a map, with the keys decoded to ``str`` (values untouched)."""
    if isinstance(reply, dict):
        return {str_if_bytes(k): v for k, v in reply.items()}
    it = iter(reply)
    return {str_if_bytes(k): v for k, v in zip(it, it, strict=False)}


def scan(reply: Any) -> tuple[int, list[Any]]:
    """SCAN/SSCAN: ``[cursor, items]`` -> ``(int cursor, items)``."""
    cursor, items = reply
    return int(cursor), set_to_list(items)


def tuple_or_none(reply: Any) -> tuple[Any, ...] | None:
    """RESP2 BLPOP/BRPOP: ``[key, value]`` -> ``(key, value)``; a timeout -> None."""
    return tuple(reply) if reply else None


def time_pair(reply: Any) -> tuple[int, int]:
    """TIME: ``[seconds, microseconds]`` as two ints."""
    return int(reply[0]), int(reply[1])


def timestamp_to_datetime(reply: Any) -> datetime.datetime | None:
    """LASTSAVE: unix time -> local naive datetime, like redis-py (0/garbage -> None)."""
    if not reply:
        return None
    try:
        stamp = int(reply)
    except ValueError:
        return None
    return datetime.datetime.fromtimestamp(stamp)
