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


@dataclass
class _Account:
    kill: KillMode = KillMode.OFF
    book: dict[str, int] = field(default_factory=dict)
    orders: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    rate: deque[int] = field(default_factory=deque)
    execs: set[str] = field(default_factory=set)

    def revalue(self, sym: str, pos: int, buy: int, sell: int, px: int) -> None:
        book = self.book
        exp = max(abs(pos + buy), abs(pos - sell)) * px
        book["gross"] = book.get("gross", 0) - book.get(f"exp:{sym}", 0) + exp
        book.update({f"pos:{sym}": pos, f"buy:{sym}": buy, f"sell:{sym}": sell})
        book.update({f"px:{sym}": px, f"exp:{sym}": exp})


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
        book, sym = state.book, req.symbol
        mode, scope = self.kill, "global"
        if state.kill.severity > mode.severity:
            mode, scope = state.kill, "account"
        now = self.clock()
        rate = state.rate
        while rate and rate[0] <= now - self.window_us:
            rate.popleft()
        snap = Snapshot(
            kill=mode,
            kill_scope=scope,
            seen=req.client_order_id in state.ids,
            recent=len(rate),
            open_orders=len(state.orders),
            position=book.get(f"pos:{sym}", 0),
            open_buy=book.get(f"buy:{sym}", 0),
            open_sell=book.get(f"sell:{sym}", 0),
            exposure=book.get(f"exp:{sym}", 0),
            gross=book.get("gross", 0),
        )
        denial = evaluate(req, snap)
        if denial is not None:
            return denial
        _, _, exposure, gross = exposure_after(req, snap)
        key = f"buy:{sym}" if req.side > 0 else f"sell:{sym}"
        book[key] = book.get(key, 0) + req.lots
        book.update({f"px:{sym}": req.price_units, f"exp:{sym}": exposure, "gross": gross})
        state.orders[req.client_order_id] = (sym, req.side, req.lots)
        state.ids.add(req.client_order_id)
        rate.append(now)
        return None

    def release(self, account: str, client_order_id: str) -> int:
        state = self._account(account)
        record = state.orders.pop(client_order_id, None)
        if record is None:
            return 0
        sym, side, left = record
        book = state.book
        buy, sell = book.get(f"buy:{sym}", 0), book.get(f"sell:{sym}", 0)
        if side > 0:
            buy -= left
        else:
            sell -= left
        state.revalue(sym, book.get(f"pos:{sym}", 0), buy, sell, book.get(f"px:{sym}", 0))
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
        book = state.book
        buy, sell = book.get(f"buy:{symbol}", 0), book.get(f"sell:{symbol}", 0)
        if record is not None:
            take = min(lots, record[2])
            if side > 0:
                buy -= take
            else:
                sell -= take
            if record[2] > take:
                state.orders[client_order_id] = (symbol, side, record[2] - take)
            else:
                del state.orders[client_order_id]
        state.revalue(symbol, book.get(f"pos:{symbol}", 0) + side * lots, buy, sell, price_units)
        state.execs.add(execution_id)
        return True

    def usage(self, account: str) -> AccountUsage:
        state = self._account(account)
        now = self.clock()
        recent = sum(1 for stamp in state.rate if stamp > now - self.window_us)
        return account_usage(account, state.kill, len(state.orders), recent, dict(state.book))
