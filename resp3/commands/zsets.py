"""Sorted-set commands.

Scores follow redis-py, protocol by protocol, because its RESP3 and RESP2 values differ:

* ranges WITHSCORES: ``[[member, score], ...]`` under RESP3, ``[(member, score), ...]``
  under RESP2; ZPOPMIN/ZPOPMAX: the raw RESP3 reply (``[member, score]`` without a
  count, ``[[member, score]]`` with one) vs ``[(member, score)]``; BZPOPMIN/BZPOPMAX:
  ``[key, member, score]`` vs ``(key, member, score)``.
* ``score_cast_func`` gets a float under RESP3 and the raw bytes under RESP2 (falling
  back to ``cast(float(raw))`` if ``cast(raw)`` fails, e.g. ``int(b"1.5")``).

The decoders for the default ``float`` are module constants; a custom cast is bound with
``functools.partial``, once per call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from ..errors import DataError
from ._args import Key, Keys, Pattern, ScoreBound, Timeout, Value, list_or_args
from ._base import BLOCKING, READONLY, Command
from ._decoders import ByteStr, float_or_none

__all__ = [
    "BlockingZSetPopResponse",
    "ZScanResponse",
    "ZSetRangeResponse",
    "bzpopmax",
    "bzpopmin",
    "zadd",
    "zcard",
    "zcount",
    "zincrby",
    "zmscore",
    "zpopmax",
    "zpopmin",
    "zrange",
    "zrangebyscore",
    "zrank",
    "zrem",
    "zremrangebyrank",
    "zremrangebyscore",
    "zrevrange",
    "zrevrangebyscore",
    "zrevrank",
    "zscan",
    "zscore",
]

ScoreCast: TypeAlias = type | Callable[..., Any]
ZSetRangeResponse: TypeAlias = list[ByteStr] | list[tuple[ByteStr, Any]] | list[list[Any]]
ZScanResponse: TypeAlias = tuple[int, list[tuple[ByteStr, Any]]]
BlockingZSetPopResponse: TypeAlias = tuple[ByteStr, ByteStr, float] | list[Any] | None


# -- decoders -----------------------------------------------------------------------------


def _cast2(cast: ScoreCast, raw: Any) -> Any:
    """A RESP2 score through ``cast``; ``int(b"1.5")`` falls back to ``int(1.5)``."""
    if cast is float:
        return float(raw)
    try:
        return cast(raw)
    except (ValueError, TypeError):
        return cast(float(raw))


def _pairs3(reply: Any, cast: ScoreCast) -> Any:
    """RESP3 ``[[member, 1.5], ...]`` with ``cast`` applied to each score."""
    if not reply:
        return reply
    return [[member, cast(score)] for member, score in reply]


def _pairs2(reply: Any, cast: ScoreCast = float) -> Any:
    """RESP2 ``[m1, b"1.5", m2, ...]`` -> ``[(m1, cast(b"1.5")), ...]``."""
    if not reply:
        return reply
    it = iter(reply)
    return [(member, _cast2(cast, score)) for member, score in zip(it, it, strict=False)]


def _rank3(reply: Any, cast: ScoreCast) -> Any:
    return [reply[0], cast(reply[1])] if reply else reply


def _rank2(reply: Any, cast: ScoreCast = float) -> Any:
    return [reply[0], _cast2(cast, reply[1])] if reply else reply


def _bzpop2(reply: Any) -> tuple[Any, Any, float] | None:
    return (reply[0], reply[1], float(reply[2])) if reply else None


def _zmscore2(reply: Any) -> list[float | None]:
    return [None if score is None else float(score) for score in reply]


def _zscan(reply: Any, cast: ScoreCast = float) -> tuple[int, list[tuple[Any, Any]]]:
    cursor, items = reply
    it = iter(items)
    return int(cursor), [
        (member, _cast2(cast, score)) for member, score in zip(it, it, strict=False)
    ]


def _range_command(
    args: tuple[Any, ...], withscores: bool, cast: ScoreCast
) -> Command[ZSetRangeResponse]:
    if not withscores:
        return Command(args, None, flags=READONLY)
    if cast is float:  # RESP3 doubles are floats already: the raw reply is redis-py's value
        return Command(args, None, decode2=_pairs2, flags=READONLY)
    return Command(
        args,
        functools.partial(_pairs3, cast=cast),
        decode2=functools.partial(_pairs2, cast=cast),
        flags=READONLY,
    )


# -- builders -----------------------------------------------------------------------------


def zadd(
    name: Key,
    mapping: Mapping[Any, float | str | bytes],
    nx: bool = False,
    xx: bool = False,
    ch: bool = False,
    incr: bool = False,
    gt: bool = False,
    lt: bool = False,
) -> Command[int | float | None]:
    """ZADD ``{member: score}``. The number of new members (changed ones with ``ch``);
    with ``incr``, the new score, or None when NX/XX/GT/LT vetoed the update.

    DataError: empty mapping, ``nx`` with ``xx``, ``gt`` with ``lt``, ``nx`` with
    ``gt``/``lt``, or ``incr`` with more than one pair.
    """
    if not mapping:
        raise DataError("ZADD: mapping needs at least one member/score pair")
    if nx and xx:
        raise DataError("ZADD: nx and xx are mutually exclusive")
    if gt and lt:
        raise DataError("ZADD: gt and lt are mutually exclusive")
    if nx and (gt or lt):
        raise DataError("ZADD: nx cannot be combined with gt or lt")
    if incr and len(mapping) != 1:
        raise DataError(f"ZADD: incr works with exactly one member/score pair, got {len(mapping)}")
    args: list[Any] = [b"ZADD", name]
    if nx:
        args.append(b"NX")
    if xx:
        args.append(b"XX")
    if ch:
        args.append(b"CH")
    if incr:
        args.append(b"INCR")
    if gt:
        args.append(b"GT")
    if lt:
        args.append(b"LT")
    for member, score in mapping.items():
        args += (score, member)
    if incr:
        return Command(tuple(args), None, decode2=float_or_none)
    return Command(tuple(args), None)


def zrem(name: Key, *values: Value) -> Command[int]:
    """ZREM. How many members were removed."""
    return Command((b"ZREM", name, *values), None)


def zrange(
    name: Key,
    start: Value,
    end: Value,
    desc: bool = False,
    withscores: bool = False,
    score_cast_func: ScoreCast = float,
    byscore: bool = False,
    bylex: bool = False,
    offset: int | None = None,
    num: int | None = None,
) -> Command[ZSetRangeResponse]:
    """ZRANGE by rank, or by score (``byscore``) or by lex (``bylex``, Redis 6.2).

    With ``desc`` alone it sends ZREVRANGE, like redis-py (works on old servers).
    DataError: ``byscore`` with ``bylex``, only one of ``offset``/``num``, or
    ``withscores`` with ``bylex``.
    """
    if desc and not byscore and not bylex and offset is None and num is None:
        rev: tuple[Any, ...] = (b"ZREVRANGE", name, start, end)
        if withscores:
            rev += (b"WITHSCORES",)
        return _range_command(rev, withscores, score_cast_func)
    if byscore and bylex:
        raise DataError("ZRANGE: byscore and bylex are mutually exclusive")
    if (offset is None) != (num is None):
        raise DataError("ZRANGE: offset and num must be given together")
    if bylex and withscores:
        raise DataError("ZRANGE: withscores cannot be combined with bylex")
    args: tuple[Any, ...] = (b"ZRANGE", name, start, end)
    if byscore:
        args += (b"BYSCORE",)
    if bylex:
        args += (b"BYLEX",)
    if desc:
        args += (b"REV",)
    if offset is not None:
        args += (b"LIMIT", offset, num)
    if withscores:
        args += (b"WITHSCORES",)
    return _range_command(args, withscores, score_cast_func)


def _score_range(
    command: bytes,
    name: Key,
    low: ScoreBound,
    high: ScoreBound,
    start: int | None,
    num: int | None,
    withscores: bool,
    cast: ScoreCast,
) -> Command[ZSetRangeResponse]:
    if (start is None) != (num is None):
        raise DataError(f"{command.decode()}: start and num must be given together")
    args: tuple[Any, ...] = (command, name, low, high)
    if start is not None:
        args += (b"LIMIT", start, num)
    if withscores:
        args += (b"WITHSCORES",)
    return _range_command(args, withscores, cast)


def zrangebyscore(
    name: Key,
    min: ScoreBound,
    max: ScoreBound,
    start: int | None = None,
    num: int | None = None,
    withscores: bool = False,
    score_cast_func: ScoreCast = float,
) -> Command[ZSetRangeResponse]:
    """ZRANGEBYSCORE ``min`` to ``max`` ("(1" excludes, "-inf"/"+inf" open)."""
    return _score_range(b"ZRANGEBYSCORE", name, min, max, start, num, withscores, score_cast_func)


def zrevrange(
    name: Key,
    start: int,
    end: int,
    withscores: bool = False,
    score_cast_func: ScoreCast = float,
) -> Command[ZSetRangeResponse]:
    """ZREVRANGE by rank, highest score first."""
    args: tuple[Any, ...] = (b"ZREVRANGE", name, start, end)
    if withscores:
        args += (b"WITHSCORES",)
    return _range_command(args, withscores, score_cast_func)


def zrevrangebyscore(
    name: Key,
    max: ScoreBound,
    min: ScoreBound,
    start: int | None = None,
    num: int | None = None,
    withscores: bool = False,
    score_cast_func: ScoreCast = float,
) -> Command[ZSetRangeResponse]:
    """ZREVRANGEBYSCORE ``max`` down to ``min``."""
    return _score_range(
        b"ZREVRANGEBYSCORE", name, max, min, start, num, withscores, score_cast_func
    )


def _rank(
    command: bytes, name: Key, value: Value, withscore: bool, cast: ScoreCast
) -> Command[int | list[Any] | None]:
    if not withscore:
        return Command((command, name, value), None, flags=READONLY)
    args = (command, name, value, b"WITHSCORE")
    if cast is float:
        return Command(args, None, decode2=_rank2, flags=READONLY)
    return Command(
        args,
        functools.partial(_rank3, cast=cast),
        decode2=functools.partial(_rank2, cast=cast),
        flags=READONLY,
    )


def zrank(
    name: Key, value: Value, withscore: bool = False, score_cast_func: ScoreCast = float
) -> Command[int | list[Any] | None]:
    """ZRANK (0-based, lowest first); None if absent. ``withscore`` needs Redis 7.2."""
    return _rank(b"ZRANK", name, value, withscore, score_cast_func)


def zrevrank(
    name: Key, value: Value, withscore: bool = False, score_cast_func: ScoreCast = float
) -> Command[int | list[Any] | None]:
    """ZREVRANK (0-based, highest first); None if absent."""
    return _rank(b"ZREVRANK", name, value, withscore, score_cast_func)


def zscore(name: Key, value: Value) -> Command[float | None]:
    """ZSCORE as float; None if the member or the key is missing."""
    return Command((b"ZSCORE", name, value), None, decode2=float_or_none, flags=READONLY)


def zmscore(key: Key, members: Iterable[Value]) -> Command[list[float | None]]:
    """ZMSCORE (Redis 6.2): one float or None per member. DataError if ``members`` is empty."""
    members = list_or_args(members, None)
    if not members:
        raise DataError("ZMSCORE: members must be a non-empty list")
    return Command((b"ZMSCORE", key, *members), None, decode2=_zmscore2, flags=READONLY)


def zincrby(name: Key, amount: float, value: Value) -> Command[float | None]:
    """ZINCRBY. The new score."""
    return Command((b"ZINCRBY", name, amount, value), None, decode2=float_or_none)


def zcard(name: Key) -> Command[int]:
    """ZCARD. 0 for a missing key."""
    return Command((b"ZCARD", name), None, flags=READONLY)


def zcount(name: Key, min: ScoreBound, max: ScoreBound) -> Command[int]:
    """ZCOUNT of members with ``min`` <= score <= ``max``."""
    return Command((b"ZCOUNT", name, min, max), None, flags=READONLY)


def zpopmin(name: Key, count: int | None = None) -> Command[ZSetRangeResponse]:
    """ZPOPMIN: the popped members with scores (see the module docstring for shapes)."""
    args = (b"ZPOPMIN", name) if count is None else (b"ZPOPMIN", name, count)
    return Command(args, None, decode2=_pairs2)


def zpopmax(name: Key, count: int | None = None) -> Command[ZSetRangeResponse]:
    """ZPOPMAX: the popped members with scores."""
    args = (b"ZPOPMAX", name) if count is None else (b"ZPOPMAX", name, count)
    return Command(args, None, decode2=_pairs2)


def bzpopmin(keys: Keys, timeout: Timeout | None = 0) -> Command[BlockingZSetPopResponse]:
    """BZPOPMIN from the first non-empty sorted set; None after ``timeout`` seconds."""
    timeout = 0 if timeout is None else timeout
    return Command(
        (b"BZPOPMIN", *list_or_args(keys, None), timeout), None, decode2=_bzpop2, flags=BLOCKING
    )


def bzpopmax(keys: Keys, timeout: Timeout | None = 0) -> Command[BlockingZSetPopResponse]:
    """BZPOPMAX from the first non-empty sorted set; None after ``timeout`` seconds."""
    timeout = 0 if timeout is None else timeout
    return Command(
        (b"BZPOPMAX", *list_or_args(keys, None), timeout), None, decode2=_bzpop2, flags=BLOCKING
    )


def zremrangebyscore(name: Key, min: ScoreBound, max: ScoreBound) -> Command[int]:
    """ZREMRANGEBYSCORE. How many members were removed."""
    return Command((b"ZREMRANGEBYSCORE", name, min, max), None)


def zremrangebyrank(name: Key, min: int, max: int) -> Command[int]:
    """ZREMRANGEBYRANK, 0-based inclusive ranks. How many members were removed."""
    return Command((b"ZREMRANGEBYRANK", name, min, max), None)


def zscan(
    name: Key,
    cursor: int = 0,
    match: Pattern | None = None,
    count: int | None = None,
    score_cast_func: ScoreCast = float,
) -> Command[ZScanResponse]:
    """ZSCAN. ``(cursor, [(member, score), ...])`` under both protocols."""
    args: tuple[Any, ...] = (b"ZSCAN", name, cursor)
    if match is not None:
        args += (b"MATCH", match)
    if count is not None:
        args += (b"COUNT", count)
    decode = _zscan if score_cast_func is float else functools.partial(_zscan, cast=score_cast_func)
    return Command(args, decode, flags=READONLY)
