"""Why an order was refused: stable reason codes, the ``Denial`` value, and its exception.

A pre-trade denial is a *value* everywhere on the check path: every check, the limits
backends and :meth:`~trading.risk.engine.RiskEngine.check` (the hook the OMS calls)
return ``Denial | None``. Code that prefers exceptions calls
:meth:`~trading.risk.engine.RiskEngine.require`, which raises :class:`OrderDenied`, a
:class:`~trading.errors.RiskDenied` that carries the same ``Denial``.

The codes are part of the public contract: they are written to logs, order records
and JSON output, and dashboards count them. Their string values never change; a new
check gets a new code. Messages are for humans and may be reworded at any time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from trading.errors import RiskDenied

__all__ = ["Denial", "KillMode", "OrderDenied", "Reason", "parse_reason"]


class Reason(str, enum.Enum):
    """Stable reason codes of pre-trade denials (the value is the wire form)."""

    #: The order's symbol is not in the limits configuration, or its instrument
    #: (currency) differs from the configured one.
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    #: The instrument is configured with ``"status": "halted"``.
    INSTRUMENT_HALTED = "instrument_halted"
    #: A limit or stop price that is not a multiple of the configured tick size.
    PRICE_OFF_TICK = "price_off_tick"
    #: A quantity that is not a whole number of configured lots.
    QUANTITY_OFF_LOT = "quantity_off_lot"
    #: Quantity above ``max_order_quantity``.
    MAX_ORDER_QUANTITY = "max_order_quantity"
    #: ``price * quantity`` above ``max_order_notional``.
    MAX_ORDER_NOTIONAL = "max_order_notional"
    #: A check needs the market price (collar, a market order's notional) and the
    #: market-data cache has none for the symbol.
    NO_MARKET_PRICE = "no_market_price"
    #: Limit price further from the cached market price than ``price_collar_percent``.
    PRICE_COLLAR = "price_collar"
    #: Filled position plus all open buys (this one included) above ``max_long_position``.
    MAX_LONG_POSITION = "max_long_position"
    #: Filled short plus all open sells (this one included) above ``max_short_position``.
    MAX_SHORT_POSITION = "max_short_position"
    #: The account's gross exposure would exceed ``max_gross_exposure``.
    MAX_GROSS_EXPOSURE = "max_gross_exposure"
    #: The account already has ``max_open_orders`` open orders.
    MAX_OPEN_ORDERS = "max_open_orders"
    #: ``max_orders_per_second`` orders were accepted in the last second.
    ORDER_RATE = "order_rate"
    #: The kill switch is on (globally or for the account): no new orders at all.
    KILL_SWITCH = "kill_switch"
    #: The kill switch is in reduce-only mode and the order would not shrink the position.
    REDUCE_ONLY = "reduce_only"
    #: The account already used this client order ID.
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"


class KillMode(str, enum.Enum):
    """Kill switch state (stable wire values, stored as is in Redis).

    ``ON`` halts every new order; ``REDUCE_ONLY`` lets through only orders that shrink
    the filled position without flipping it, counting the open orders on the same side.
    The global and the account switch combine to the stricter of the two.
    """

    OFF = "off"
    REDUCE_ONLY = "reduce_only"
    ON = "on"

    @property
    def severity(self) -> int:
        """0 off, 1 reduce-only, 2 on: the effective mode is the larger one."""
        return _SEVERITY[self]


_SEVERITY = {KillMode.OFF: 0, KillMode.REDUCE_ONLY: 1, KillMode.ON: 2}


@dataclass(frozen=True, slots=True)
class Denial:
    """A refused order: a stable :class:`Reason` and a message naming values and limits.

    ``str(denial)`` is ``"<code>: <message>"``, e.g.
    ``max_order_quantity: AAPL: quantity 500 above the limit 100 for account A1``.
    """

    reason: Reason
    message: str

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.message}"

    def error(self) -> OrderDenied:
        """The exception form of this denial (raise it when a value will not do)."""
        return OrderDenied(self)


class OrderDenied(RiskDenied):
    """:class:`~trading.errors.RiskDenied` built from a :class:`Denial`, kept so the
    denial value travels with the exception.

    ``code`` (from ``RiskDenied``) is the :class:`Reason` member itself (a ``str``, so it
    compares equal to the plain code), ``message`` the human text, ``reason`` is
    ``str(denial)``, and ``denial`` the value.
    """

    code: Reason

    def __init__(self, denial: Denial) -> None:
        self.denial = denial
        super().__init__(denial.reason.value, denial.message)
        self.code = denial.reason

    def __reduce__(self) -> tuple[type[OrderDenied], tuple[Denial]]:
        return (OrderDenied, (self.denial,))


def parse_reason(text: str) -> Reason | None:
    """The reason code at the start of ``str(denial)`` (as the OMS stores it), or None
    when ``text`` does not start with a known code followed by ``": "``."""
    code, sep, _ = text.partition(": ")
    if not sep:
        return None
    try:
        return Reason(code)
    except ValueError:
        return None
