"""Orders through FIX: an initiator sends orders to the OMS gateway and prints the
execution reports that come back.

::

    python examples/fix_initiator.py [--redis-url URL] [--begin-string FIX.4.2] [--log-dir DIR]

Self-contained: without ``--redis-url`` it starts a throw-away Redis
(``resp3.testing.RedisServer``) and stops it at the end. In one process it then

* writes a few ticks into the market-data latest-tick cache (its own key prefix,
  ``fixdemo-md``, so a shared Redis's real cache is left alone);
* starts the acceptor: ``OmsGateway`` in front of an ``OrderManager`` (orders in
  Redis) whose pre-trade hook is the risk engine (``examples/risk_limits.json``),
  with a ``PaperVenue`` filling against the cache, polled every 50 ms;
* runs an initiator (CompID CLIENT, account ``desk-1``) that sends, one after the
  other: a marketable buy (filled), a passive buy (rests), a replace of it, a cancel
  of the replacement, a passive sell filled when a new tick arrives, an order risk
  denies, an unknown symbol and a cancel of an unknown order.

Each report is printed as it arrives (``ER`` for ExecutionReport, ``CXL-REJ`` for
OrderCancelReject). Exit status 0 when every expected report arrived, 1 otherwise
(or when Redis or the network fails). Bounded: every wait times out after 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import resp3
from trading.core import OrderType, Side, TimeInForce
from trading.fix import (
    Acceptor,
    Application,
    FileLogFactory,
    Initiator,
    Message,
    NewOrderSingle,
    OmsGateway,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    SessionID,
    SessionSettings,
    Settings,
    send_to_target,
)
from trading.market_data.codec import encode_tick, entry_id
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Tick
from trading.oms import OrderManager
from trading.oms.store import RedisOrderStore
from trading.oms.venue import RedisTickSource
from trading.risk import PositionBook, RedisLimits, RedisMarks, RiskEngine
from trading.risk import load_config as load_limits
from trading.risk.oms_hook import OmsRiskHook

EXAMPLES = Path(__file__).resolve().parent
LAYOUT = KeyLayout(prefix="fixdemo-md")
ACCOUNT = "desk-1"
WAIT = 5.0

_EXEC_TYPES = {"0": "New", "1": "Partial", "2": "Fill", "4": "Canceled", "5": "Replaced",
               "6": "PendingCancel", "8": "Rejected", "E": "PendingReplace", "F": "Trade",
               "C": "Expired"}  # fmt: skip


def publish(client: resp3.Redis, symbol: str, bid: str, ask: str) -> None:
    """Write one tick into the latest-tick cache, as the market-data publisher does."""
    stamp = time.time_ns()
    quote = FullDepth(
        bid_price=Decimal(bid), ask_price=Decimal(ask), bid_volume=500, ask_volume=800
    )
    fields = encode_tick(Tick(symbol=symbol, timestamp_ns=stamp, quote=quote))
    client.hset(LAYOUT.latest(symbol), mapping={**fields, b"id": entry_id(stamp)})
    print(f"tick   {symbol:<5} bid {bid} ask {ask}")


def describe(message: Message) -> str:
    get = message.get_str
    if message.msg_type == b"9":
        return f"CXL-REJ {get(11, '')} (orig {get(41, '')}) reason {get(102, '-')}: {get(58, '')}"
    kind = _EXEC_TYPES.get(get(150, "?"), get(150, "?"))
    text = f"ER {kind:<14} {get(11, ''):<12} {get(55, ''):<5} status {get(39, '')}"
    text += f" cum {get(14, '0')} leaves {get(151, '0')} avg {get(6, '0')}"
    if 32 in message:
        text += f"  last {get(32)} @ {get(31)}"
    if 58 in message:
        text += f"  ({get(58)})"
    return text


class Client(Application):
    """The initiator's application: queues the reports it receives."""

    def __init__(self) -> None:
        self.reports: asyncio.Queue[Message] = asyncio.Queue()

    def from_app(self, message: Message, session_id: SessionID) -> None:
        print(describe(message), flush=True)
        self.reports.put_nowait(message)

    async def expect(self, cl_ord_id: str, exec_types: str) -> Message:
        """The next report for ``cl_ord_id`` whose ExecType (or ``9``) is in ``exec_types``."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            left = deadline - asyncio.get_running_loop().time()
            message = await asyncio.wait_for(self.reports.get(), max(left, 0.01))
            code = "9" if message.msg_type == b"9" else message.get_str(150, "")
            if message.get_str(11, "") == cl_ord_id and code in exec_types:
                return message


def new_order(begin: str, cl: str, symbol: str, side: Side, qty: int, price: str | None) -> Message:
    order = NewOrderSingle(
        cl_ord_id=cl,
        side=side,
        transact_time=_now(),
        ord_type=OrderType.LIMIT if price else OrderType.MARKET,
        symbol=symbol,
        order_qty=Decimal(qty),
        price=Decimal(price) if price else None,
        time_in_force=TimeInForce.DAY,
        account=ACCOUNT,
    )
    return order.to_message(begin)


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def scenario(client: Client, sid: SessionID, redis: resp3.Redis) -> None:
    begin = sid.begin_string
    run = uuid.uuid4().hex[:6]
    ids = iter(f"{run}-{n}" for n in range(1, 100))
    trade = "F12"

    def send(message: Message) -> None:
        send_to_target(message, sid)

    taker = next(ids)
    send(new_order(begin, taker, "AAPL", Side.BUY, 100, "187.30"))
    await client.expect(taker, "0")
    await client.expect(taker, trade)

    maker = next(ids)
    send(new_order(begin, maker, "MSFT", Side.BUY, 200, "409.00"))
    await client.expect(maker, "0")

    moved = next(ids)
    replace = OrderCancelReplaceRequest(
        orig_cl_ord_id=maker, cl_ord_id=moved, side=Side.BUY, transact_time=_now(),
        ord_type=OrderType.LIMIT, symbol="MSFT", order_qty=Decimal(150), price=Decimal("409.50"),
        account=ACCOUNT,
    )  # fmt: skip
    send(replace.to_message(begin))
    await client.expect(moved, "E")
    await client.expect(moved, "5")

    cancel_id = next(ids)
    cancel = OrderCancelRequest(
        orig_cl_ord_id=moved, cl_ord_id=cancel_id, side=Side.BUY, transact_time=_now(),
        symbol="MSFT", order_qty=Decimal(150), account=ACCOUNT,
    )  # fmt: skip
    send(cancel.to_message(begin))
    await client.expect(cancel_id, "6")
    await client.expect(cancel_id, "4")

    seller = next(ids)
    send(new_order(begin, seller, "AAPL", Side.SELL, 50, "187.40"))
    await client.expect(seller, "0")
    publish(redis, "AAPL", "187.40", "187.45")  # the bid reaches the limit: the poll fills it
    await client.expect(seller, trade)

    too_big = next(ids)
    send(new_order(begin, too_big, "AAPL", Side.BUY, 1500, "187.45"))
    await client.expect(too_big, "8")

    unknown = next(ids)
    send(new_order(begin, unknown, "ZZZZ", Side.BUY, 10, "1.00"))
    await client.expect(unknown, "8")

    lost = next(ids)
    ghost = OrderCancelRequest(
        orig_cl_ord_id="no-such-order", cl_ord_id=lost, side=Side.SELL, transact_time=_now(),
        symbol="AAPL", account=ACCOUNT,
    )  # fmt: skip
    send(ghost.to_message(begin))
    await client.expect(lost, "9")


async def run(url: str, begin: str, log_dir: str | None) -> int:
    redis = resp3.Redis.from_url(url, socket_timeout=5.0)
    try:
        for symbol, bid, ask in (("AAPL", "187.20", "187.25"), ("MSFT", "410.10", "410.20")):
            publish(redis, symbol, bid, ask)
        limits = load_limits(EXAMPLES / "risk_limits.json")
        marks = RedisMarks(redis, LAYOUT)
        engine = RiskEngine(limits, RedisLimits(redis), marks, positions=PositionBook(redis))
        hook = OmsRiskHook(engine)
        manager = OrderManager(RedisOrderStore(redis), pre_trade=hook)
        gateway = OmsGateway(
            manager, RedisTickSource(redis, LAYOUT), limits.instrument, on_change=hook.on_change
        )
        logs = FileLogFactory(log_dir) if log_dir else None
        server = Acceptor(
            Settings((SessionSettings(begin, "BROKER", "CLIENT"),)), gateway, log_factory=logs
        )
        await server.start()
        print(f"acceptor: OMS gateway on 127.0.0.1:{server.port} ({begin})")
        client = Client()
        settings = SessionSettings(
            begin, "CLIENT", "BROKER", heartbeat_interval=10,
            connect_host="127.0.0.1", connect_port=server.port, reset_on_logon=True,
        )  # fmt: skip
        initiator = Initiator(Settings((settings,)), client, log_factory=logs)
        poller = asyncio.create_task(_poll(gateway))
        try:
            await initiator.start()
            await initiator.wait_for_logon(timeout=WAIT)
            print("initiator: logged on")
            await scenario(client, settings.session_id, redis)
            print("every expected report arrived")
            return 0
        except asyncio.TimeoutError:
            print("fix_initiator: a report did not arrive within 5 s", file=sys.stderr)
            return 1
        finally:
            poller.cancel()
            await initiator.stop()
            await server.stop()
            print("initiator and acceptor stopped")
    finally:
        redis.close()


async def _poll(gateway: OmsGateway) -> None:
    while True:
        await asyncio.sleep(0.05)
        gateway.poll()


@contextlib.contextmanager
def redis_url(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    from resp3.testing import RedisServer

    with RedisServer() as server:
        print(f"server: {Path(server.binary).name} pid {server.pid} on {server.url}")
        yield server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", help="default: start a throw-away server")
    parser.add_argument("--begin-string", default="FIX.4.4", choices=("FIX.4.2", "FIX.4.4"))
    parser.add_argument("--log-dir", help="write FIX message and event logs here")
    args = parser.parse_args(argv)
    try:
        with redis_url(args.redis_url) as url:
            return asyncio.run(run(url, args.begin_string, args.log_dir))
    except (resp3.RedisError, OSError, RuntimeError) as exc:
        print(f"fix_initiator: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
