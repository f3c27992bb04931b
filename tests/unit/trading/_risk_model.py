"""An independent model of the shared limits, and random operation sequences to drive a
limits backend with: the in-process one (unit tests) and the Redis script (server tests).

``run(limits, sequence)`` applies each operation to ``limits`` (anything with
``reserve``/``fill``/``release``/``usage``/``set_kill``) and to the model, asserts that
every decision is the model's and that no reservation exceeds a limit. Imported as
``tests.unit.trading._risk_model``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from trading.risk.checks import Request
from trading.risk.reasons import KillMode, Reason

SYMBOLS = ("AAA", "BBB", "CCC")
PRICE = {"AAA": 100, "BBB": 250, "CCC": 7}  # units per lot, constant: gross stays comparable
MAX_LONG, MAX_SHORT, MAX_GROSS, MAX_OPEN = 20, 15, 4000, 8

Op = tuple[str, int, int, int]  # (kind, a, b, c): meaning depends on kind
reserve = st.tuples(
    st.just("reserve"), st.integers(0, 2), st.sampled_from([1, -1]), st.integers(1, 12)
)
#: a reserve sized to a limit's exact headroom (+0 fits, +1 does not): (sym, side, target+delta)
edge = st.tuples(st.just("edge"), st.integers(0, 2), st.sampled_from([1, -1]), st.integers(0, 5))
ops = st.lists(
    st.one_of(
        # reserves dominate, so sequences reach the limits; the kill switch is mostly off
        reserve, reserve, reserve, reserve, edge, edge, edge,
        st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 12), st.just(0)),
        st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 12), st.just(0)),
        st.tuples(st.just("release"), st.integers(0, 50), st.just(0), st.just(0)),
        st.tuples(st.just("overfill"), st.integers(0, 50), st.integers(1, 3), st.just(0)),
        st.tuples(st.just("reuse"), st.integers(0, 50), st.just(0), st.just(0)),
        st.tuples(st.just("kill"), st.sampled_from([0, 0, 0, 0, 1, 2]), st.booleans().map(int),
                  st.just(0)),
    ),
    min_size=10,
    max_size=80,
)  # fmt: skip


@dataclass
class Model:
    """The expected state, kept without any code from trading.risk."""

    kill: dict[str, KillMode] = field(default_factory=lambda: {"global": KillMode.OFF})
    position: dict[str, int] = field(default_factory=dict)
    open: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # id -> sym side left
    used: list[str] = field(default_factory=list)
    #: a venue filled more than was reserved: positions may now exceed the limits
    overfilled: bool = False

    def pending(self, sym: str, side: int) -> int:
        return sum(left for s, d, left in self.open.values() if s == sym and d == side)

    def worst(self, sym: str, extra_buy: int = 0, extra_sell: int = 0) -> int:
        pos = self.position.get(sym, 0)
        return max(
            abs(pos + self.pending(sym, 1) + extra_buy),
            abs(pos - self.pending(sym, -1) - extra_sell),
        )

    def gross(self) -> int:
        return sum(self.worst(sym) * PRICE[sym] for sym in SYMBOLS)

    def headroom(self, sym: str, side: int, target: int) -> int:
        """Lots that exactly fill a limit: 0 position, 1 gross, 2 what reduce-only allows."""
        pos = self.position.get(sym, 0)
        if target == 0:
            if side > 0:
                return MAX_LONG - pos - self.pending(sym, 1)
            return MAX_SHORT + pos - self.pending(sym, -1)
        if target == 1:
            spare = (MAX_GROSS - self.gross()) // PRICE[sym]
            return spare + self.worst(sym) - abs(pos + side * self.pending(sym, side))
        return abs(pos) - self.pending(sym, side)

    def expected(self, sym: str, side: int, lots: int, cid: str) -> Reason | None:
        modes = sorted(self.kill.values(), key=lambda m: m.severity)
        mode = modes[-1]
        pos = self.position.get(sym, 0)
        if mode is KillMode.ON:
            return Reason.KILL_SWITCH
        if mode is KillMode.REDUCE_ONLY:
            same = self.pending(sym, side) + lots
            if not (side * pos < 0 and same <= abs(pos)):
                return Reason.REDUCE_ONLY
        if cid in self.used:
            return Reason.DUPLICATE_CLIENT_ORDER_ID
        if len(self.open) >= MAX_OPEN:
            return Reason.MAX_OPEN_ORDERS
        if side > 0 and pos + self.pending(sym, 1) + lots > MAX_LONG:
            return Reason.MAX_LONG_POSITION
        if side < 0 and self.pending(sym, -1) + lots - pos > MAX_SHORT:
            return Reason.MAX_SHORT_POSITION
        after = self.worst(sym, lots if side > 0 else 0, lots if side < 0 else 0)
        gross_after = self.gross() + (after - self.worst(sym)) * PRICE[sym]
        if after > self.worst(sym) and gross_after > MAX_GROSS:
            return Reason.MAX_GROSS_EXPOSURE
        return None


def request(cid: str, sym: str, side: int, lots: int) -> Request:
    return Request(
        "acc", cid, sym, side, lots, PRICE[sym],
        max_long_lots=MAX_LONG, max_short_lots=MAX_SHORT, max_gross_units=MAX_GROSS,
        max_open_orders=MAX_OPEN, unit=Decimal("0.01"),
    )  # fmt: skip


def run(limits: Any, sequence: list[Op]) -> None:
    model = Model()
    counter = 0
    for kind, a, b, c in sequence:
        if kind in ("reserve", "reuse", "edge"):
            if kind == "reuse" and not model.used:
                continue
            if kind == "edge":
                counter += 1
                sym, side = SYMBOLS[a], b
                if c % 3 == 2:  # reduce-only edges: the side that shrinks the position
                    side = -1 if model.position.get(sym, 0) > 0 else 1
                cid, lots = f"o{counter}", model.headroom(sym, side, c % 3) + c // 3
                if lots < 1:
                    continue
            elif kind == "reuse":
                cid = model.used[a % len(model.used)]
                sym, side, lots = SYMBOLS[a % 3], 1, 1
            else:
                counter += 1
                cid, sym, side, lots = f"o{counter}", SYMBOLS[a], b, c
            want = model.expected(sym, side, lots, cid)
            denial = limits.reserve(request(cid, sym, side, lots))
            assert (denial.reason if denial else None) is want, (kind, cid, denial)
            if want is None:
                model.open[cid] = (sym, side, lots)
                model.used.append(cid)
        elif kind in ("fill", "overfill") and model.open:
            cid = sorted(model.open)[a % len(model.open)]
            sym, side, left = model.open[cid]
            qty = min(b, left) if kind == "fill" else left + b
            model.overfilled |= qty > left
            assert limits.fill("acc", cid, f"x{counter}-{a}-{b}", sym, side, qty, PRICE[sym])
            model.position[sym] = model.position.get(sym, 0) + side * qty
            if left > qty:
                model.open[cid] = (sym, side, left - qty)
            else:
                del model.open[cid]
            counter += 1
        elif kind == "release" and model.open:
            cid = sorted(model.open)[a % len(model.open)]
            assert limits.release("acc", cid) == model.open.pop(cid)[2]
            assert limits.release("acc", cid) == 0
        elif kind == "kill":
            mode = [KillMode.OFF, KillMode.REDUCE_ONLY, KillMode.ON][a]
            scope = "acc" if b else None
            limits.set_kill(mode, scope)
            model.kill["acc" if b else "global"] = mode
        check_invariants(limits, model)


def check_invariants(limits: Any, model: Model) -> None:
    usage = limits.usage("acc")
    assert usage.open_orders == len(model.open) <= MAX_OPEN
    assert usage.gross == model.gross()
    rows = {row.symbol: row for row in usage.symbols}
    for sym in SYMBOLS:
        pos, buy, sell = model.position.get(sym, 0), model.pending(sym, 1), model.pending(sym, -1)
        row = rows.get(sym)
        got = (row.position, row.open_buy, row.open_sell) if row else (0, 0, 0)
        assert got == (pos, buy, sell)
        if not model.overfilled:
            assert pos + buy <= MAX_LONG
            assert sell - pos <= MAX_SHORT
    if not model.overfilled:
        assert usage.gross <= MAX_GROSS
