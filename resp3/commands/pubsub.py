"""Publishing and pub/sub introspection. Subscribing lives in ``resp3.pubsub``.

PUBLISH is not retried: a second run delivers the message twice.
"""

from __future__ import annotations

from typing import Any

from ._args import ChannelT, Pattern, Value
from ._base import READONLY, Command
from ._decoders import ByteStr

__all__ = [
    "publish",
    "pubsub_channels",
    "pubsub_numpat",
    "pubsub_numsub",
    "pubsub_shardchannels",
    "spublish",
]


def publish(channel: ChannelT, message: Value) -> Command[int]:
    """PUBLISH. How many subscribers received the message (on this node)."""
    return Command((b"PUBLISH", channel, message), None)


def spublish(shard_channel: ChannelT, message: Value) -> Command[int]:
    """SPUBLISH (Redis 7): publish to a shard channel."""
    return Command((b"SPUBLISH", shard_channel, message), None)


def pubsub_channels(pattern: Pattern = "*") -> Command[list[ByteStr]]:
    """PUBSUB CHANNELS: active channels matching ``pattern``."""
    return Command((b"PUBSUB", b"CHANNELS", pattern), None, flags=READONLY)


def _numsub(reply: Any) -> list[tuple[Any, int]]:
    if isinstance(reply, dict):
        return list(reply.items())
    return list(zip(reply[0::2], reply[1::2], strict=False))


def pubsub_numsub(*args: ChannelT) -> Command[list[tuple[ByteStr, int]]]:
    """PUBSUB NUMSUB: ``[(channel, subscribers), ...]`` in the order asked."""
    return Command((b"PUBSUB", b"NUMSUB", *args), _numsub, flags=READONLY)


def pubsub_numpat() -> Command[int]:
    """PUBSUB NUMPAT: the number of pattern subscriptions."""
    return Command((b"PUBSUB", b"NUMPAT"), None, flags=READONLY)


def pubsub_shardchannels(pattern: Pattern = "*") -> Command[list[ByteStr]]:
    """PUBSUB SHARDCHANNELS (Redis 7): active shard channels matching ``pattern``."""
    return Command((b"PUBSUB", b"SHARDCHANNELS", pattern), None, flags=READONLY)
