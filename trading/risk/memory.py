"""``MemoryLimits``: the cross-process limits of :mod:`.limits`, inside one process.

Same state, same checks (:func:`~.checks.evaluate`), same answers as the Lua script,
kept in dicts: for unit tests, paper trading without Redis, and benchmarks of the
check path. The server tests run both backends on random operation sequences and
compare every answer and the resulting usage. It is not shared between processes and
not thread-safe.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from trading.risk.checks import Request, Snapshot, evaluate, exposure_after
from trading.risk.limits import AccountUsage, account_usage
from trading.risk.reasons import Denial, KillMode

__all__ = ["MemoryLimits"]


# one symbol's state, as in the script's hash fields pos:S buy:S sell:S px:S exp:S
POS, BUY, SELL, PX, EXP = range(5)


@dataclass
class _Account:
    kill: KillMode = KillMode.OFF
    symbols: dict[str, list[int]] = field(default_factory=dict)
    gross: int = 0
    orders: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    rate: deque[int] = field(default_factory=deque)
    execs: set[str] = field(default_factory=set)

    def row(self, sym: str) -> list[int]:
        row = self.symbols.get(sym)
        if row is None:
            row = self.symbols[sym] = [0, 0, 0, 0, 0]
        return row

    def revalue(self, row: list[int], px: int) -> None:
        exp = max(abs(row[POS] + row[BUY]), abs(row[POS] - row[SELL])) * px
        self.gross += exp - row[EXP]
        row[PX], row[EXP] = px, exp

    def fields(self) -> dict[str, int]:
        """The state as the script's hash fields (for :func:`~.limits.account_usage`)."""
        out = {"gross": self.gross}
        for sym, row in self.symbols.items():
            for name, value in zip(("pos", "buy", "sell", "px", "exp"), row, strict=True):
                out[f"{name}:{sym}"] = value
        return out


class MemoryLimits:
    """The same limits inside one process, for tests, paper trading and benchmarks.

    Not shared between processes and not thread-safe. ``clock`` returns microseconds
    (default: ``time.monotonic_ns() // 1000``) so tests can drive the rate window.
    """

    def __init__(self, *, window_ms: int = 1000, clock: Callable[[], int] | None = None) -> None:
        self.window_us = window_ms * 1000
        self.clock = clock or (lambda: time.monotonic_ns() // 1000)
        self.kill = KillMode.OFF
        self._accounts: dict[str, _Account] = {}

    def _account(self, account: str) -> _Account:
        state = self._accounts.get(account)
        if state is None:
            state = self._accounts[account] = _Account()
        return state

    def set_kill(self, mode: KillMode, account: str | None = None) -> None:
        if account is None:
            self.kill = mode
        else:
            self._account(account).kill = mode

    def accounts(self) -> list[str]:
        return sorted(self._accounts)

    def reserve(self, req: Request) -> Denial | None:
        state = self._account(req.account)
        row = state.row(req.symbol)
        mode, scope = self.kill, "global"
        if state.kill is not KillMode.OFF and state.kill.severity > mode.severity:
            mode, scope = state.kill, "account"
        now = self.clock()
        rate = state.rate
        while rate and rate[0] <= now - self.window_us:
            rate.popleft()
        snap = Snapshot(
            mode,
            scope,
            req.client_order_id in state.ids,
            len(rate),
            len(state.orders),
            row[POS],
            row[BUY],
            row[SELL],
            row[EXP],
            state.gross,
        )
        denial = evaluate(req, snap)
        if denial is not None:
            return denial
        _, _, exposure, gross = exposure_after(req, snap)
        row[BUY if req.side > 0 else SELL] += req.lots
        row[PX], row[EXP], state.gross = req.price_units, exposure, gross
        state.orders[req.client_order_id] = (req.symbol, req.side, req.lots)
        state.ids.add(req.client_order_id)
        rate.append(now)
        return None

    def release(self, account: str, client_order_id: str) -> int:
        state = self._account(account)
        record = state.orders.pop(client_order_id, None)
        if record is None:
            return 0
        sym, side, left = record
        row = state.row(sym)
        row[BUY if side > 0 else SELL] -= left
        state.revalue(row, row[PX])
        return left

    def fill(
        self,
        account: str,
        client_order_id: str,
        execution_id: str,
        symbol: str,
        side: int,
        lots: int,
        price_units: int,
    ) -> bool:
        state = self._account(account)
        if execution_id in state.execs:
            return False
        record = state.orders.get(client_order_id)
        if record is not None and (record[0] != symbol or record[1] != side):
            raise ValueError(
                f"fill {execution_id} of {symbol} side {side} does not match order "
                f"{client_order_id} reserved for {record[0]} side {record[1]}"
            )
        row = state.row(symbol)
        if record is not None:
            take = min(lots, record[2])
            row[BUY if side > 0 else SELL] -= take
            if record[2] > take:
                state.orders[client_order_id] = (symbol, side, record[2] - take)
            else:
                del state.orders[client_order_id]
        row[POS] += side * lots
        state.revalue(row, price_units)
        state.execs.add(execution_id)
        return True

    def usage(self, account: str) -> AccountUsage:
        state = self._account(account)
        now = self.clock()
        recent = sum(1 for stamp in state.rate if stamp > now - self.window_us)
        return account_usage(account, state.kill, len(state.orders), recent, state.fields())
