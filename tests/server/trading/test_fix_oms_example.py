"""``examples/fix_initiator.py`` end to end on a real Redis, as a subprocess with a
time limit: every report arrives in order, and the OMS store holds the orders in the
states the reports announced."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import resp3
from resp3.testing import RedisServer
from trading.oms import OrderStatus
from trading.oms.store import RedisOrderStore

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "fix_initiator.py"

# ExecType words the example prints, in the order its scenario produces them
EXPECTED = [
    ("New", "AAPL"),
    ("Trade", "AAPL"),
    ("New", "MSFT"),
    ("PendingReplace", "MSFT"),
    ("Replaced", "MSFT"),
    ("PendingCancel", "MSFT"),
    ("Canceled", "MSFT"),
    ("New", "AAPL"),
    ("Trade", "AAPL"),
    ("Rejected", "AAPL"),
    ("Rejected", "ZZZZ"),
]


@pytest.mark.parametrize("begin", ["FIX.4.4", "FIX.4.2"])
def test_example_sends_orders_and_prints_every_report(server: RedisServer, begin: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--redis-url", server.url, "--begin-string", begin],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    reports = [line.split() for line in lines if line.startswith("ER ")]
    words = [(r[1], r[3]) for r in reports]
    if begin == "FIX.4.2":  # 4.2 reports fills as Fill, not Trade
        words = [("Trade" if w == "Fill" else w, s) for w, s in words]
    assert words == EXPECTED
    assert any(line.startswith("CXL-REJ") and "reason 1" in line for line in lines)
    denied = next(line for line in lines if line.startswith("ER Rejected") and "AAPL" in line)
    assert "max_order_quantity" in denied
    assert "every expected report arrived" in lines

    ids = {r[1] + r[3]: r[2] for r in reports}  # e.g. "TradeAAPL" -> the last such id
    client = resp3.Redis(host=server.host, port=server.port, socket_timeout=5)
    try:
        store = RedisOrderStore(client)
        replacement = store.load("desk-1", ids["ReplacedMSFT"])  # replaced, then canceled
        assert replacement is not None and replacement.state.status is OrderStatus.CANCELED
        assert replacement.state.replaces == ids["NewMSFT"]
        seller = store.load("desk-1", ids["NewAAPL"])  # the last New AAPL: the resting sell
        assert seller is not None and seller.state.status is OrderStatus.FILLED
        first = re.search(r"(\w+)-1 ", next(line for line in lines if line.startswith("ER New")))
        assert first is not None
        taker = store.load("desk-1", f"{first.group(1)}-1")
        assert taker is not None and taker.state.status is OrderStatus.FILLED
        assert store.load("desk-1", ids["RejectedZZZZ"]) is None  # never reached the OMS
    finally:
        client.close()
