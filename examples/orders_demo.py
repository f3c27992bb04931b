"""Orders through pre-trade risk to the paper venue while market data is published.

::

    python examples/orders_demo.py [--redis-url URL] [--duration S] [--seed N] [--rate N]

Everything shares one Redis:

* the market-data publisher (``examples/market_data.json``) runs in a background thread
  and keeps the latest-tick cache (``md:{SYMBOL}:last``) fresh;
* an ``OrderManager`` persists orders in Redis (``RedisOrderStore``), with the risk
  engine (``examples/risk_limits.json``: ``RedisLimits``, ``RedisMarks``,
  ``PositionBook``) as its pre-trade check, through ``OmsRiskHook``, for new orders and
  for replace requests;
* the ``PaperVenue`` fills against the latest-tick cache, and its reports go back
  through the manager to the hook (fills move positions, cancels free reservations);
* a seeded random stream of orders for two accounts. ``desk-1`` trades within its
  limits, except every eighth action, which breaks one on purpose (order size, price
  collar, a replace that grows an order past its limit). ``intern`` has tight limits
  (2 orders a second, 50 000 USD of gross exposure) and runs into them as it trades.

It prints each order's fate (accepted, or denied with its reason code) and each fill as
they happen, then cancels what still rests at the venue, and prints the positions and
P&L per account and symbol, marked to the latest-tick cache, and a summary.

Without ``--redis-url`` it starts a throw-away server (``resp3.testing.RedisServer``)
and stops it at the end. With ``--redis-url`` it uses the default key prefixes (``md``,
``oms``, ``risk``), so the operator commands can look at the result afterwards::

    ocamlot orders list --redis-url URL
    ocamlot positions --redis-url URL
    ocamlot risk limits --config examples/risk_limits.json --redis-url URL

Client order IDs carry a random run ID, so runs never collide; positions accumulate
across runs on one Redis. Exit status: 0 on success, 1 when Redis fails or no market
data arrives, 2 for a bad limits or market-data file.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

import resp3
from trading.cli_ops import table
from trading.core import Order, OrderType, Price, Quantity, Side
from trading.errors import ConfigError, OrderError, ReplaceDenied, TradingError
from trading.market_data.config import load_config as load_market_data
from trading.market_data.keys import KeyLayout
from trading.market_data.publisher import Publisher, PublisherStats, publisher_client
from trading.oms import (
    CancelRequest,
    Change,
    Event,
    EventKind,
    FillReport,
    OrderManager,
    OrderStatus,
    ReplaceRequest,
)
from trading.oms.store import RedisOrderStore
from trading.oms.venue import PaperVenue, RedisTickSource, executable
from trading.risk import PositionBook, RedisLimits, RedisMarks, RiskConfig, RiskEngine
from trading.risk import load_config as load_limits
from trading.risk.oms_hook import OmsRiskHook

EXAMPLES = Path(__file__).resolve().parent
ACCOUNTS = ("desk-1", "intern")
CENT = Decimal("0.01")
#: What desk-1 does every eighth action, in turn: each breaks one limit on purpose.
BREACHES = ("order_size", "price_collar", "replace_too_big", "tsla_size")


class Session:
    """The order flow's side of the demo: manager, risk hook and venue, and the tally.

    Every change the manager makes goes through :meth:`record`, which feeds the risk
    hook (fills move positions, cancels and rejects free reservations) and prints it.
    """

    def __init__(self, client: resp3.Redis, layout: KeyLayout, config: RiskConfig) -> None:
        marks = RedisMarks(client, layout)
        self.engine = RiskEngine(config, RedisLimits(client), marks, positions=PositionBook(client))
        self.hook = OmsRiskHook(self.engine)
        self.manager = OrderManager(RedisOrderStore(client), pre_trade=self.hook)
        self.ticks = RedisTickSource(client, layout)
        self.venue = PaperVenue(self.ticks, self.on_report, name="demo")
        self.marks = marks
        self.config = config
        self.started = time.monotonic()
        self.ids: list[tuple[str, str]] = []
        self.tally: Counter[str] = Counter()
        self.denials: Counter[str] = Counter()

    # -- output --------------------------------------------------------------------------

    def say(self, account: str, client_order_id: str, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"{elapsed:6.2f}s  {account:<7} {client_order_id:<14} {text}", flush=True)

    def record(self, change: Change) -> None:
        self.hook.on_change(change)
        if change.duplicate:
            return
        after, event = change.after, change.event
        order, filled = after.order, f"{after.cum_qty.value}/{after.order.quantity.value}"
        text = None
        match change.kind:
            case EventKind.DENY:
                code, _, message = (after.reason or "").partition(": ")
                self.denials[code] += 1
                text = f"{describe(order)}  DENIED {code}: {message}"
            case EventKind.ACCEPT:
                self.tally["accepted"] += 1
                text = f"{describe(order)}  accepted"
            case EventKind.REJECT:
                self.tally["rejected"] += 1
                text = f"{describe(order)}  rejected by the venue: {after.reason}"
            case EventKind.FILL_PARTIAL | EventKind.FILL_COMPLETE:
                assert isinstance(event, FillReport)
                self.tally["fills"] += 1
                text = f"fill {event.quantity.value} @ {event.price.value}  ({filled} filled)"
            case EventKind.CANCEL_ACCEPT:
                self.tally["canceled"] += 1
                text = f"canceled ({filled} filled)"
            case EventKind.REPLACE_ACCEPT:
                assert change.replacement is not None
                self.tally["replaced"] += 1
                new = change.replacement
                text = f"replaced by {new.client_order_id}: {describe(new.order)}"
        if text is not None:
            self.say(after.account, after.client_order_id, text)

    def on_report(self, event: Event) -> None:
        """The venue's report sink: apply to the manager, then as every change."""
        self.record(self.manager.apply(event))

    # -- actions -------------------------------------------------------------------------

    def submit(self, order: Order) -> None:
        self.ids.append((order.account, order.client_order_id))
        self.tally["submitted"] += 1
        change = self.manager.submit(order)  # the manager runs pre_trade.check
        self.record(change)
        if change.after.status is OrderStatus.PENDING_NEW and not change.duplicate:
            self.venue.new_order(order)

    def replace(self, order: Order, new_id: str, **terms: Any) -> None:
        account, old_id = order.account, order.client_order_id
        self.tally["replace requests"] += 1
        try:
            change = self.manager.apply(ReplaceRequest(account, old_id, new_id, **terms))
        except ReplaceDenied as exc:  # risk refused the new terms: nothing changed
            self.denials[f"{exc.code} (replace)"] += 1
            self.say(account, old_id, f"replace DENIED {exc.code}: {exc.message}")
            return
        except OrderError as exc:  # the OMS refused it (say, it changes nothing)
            self.say(account, old_id, f"replace refused: {exc}")
            return
        self.ids.append((account, new_id))
        self.record(change)
        self.venue.replace_order(change.after)

    def cancel(self, order: Order) -> None:
        state = self.manager.get(order.account, order.client_order_id)
        if state is None or not state.is_open or state.status not in _WORKING:
            return
        change = self.manager.apply(CancelRequest(order.account, order.client_order_id))
        self.record(change)
        self.venue.cancel_order(change.after)

    def resting(self, account: str) -> list[Order]:
        return [o for o in self.venue.resting() if o.account == account and o.limit_price]


_WORKING = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def describe(order: Order) -> str:
    price = f" {order.limit_price.value}" if order.limit_price is not None else ""
    kind = order.order_type.value
    return f"{order.side.value} {order.quantity.value} {order.symbol} {kind}{price}"


class OrderFlow:
    """A seeded random stream of orders, priced off the latest-tick cache."""

    def __init__(self, session: Session, seed: int, run_id: str, symbols: list[str]) -> None:
        self.session = session
        self.rng = random.Random(seed)
        self.run_id = run_id
        self.symbols = symbols
        self.count = 0  # client order IDs handed out
        self.actions = 0

    def next_id(self) -> str:
        self.count += 1
        return f"{self.run_id}-{self.count:04d}"

    def quote(self, symbol: str) -> tuple[Decimal, Decimal] | None:
        tick = self.session.ticks.latest(symbol)
        if tick is None:
            return None
        return executable(Side.SELL, tick)[0], executable(Side.BUY, tick)[0]

    def order(self, account: str, symbol: str, side: Side, qty: int, style: str) -> Order | None:
        quote = self.quote(symbol)
        instrument = self.session.config.instrument(symbol)
        if quote is None or instrument is None:
            return None
        bid, ask = quote
        ticks = Decimal(self.rng.randint(1, 3)) * CENT
        price: Decimal | None
        if style == "market":
            price = None
        elif style == "marketable":
            price = ask + ticks if side is Side.BUY else bid - ticks
        elif style == "passive":
            price = bid - 4 * ticks if side is Side.BUY else ask + 4 * ticks
        else:  # "collar": 8 % through the market, beyond every configured collar
            price = (ask * Decimal("1.08")).quantize(CENT)
        kind = OrderType.MARKET if price is None else OrderType.LIMIT
        limit = None if price is None else Price(price)
        return Order(self.next_id(), account, instrument, side, kind, Quantity(qty), limit)

    def step(self) -> None:
        """One action: mostly a new order, sometimes a cancel or a replace."""
        rng, session = self.rng, self.session
        self.actions += 1
        action = self.actions
        if action % 8 == 0:
            self.breach(BREACHES[(action // 8 - 1) % len(BREACHES)])
            return
        resting = session.resting("desk-1")
        if resting and action % 11 == 0:
            session.cancel(rng.choice(resting))
        if resting and action % 13 == 0:
            self.reprice(rng.choice(resting))
        account = "intern" if rng.random() < 0.3 else "desk-1"
        symbol = rng.choice(self.symbols)
        side = rng.choice((Side.BUY, Side.SELL))
        qty = rng.randrange(10, 201 if symbol == "TSLA" else 301, 10)
        style = rng.choices(("marketable", "passive", "market"), (6, 3, 1))[0]
        order = self.order(account, symbol, side, qty, style)
        if order is not None:
            session.submit(order)

    def reprice(self, order: Order) -> None:
        """A replace within the limits: move a resting order to the touch (it fills)."""
        quote = self.quote(order.symbol)
        if quote is not None:
            bid, ask = quote
            price = ask if order.side is Side.BUY else bid
            self.session.replace(order, self.next_id(), limit_price=Price(price))

    def breach(self, kind: str) -> None:
        symbol = "TSLA" if kind == "tsla_size" else self.rng.choice(self.symbols)
        if kind == "replace_too_big":
            self.replace_too_big(symbol)
            return
        qty, style = {"price_collar": (50, "collar"), "tsla_size": (300, "marketable")}.get(
            kind, (1500, "marketable")
        )
        order = self.order("desk-1", symbol, Side.BUY, qty, style)
        if order is not None:
            self.session.submit(order)

    def replace_too_big(self, symbol: str) -> None:
        """Grow a resting order past the order-size limit (placing one first if none
        rests): the manager's pre-trade hook refuses it and the order works on."""
        resting = self.session.resting("desk-1")
        if not resting:
            order = self.order("desk-1", symbol, Side.BUY, 100, "passive")
            if order is None:
                return
            self.session.submit(order)
            resting = self.session.resting("desk-1")
        if resting:
            self.session.replace(resting[0], self.next_id(), quantity=Quantity(5000))


# -- the run ---------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_url(url: str | None) -> Iterator[str]:
    """``url``, or a throw-away server's for the duration of the block."""
    if url is not None:
        yield url
        return
    from resp3.testing import RedisServer

    with RedisServer() as server:
        print(f"server: {Path(server.binary).name} pid {server.pid} on {server.url}")
        yield server.url
    print("server stopped")


def wait_for_ticks(ticks: RedisTickSource, symbols: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(ticks.latest(symbol) is not None for symbol in symbols):
            return True
        time.sleep(0.02)
    return False


def run(url: str, args: argparse.Namespace) -> int:
    md_config = load_market_data(EXAMPLES / "market_data.json")
    md_config = msgspec.structs.replace(md_config, seed=args.seed)
    limits = load_limits(EXAMPLES / "risk_limits.json")
    symbols = [s for s in md_config.symbols if limits.instrument(s) is not None]
    layout = KeyLayout()
    publisher = Publisher(publisher_client(url), md_config, layout=layout)
    feed = threading.Thread(target=publisher.run, name="market-data", daemon=True)

    def stop_publisher() -> None:
        publisher.stop()
        feed.join(timeout=5.0)

    feed.start()
    client = resp3.Redis.from_url(url, socket_timeout=5.0)
    try:
        session = Session(client, layout, limits)
        if not wait_for_ticks(session.ticks, symbols, timeout=5.0):
            print("no market data arrived within 5 s", file=sys.stderr)
            return 1
        print(f"trading {', '.join(symbols)} for {args.duration:g} s (seed {args.seed})")
        flow = OrderFlow(session, args.seed, uuid.uuid4().hex[:6], symbols)
        session.started = time.monotonic()
        end = session.started + args.duration
        while (now := time.monotonic()) < end:
            session.venue.poll()
            flow.step()
            time.sleep(max(0.0, min(1 / args.rate, end - now)))
        print("session end: canceling what still rests at the venue")
        for order in list(session.venue.resting()):
            session.cancel(order)
        stop_publisher()
        report(session, publisher.stats)
        return 0
    finally:
        stop_publisher()
        publisher.client.close()
        client.close()


def report(session: Session, stats: PublisherStats) -> None:
    book = session.engine.positions
    assert book is not None
    rows: list[dict[str, Any]] = []
    for account in ACCOUNTS:
        realized = unrealized = Decimal(0)
        for view in book.report(account, session.marks):
            pos = view.position
            avg = pos.average_price
            unreal = view.unrealized.amount if view.unrealized is not None else None
            rows.append(
                {
                    "account": account,
                    "symbol": view.symbol,
                    "quantity": pos.quantity.value,
                    "avg_price": None if avg is None else avg.value.quantize(CENT),
                    "realized": pos.realized_pnl.amount.quantize(CENT),
                    "mark": view.mark,
                    "unrealized": None if unreal is None else unreal.quantize(CENT),
                }
            )
            realized += pos.realized_pnl.amount
            unrealized += unreal or 0
        rows.append(
            {
                "account": account,
                "symbol": "total",
                "realized": realized.quantize(CENT),
                "unrealized": unrealized.quantize(CENT),
            }
        )
    columns = ("account", "symbol", "quantity", "avg_price", "realized", "mark", "unrealized")
    print(f"\npositions and P&L ({session.config.currency}, marked to the latest-tick cache):")
    print(table(rows, columns))
    statuses: Counter[str] = Counter()
    for account, client_order_id in session.ids:
        state = session.manager.get(account, client_order_id)
        statuses[state.status.value if state is not None else "unknown"] += 1
    tally, denied = session.tally, session.denials
    print("\nsummary:")
    print(
        f"  orders: {tally['submitted']} submitted, {tally['accepted']} accepted and "
        f"{tally['rejected']} rejected by the venue, {sum(denied.values())} denials, "
        f"{tally['fills']} fills, {tally['canceled']} canceled, "
        f"{tally['replace requests']} replace requests ({tally['replaced']} replaced)"
    )
    print("  denials by reason: " + _counts(denied))
    print("  final status of every order ID: " + _counts(statuses))
    print(f"  market data: {stats.summary()}")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counter.most_common()) or "none"


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", help="default: start a throw-away server")
    parser.add_argument("--duration", type=_positive, default=5.0, help="seconds of trading")
    parser.add_argument("--seed", type=int, default=7, help="market data and order stream")
    parser.add_argument("--rate", type=_positive, default=20.0, help="actions per second")
    args = parser.parse_args(argv)
    try:
        with redis_url(args.redis_url) as url:
            return run(url, args)
    except ConfigError as exc:
        print(f"orders_demo: {exc}", file=sys.stderr)
        return 2
    except (TradingError, resp3.RedisError, OSError, RuntimeError) as exc:
        print(f"orders_demo: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
