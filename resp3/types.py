"""Small value types the readers produce: the INCOMPLETE sentinel and Push."""

from __future__ import annotations

import enum
from typing import Any, Literal, TypeAlias

__all__ = ["INCOMPLETE", "Incomplete", "Push", "Reply"]


class _Sentinel(enum.Enum):
    """``Reader.gets()`` returns ``INCOMPLETE`` when no whole reply is buffered yet.

    It is a dedicated object, never ``False`` or ``None``: RESP3 has real booleans
    and nulls, and a caller must be able to tell "no reply yet" from either.
    """

    INCOMPLETE = "INCOMPLETE"

    def __repr__(self) -> str:
        return "resp3.INCOMPLETE"

    __str__ = __repr__

    def __bool__(self) -> bool:
        raise TypeError("resp3.INCOMPLETE has no truth value; compare with `is INCOMPLETE`")


INCOMPLETE: Literal[_Sentinel.INCOMPLETE] = _Sentinel.INCOMPLETE
Incomplete: TypeAlias = Literal[_Sentinel.INCOMPLETE]


class Push(list):  # type: ignore[type-arg]
    """An out-of-band RESP3 push (``>``): pub/sub messages, invalidations, MONITOR lines.

    A list subclass so that code written for RESP2 pub/sub arrays keeps working, while
    the connection can still tell a push from the reply to a command.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Push({list.__repr__(self)})"


# What a reader can hand back. Kept loose on purpose (``Any`` for nested values): the
# precise type of a reply depends on the command, which the command layer knows.
Reply: TypeAlias = Any
