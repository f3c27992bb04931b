"""``RiskEngine``: the pre-trade hook. Local checks first, then one atomic reservation.

For each new order, :meth:`RiskEngine.check` runs

1. the order checks of :mod:`.checks`, in process: instrument known and tradable, lot
   and tick grid, maximum quantity, maximum notional, price collar against the cached
   market price. They cost microseconds and need no shared state;
2. one call to the limits backend (:mod:`.limits`), which checks and reserves the kill
   switch, the client order ID, the order rate, the open-order count, the position
   with open orders, and the gross exposure, all or nothing.

It returns None (accepted: the order now holds a reservation) or a
:class:`~.reasons.Denial` (nothing was reserved). This is the hook the OMS calls
before an order leaves. The OMS must then tell the engine what happened to the order:
:meth:`release` when it is cancelled, rejected or expires, :meth:`on_fill` for each
execution. A reservation that is never released keeps counting against the limits,
which errs on the safe side.

Rules for an (account, symbol) are resolved from the config once and cached, so the
config must not change under a running engine (build a new engine to reload it).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from trading.core.orders import Fill, Order, OrderType
from trading.risk.checks import (
    Request,
    check_grid,
    check_instrument,
    check_order_notional,
    check_order_quantity,
    check_price_collar,
    order_price,
)
from trading.risk.config import AccountRules, RiskConfig, SymbolRules
from trading.risk.limits import Limits
from trading.risk.positions import MarkSource, PositionBook
from trading.risk.reasons import Denial, Reason

__all__ = ["RiskEngine"]


_ZERO = Decimal(0)


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


class _Rules:
    """Resolved rules of one (account, symbol) plus the constants of its requests."""

    __slots__ = ("currency", "limits", "lot", "lot_units", "needs_mark", "symbol")

    def __init__(self, config: RiskConfig, symbol: SymbolRules, account: AccountRules) -> None:
        self.symbol = symbol
        self.lot = symbol.instrument.lot_size
        self.currency = symbol.instrument.currency
        #: notional units per lot at a price of 1 (price * lot_units = units per lot)
        self.lot_units = self.lot / config.notional_unit
        self.needs_mark = symbol.price_collar_percent is not None
        #: the Request fields max_long_lots ... max_rate, -1 for "no limit"
        self.limits = (
            symbol.max_long_lots,
            symbol.max_short_lots,
            account.max_gross_units,
            -1 if account.max_open_orders is None else account.max_open_orders,
            -1 if account.max_orders_per_second is None else account.max_orders_per_second,
        )


class RiskEngine:
    """Pre-trade risk for every account of one config (see the module docstring).

    ``marks`` gives the latest market price (collar, valuing market orders); without it
    a market order, or a limit order under a price collar, is refused with
    ``no_market_price``. ``positions``, if given, receives every fill in
    :meth:`on_fill` for exact positions and P&L.
    """

    def __init__(
        self,
        config: RiskConfig,
        limits: Limits,
        marks: MarkSource | None = None,
        *,
        positions: PositionBook | None = None,
    ) -> None:
        self.config = config
        self.limits = limits
        self.marks = marks
        self.positions = positions
        self._unit = config.notional_unit
        self._rules: dict[tuple[str, str], _Rules | None] = {}

    def _resolve(self, account: str, symbol: str) -> _Rules | None:
        key = (account, symbol)
        try:
            return self._rules[key]
        except KeyError:
            pass
        rules = self.config.symbol_rules(account, symbol)
        resolved = (
            None
            if rules is None
            else _Rules(self.config, rules, self.config.account_rules(account))
        )
        self._rules[key] = resolved
        return resolved

    def _mark(self, symbol: str) -> Decimal | None:
        return self.marks.mark(symbol) if self.marks is not None else None

    def check_order(self, order: Order) -> Denial | None:
        """The in-process checks only; reserves nothing (see :meth:`check`)."""
        return self._local(order)[0]

    def _local(self, order: Order) -> tuple[Denial | None, _Rules | None, Decimal]:
        """The order checks; on success also the resolved rules and the order's price."""
        resolved = self._resolve(order.account, order.instrument.symbol)
        rules = resolved.symbol if resolved is not None else None
        denial = check_instrument(order, rules)
        if denial is not None or resolved is None or rules is None:
            return denial, None, _ZERO
        denial = check_grid(order, rules.instrument) or check_order_quantity(
            order, rules.max_order_quantity
        )
        if denial is not None:
            return denial, None, _ZERO
        market = order.order_type is OrderType.MARKET
        mark = self._mark(order.instrument.symbol) if market or resolved.needs_mark else None
        price = order_price(order, mark)
        if price is None:
            message = f"{order.symbol}: no cached market price to value a market order"
            return Denial(Reason.NO_MARKET_PRICE, message), None, _ZERO
        denial = check_order_notional(
            order, price, rules.max_order_notional, rules.instrument.currency
        ) or check_price_collar(order, mark, rules.price_collar_percent)
        if denial is not None:
            return denial, None, _ZERO
        return None, resolved, price

    def request(self, order: Order, price: Decimal) -> Request:
        """The integer form of ``order`` valued at ``price`` (for a limits backend).
        Raises ``ValueError`` for a symbol the config does not know."""
        resolved = self._resolve(order.account, order.instrument.symbol)
        if resolved is None:
            raise ValueError(f"{order.symbol} is not configured")
        return self._request(order, resolved, price)

    def _request(self, order: Order, resolved: _Rules, price: Decimal) -> Request:
        return Request(
            order.account,
            order.client_order_id,
            order.instrument.symbol,
            order.side.sign,
            int(order.quantity.value / resolved.lot),
            _ceil(price * resolved.lot_units),
            *resolved.limits,
            resolved.lot,
            self._unit,
            resolved.currency,
        )

    def check(self, order: Order) -> Denial | None:
        """The pre-trade hook: None if accepted (and reserved), else the denial.

        Errors talking to Redis propagate (the order is then *not* reserved, and must
        not be sent).
        """
        denial, resolved, price = self._local(order)
        if denial is not None or resolved is None:
            return denial
        return self.limits.reserve(self._request(order, resolved, price))

    def require(self, order: Order) -> None:
        """:meth:`check` that raises :class:`~.reasons.OrderDenied` instead of returning."""
        denial = self.check(order)
        if denial is not None:
            raise denial.error()

    def release(self, account: str, client_order_id: str) -> int:
        """Free what a cancelled, rejected or expired order still holds (idempotent).
        Returns the lots given back (0 if the order held nothing)."""
        return self.limits.release(account, client_order_id)

    def on_fill(self, account: str, fill: Fill) -> bool:
        """Move a fill from the order's reservation into the position (limits and, if
        configured, exact positions). False if the execution was applied before.

        Raises ``ValueError`` when the fill's symbol or side differs from the order's
        reservation, or its symbol is not configured.
        """
        resolved = self._resolve(account, fill.symbol)
        if resolved is None:
            raise ValueError(f"fill {fill.execution_id}: {fill.symbol} is not configured")
        applied = self.limits.fill(
            account,
            fill.client_order_id,
            fill.execution_id,
            fill.symbol,
            fill.side.sign,
            int(fill.quantity.value / resolved.lot),
            _ceil(fill.price.value * resolved.lot_units),
        )
        if self.positions is not None:
            self.positions.apply(account, fill)
        return applied
