"""Command builders without a server: argument tuples, reply decoders, argument errors.

Most checks are differential against redis-py, which is installed for the tests: a
capturing subclass records what redis-py would send and its response callbacks give the
value redis-py users get. For each case we assert that

* our arguments encode to the same bytes as redis-py's command;
* our decoder turns the RESP3 and the RESP2 reply (as our reader produces them, bytes
  or decoded ``str``) into redis-py's value, type for type (a tuple is not a list);
* invalid combinations raise ``resp3.DataError`` where redis-py raises one.

Concrete expectations follow, so the file can fail even if redis-py changed its mind.
"""

from __future__ import annotations

import copy
import datetime
import warnings
from typing import Any

import pytest
import redis
from _commands_cases import CASES, DATA_ERRORS, INFO_TEXT
from redis._parsers.response_callbacks import get_response_callbacks

import resp3
from resp3 import DataError, encode_command
from resp3.commands import BLOCKING, IDEMPOTENT, READONLY, Command, CoreCommands
from resp3.commands._base import Executor


class Builders(CoreCommands, Executor):
    """A client whose methods return the ``Command`` instead of running it."""

    def _execute(self, cmd: Command[Any]) -> Any:
        return cmd


class RedisPyCapture(redis.Redis):
    """redis-py's command methods, recording ``execute_command`` instead of sending."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.calls.append((args, options))


B: Any = Builders()
CALLBACKS = {p: {k.upper(): v for k, v in get_response_callbacks(p, True).items()} for p in (2, 3)}


def redispy_call(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    capture = RedisPyCapture()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # hmset, setex
        warnings.simplefilter("ignore", UserWarning)  # experimental arguments (ifeq...)
        getattr(capture, method)(*args, **kwargs)
    return capture.calls[-1]


def wire(args: tuple[Any, ...]) -> bytes:
    """redis-py splits "XGROUP CREATE" into two arguments before encoding."""
    first = args[0]
    head = first.split() if isinstance(first, str) else [first]
    return encode_command(*head, *args[1:])


def as_str(value: Any) -> Any:
    """The reply as a ``decode_responses`` reader would produce it."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [as_str(v) for v in value]
    if isinstance(value, set):
        return {as_str(v) for v in value}
    if isinstance(value, dict):
        return {as_str(k): as_str(v) for k, v in value.items()}
    return value


def as_redispy_reply(value: Any) -> Any:
    """redis-py's RESP3 parsers return sets as lists."""
    if isinstance(value, set):
        return list(value)
    if isinstance(value, list):
        return [as_redispy_reply(v) for v in value]
    if isinstance(value, dict):
        return {k: as_redispy_reply(v) for k, v in value.items()}
    return value


def redispy_decode(protocol: int, call: Any, reply: Any) -> Any:
    args, options = call
    options = {k: v for k, v in options.items() if k not in ("keys", "EMPTY_RESPONSE")}
    name = args[0] if isinstance(args[0], str) else args[0].decode()
    callback = CALLBACKS[protocol].get(name.upper())
    reply = as_redispy_reply(copy.deepcopy(reply))
    return callback(reply, **options) if callback is not None else reply


def our_decode(protocol: int, cmd: Command[Any], reply: Any) -> Any:
    decode = cmd.decode if protocol == 3 else (cmd.decode2 or cmd.decode)
    reply = copy.deepcopy(reply)
    return decode(reply) if decode is not None else reply


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (``[1] != (1,)``, ``1 != 1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def case_id(case: tuple[Any, ...]) -> str:
    method, args, kwargs = case[:3]
    return f"{method}{args}{kwargs}"[:80]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_arguments_match_redispy(case: tuple[Any, ...]) -> None:
    method, args, kwargs = case[:3]
    cmd = getattr(B, method)(*args, **kwargs)
    assert isinstance(cmd, Command)
    assert encode_command(*cmd.args) == wire(redispy_call(method, args, kwargs)[0])


@pytest.mark.parametrize("strings", [False, True], ids=["bytes", "str"])
@pytest.mark.parametrize("protocol", [3, 2])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_decoded_value_matches_redispy(case: tuple[Any, ...], protocol: int, strings: bool) -> None:
    method, args, kwargs, reply3, reply2 = case
    reply = reply3 if protocol == 3 else reply2
    if strings:
        reply = as_str(reply)
    cmd = getattr(B, method)(*args, **kwargs)
    ours = our_decode(protocol, cmd, reply)
    theirs = redispy_decode(protocol, redispy_call(method, args, kwargs), reply)
    assert same(ours, theirs), f"{ours!r} != redis-py's {theirs!r}"


@pytest.mark.parametrize("case", DATA_ERRORS, ids=case_id)
def test_invalid_combinations_raise_data_error_like_redispy(case: tuple[Any, ...]) -> None:
    method, args, kwargs = case
    with pytest.raises(DataError):
        getattr(B, method)(*args, **kwargs)
    with pytest.raises(redis.DataError):
        redispy_call(method, args, kwargs)


def test_data_error_is_also_a_type_error_and_names_the_parameter() -> None:
    with pytest.raises(DataError, match=r"SET: ex, px"):
        B.set("k", "v", ex=1, px=2)
    with pytest.raises(DataError, match=r"ex must be an int or datetime.timedelta"):
        B.set("k", "v", ex=1.5)
    with pytest.raises(DataError, match=r"XADD: maxlen and minid"):
        B.xadd("s", {"f": 1}, maxlen=1, minid="0-1")
    with pytest.raises(DataError, match=r"incr works with exactly one"):
        B.zadd("z", {"a": 1, "b": 2}, incr=True)
    with pytest.raises(TypeError):
        B.set("k", "v", px=1.5)


def test_unencodable_values_fail_in_the_encoder_before_sending() -> None:
    for cmd in (B.set("k", None), B.hset("h", "f", None), B.lpush("l", True), B.get({"a": 1})):
        with pytest.raises(DataError, match=r"argument \d+: invalid type"):
            encode_command(*cmd.args)


def test_deviations_from_redispy() -> None:
    # redis-py sends a bare MGET and turns the arity error into []; we refuse up front.
    with pytest.raises(DataError, match="MGET: at least one key"):
        B.mget([])
    # redis-py sends NOVALUES even for no_values=False, then parses keys as pairs.
    assert B.hscan("h", no_values=False).args == (b"HSCAN", "h", 0)
    assert B.hscan("h", no_values=True).args == (b"HSCAN", "h", 0, b"NOVALUES")


def test_hot_builders_build_exact_tuples() -> None:
    assert B.get("k").args == (b"GET", "k")
    assert B.set("k", b"v").args == (b"SET", "k", b"v")
    assert B.hget("h", "f").args == (b"HGET", "h", "f")
    assert B.hset("h", "f", 1).args == (b"HSET", "h", "f", 1)
    assert B.incr("n").args == (b"INCRBY", "n", 1)
    assert B.mget(["a", "b"]).args == (b"MGET", "a", "b")
    assert B.mget("a", "b").args == (b"MGET", "a", "b")
    assert B.mset({"a": 1, "b": 2}).args == (b"MSET", "a", 1, "b", 2)
    ten = datetime.timedelta(seconds=10)
    assert B.set("k", "v", ex=ten, nx=True).args == (b"SET", "k", "v", b"NX", b"EX", 10)
    assert B.set("k", "v", px=ten, get=True).args == (b"SET", "k", "v", b"GET", b"PX", 10000)
    assert B.expire("k", ten, gt=True).args == (b"EXPIRE", "k", 10, b"GT")
    assert B.zadd("z", {"m": 1.5}, xx=True, ch=True).args == (b"ZADD", "z", b"XX", b"CH", 1.5, "m")
    assert B.xgroup_create("s", "g").args == (b"XGROUP", b"CREATE", "s", "g", "$")


@pytest.mark.parametrize(
    ("cmd", "flags"),
    [
        (B.get("k"), READONLY),
        (B.mget(["a"]), READONLY),
        (B.hgetall("h"), READONLY),
        (B.zrange("z", 0, -1), READONLY),
        (B.xread({"s": 0}), READONLY),
        (B.xread({"s": 0}, block=0), READONLY | BLOCKING),
        (B.set("k", "v"), IDEMPOTENT),
        (B.set("k", "v", ex=5), IDEMPOTENT),
        (B.set("k", "v", nx=True), 0),
        (B.set("k", "v", get=True), 0),
        (B.mset({"a": 1}), IDEMPOTENT),
        (B.hmset("h", {"a": 1}), IDEMPOTENT),
        (B.ping(), IDEMPOTENT),
        (B.select(1), IDEMPOTENT),
        (B.echo("x"), IDEMPOTENT),
        (B.incr("n"), 0),
        (B.lpush("l", 1), 0),
        (B.hset("h", "f", 1), 0),
        (B.xadd("s", {"f": 1}), 0),
        (B.delete("k"), 0),
        (B.expire("k", 5), 0),
        (B.expireat("k", 5), IDEMPOTENT),
        (B.ltrim("l", 1, -1), 0),
        (B.blpop("l"), BLOCKING),
        (B.brpop("l"), BLOCKING),
        (B.blmove("a", "b", 0), BLOCKING),
        (B.bzpopmin("z"), BLOCKING),
        (B.bzpopmax("z"), BLOCKING),
        (B.xreadgroup("g", "c", {"s": ">"}), 0),
        (B.xreadgroup("g", "c", {"s": ">"}, block=10), BLOCKING),
        (B.wait(1, 10), BLOCKING),
        (B.eval("return 1", 0), 0),
        (B.fcall_ro("f", 0), READONLY),
    ],
    ids=lambda value: value.name if isinstance(value, Command) else str(value),
)
def test_flags(cmd: Command[Any], flags: int) -> None:
    assert cmd.flags == flags


def test_protocol_specific_shapes_are_redispys() -> None:
    zr = B.zrange("z", 0, -1, withscores=True)
    assert zr.decode is None  # RESP3 [[member, double]] is already the value
    assert zr.decode2([b"a", b"1.5"]) == [(b"a", 1.5)]
    cast = B.zrange("z", 0, -1, withscores=True, score_cast_func=int)
    assert cast.decode([[b"a", 1.5]]) == [[b"a", 1]]
    assert cast.decode2([b"a", b"1.5"]) == [(b"a", 1)]  # int(b"1.5") fails, int(1.5) used
    assert B.blpop("l").decode2([b"l", b"x"]) == (b"l", b"x")
    assert B.bzpopmin("z").decode2([b"z", b"m", b"2"]) == (b"z", b"m", 2.0)
    assert B.hgetall("h").decode2([b"a", b"1"]) == {b"a": b"1"}
    assert B.set("k", "v", nx=True).decode(None) is None
    assert B.set("k", "v").decode("OK") is True
    assert B.smembers("s").decode([b"a", b"a"]) == {b"a"}
    assert B.spop("s", 1).decode({b"a"}) == [b"a"]
    assert B.scan().decode(["0", ["a"]]) == (0, ["a"])
    assert B.zscan("z").decode([b"0", [b"a", b"1.5"]]) == (0, [(b"a", 1.5)])
    xread = B.xread({"s": 0})
    entries = [[b"1-0", [b"f", b"v"]]]
    assert xread.decode({b"s": entries}) == {b"s": [[(b"1-0", {b"f": b"v"})]]}
    assert xread.decode2([[b"s", entries]]) == [[b"s", [(b"1-0", {b"f": b"v"})]]]
    assert xread.decode(None) == {} and xread.decode2(None) == []
    assert B.client_getname().decode2(b"n") == "n"
    assert B.time().decode([b"1700000000", b"5"]) == (1700000000, 5)


def test_info_and_client_list_parsing() -> None:
    info = B.info().decode(INFO_TEXT)
    assert info["redis_version"] == "7.0.15"
    assert info["uptime_in_seconds"] == 42
    assert info["mem_fragmentation_ratio"] == 1.5
    assert info["db0"] == {"keys": 3, "expires": 0, "avg_ttl": 0}
    assert info["modules"] == [{"name": "search", "ver": 20600}]
    assert info["__raw__"] == ["garbage line"]
    clients = B.client_list().decode(b"id=3 addr=/tmp/a b.sock:0 name=x\nid=4 addr=1:2 name=\n")
    assert clients == [
        {"id": "3", "addr": "/tmp/a b.sock:0", "name": "x"},
        {"id": "4", "addr": "1:2", "name": ""},
    ]


def test_mixins_expose_every_family() -> None:
    for name in ("get", "delete", "lpush", "hset", "sadd", "zadd", "xadd", "xreadgroup", "eval"):
        assert callable(getattr(CoreCommands, name)), name
    for name in ("info", "client_list", "publish", "pubsub_numsub", "watch", "memory_usage"):
        assert callable(getattr(CoreCommands, name)), name
    assert CoreCommands.get.__doc__ and "GET" in CoreCommands.get.__doc__
    assert issubclass(resp3.errors.DataError, TypeError)


class PagedScans:
    """Fake client: two pages per scan (cursor 7, then 0), recording each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def _page(self, call: tuple[Any, ...], first: Any, last: Any) -> tuple[int, Any]:
        self.calls.append(call)
        return (7, first) if len(self.calls) == 1 else (0, last)

    def scan(self, cursor: int = 0, match: Any = None, count: Any = None, _type: Any = None) -> Any:
        return self._page((cursor, match, count, _type), [b"a"], [b"b"])

    def hscan(
        self,
        name: Any,
        cursor: int = 0,
        match: Any = None,
        count: Any = None,
        no_values: Any = None,
    ) -> Any:
        if no_values:
            return self._page((name, cursor, no_values), [b"f"], [b"g"])
        return self._page((name, cursor, no_values), {b"f": b"1"}, {b"g": b"2"})

    def sscan(self, name: Any, cursor: int = 0, match: Any = None, count: Any = None) -> Any:
        return self._page((name, cursor, match, count), [b"m"], [])

    def zscan(
        self,
        name: Any,
        cursor: int = 0,
        match: Any = None,
        count: Any = None,
        score_cast_func: Any = float,
    ) -> Any:
        return self._page((name, cursor, score_cast_func), [(b"m", 1.0)], [(b"n", 2.0)])


def test_scan_iterators_follow_the_cursor_until_zero() -> None:
    from resp3.commands.iterators import hscan_iter, scan_iter, sscan_iter, zscan_iter

    fake = PagedScans()
    assert list(scan_iter(fake, match="a*", count=5, _type="string")) == [b"a", b"b"]
    assert fake.calls == [(0, "a*", 5, "string"), (7, "a*", 5, "string")]
    fake = PagedScans()
    assert list(hscan_iter(fake, "h")) == [(b"f", b"1"), (b"g", b"2")]
    assert fake.calls == [("h", 0, None), ("h", 7, None)]
    fake = PagedScans()
    assert list(hscan_iter(fake, "h", no_values=True)) == [b"f", b"g"]
    fake = PagedScans()
    assert list(sscan_iter(fake, "s", match="m*")) == [b"m"]
    assert fake.calls == [("s", 0, "m*", None), ("s", 7, "m*", None)]
    fake = PagedScans()
    assert list(zscan_iter(fake, "z", score_cast_func=int)) == [(b"m", 1.0), (b"n", 2.0)]
    assert fake.calls == [("z", 0, int), ("z", 7, int)]
