"""FIX session: round-trip orders per second through a local acceptor.

Run from the repository root: ``.venv/bin/python bench/bench_fix_session.py
[--orders 20000] [--window 100] [--repeats 3]``.

An initiator (asyncio ``Initiator``, this process, pinned to core 0) sends
NewOrderSingle messages to an acceptor in another process (pinned to core 1) and
counts one round trip when the answer for an order arrives; its ``from_app`` sends the
next order, so ``--window`` orders are in flight (``window 1``: one at a time, the
latency). Contenders, all over TCP on 127.0.0.1:

* ``echo``: the conformance acceptor (``EchoApplication``: the order comes back
  through the session), ``MemoryStore``;
* ``echo, Redis store``: the same with ``RedisStore`` (one MULTI/EXEC per input on the
  acceptor side; the server on core 1 with the acceptor);
* ``OMS gateway``: ``OmsGateway`` in front of an in-memory ``OrderManager`` with risk
  (in-process limits) and a paper venue on a static tick: a marketable order is answered
  by ExecutionReport New then Trade; the round trip ends at the Trade;
* ``QuickFIX acceptor``: QuickFIX 1.16's C++ engine (its Python binding) echoing in
  ``fromApp``, ``FileStore``: a reference for the acceptor side, same initiator
  (left out when ``import quickfix`` fails).

Also ``sans-I/O pair``: an initiator ``Session`` and an echoing acceptor ``Session`` in
this process, bytes handed over directly: the session code's own cost per round trip
(both sides), without sockets or asyncio.

Every sample checks that each order came back (by ClOrdID count). Medians of
``--repeats`` samples, taken round-robin.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from _harness import ROOT, fmt_rate, markdown_table, median, pin_client, pin_other
from _harness import start_server as start_pinned_server

from trading.fix import (
    Acceptor,
    Application,
    Initiator,
    Message,
    Session,
    SessionID,
    SessionSettings,
    Settings,
    send_to_target,
)
from trading.fix.conformance import EchoApplication, build_acceptor, conformance_settings

BEGIN = "FIX.4.4"
# Limits the benchmark cannot reach: every order must pass risk and fill.
LIMITS = """{
  "currency": "USD",
  "instruments": [{"symbol": "AAPL", "tick_size": "0.01"}],
  "defaults": {
    "account": {"max_gross_exposure": 1000000000000, "max_open_orders": 1000000,
                "max_orders_per_second": 1000000},
    "symbol": {"max_order_quantity": 1000, "max_order_notional": 1000000,
               "max_long_position": 1000000000, "max_short_position": 1000000000,
               "price_collar_percent": 5}
  }
}"""


def order(n: int) -> Message:
    """A marketable limit order; buys and sells alternate, so positions stay flat."""
    side, price = ("1", "100.05") if n % 2 else ("2", "99.95")
    fields = [
        (1, "bench"), (11, f"C{n}"), (38, "100"), (40, "2"), (44, price), (54, side),
        (55, "AAPL"), (59, "0"), (60, "20240101-00:00:00.000"),
    ]  # fmt: skip
    return Message.build(BEGIN, "D", fields)


# -- acceptor side (a child process) -------------------------------------------------------


def serve(kind: str, redis_url: str | None) -> None:
    """Run one acceptor until killed; print its port first."""
    if kind == "quickfix":
        serve_quickfix()
        return

    async def run() -> None:
        if kind == "oms":
            acceptor = oms_acceptor()
        else:
            settings = conformance_settings("ISLD", "TW", [BEGIN])
            acceptor = build_acceptor(settings, redis_url=redis_url)
        await acceptor.start()
        print(acceptor.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def oms_acceptor() -> Acceptor:
    from trading.fix import OmsGateway
    from trading.market_data.ticks import FullDepth, Tick
    from trading.oms import OrderManager
    from trading.oms.venue import StaticTickSource
    from trading.risk import MemoryLimits, RiskEngine, StaticMarks, parse_config
    from trading.risk.oms_hook import OmsRiskHook

    config = parse_config(LIMITS)
    marks = StaticMarks({"AAPL": Decimal("100.00")})
    hook = OmsRiskHook(RiskEngine(config, MemoryLimits(), marks))
    quote = FullDepth(
        bid_price=Decimal("99.99"), ask_price=Decimal("100.00"),
        bid_volume=10**9, ask_volume=10**9,
    )  # fmt: skip
    ticks = StaticTickSource([Tick(symbol="AAPL", timestamp_ns=1, quote=quote)])
    manager = OrderManager(pre_trade=hook)
    gateway = OmsGateway(manager, ticks, config.instrument, on_change=hook.on_change)
    return Acceptor(Settings((SessionSettings(BEGIN, "ISLD", "TW"),)), gateway)


def serve_quickfix() -> None:
    import quickfix as fix  # type: ignore[import-untyped]

    folder = tempfile.mkdtemp(prefix="qf-bench-")
    path = Path(folder) / "acceptor.cfg"
    path.write_text(
        "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=0\nStartTime=00:00:00\n"
        f"EndTime=00:00:00\nFileStorePath={folder}/store\nUseDataDictionary=Y\n"
        f"DataDictionary={ROOT}/trading/fix/spec/FIX44.xml\nResetOnLogon=Y\n"
        f"SocketNodelay=Y\n[SESSION]\nBeginString={BEGIN}\nSenderCompID=ISLD\nTargetCompID=TW\n"
    )

    class Echo(fix.Application):  # type: ignore[misc]
        def onCreate(self, s: object) -> None: ...
        def onLogon(self, s: object) -> None: ...
        def onLogout(self, s: object) -> None: ...
        def toAdmin(self, m: object, s: object) -> None: ...
        def fromAdmin(self, m: object, s: object) -> None: ...
        def toApp(self, m: object, s: object) -> None: ...

        def fromApp(self, m: object, s: object) -> None:
            fix.Session.sendToTarget(m, s)

    # QuickFIX cannot report a port it picked: find a free one first
    from resp3.testing import find_free_port

    port = find_free_port()
    path.write_text(path.read_text().replace("SocketAcceptPort=0", f"SocketAcceptPort={port}"))
    settings = fix.SessionSettings(str(path))
    acceptor = fix.SocketAcceptor(Echo(), fix.FileStoreFactory(settings), settings)
    acceptor.start()
    print(port, flush=True)
    while True:
        time.sleep(3600)


def start_acceptor(kind: str, redis_url: str | None = None) -> tuple[subprocess.Popen[str], int]:
    args = [sys.executable, __file__, "--serve", kind]
    if redis_url:
        args += ["--redis-url", redis_url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    pin_other(proc.pid)
    return proc, port


# -- initiator side ------------------------------------------------------------------------


class Driver(Application):
    """Sends the next order from ``from_app``, keeping ``window`` in flight."""

    def __init__(self, total: int, window: int, counts: Callable[[Message], bool]) -> None:
        self.total, self.window, self.counts = total, window, counts
        self.sent = self.done = 0
        self.finished: asyncio.Future[float] | None = None
        self.sid = SessionID(BEGIN, "TW", "ISLD")

    def start(self) -> None:
        self.finished = asyncio.get_running_loop().create_future()
        self.sent = self.done = 0
        for _ in range(min(self.window, self.total)):
            self.send_next()

    def send_next(self) -> None:
        self.sent += 1
        send_to_target(order(next(_IDS)), self.sid)

    def from_app(self, message: Message, session_id: SessionID) -> None:
        try:
            if not self.counts(message):
                return
        except RuntimeError as exc:
            if self.finished is not None and not self.finished.done():
                self.finished.set_exception(exc)
            return
        self.done += 1
        if self.sent < self.total:
            self.send_next()
        elif self.done == self.total and self.finished is not None:
            self.finished.set_result(time.perf_counter())


_IDS = itertools.count(1)  # ClOrdIDs never repeat: the gateway refuses duplicates


def is_echo(message: Message) -> bool:
    return message.msg_type == b"D"


def is_trade(message: Message) -> bool:
    if message.msg_type == b"8" and message.get(150) == b"8":
        raise RuntimeError(f"order rejected: {message.get_str(58, '')}")
    return message.msg_type == b"8" and message.get(150) == b"F"


async def round_trips(
    port: int, total: int, window: int, counts: Callable[[Message], bool]
) -> float:
    driver = Driver(total, window, counts)
    settings = SessionSettings(
        BEGIN, "TW", "ISLD", connect_host="127.0.0.1", connect_port=port,
        reset_on_logon=True, heartbeat_interval=30,
    )  # fmt: skip
    initiator = Initiator(Settings((settings,)), driver)
    await initiator.start()
    try:
        await initiator.wait_for_logon(timeout=10)
        begin = time.perf_counter()
        driver.start()
        assert driver.finished is not None
        end = await asyncio.wait_for(driver.finished, 300)
        if driver.done != total:
            raise RuntimeError(f"{driver.done} answers for {total} orders")
        return total / (end - begin)
    finally:
        await initiator.stop()


def sans_io_rate(total: int) -> float:
    """Both sessions in this process, bytes handed over directly."""
    clock = time.time
    ini = Session(SessionSettings(BEGIN, "TW", "ISLD"), initiator=True, clock=clock)
    acc = Session(SessionSettings(BEGIN, "ISLD", "TW"), EchoApplication(), clock=clock)
    acc.connect()
    out = ini.connect()
    while out.data:
        out = acc.receive(b"".join(out.data))
        out = ini.receive(b"".join(out.data)) if out.data else out
    begin = time.perf_counter()
    for n in range(total):
        back = acc.receive(b"".join(ini.send(order(n)).data))
        ini.receive(back.data[0])
    return total / (time.perf_counter() - begin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.redis_url)
        return 0
    placement = pin_client()
    server, _ = start_pinned_server()
    contenders: list[tuple[str, str, str | None, Callable[[Message], bool]]] = [
        ("echo", "echo", None, is_echo),
        ("echo, Redis store", "echo", server.url, is_echo),
        ("OMS gateway (New + Trade)", "oms", None, is_trade),
    ]
    try:
        import quickfix  # noqa: F401

        contenders.append(("QuickFIX acceptor (reference)", "quickfix", None, is_echo))
    except ImportError:
        print("quickfix is not installed: its row is left out")
    procs = {name: start_acceptor(kind, url) for name, kind, url, _ in contenders}
    results: dict[tuple[str, int], list[float]] = {}
    try:
        for _ in range(args.repeats):
            for name, _kind, _url, counts in contenders:
                port = procs[name][1]
                for window in (1, args.window):
                    total = args.orders if window > 1 else max(args.orders // 10, 100)
                    rate = asyncio.run(round_trips(port, total, window, counts))
                    results.setdefault((name, window), []).append(rate)
            results.setdefault(("sans-I/O pair", 0), []).append(sans_io_rate(args.orders))
    finally:
        for proc, _ in procs.values():
            proc.kill()
            proc.wait()
        server.close()
    rows = []
    for name, *_ in contenders:
        one = median(results[(name, 1)])
        many = median(results[(name, args.window)])
        rows.append([name, fmt_rate(one), f"{1e6 / one:.0f}", fmt_rate(many)])
    pair = median(results[("sans-I/O pair", 0)])
    rows.append(["sans-I/O pair (no sockets)", "—", f"{1e6 / pair:.1f}", fmt_rate(pair)])
    print(f"{placement}; {args.orders} orders, median of {args.repeats}")
    headers = ["acceptor", "window 1, orders/s", "µs per round trip"]
    headers.append(f"window {args.window}, orders/s")
    print(markdown_table(headers, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
