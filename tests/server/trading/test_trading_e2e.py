"""OMS + pre-trade risk + market data, end to end.

* ``examples/orders_demo.py`` as a subprocess: on its own throw-away server, and on a
  given Redis where the operator commands then read what it left (every reservation
  released, the limits book and the exact positions agreeing);
* two processes, each with its own ``OrderManager`` (pre-trade risk as its hook) and
  paper venue on the market-data cache, racing at a position limit in one Redis: the
  limit holds across them, and the OMS, the limits and the positions agree afterwards;
* the manager's replace hook, in memory and through Redis: a replace that would breach
  a limit is refused with the risk reason code and changes nothing (order, history,
  reservations); the state machine refuses before risk is asked; ``apply_many`` hands
  the refusal back as a value;
* ``RiskDenied`` with its code and message; ``trading.oms`` and ``trading.risk``
  importable without numpy.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import pickle
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _oms_support import check_order

import resp3
from resp3.testing import RedisServer
from trading import cli_ops
from trading.core import Instrument, Order, OrderType, Price, Quantity, Side
from trading.errors import InvalidTransition, OrderError, ReplaceDenied, RiskDenied
from trading.market_data.codec import encode_tick, entry_id
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Tick
from trading.oms import (
    Accept,
    CancelRequest,
    Change,
    Event,
    FillReport,
    OrderManager,
    OrderState,
    OrderStatus,
    ReplaceAccept,
    ReplaceRequest,
)
from trading.oms.store import RedisOrderStore
from trading.oms.venue import PaperVenue, RedisTickSource
from trading.risk import (
    Limits,
    MemoryLimits,
    PositionBook,
    RedisLimits,
    RedisMarks,
    RiskEngine,
    RiskKeys,
    StaticMarks,
    parse_config,
)
from trading.risk.oms_hook import OmsRiskHook
from trading.risk.reasons import Denial, Reason

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "orders_demo.py"
AAPL = Instrument("AAPL", Decimal("0.01"))
ACC = "acc"
CODES = {reason.value for reason in Reason}

#: One symbol, a long limit of 100 shares, everything else generous.
LIMITS = json.dumps(
    {
        "instruments": [{"symbol": "AAPL", "tick_size": "0.01"}],
        "defaults": {
            "account": {
                "max_gross_exposure": None,
                "max_open_orders": None,
                "max_orders_per_second": None,
            },
            "symbol": {
                "max_order_quantity": 1000,
                "max_order_notional": None,
                "max_long_position": 100,
                "max_short_position": 100,
                "price_collar_percent": 5,
            },
        },
    }
)


def env() -> dict[str, str]:
    """The environment for a child interpreter that imports the package from this tree."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def buy(cid: str, qty: int = 7, px: str = "100.02", account: str = ACC) -> Order:
    return Order(cid, account, AAPL, Side.BUY, OrderType.LIMIT, Quantity(qty), Price(px))


def publish_tick(client: resp3.Redis, layout: KeyLayout, bid: str, ask: str) -> None:
    """Write the latest-tick cache exactly as the market-data publisher does."""
    ts = time.time_ns()
    quote = FullDepth(
        bid_price=Decimal(bid), ask_price=Decimal(ask), bid_volume=10_000, ask_volume=10_000
    )
    fields = encode_tick(Tick(symbol="AAPL", timestamp_ns=ts, quote=quote))
    client.hset(layout.latest("AAPL"), mapping={**fields, b"id": entry_id(ts)})


# -- the example script ----------------------------------------------------------------------


def run_example(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def assert_trading_output(out: str) -> None:
    fills = re.findall(r"fill (\d+) @ (\d+\.\d+)", out)
    assert fills, out
    codes = set(re.findall(r"DENIED (\w+): ", out))
    assert codes and codes <= CODES, out
    assert "max_order_quantity" in codes  # the deliberate breaches
    table = out.split("positions and P&L", 1)[1]
    assert re.search(r"^desk-1\s+[A-Z]+\s+-?\d+\s", table, re.MULTILINE), out
    assert "summary:" in table and "denials by reason: " in table


@pytest.mark.timeout(60)
def test_example_runs_on_its_own_server() -> None:
    out = run_example("--duration", "2")
    assert out.startswith("server: ") and out.rstrip().endswith("server stopped")
    assert_trading_output(out)


@pytest.mark.timeout(60)
def test_example_on_a_given_redis_leaves_what_the_operator_commands_read(
    server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://{server.host}:{server.port}/5"  # a database of its own: default prefixes
    client = resp3.Redis.from_url(url)
    client.flushdb()
    try:
        out = run_example("--redis-url", url, "--duration", "1", "--seed", "11")
        assert_trading_output(out)
        assert not out.startswith("server: ")
        assert cli_ops.main(["positions", "--redis-url", url, "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows and {row["account"] for row in rows} <= {"desk-1", "intern"}
        assert cli_ops.main(["orders", "list", "--status", "open", "--redis-url", url]) == 0
        assert capsys.readouterr().out.strip() == "(none)"  # the session end canceled them
        book, limits = PositionBook(client), RedisLimits(client)
        for account in {row["account"] for row in rows}:
            usage = limits.usage(account)
            assert usage.open_orders == 0, usage  # every reservation was released
            exact = book.positions(account)
            for row in usage.symbols:  # lots of 1: the limits book agrees with the positions
                assert (row.open_buy, row.open_sell) == (0, 0), row
                held = exact.get(row.symbol)
                assert row.position == (held.quantity.value if held else 0), row
    finally:
        client.flushdb()
        client.close()


# -- two processes, one Redis ------------------------------------------------------------------


def trading_worker(task: dict[str, Any] | None) -> dict[str, Any]:
    """One trading process: its own manager (pre-trade risk as hook) and paper venue on
    the market-data cache. Waits for the shared start time, then submits its orders one
    after another. ``None`` only imports this module (warms the pool up)."""
    if task is None:
        return {}
    client = resp3.Redis.from_url(task["url"], socket_timeout=10.0)
    layout, keys = KeyLayout(task["md"]), RiskKeys(task["risk"])
    engine = RiskEngine(
        parse_config(task["limits"]),
        RedisLimits(client, keys),
        RedisMarks(client, layout),
        positions=PositionBook(client, keys),
    )
    hook = OmsRiskHook(engine)
    manager = OrderManager(RedisOrderStore(client, prefix=task["oms"]), pre_trade=hook)

    def on_report(event: Event) -> None:
        hook.on_change(manager.apply(event))

    venue = PaperVenue(RedisTickSource(client, layout), on_report, name=task["name"])
    orders = [buy(f"{task['name']}-{i}") for i in range(task["count"])]
    client.ping()
    time.sleep(max(0.0, task["start"] - time.time()))
    accepted, denied = [], []
    first = time.time()
    for order in orders:
        change = manager.submit(order)
        hook.on_change(change)
        if change.after.status is OrderStatus.PENDING_NEW:
            accepted.append(order.client_order_id)
            venue.new_order(order)
        else:
            denied.append(change.after.reason or "")
    last = time.time()
    client.close()
    return {"accepted": accepted, "denied": denied, "first": first, "last": last}


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as workers:
        workers.map(trading_worker, [None, None])  # import everything before the clock runs
        yield workers


@pytest.mark.timeout(60)
def test_two_processes_share_the_position_limit(pool: Any, server: RedisServer) -> None:
    run = uuid.uuid4().hex[:8]
    client = resp3.Redis(host=server.host, port=server.port)
    md, oms, risk = f"mde-{run}", f"omse-{run}", f"riske-{run}"
    publish_tick(client, KeyLayout(md), "99.99", "100.01")
    start = time.time() + 0.5
    tasks = [
        {"url": server.url, "limits": LIMITS, "md": md, "oms": oms, "risk": risk,
         "name": name, "count": 20, "start": start}
        for name in ("p1", "p2")
    ]  # fmt: skip
    try:
        reports: list[dict[str, Any]] = pool.map(trading_worker, tasks)
        accepted = [cid for report in reports for cid in report["accepted"]]
        denied = [reason for report in reports for reason in report["denied"]]
        spans = sorted((report["first"], report["last"]) for report in reports)
        assert spans[1][0] < spans[0][1], spans  # the two really submitted at once
        assert len(accepted) == 14  # 14 * 7 = 98 <= 100 < 105
        assert len(denied) == 26
        assert {reason.partition(": ")[0] for reason in denied} == {"max_long_position"}
        store = RedisOrderStore(client, prefix=oms)
        for cid in (f"{name}-{i}" for name in ("p1", "p2") for i in range(20)):
            state = check_order(store, ACC, cid)
            assert state.status is (OrderStatus.FILLED if cid in accepted else OrderStatus.DENIED)
        keys = RiskKeys(risk)
        (row,) = RedisLimits(client, keys).usage(ACC).symbols
        assert (row.position, row.open_buy) == (98, 0)
        position = PositionBook(client, keys).get(ACC, "AAPL")
        assert position is not None and position.quantity == Quantity(98)
        assert position.cost.amount == Decimal("100.01") * 98  # every fill at the ask
    finally:
        for prefix in (md, oms, risk):
            found = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if found:
                client.delete(*found)
        client.close()


# -- the replace hook ----------------------------------------------------------------------------


class CountingHook:
    """An ``OmsRiskHook`` that counts the replace checks it was asked for."""

    def __init__(self, hook: OmsRiskHook) -> None:
        self.hook = hook
        self.replace_checks = 0

    def check(self, order: Order) -> str | None:
        return self.hook.check(order)

    def check_replace(self, state: OrderState, request: ReplaceRequest) -> str | None:
        self.replace_checks += 1
        return self.hook.check_replace(state, request)


class Desk:
    """A manager with pre-trade risk (in memory, or through Redis), and helpers that
    feed every change to the hook as a real caller must."""

    def __init__(self, limits: Limits, store: RedisOrderStore | None) -> None:
        engine = RiskEngine(parse_config(LIMITS), limits, StaticMarks({"AAPL": Decimal(100)}))
        self.limits = limits
        self.hook = OmsRiskHook(engine)
        self.counting = CountingHook(self.hook)
        self.manager = OrderManager(store, pre_trade=self.counting)
        self.store = store

    def apply(self, event: Event) -> Change:
        change = self.manager.apply(event)
        self.hook.on_change(change)
        return change

    def working(self, cid: str, qty: int) -> OrderState:
        change = self.manager.submit(buy(cid, qty))
        self.hook.on_change(change)
        return self.apply(Accept(ACC, cid, exec_id=f"a-{cid}")).after

    def snapshot(self, cid: str) -> tuple[Any, ...]:
        """Everything a refused request must leave alone."""
        stored = None
        if self.store is not None:
            loaded = self.store.load(ACC, cid)
            assert loaded is not None
            stored = (loaded.state, self.store.history(ACC, cid))
        # ``recent`` (orders in the last second) moves with the clock alone
        usage = dataclasses.replace(self.limits.usage(ACC), recent=0)
        return self.manager.get(ACC, cid), stored, usage


@pytest.fixture(params=["memory", "redis"])
def desk(request: pytest.FixtureRequest, server: RedisServer) -> Iterator[Desk]:
    if request.param == "memory":
        yield Desk(MemoryLimits(), None)
        return
    run = uuid.uuid4().hex[:8]
    client = resp3.Redis(host=server.host, port=server.port)
    store = RedisOrderStore(client, prefix=f"omsr-{run}")
    yield Desk(RedisLimits(client, RiskKeys(f"riskr-{run}")), store)
    found = list(client.scan_iter(match=f"*r-{run}:*", count=1000))
    if found:
        client.delete(*found)
    client.close()


def test_replace_breaching_a_limit_is_refused_with_the_reason_and_changes_nothing(
    desk: Desk,
) -> None:
    desk.working("a", 40)
    before = desk.snapshot("a")
    with pytest.raises(ReplaceDenied) as info:
        desk.apply(ReplaceRequest(ACC, "a", "a2", Quantity(70)))  # 40 + 70 open > 100
    error = info.value
    assert isinstance(error, RiskDenied) and isinstance(error, OrderError)
    assert error.code == Reason.MAX_LONG_POSITION.value
    assert error.message.startswith("acc/a replace by a2: AAPL: long position could reach 110")
    assert str(error) == f"{error.code}: {error.message}"
    assert desk.snapshot("a") == before
    assert desk.manager.get(ACC, "a2") is None
    # within the limit while both terms count (40 + 50), then only the new ones
    change = desk.apply(ReplaceRequest(ACC, "a", "a3", Quantity(50)))
    assert change.after.status is OrderStatus.PENDING_REPLACE
    assert desk.limits.usage(ACC).symbols[0].open_buy == 90
    change = desk.apply(ReplaceAccept(ACC, "a", exec_id="r-a"))
    assert change.replacement is not None and change.replacement.order.quantity == Quantity(50)
    assert desk.limits.usage(ACC).symbols[0].open_buy == 50
    if desk.store is not None:
        check_order(desk.store, ACC, "a3")


def test_the_state_machine_refuses_before_risk_is_asked(desk: Desk) -> None:
    desk.working("a", 40)
    desk.apply(CancelRequest(ACC, "a"))
    before = desk.snapshot("a")
    with pytest.raises(InvalidTransition):
        desk.apply(ReplaceRequest(ACC, "a", "a2", Quantity(50)))
    assert desk.counting.replace_checks == 0
    assert desk.snapshot("a") == before  # nothing reserved under a2 either
    assert desk.manager.submit(buy("a2", 10)).after.status is OrderStatus.PENDING_NEW


def test_apply_many_returns_a_refused_replace_as_a_value(desk: Desk) -> None:
    desk.working("a", 40)
    desk.manager.submit(buy("b", 10))
    results = desk.manager.apply_many(
        [
            Accept(ACC, "b", exec_id="a-b"),
            ReplaceRequest(ACC, "a", "a2", Quantity(90)),
            FillReport(ACC, "a", "f-a", Quantity(5), Price("100.00")),
            ReplaceRequest(ACC, "a", "a3", Quantity(45)),
        ]
    )
    for result in results:
        if isinstance(result, Change):
            desk.hook.on_change(result)
    accept, refused, filled, replaced = results
    assert isinstance(refused, ReplaceDenied) and refused.code == "max_long_position"
    assert isinstance(accept, Change) and accept.after.status is OrderStatus.NEW
    assert isinstance(filled, Change) and filled.after.cum_qty == Quantity(5)
    assert isinstance(replaced, Change) and replaced.after.status is OrderStatus.PENDING_REPLACE
    assert desk.counting.replace_checks == 2


# -- RiskDenied --------------------------------------------------------------------------------


def test_risk_denied_carries_code_and_message() -> None:
    error = RiskDenied("max_open_orders", "account a: 5 open orders, limit 5")
    assert (error.code, error.message) == ("max_open_orders", "account a: 5 open orders, limit 5")
    assert error.reason == str(error) == "max_open_orders: account a: 5 open orders, limit 5"
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.code, again.message) == (RiskDenied, error.code, error.message)
    parsed = RiskDenied.from_reason(error.reason)
    assert (parsed.code, parsed.message) == (error.code, error.message)
    loose = RiskDenied.from_reason("Too big: try less")  # not a code: kept whole
    assert (loose.code, loose.message) == ("unspecified", "Too big: try less")
    denied = Denial(Reason.KILL_SWITCH, "global kill switch is on").error()
    assert isinstance(denied, RiskDenied)
    assert denied.code is Reason.KILL_SWITCH
    plain: str = denied.code  # a Reason is a str: the plain code compares equal
    assert plain == "kill_switch"
    assert denied.message == "global kill switch is on"
    assert pickle.loads(pickle.dumps(denied)).denial == denied.denial


# -- without numpy -----------------------------------------------------------------------------

NO_NUMPY = """
import sys
sys.modules["numpy"] = None  # any import of numpy now raises ImportError
"""


def run_without_numpy(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_NUMPY + code],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_oms_and_risk_import_and_work_without_numpy() -> None:
    code = """
import trading.oms, trading.risk
from trading.core import Instrument, Order, OrderType, Price, Quantity, Side
from trading.oms import OrderManager, OrderStatus
from trading.oms.store import RedisOrderStore
from trading.risk import KillSwitch, MemoryLimits, Reason, RedisLimits, load_config
from trading.risk.checks import evaluate
from trading.market_data.config import load_config as load_market_data
config = load_config("examples/risk_limits.json")
load_market_data("examples/market_data.json")
rules = config.symbol_rules("desk-1", "AAPL")
order = Order("c1", "desk-1", rules.instrument, Side.BUY, OrderType.LIMIT, Quantity(5),
              Price("100.00"))
assert OrderManager().submit(order).after.status is OrderStatus.PENDING_NEW
assert sys.modules["numpy"] is None
print("ok")
"""
    done = run_without_numpy(code)
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr


def test_numpy_is_really_blocked_in_that_check() -> None:
    done = run_without_numpy("import trading.market_data.generators")
    assert done.returncode == 1 and "import of numpy halted" in done.stderr, done.stderr


def test_risk_engine_imports_without_numpy() -> None:
    done = run_without_numpy("from trading.risk import RiskEngine\nprint('ok')")
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
