"""Domain values of the trading package: exact prices, quantities and money,
instruments with their tick and lot grids, orders, fills and positions.

Pure Python, no I/O and no third-party imports, so the OMS, risk checks and FIX code
can share these types cheaply.
"""

from trading.core.instruments import Instrument, on_grid
from trading.core.orders import Fill, Order, OrderType, Position, Side, TimeInForce, average_price
from trading.core.values import (
    EXACT,
    PRECISION,
    RATIO_PLACES,
    DecimalLike,
    Money,
    Price,
    Quantity,
    dec_hook,
    enc_hook,
    notional,
    quantize_ratio,
    to_decimal,
)

__all__ = [
    "EXACT",
    "PRECISION",
    "RATIO_PLACES",
    "DecimalLike",
    "Fill",
    "Instrument",
    "Money",
    "Order",
    "OrderType",
    "Position",
    "Price",
    "Quantity",
    "Side",
    "TimeInForce",
    "average_price",
    "dec_hook",
    "enc_hook",
    "notional",
    "on_grid",
    "quantize_ratio",
    "to_decimal",
]
