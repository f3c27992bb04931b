"""Consumer-group stream commands: XGROUP *, XREADGROUP, XACK, XPENDING, XCLAIM...

None of these is retried after a lost connection: XREADGROUP moves entries into the
pending list, XACK/XCLAIM change it, XGROUP CREATE fails the second time. XREADGROUP
with ``block`` holds its connection (flag BLOCKING). XGROUP SETID is the exception:
setting the same id twice is harmless.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from ..errors import DataError
from ._args import Key, StreamId
from ._base import BLOCKING, IDEMPOTENT, READONLY, Command
from ._decoders import ByteStr, ok, pairs_to_str_dict
from .streams import (
    StreamRangeResponse,
    XReadResponse,
    read_options,
    stream_list,
    streams_args,
    xread_reply2,
    xread_reply3,
)

__all__ = [
    "XPendingRangeResponse",
    "xack",
    "xautoclaim",
    "xclaim",
    "xgroup_create",
    "xgroup_createconsumer",
    "xgroup_delconsumer",
    "xgroup_destroy",
    "xgroup_setid",
    "xinfo_consumers",
    "xinfo_groups",
    "xpending",
    "xpending_range",
    "xreadgroup",
]

XPendingRangeResponse: TypeAlias = list[dict[str, Any]]
XClaimResponse: TypeAlias = StreamRangeResponse | list[ByteStr]

_PENDING_KEYS = ("message_id", "consumer", "time_since_delivered", "times_delivered")


def _list_of_str_dicts(reply: Any) -> list[dict[str, Any]]:
    return [pairs_to_str_dict(item) for item in reply]


def _xpending(reply: Any) -> dict[str, Any]:
    consumers = [{"name": name, "pending": int(count)} for name, count in reply[3] or []]
    return {"pending": reply[0], "min": reply[1], "max": reply[2], "consumers": consumers}


def _xpending_range(reply: Any) -> list[dict[str, Any]]:
    return [dict(zip(_PENDING_KEYS, item, strict=False)) for item in reply]


def _xautoclaim(reply: Any) -> list[Any]:
    return [reply[0], stream_list(reply[1]), *reply[2:]]


def _xautoclaim_justid(reply: Any) -> Any:
    return reply[1]


_xread_claimed3 = functools.partial(xread_reply3, claimed=True)
_xread_claimed2 = functools.partial(xread_reply2, claimed=True)


def xgroup_create(
    name: Key,
    groupname: Key,
    id: StreamId = "$",
    mkstream: bool = False,
    entries_read: int | None = None,
) -> Command[bool]:
    """XGROUP CREATE. Error BUSYGROUP if it exists; without ``mkstream``, error if the
    stream does not exist."""
    args: tuple[Any, ...] = (b"XGROUP", b"CREATE", name, groupname, id)
    if mkstream:
        args += (b"MKSTREAM",)
    if entries_read is not None:
        args += (b"ENTRIESREAD", entries_read)
    return Command(args, ok)


def xgroup_destroy(name: Key, groupname: Key) -> Command[bool]:
    """XGROUP DESTROY. True if the group existed."""
    return Command((b"XGROUP", b"DESTROY", name, groupname), bool)


def xgroup_setid(
    name: Key, groupname: Key, id: StreamId, entries_read: int | None = None
) -> Command[bool]:
    """XGROUP SETID: move the group's last-delivered id."""
    args: tuple[Any, ...] = (b"XGROUP", b"SETID", name, groupname, id)
    if entries_read is not None:
        args += (b"ENTRIESREAD", entries_read)
    return Command(args, ok, flags=IDEMPOTENT)


def xgroup_createconsumer(name: Key, groupname: Key, consumername: Key) -> Command[int]:
    """XGROUP CREATECONSUMER (Redis 6.2). 1 if created, 0 if it existed."""
    return Command((b"XGROUP", b"CREATECONSUMER", name, groupname, consumername), None)


def xgroup_delconsumer(name: Key, groupname: Key, consumername: Key) -> Command[int]:
    """XGROUP DELCONSUMER. How many pending entries the consumer had."""
    return Command((b"XGROUP", b"DELCONSUMER", name, groupname, consumername), None)


def xreadgroup(
    groupname: Key,
    consumername: Key,
    streams: Mapping[Any, StreamId],
    count: int | None = None,
    block: int | None = None,
    noack: bool = False,
    claim_min_idle_time: int | None = None,
    max_count: int | None = None,
    max_size: int | None = None,
) -> Command[XReadResponse]:
    """XREADGROUP; ids are usually ``">"`` (new entries) or an id (own pending ones).

    Same reply shapes as ``xread``. ``claim_min_idle_time`` (CLAIM, Redis 8.4) adds the
    idle time and delivery count to each entry tuple.
    """
    args: tuple[Any, ...] = (b"XREADGROUP", b"GROUP", groupname, consumername)
    args += read_options("XREADGROUP", count, None, max_count, max_size)
    if block is not None:  # redis-py puts BLOCK after the counts here
        args += read_options("XREADGROUP", None, block, None, None)
    if noack:
        args += (b"NOACK",)
    if claim_min_idle_time is not None:
        value = claim_min_idle_time
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DataError(
                f"XREADGROUP: claim_min_idle_time must be a non-negative int, got {value!r}"
            )
        args += (b"CLAIM", value)
    args += streams_args("XREADGROUP", streams)
    flags = 0 if block is None else BLOCKING
    if claim_min_idle_time is not None:
        return Command(args, _xread_claimed3, decode2=_xread_claimed2, flags=flags)
    return Command(args, xread_reply3, decode2=xread_reply2, flags=flags)


def xack(name: Key, groupname: Key, *ids: StreamId) -> Command[int]:
    """XACK. How many entries were acknowledged."""
    return Command((b"XACK", name, groupname, *ids), None)


def xpending(name: Key, groupname: Key) -> Command[dict[str, Any]]:
    """XPENDING summary: ``{"pending", "min", "max", "consumers": [{"name", "pending"}]}``."""
    return Command((b"XPENDING", name, groupname), _xpending, flags=READONLY)


def xpending_range(
    name: Key,
    groupname: Key,
    min: StreamId | None,
    max: StreamId | None,
    count: int | None,
    consumername: Key | None = None,
    idle: int | None = None,
) -> Command[XPendingRangeResponse | dict[str, Any]]:
    """XPENDING with a range: one dict per entry (``message_id``, ``consumer``,
    ``time_since_delivered``, ``times_delivered``).

    With ``min``, ``max`` and ``count`` all None it is the summary form (as redis-py).
    DataError when only some of the three are given, or for a negative idle/count.
    """
    if min is None and max is None and count is None:
        if idle is not None or consumername is not None:
            raise DataError("XPENDING: idle and consumername need min, max and count")
        return Command((b"XPENDING", name, groupname), _xpending, flags=READONLY)
    if min is None or max is None or count is None:
        raise DataError("XPENDING: give all of min, max and count, or none of them")
    args: tuple[Any, ...] = (b"XPENDING", name, groupname)
    if idle is not None:
        if int(idle) < 0:
            raise DataError(f"XPENDING: idle must be >= 0, got {idle!r}")
        args += (b"IDLE", idle)
    if int(count) < 0:
        raise DataError(f"XPENDING: count must be >= 0, got {count!r}")
    args += (min, max, count)
    if consumername:
        args += (consumername,)
    return Command(args, _xpending_range, flags=READONLY)


def xclaim(
    name: Key,
    groupname: Key,
    consumername: Key,
    min_idle_time: int,
    message_ids: Sequence[StreamId],
    idle: int | None = None,
    time: int | None = None,
    retrycount: int | None = None,
    force: bool = False,
    justid: bool = False,
) -> Command[XClaimResponse]:
    """XCLAIM: the claimed entries, or only their ids with ``justid``.

    DataError: negative or non-int ``min_idle_time``, empty ``message_ids``, non-int
    ``idle``/``time``/``retrycount``.
    """
    if not isinstance(min_idle_time, int) or isinstance(min_idle_time, bool) or min_idle_time < 0:
        raise DataError(f"XCLAIM: min_idle_time must be a non-negative int, got {min_idle_time!r}")
    if not isinstance(message_ids, (list, tuple)) or not message_ids:
        raise DataError("XCLAIM: message_ids must be a non-empty list or tuple")
    args: tuple[Any, ...] = (b"XCLAIM", name, groupname, consumername, min_idle_time, *message_ids)
    for option, value in ((b"IDLE", idle), (b"TIME", time), (b"RETRYCOUNT", retrycount)):
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise DataError(f"XCLAIM: {option.decode().lower()} must be an int, got {value!r}")
            args += (option, value)
    if force:
        args += (b"FORCE",)
    if justid:
        return Command((*args, b"JUSTID"), None)
    return Command(args, stream_list)


def xautoclaim(
    name: Key,
    groupname: Key,
    consumername: Key,
    min_idle_time: int,
    start_id: StreamId = "0-0",
    count: int | None = None,
    justid: bool = False,
) -> Command[list[Any]]:
    """XAUTOCLAIM (Redis 6.2): ``[next_start_id, entries, deleted_ids]``; with
    ``justid``, only the claimed ids."""
    if int(min_idle_time) < 0:
        raise DataError(f"XAUTOCLAIM: min_idle_time must be >= 0, got {min_idle_time!r}")
    args: tuple[Any, ...] = (b"XAUTOCLAIM", name, groupname, consumername, min_idle_time, start_id)
    if count is not None:
        if int(count) < 0:
            raise DataError(f"XAUTOCLAIM: count must be >= 0, got {count!r}")
        args += (b"COUNT", count)
    if justid:
        return Command((*args, b"JUSTID"), _xautoclaim_justid)
    return Command(args, _xautoclaim)


def xinfo_groups(name: Key) -> Command[list[dict[str, Any]]]:
    """XINFO GROUPS: one dict (str keys) per group."""
    return Command((b"XINFO", b"GROUPS", name), _list_of_str_dicts, flags=READONLY)


def xinfo_consumers(name: Key, groupname: Key) -> Command[list[dict[str, Any]]]:
    """XINFO CONSUMERS: one dict (str keys) per consumer."""
    return Command((b"XINFO", b"CONSUMERS", name, groupname), _list_of_str_dicts, flags=READONLY)
