"""Every command family as a mixin of ``command`` descriptors; ``CoreCommands`` has them all.

The builders live in one module per family (``strings``, ``keys``, ``lists``, ``hashes``,
``sets``, ``zsets``, ``streams`` + ``stream_groups``, ``scripting``, ``server``,
``pubsub``); each returns a :class:`Command` and never does I/O. A client class inherits
``CoreCommands`` and implements ``_execute``; see :mod:`._base` for how one declaration
serves the sync client, the asyncio client and pipelines. The scan iterators are in
:mod:`.iterators`.
"""

from __future__ import annotations

from . import (
    hashes as _hashes,
)
from . import (
    keys as _keys,
)
from . import (
    lists as _lists,
)
from . import (
    pubsub as _pubsub,
)
from . import (
    scripting as _scripting,
)
from . import (
    server as _server,
)
from . import (
    sets as _sets,
)
from . import (
    stream_groups as _stream_groups,
)
from . import (
    streams as _streams,
)
from . import (
    strings as _strings,
)
from . import (
    zsets as _zsets,
)
from ._base import BLOCKING, IDEMPOTENT, READONLY, Command, command

__all__ = [
    "BLOCKING",
    "IDEMPOTENT",
    "READONLY",
    "Command",
    "CoreCommands",
    "HashCommands",
    "KeyCommands",
    "ListCommands",
    "PubSubCommands",
    "ScriptingCommands",
    "ServerCommands",
    "SetCommands",
    "SortedSetCommands",
    "StreamCommands",
    "StringCommands",
    "command",
]


class StringCommands:
    """Strings: GET, SET, counters, ranges."""

    append = command(_strings.append)
    decr = command(_strings.decr)
    decrby = command(_strings.decrby)
    get = command(_strings.get)
    getdel = command(_strings.getdel)
    getex = command(_strings.getex)
    getrange = command(_strings.getrange)
    incr = command(_strings.incr)
    incrby = command(_strings.incrby)
    incrbyfloat = command(_strings.incrbyfloat)
    mget = command(_strings.mget)
    mset = command(_strings.mset)
    msetnx = command(_strings.msetnx)
    psetex = command(_strings.psetex)
    set = command(_strings.set)
    setex = command(_strings.setex)
    setnx = command(_strings.setnx)
    setrange = command(_strings.setrange)
    strlen = command(_strings.strlen)


class KeyCommands:
    """Keyspace: DEL, the EXPIRE family, RENAME, SCAN, FLUSHDB, WATCH."""

    dbsize = command(_keys.dbsize)
    delete = command(_keys.delete)
    exists = command(_keys.exists)
    expire = command(_keys.expire)
    expireat = command(_keys.expireat)
    flushall = command(_keys.flushall)
    flushdb = command(_keys.flushdb)
    keys = command(_keys.keys)
    persist = command(_keys.persist)
    pexpire = command(_keys.pexpire)
    pexpireat = command(_keys.pexpireat)
    pttl = command(_keys.pttl)
    randomkey = command(_keys.randomkey)
    rename = command(_keys.rename)
    renamenx = command(_keys.renamenx)
    scan = command(_keys.scan)
    ttl = command(_keys.ttl)
    type = command(_keys.type)
    unlink = command(_keys.unlink)
    unwatch = command(_keys.unwatch)
    watch = command(_keys.watch)


class ListCommands:
    """Lists, including the blocking pops."""

    blmove = command(_lists.blmove)
    blpop = command(_lists.blpop)
    brpop = command(_lists.brpop)
    lindex = command(_lists.lindex)
    llen = command(_lists.llen)
    lmove = command(_lists.lmove)
    lpop = command(_lists.lpop)
    lpos = command(_lists.lpos)
    lpush = command(_lists.lpush)
    lpushx = command(_lists.lpushx)
    lrange = command(_lists.lrange)
    lrem = command(_lists.lrem)
    lset = command(_lists.lset)
    ltrim = command(_lists.ltrim)
    rpop = command(_lists.rpop)
    rpush = command(_lists.rpush)
    rpushx = command(_lists.rpushx)


class HashCommands:
    """Hashes."""

    hdel = command(_hashes.hdel)
    hexists = command(_hashes.hexists)
    hget = command(_hashes.hget)
    hgetall = command(_hashes.hgetall)
    hincrby = command(_hashes.hincrby)
    hincrbyfloat = command(_hashes.hincrbyfloat)
    hkeys = command(_hashes.hkeys)
    hlen = command(_hashes.hlen)
    hmget = command(_hashes.hmget)
    hmset = command(_hashes.hmset)
    hscan = command(_hashes.hscan)
    hset = command(_hashes.hset)
    hsetnx = command(_hashes.hsetnx)
    hstrlen = command(_hashes.hstrlen)
    hvals = command(_hashes.hvals)


class SetCommands:
    """Sets."""

    sadd = command(_sets.sadd)
    scard = command(_sets.scard)
    sdiff = command(_sets.sdiff)
    sdiffstore = command(_sets.sdiffstore)
    sinter = command(_sets.sinter)
    sinterstore = command(_sets.sinterstore)
    sismember = command(_sets.sismember)
    smembers = command(_sets.smembers)
    smismember = command(_sets.smismember)
    smove = command(_sets.smove)
    spop = command(_sets.spop)
    srandmember = command(_sets.srandmember)
    srem = command(_sets.srem)
    sscan = command(_sets.sscan)
    sunion = command(_sets.sunion)
    sunionstore = command(_sets.sunionstore)


class SortedSetCommands:
    """Sorted sets."""

    bzpopmax = command(_zsets.bzpopmax)
    bzpopmin = command(_zsets.bzpopmin)
    zadd = command(_zsets.zadd)
    zcard = command(_zsets.zcard)
    zcount = command(_zsets.zcount)
    zincrby = command(_zsets.zincrby)
    zmscore = command(_zsets.zmscore)
    zpopmax = command(_zsets.zpopmax)
    zpopmin = command(_zsets.zpopmin)
    zrange = command(_zsets.zrange)
    zrangebyscore = command(_zsets.zrangebyscore)
    zrank = command(_zsets.zrank)
    zrem = command(_zsets.zrem)
    zremrangebyrank = command(_zsets.zremrangebyrank)
    zremrangebyscore = command(_zsets.zremrangebyscore)
    zrevrange = command(_zsets.zrevrange)
    zrevrangebyscore = command(_zsets.zrevrangebyscore)
    zrevrank = command(_zsets.zrevrank)
    zscan = command(_zsets.zscan)
    zscore = command(_zsets.zscore)


class StreamCommands:
    """Streams (XADD, XREAD, ranges) and consumer groups."""

    xadd = command(_streams.xadd)
    xdel = command(_streams.xdel)
    xinfo_stream = command(_streams.xinfo_stream)
    xlen = command(_streams.xlen)
    xrange = command(_streams.xrange)
    xread = command(_streams.xread)
    xrevrange = command(_streams.xrevrange)
    xtrim = command(_streams.xtrim)
    xack = command(_stream_groups.xack)
    xautoclaim = command(_stream_groups.xautoclaim)
    xclaim = command(_stream_groups.xclaim)
    xgroup_create = command(_stream_groups.xgroup_create)
    xgroup_createconsumer = command(_stream_groups.xgroup_createconsumer)
    xgroup_delconsumer = command(_stream_groups.xgroup_delconsumer)
    xgroup_destroy = command(_stream_groups.xgroup_destroy)
    xgroup_setid = command(_stream_groups.xgroup_setid)
    xinfo_consumers = command(_stream_groups.xinfo_consumers)
    xinfo_groups = command(_stream_groups.xinfo_groups)
    xpending = command(_stream_groups.xpending)
    xpending_range = command(_stream_groups.xpending_range)
    xreadgroup = command(_stream_groups.xreadgroup)


class ScriptingCommands:
    """Lua scripts and functions."""

    eval = command(_scripting.eval)
    evalsha = command(_scripting.evalsha)
    fcall = command(_scripting.fcall)
    fcall_ro = command(_scripting.fcall_ro)
    function_delete = command(_scripting.function_delete)
    function_flush = command(_scripting.function_flush)
    function_load = command(_scripting.function_load)
    script_exists = command(_scripting.script_exists)
    script_flush = command(_scripting.script_flush)
    script_load = command(_scripting.script_load)


class ServerCommands:
    """Connection and server: PING, INFO, CLIENT, CONFIG..."""

    auth = command(_server.auth)
    client_getname = command(_server.client_getname)
    client_id = command(_server.client_id)
    client_kill = command(_server.client_kill)
    client_kill_filter = command(_server.client_kill_filter)
    client_list = command(_server.client_list)
    client_pause = command(_server.client_pause)
    client_setname = command(_server.client_setname)
    client_unpause = command(_server.client_unpause)
    config_get = command(_server.config_get)
    config_set = command(_server.config_set)
    echo = command(_server.echo)
    info = command(_server.info)
    lastsave = command(_server.lastsave)
    memory_usage = command(_server.memory_usage)
    object = command(_server.object)
    ping = command(_server.ping)
    quit = command(_server.quit)
    reset = command(_server.reset)
    select = command(_server.select)
    swapdb = command(_server.swapdb)
    time = command(_server.time)
    wait = command(_server.wait)


class PubSubCommands:
    """PUBLISH and PUBSUB introspection (subscribing is in ``resp3.pubsub``)."""

    publish = command(_pubsub.publish)
    pubsub_channels = command(_pubsub.pubsub_channels)
    pubsub_numpat = command(_pubsub.pubsub_numpat)
    pubsub_numsub = command(_pubsub.pubsub_numsub)
    pubsub_shardchannels = command(_pubsub.pubsub_shardchannels)
    spublish = command(_pubsub.spublish)


class CoreCommands(
    StringCommands,
    KeyCommands,
    ListCommands,
    HashCommands,
    SetCommands,
    SortedSetCommands,
    StreamCommands,
    ScriptingCommands,
    ServerCommands,
    PubSubCommands,
):
    """All the command families above; what ``resp3.Redis`` and pipelines inherit."""
