"""trading: exact order and market-data types, simulated market data, and (in
subpackages) an OMS, risk checks and FIX, built on the resp3 driver.

Importing ``trading`` is cheap: subpackages are imported explicitly
(``trading.core``, ``trading.market_data``), and only ``trading.market_data`` needs
the optional numpy and msgspec dependencies (``pip install ocamlot[trading]``).
"""

from trading.errors import (
    ConfigError,
    ConfigProblem,
    FixError,
    FixParseError,
    InvalidTransition,
    InvalidValue,
    OffGridError,
    OrderError,
    RiskDenied,
    TradingError,
)

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "FixError",
    "FixParseError",
    "InvalidTransition",
    "InvalidValue",
    "OffGridError",
    "OrderError",
    "RiskDenied",
    "TradingError",
    "__version__",
]

__version__ = "0.1.0"
