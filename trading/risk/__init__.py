"""Pre-trade risk: per-order checks, limits shared across processes through one Lua
script in Redis, a kill switch, and exact positions and P&L. See docs/risk.md.

Denials are values (:class:`Denial`: a stable :class:`Reason` code and a message);
:meth:`RiskEngine.require` raises them as :class:`OrderDenied`, a
:class:`trading.errors.RiskDenied`.

Public names are imported from their submodules on first use, so ``import trading.risk``
costs nothing and the parts that do not read market data (config, reasons, checks,
limits, memory, killswitch) work without numpy. :class:`RiskEngine`, the positions and
the marks read the market-data cache through ``trading.market_data.codec``, which needs
the ``trading`` extra (numpy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trading._lazy import lazy_names

if TYPE_CHECKING:
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

#: Where each public name lives. Names are imported on first use (PEP 562), so importing
#: one submodule does not import its siblings.
_SOURCES = {
    "AccountUsage": "limits",
    "Denial": "reasons",
    "KillMode": "reasons",
    "KillSwitch": "killswitch",
    "Limits": "limits",
    "MemoryLimits": "memory",
    "OrderDenied": "reasons",
    "PositionBook": "positions",
    "Reason": "reasons",
    "RedisLimits": "limits",
    "RedisMarks": "positions",
    "RiskConfig": "config",
    "RiskEngine": "engine",
    "RiskKeys": "limits",
    "StaticMarks": "positions",
    "load_config": "config",
    "parse_config": "config",
}


__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
