"""Pre-trade risk: per-order checks, limits shared across processes through one Lua
script in Redis, a kill switch, and exact positions and P&L. See docs/risk.md.

Denials are values (:class:`Denial`: a stable :class:`Reason` code and a message);
:meth:`RiskEngine.require` raises them as :class:`OrderDenied`, a
:class:`trading.errors.RiskDenied`.
"""

from trading.risk.config import RiskConfig, load_config, parse_config
from trading.risk.engine import RiskEngine
from trading.risk.killswitch import KillSwitch
from trading.risk.limits import AccountUsage, Limits, RedisLimits, RiskKeys
from trading.risk.memory import MemoryLimits
from trading.risk.positions import PositionBook, RedisMarks, StaticMarks
from trading.risk.reasons import Denial, KillMode, OrderDenied, Reason

__all__ = [
    "AccountUsage",
    "Denial",
    "KillMode",
    "KillSwitch",
    "Limits",
    "MemoryLimits",
    "OrderDenied",
    "PositionBook",
    "Reason",
    "RedisLimits",
    "RedisMarks",
    "RiskConfig",
    "RiskEngine",
    "RiskKeys",
    "StaticMarks",
    "load_config",
    "parse_config",
]
