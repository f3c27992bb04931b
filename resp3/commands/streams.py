"""Stream commands without consumer groups: XADD, XREAD, ranges, trimming, XINFO STREAM.

Entries are ``(id, {field: value})`` tuples. XREAD follows redis-py per protocol:
``{stream: [[entries]]}`` under RESP3 (its RESP3 callback wraps each stream's entries in
one more list) and ``[[stream, entries], ...]`` under RESP2; nothing to read gives
``{}`` / ``[]``. Consumer-group commands are in :mod:`.stream_groups`.

XADD is never retried: with ``*`` a second run adds a second entry, with an explicit id
it fails. XREAD with ``block`` holds its connection (flag BLOCKING).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

from ..errors import DataError
from ._args import Key, StreamId, Value
from ._base import BLOCKING, READONLY, Command
from ._decoders import ByteStr, pairs_to_dict, pairs_to_str_dict, str_if_bytes

__all__ = [
    "StreamEntry",
    "StreamRangeResponse",
    "XReadResponse",
    "stream_list",
    "xadd",
    "xdel",
    "xinfo_stream",
    "xlen",
    "xrange",
    "xread",
    "xrevrange",
    "xtrim",
]

StreamEntry: TypeAlias = tuple[ByteStr | None, dict[ByteStr, ByteStr] | None]
StreamRangeResponse: TypeAlias = list[StreamEntry]
XReadResponse: TypeAlias = (
    list[list[Any]] | dict[ByteStr, list[StreamRangeResponse]] | dict[ByteStr, StreamRangeResponse]
)
RefPolicy: TypeAlias = Literal["KEEPREF", "DELREF", "ACKED"]

_REF_POLICIES = ("KEEPREF", "DELREF", "ACKED")


# -- decoders -----------------------------------------------------------------------------


def stream_list(reply: Any, claimed: bool = False) -> Any:
    """``[[id, [f, v, ...]], ...]`` -> ``[(id, {f: v}), ...]``.

    A deleted entry still in a pending list comes back as ``(id, {})`` (or ``(None,
    None)`` for a null entry). ``claimed``: XREADGROUP CLAIM entries carry two extra
    fields (idle time, delivery count), kept after the dict.
    """
    if reply is None:
        return None
    out: list[Any] = []
    for entry in reply:
        if entry is None:
            out.append((None, None))
        elif claimed:
            out.append((entry[0], pairs_to_dict(entry[1]), *entry[2:]))
        else:
            out.append((entry[0], pairs_to_dict(entry[1])))
    return out


def xread_reply3(reply: Any, claimed: bool = False) -> dict[Any, Any]:
    """RESP3 XREAD/XREADGROUP: a map stream -> entries, as redis-py's RESP3 callback."""
    if reply is None:
        return {}
    return {stream: [stream_list(entries, claimed)] for stream, entries in reply.items()}


def xread_reply2(reply: Any, claimed: bool = False) -> list[list[Any]]:
    """RESP2 XREAD/XREADGROUP: ``[[stream, entries], ...]``."""
    if reply is None:
        return []
    return [[item[0], stream_list(item[1], claimed)] for item in reply]


def _xinfo_stream(reply: Any, full: bool = False) -> dict[str, Any]:
    data = pairs_to_str_dict(reply)
    if not full:
        first = data.get("first-entry")
        if first is not None and first[0] is not None:
            data["first-entry"] = (first[0], pairs_to_dict(first[1]))
        last = data["last-entry"]
        if last is not None and last[0] is not None:
            data["last-entry"] = (last[0], pairs_to_dict(last[1]))
        return data
    data["entries"] = {entry_id: pairs_to_dict(fields) for entry_id, fields in data["entries"]}
    groups = data["groups"]
    if groups and isinstance(groups[0], list):  # RESP2: flat pairs all the way down
        data["groups"] = [pairs_to_str_dict(group) for group in groups]
        for group in data["groups"]:
            consumers = group["consumers"]
            if consumers and consumers[0] is not None:
                group["consumers"] = [pairs_to_str_dict(c) for c in consumers]
    else:  # RESP3 maps; redis-py leaves the consumers' keys as they come
        data["groups"] = [{str_if_bytes(k): v for k, v in group.items()} for group in groups]
    return data


_xinfo_stream_full = functools.partial(_xinfo_stream, full=True)


# -- builders -----------------------------------------------------------------------------


def _check_ref_policy(command: str, ref_policy: str | None) -> None:
    if ref_policy is not None and ref_policy not in _REF_POLICIES:
        raise DataError(
            f"{command}: ref_policy must be one of {', '.join(_REF_POLICIES)}, got {ref_policy!r}"
        )


def xadd(
    name: Key,
    fields: Mapping[Any, Value],
    id: StreamId = "*",
    maxlen: int | None = None,
    approximate: bool = True,
    nomkstream: bool = False,
    minid: StreamId | None = None,
    limit: int | None = None,
    ref_policy: RefPolicy | None = None,
    idmpauto: str | None = None,
    idmp: tuple[str, bytes] | None = None,
) -> Command[ByteStr]:
    """XADD. The new entry's id. ``maxlen``/``minid`` trim in the same call (``~`` when
    ``approximate``). ``ref_policy``, ``idmpauto`` and ``idmp`` need Redis 8.2+.

    DataError: ``maxlen`` with ``minid``, ``idmpauto`` with ``idmp``, either of those with
    an explicit ``id``, a negative or non-int ``maxlen``, or empty ``fields``.
    """
    if maxlen is not None and minid is not None:
        raise DataError("XADD: maxlen and minid are mutually exclusive")
    if idmpauto is not None and idmp is not None:
        raise DataError("XADD: idmpauto and idmp are mutually exclusive")
    if (idmpauto is not None or idmp is not None) and id not in ("*", b"*"):
        raise DataError("XADD: idmpauto and idmp can only be used with id='*'")
    _check_ref_policy("XADD", ref_policy)
    if not isinstance(fields, Mapping) or not fields:
        raise DataError("XADD: fields must be a non-empty dict")
    args: list[Any] = [b"XADD", name]
    if nomkstream:
        args.append(b"NOMKSTREAM")
    if ref_policy is not None:
        args.append(ref_policy)
    if idmpauto is not None:
        args += (b"IDMPAUTO", idmpauto)
    if idmp is not None:
        if not isinstance(idmp, tuple) or len(idmp) != 2:
            raise DataError("XADD: idmp must be a (producer_id, idempotent_id) tuple")
        args += (b"IDMP", idmp[0], idmp[1])
    if maxlen is not None:
        if not isinstance(maxlen, int) or isinstance(maxlen, bool) or maxlen < 0:
            raise DataError(f"XADD: maxlen must be a non-negative int, got {maxlen!r}")
        args += (b"MAXLEN", b"~", maxlen) if approximate else (b"MAXLEN", maxlen)
    if minid is not None:
        args += (b"MINID", b"~", minid) if approximate else (b"MINID", minid)
    if limit is not None:
        args += (b"LIMIT", limit)
    args.append(id)
    for pair in fields.items():
        args += pair
    return Command(tuple(args), None)


def _positive(command: str, option: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DataError(f"{command}: {option} must be a positive int, got {value!r}")


def read_options(
    command: str, count: int | None, block: int | None, max_count: int | None, max_size: int | None
) -> tuple[Any, ...]:
    """COUNT/MAXCOUNT/MAXSIZE/BLOCK of XREAD and XREADGROUP, validated like redis-py."""
    args: tuple[Any, ...] = ()
    if block is not None:
        if not isinstance(block, int) or isinstance(block, bool) or block < 0:
            raise DataError(
                f"{command}: block must be a non-negative int (milliseconds), got {block!r}"
            )
        args += (b"BLOCK", block)
    if count is not None:
        _positive(command, "count", count)
        args += (b"COUNT", count)
    if max_count is not None:
        _positive(command, "max_count", max_count)
        if count is not None and max_count < count:
            raise DataError(f"{command}: max_count ({max_count}) must be >= count ({count})")
        args += (b"MAXCOUNT", max_count)
    if max_size is not None:
        _positive(command, "max_size", max_size)
        args += (b"MAXSIZE", max_size)
    return args


def streams_args(command: str, streams: Mapping[Any, StreamId]) -> tuple[Any, ...]:
    """``STREAMS k1 k2 id1 id2`` from ``{k1: id1, k2: id2}``."""
    if not isinstance(streams, Mapping) or not streams:
        raise DataError(f"{command}: streams must be a non-empty dict of stream -> id")
    return (b"STREAMS", *streams.keys(), *streams.values())


def xread(
    streams: Mapping[Any, StreamId],
    count: int | None = None,
    block: int | None = None,
    max_count: int | None = None,
    max_size: int | None = None,
) -> Command[XReadResponse]:
    """XREAD ``{stream: last_seen_id}``. ``block`` in milliseconds (0: forever).

    ``max_count``/``max_size`` need Redis 8.10. DataError for a non-positive ``count``,
    a negative ``block``, or empty ``streams``.
    """
    args = (b"XREAD", *read_options("XREAD", count, block, max_count, max_size))
    args += streams_args("XREAD", streams)
    flags = READONLY if block is None else READONLY | BLOCKING
    return Command(args, xread_reply3, decode2=xread_reply2, flags=flags)


def _range(
    command: bytes, name: Key, first: StreamId, last: StreamId, count: int | None
) -> Command[Any]:
    args: tuple[Any, ...] = (command, name, first, last)
    if count is not None:
        _positive(command.decode(), "count", count)
        args += (b"COUNT", count)
    return Command(args, stream_list, flags=READONLY)


def xrange(
    name: Key, min: StreamId = "-", max: StreamId = "+", count: int | None = None
) -> Command[StreamRangeResponse | None]:
    """XRANGE ``min`` to ``max`` inclusive ("(" prefix excludes, Redis 6.2)."""
    return _range(b"XRANGE", name, min, max, count)


def xrevrange(
    name: Key, max: StreamId = "+", min: StreamId = "-", count: int | None = None
) -> Command[StreamRangeResponse | None]:
    """XREVRANGE from ``max`` down to ``min``."""
    return _range(b"XREVRANGE", name, max, min, count)


def xlen(name: Key) -> Command[int]:
    """XLEN. 0 for a missing key."""
    return Command((b"XLEN", name), None, flags=READONLY)


def xdel(name: Key, *ids: StreamId) -> Command[int]:
    """XDEL. How many entries were deleted."""
    return Command((b"XDEL", name, *ids), None)


def xtrim(
    name: Key,
    maxlen: int | None = None,
    approximate: bool = True,
    minid: StreamId | None = None,
    limit: int | None = None,
    ref_policy: RefPolicy | None = None,
) -> Command[int]:
    """XTRIM by ``maxlen`` or ``minid`` (exactly one). How many entries were evicted."""
    if maxlen is not None and minid is not None:
        raise DataError("XTRIM: maxlen and minid are mutually exclusive")
    if maxlen is None and minid is None:
        raise DataError("XTRIM: one of maxlen or minid is required")
    _check_ref_policy("XTRIM", ref_policy)
    args: tuple[Any, ...] = (b"XTRIM", name, b"MAXLEN" if maxlen is not None else b"MINID")
    if approximate:
        args += (b"~",)
    args += (maxlen if maxlen is not None else minid,)
    if limit is not None:
        args += (b"LIMIT", limit)
    if ref_policy is not None:
        args += (ref_policy,)
    return Command(args, None)


def xinfo_stream(name: Key, full: bool = False) -> Command[dict[str, Any]]:
    """XINFO STREAM as a dict with str keys; first/last entries as ``(id, dict)``."""
    if full:
        return Command((b"XINFO", b"STREAM", name, b"FULL"), _xinfo_stream_full, flags=READONLY)
    return Command((b"XINFO", b"STREAM", name), _xinfo_stream, flags=READONLY)
