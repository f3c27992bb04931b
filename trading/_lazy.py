"""Public names of a package imported from their submodules on first use (PEP 562).

Why: ``import trading.risk`` or ``import trading.market_data`` must stay cheap and must
not pull in numpy for a caller that needs only the parts without it. Each package
keeps a table of where its public names live and installs the two module hooks made
here; the names stay visible to type checkers through ``if TYPE_CHECKING:`` imports
in the package itself.

A name missing from the table raises ``AttributeError`` naming the package, as a
plain module would. An ``ImportError`` of the submodule (a missing optional
dependency) propagates unchanged on first use of a name that needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, sources: Mapping[str, str], namespace: dict[str, Any], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``.

    ``sources`` maps each lazy name to the submodule (relative to ``package``) that
    defines it; ``namespace`` is the package's ``globals()``, where an imported name is
    stored so later lookups do not come back here; ``public`` is its ``__all__``.
    """

    def __getattr__(name: str) -> Any:
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__
