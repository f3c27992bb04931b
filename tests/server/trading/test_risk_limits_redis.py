"""The limits script in Redis: the same answers as the in-process twin on random
sequences, every reason through the engine, fail-closed kill switch values, the rate
window on server time, idempotent release and fill, and recovery from SCRIPT FLUSH."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

import resp3
from resp3.testing import RedisServer
from tests.server.trading._risk_helpers import (
    MARKS,
    RedisTwin,
    flushed_client,
    limits_json,
    make_order,
)
from tests.unit.trading._risk_model import Op, ops, run
from trading.core import Fill, Instrument, Price, Quantity, Side
from trading.risk import KillSwitch, RedisLimits, RiskEngine, RiskKeys, StaticMarks, parse_config
from trading.risk.checks import Request
from trading.risk.reasons import Denial, KillMode, Reason

AAPL = Instrument("AAPL", Decimal("0.01"))


@pytest.fixture
def client(server: RedisServer) -> Iterator[resp3.Redis]:
    redis = flushed_client(server)
    yield redis
    redis.close()


def engine(client: resp3.Redis, limits: str, window_ms: int = 1000) -> RiskEngine:
    redis = RedisLimits(client, window_ms=window_ms)
    return RiskEngine(parse_config(limits), redis, StaticMarks(MARKS))


def reason(denial: Denial | None) -> Reason | None:
    return None if denial is None else denial.reason


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=ops)
def test_script_matches_the_twin_and_the_model(client: resp3.Redis, sequence: list[Op]) -> None:
    client.flushdb()
    run(RedisTwin(client), sequence)


def test_each_shared_reason_through_the_engine(client: resp3.Redis) -> None:
    limits = limits_json(
        {"max_gross_exposure": 50000, "max_open_orders": 4, "max_orders_per_second": 6},
        {"max_long_position": 300, "max_short_position": 100},
    )
    risk = engine(client, limits)
    assert risk.check(make_order("a", qty=200)) is None
    assert reason(risk.check(make_order("a", qty=1))) is Reason.DUPLICATE_CLIENT_ORDER_ID
    denial = risk.check(make_order("b", qty=101))
    assert denial == Denial(
        Reason.MAX_LONG_POSITION,
        "AAPL: long position could reach 301 (filled 0, open buys 200, this order 101), limit 300",
    )
    assert reason(risk.check(make_order("c", side=Side.SELL, qty=101))) is Reason.MAX_SHORT_POSITION
    assert risk.check(make_order("d", "TSLA", qty=100, px="200.00")) is None  # gross 40000
    denial = risk.check(make_order("e", "MSFT", qty=201, px="50.00"))
    assert denial == Denial(
        Reason.MAX_GROSS_EXPOSURE,
        "account acc: gross exposure would be 50050.00 USD, limit 50000.00 USD",
    )
    assert risk.check(make_order("f", "MSFT", qty=10, px="50.00")) is None
    assert risk.check(make_order("g", "IBM", qty=1, px="10.00")) is None
    denial = risk.check(make_order("h", "IBM", qty=1, px="10.00"))
    assert denial == Denial(Reason.MAX_OPEN_ORDERS, "account acc: 4 open orders, limit 4")
    assert risk.release("acc", "g") == 1
    assert risk.check(make_order("i", "IBM", qty=1, px="10.00")) is None
    assert risk.release("acc", "i") == 1
    assert risk.check(make_order("j", "IBM", qty=1, px="10.00")) is None  # the 6th this second
    assert risk.release("acc", "j") == 1  # room for an open order, but not in the rate
    assert reason(risk.check(make_order("k", "IBM", qty=1, px="10.00"))) is Reason.ORDER_RATE


def test_kill_switch_is_read_inside_the_reservation(
    client: resp3.Redis, server: RedisServer
) -> None:
    risk = engine(client, limits_json())
    other = flushed_client(server)  # another connection, as another process would have
    try:
        switch = KillSwitch(other)
        assert risk.check(make_order("a")) is None
        switch.set(KillMode.ON)
        assert risk.check(make_order("b")) == Denial(Reason.KILL_SWITCH, "global kill switch is on")
        switch.set(KillMode.OFF)
        switch.set(KillMode.REDUCE_ONLY, "acc")
        assert reason(risk.check(make_order("c"))) is Reason.REDUCE_ONLY
        assert risk.check(make_order("c", account="other")) is None  # only "acc" is reduce-only
        assert risk.on_fill("acc", Fill("x1", "a", AAPL, Side.BUY, Quantity(10), Price("100.00")))
        assert risk.check(make_order("d", side=Side.SELL, qty=10)) is None
        assert reason(risk.check(make_order("e", side=Side.SELL, qty=1))) is Reason.REDUCE_ONLY
        assert switch.effective("acc") == (KillMode.REDUCE_ONLY, "account")
    finally:
        other.close()


@pytest.mark.parametrize("stored", ["halt", "ON", ""])
def test_unknown_kill_switch_values_fail_closed(client: resp3.Redis, stored: str) -> None:
    risk = engine(client, limits_json())
    client.set(RiskKeys().kill("acc"), stored)
    assert risk.check(make_order("a")) == Denial(Reason.KILL_SWITCH, "account kill switch is on")
    assert KillSwitch(client).get("acc") is KillMode.ON
    client.delete(RiskKeys().kill("acc"))
    assert risk.check(make_order("a")) is None


def test_rate_window_uses_server_time(client: resp3.Redis) -> None:
    risk = engine(client, limits_json({"max_orders_per_second": 3}), window_ms=300)
    results = [reason(risk.check(make_order(f"o{i}", qty=1))) for i in range(4)]
    assert results == [None, None, None, Reason.ORDER_RATE]
    time.sleep(0.35)
    assert risk.check(make_order("o9", qty=1)) is None
    assert client.zcard(RiskKeys().rate("acc")) == 1  # expired entries were pruned
    assert 0 < client.pttl(RiskKeys().rate("acc")) <= 1300


def test_release_and_fill_are_idempotent(client: resp3.Redis) -> None:
    limits = RedisLimits(client)
    req = Request("acc", "a", "AAPL", 1, 10, 10_000)
    assert limits.reserve(req) is None
    assert limits.fill("acc", "a", "x1", "AAPL", 1, 4, 9_900)
    assert not limits.fill("acc", "a", "x1", "AAPL", 1, 4, 9_900)
    assert limits.release("acc", "a") == 6
    assert limits.release("acc", "a") == 0
    assert limits.release("acc", "never") == 0
    assert limits.fill("acc", "a", "x2", "AAPL", 1, 2, 9_900)  # after release: position only
    usage = limits.usage("acc")
    assert (usage.open_orders, usage.gross) == (0, 6 * 9_900)
    (row,) = usage.symbols
    assert (row.position, row.open_buy, row.price_units) == (6, 0, 9_900)


def test_fill_that_contradicts_the_reservation_changes_nothing(client: resp3.Redis) -> None:
    limits = RedisLimits(client)
    assert limits.reserve(Request("acc", "a", "AAPL", 1, 10, 10_000)) is None
    before = limits.usage("acc")
    with pytest.raises(ValueError, match="does not match order a reserved for AAPL side 1"):
        limits.fill("acc", "a", "x1", "MSFT", 1, 1, 5_000)
    assert limits.usage("acc") == before
    assert not client.sismember(RiskKeys().execs("acc"), "x1")


def test_survives_script_flush_and_decoded_replies(server: RedisServer) -> None:
    client = flushed_client(server, decode_responses=True)
    try:
        risk = engine(client, limits_json({"max_open_orders": 1}))
        assert risk.check(make_order("a")) is None
        client.script_flush()
        assert reason(risk.check(make_order("b"))) is Reason.MAX_OPEN_ORDERS
        assert risk.release("acc", "a") == 10
        assert risk.check(make_order("b")) is None
    finally:
        client.close()


def test_gross_beyond_exact_doubles_is_refused(client: resp3.Redis) -> None:
    limits = RedisLimits(client)
    huge = Request("acc", "a", "AAPL", 1, 2**20, 2**33)  # 2**53 units
    assert reason(limits.reserve(huge)) is Reason.MAX_GROSS_EXPOSURE
    assert limits.reserve(Request("acc", "a", "AAPL", 1, 2**20, 2**33 - 1)) is None
    (row,) = limits.usage("acc").symbols
    assert row.exposure == 2**53 - 2**20  # written exactly, not as 9.007e+15
    assert client.hget(RiskKeys().book("acc"), "gross") == b"9007199253692416"


def test_accounts_and_keys_are_separate(client: resp3.Redis) -> None:
    limits = RedisLimits(client, RiskKeys("risk2"))
    assert limits.reserve(Request("a{b}", "x", "AAPL", 1, 1, 1)) is None
    assert limits.reserve(Request("other", "x", "AAPL", 1, 1, 1)) is None
    assert client.smembers("risk2:accounts") == {b"a{b}", b"other"}
    assert client.hlen("risk2:{a{b}}:orders") == 1
    assert RedisLimits(client).usage("other").open_orders == 0  # default prefix: nothing
