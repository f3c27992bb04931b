"""Where market data lives in Redis: one stream and one latest-tick hash per symbol.

For a prefix ``md`` (the default) and the symbol ``AAPL``:

* ``md:{AAPL}:ticks``: a Redis Stream, one entry per tick (see :mod:`.codec`), trimmed
  to about ``stream_maxlen`` entries;
* ``md:{AAPL}:last``: a hash holding the newest tick's fields plus its stream entry ID,
  the cache that other components read for marks and price collars.

The braces are a Redis Cluster *hash tag*: both keys of one symbol hash to the same
slot, so the XADD and HSET of a symbol can share a pipeline on one node, and different
symbols spread over the cluster. Symbols are validated by the config (non-empty, no
whitespace, at most 64 characters); a symbol containing ``}`` still gets both keys in
one slot, since both keys use the same text up to that brace.

The prefix lets several simulations share one database (``--prefix sim2``). It must be
non-empty and free of whitespace and braces, which would change the hash tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_PREFIX", "KeyLayout"]

DEFAULT_PREFIX = "md"

_BAD_PREFIX = re.compile(r"[\s{}]")
_STREAM_SUFFIX = "}:ticks"
_LATEST_SUFFIX = "}:last"


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """The key names of one market-data namespace. Raises ``ValueError`` for a bad prefix."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not self.prefix or _BAD_PREFIX.search(self.prefix):
            raise ValueError(
                f"key prefix must be non-empty without whitespace or braces, got {self.prefix!r}"
            )

    def stream(self, symbol: str) -> str:
        """The stream of ``symbol``'s ticks."""
        return f"{self.prefix}:{{{symbol}{_STREAM_SUFFIX}"

    def latest(self, symbol: str) -> str:
        """The hash caching ``symbol``'s newest tick."""
        return f"{self.prefix}:{{{symbol}{_LATEST_SUFFIX}"

    def symbol_of(self, stream_key: str | bytes) -> str:
        """The symbol whose stream is ``stream_key``; ``ValueError`` for any other key."""
        key = stream_key.decode() if isinstance(stream_key, bytes) else stream_key
        head = f"{self.prefix}:{{"
        if key.startswith(head) and key.endswith(_STREAM_SUFFIX):
            symbol = key[len(head) : -len(_STREAM_SUFFIX)]
            if symbol:
                return symbol
        raise ValueError(f"{key!r} is not a tick stream under the prefix {self.prefix!r}")
