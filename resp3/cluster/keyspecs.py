"""Where the keys of a command are: the table the cluster clients route with.

The table holds COMMAND's legacy key triple ``(first, last, step)`` for every
key-bearing command of Redis 7 (``last`` counts from the end when negative, so
``BLPOP k1 k2 timeout`` is ``(1, -2, 1)``), written down here rather than fetched at
connect time: routing then costs one dict lookup, works before any node answered,
and does not depend on which node was asked. ``tests/server/cluster`` checks every
row against the live server's ``COMMAND INFO``.

Commands whose keys move with their arguments (``movablekeys``) have a finder below
(EVAL/FCALL and the numkeys family, XREAD/XREADGROUP after ``STREAMS``); the rest of
them (SORT ... STORE, MIGRATE, GEORADIUS ... STORE) are resolved with ``COMMAND
GETKEYS`` by the client, one round trip per call. A command missing from the table
(a module command, a newer server's command sent with ``execute_command``) is looked up
once with ``COMMAND INFO`` and remembered by the client's :class:`~.routing.Router`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "GETKEYS",
    "KEY_RANGES",
    "MOVABLE",
    "SUBCOMMAND_PARENTS",
    "command_name",
    "upper_bytes",
]

# (first, last, step) -> commands; a subcommand is written PARENT|SUB, as COMMAND does.
_TABLE: dict[tuple[int, int, int], str] = {
    (1, 1, 1): """
        APPEND BITCOUNT BITFIELD BITFIELD_RO BITPOS DECR DECRBY DUMP EXPIRE EXPIREAT
        EXPIRETIME GEOADD GEODIST GEOHASH GEOPOS GEORADIUSBYMEMBER_RO GEORADIUS_RO
        GEOSEARCH GET GETBIT GETDEL GETEX GETRANGE GETSET HDEL HEXISTS HGET HGETALL
        HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET HRANDFIELD HSCAN HSET HSETNX HSTRLEN
        HVALS INCR INCRBY INCRBYFLOAT LINDEX LINSERT LLEN LPOP LPOS LPUSH LPUSHX LRANGE
        LREM LSET LTRIM MOVE PERSIST PEXPIRE PEXPIREAT PEXPIRETIME PFADD PSETEX PTTL
        RESTORE RESTORE-ASKING RPOP RPUSH RPUSHX SADD SCARD SET SETBIT SETEX SETNX
        SETRANGE SISMEMBER SMEMBERS SMISMEMBER SPOP SPUBLISH SRANDMEMBER SREM SSCAN
        STRLEN SUBSTR TTL TYPE XACK XADD XAUTOCLAIM XCLAIM XDEL XLEN XPENDING XRANGE
        XREVRANGE XSETID XTRIM ZADD ZCARD ZCOUNT ZINCRBY ZLEXCOUNT ZMSCORE ZPOPMAX
        ZPOPMIN ZRANDMEMBER ZRANGE ZRANGEBYLEX ZRANGEBYSCORE ZRANK ZREM ZREMRANGEBYLEX
        ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREVRANGE ZREVRANGEBYLEX ZREVRANGEBYSCORE
        ZREVRANK ZSCAN ZSCORE
    """,
    (1, 2, 1): """
        BLMOVE BRPOPLPUSH COPY GEOSEARCHSTORE LCS LMOVE RENAME RENAMENX RPOPLPUSH SMOVE
        ZRANGESTORE
    """,
    (1, -1, 1): """
        DEL EXISTS MGET PFCOUNT PFMERGE SDIFF SDIFFSTORE SINTER SINTERSTORE SSUBSCRIBE
        SUNION SUNIONSTORE SUNSUBSCRIBE TOUCH UNLINK WATCH
    """,
    (1, -2, 1): "BLPOP BRPOP BZPOPMAX BZPOPMIN",
    (1, -1, 2): "MSET MSETNX",
    (2, -1, 1): "BITOP",
    (2, 2, 1): """
        MEMORY|USAGE OBJECT|ENCODING OBJECT|FREQ OBJECT|IDLETIME OBJECT|REFCOUNT
        PFDEBUG XGROUP|CREATE XGROUP|CREATECONSUMER XGROUP|DELCONSUMER XGROUP|DESTROY
        XGROUP|SETID XINFO|CONSUMERS XINFO|GROUPS XINFO|STREAM
    """,
}

KEY_RANGES: dict[bytes, tuple[int, int, int]] = {
    name.encode(): spec for spec, names in _TABLE.items() for name in names.split()
}

# Containers whose subcommand decides the keys: look up b"PARENT|SUB".
SUBCOMMAND_PARENTS = frozenset(
    {name.split(b"|")[0] for name in KEY_RANGES if b"|" in name}
    | {b"SCRIPT", b"FUNCTION", b"PUBSUB"}
)


def _numkeys(index: int) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Keys follow a count at ``args[index]`` (EVAL script numkeys k1 k2 ...)."""

    def find(args: Sequence[Any]) -> Sequence[Any]:
        count = int(args[index])
        return args[index + 1 : index + 1 + count]

    return find


def _destination_and_numkeys(args: Sequence[Any]) -> Sequence[Any]:
    """ZUNIONSTORE dest numkeys k1 k2 ...: the destination is a key too."""
    return (args[1], *_numkeys(2)(args))


def _streams(args: Sequence[Any]) -> Sequence[Any]:
    """XREAD/XREADGROUP ... STREAMS k1 k2 id1 id2: the first half after STREAMS."""
    for index in range(1, len(args)):
        arg = args[index]
        if isinstance(arg, (bytes, str)) and arg.upper() in (b"STREAMS", "STREAMS"):
            rest = len(args) - index - 1
            return args[index + 1 : index + 1 + rest // 2]
    return ()


MOVABLE: dict[bytes, Callable[[Sequence[Any]], Sequence[Any]]] = {
    **dict.fromkeys(
        (b"EVAL", b"EVALSHA", b"EVAL_RO", b"EVALSHA_RO", b"FCALL", b"FCALL_RO"), _numkeys(2)
    ),
    **dict.fromkeys(
        (b"ZUNION", b"ZINTER", b"ZDIFF", b"SINTERCARD", b"ZINTERCARD", b"LMPOP", b"ZMPOP"),
        _numkeys(1),
    ),
    **dict.fromkeys((b"BLMPOP", b"BZMPOP"), _numkeys(2)),
    **dict.fromkeys((b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"), _destination_and_numkeys),
    b"XREAD": _streams,
    b"XREADGROUP": _streams,
}

# movablekeys commands whose keys only the server can find reliably.
GETKEYS = frozenset({b"SORT", b"SORT_RO", b"MIGRATE", b"GEORADIUS", b"GEORADIUSBYMEMBER"})


def command_name(args: Sequence[Any]) -> bytes:
    """``b"GET"``, or ``b"XINFO|STREAM"`` for a container command; upper-cased bytes."""
    first = args[0]
    name = first if type(first) is bytes else upper_bytes(first)
    if name in KEY_RANGES or name in MOVABLE:
        return name
    name = name.upper()
    if name in SUBCOMMAND_PARENTS and len(args) > 1:
        return name + b"|" + upper_bytes(args[1])
    return name


def upper_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.upper().encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).upper()
    return str(value).upper().encode()
