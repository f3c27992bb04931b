"""The kill switch: halt new orders everywhere (or for one account) in one command.

A switch is one Redis string, ``risk:kill`` (global) or ``risk:{A}:kill`` (account A),
holding ``off``, ``on`` or ``reduce_only`` (:class:`~.reasons.KillMode`). The limits
script reads both on every reservation, inside the same atomic step that would reserve
the order (see :mod:`.limits`). So when :meth:`KillSwitch.set` returns, no process
sharing that Redis can reserve an order the switch forbids: there is no cache to
expire and no message to miss. Orders already open are not cancelled by the switch;
use ``orders cancel`` for that.

The effective mode of an account is the stricter of the global and the account
switch. A stored value this module does not know counts as ``on`` (fail closed), both
here and in the script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trading.risk.limits import RiskKeys
from trading.risk.reasons import KillMode

if TYPE_CHECKING:
    from resp3.client import Redis

__all__ = ["KillSwitch"]


def _mode(value: Any) -> KillMode:
    if value is None:
        return KillMode.OFF
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:
        return KillMode(text)
    except ValueError:
        return KillMode.ON


class KillSwitch:
    """Read and set the global and per-account kill switches of one risk namespace."""

    def __init__(self, client: Redis, keys: RiskKeys | None = None) -> None:
        self.client = client
        self.keys = keys or RiskKeys()

    def set(self, mode: KillMode, account: str | None = None) -> None:
        """Set the global switch (``account`` None) or one account's switch.

        ``off`` is stored, not deleted, so ``risk kill-switch`` shows who turned it off.
        Raises ``ValueError`` for a mode that is not a :class:`KillMode`.
        """
        if not isinstance(mode, KillMode):
            raise ValueError(f"kill switch mode must be a KillMode, got {mode!r}")
        if account is not None and not account:
            raise ValueError("account must be a non-empty string")
        self.client.set(self.keys.kill(account), mode.value)

    def get(self, account: str | None = None) -> KillMode:
        """The switch as set (global, or the account's own), not the effective mode."""
        return _mode(self.client.get(self.keys.kill(account)))

    def effective(self, account: str) -> tuple[KillMode, str]:
        """The mode that applies to ``account`` and where it comes from (``"global"`` or
        ``"account"``); the global switch wins ties, as in the script."""
        glob, own = self.client.mget([self.keys.kill(), self.keys.kill(account)])
        global_mode, account_mode = _mode(glob), _mode(own)
        if account_mode.severity > global_mode.severity:
            return account_mode, "account"
        return global_mode, "global"

    def accounts(self) -> dict[str, KillMode]:
        """Every account with a switch of its own, as set (found by ``SCAN``)."""
        head, tail = f"{self.keys.prefix}:{{", "}:kill"
        found: dict[str, KillMode] = {}
        names = [
            name.decode() if isinstance(name, bytes) else str(name)
            for name in self.client.scan_iter(match=f"{head}*{tail}", count=500)
        ]
        values = self.client.mget(names) if names else []
        for name, value in zip(names, values, strict=True):
            found[name[len(head) : -len(tail)]] = _mode(value)
        return dict(sorted(found.items()))
