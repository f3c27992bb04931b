"""Key slots: CRC16 with hash tags, and the slot map read from CLUSTER SHARDS / SLOTS.

``key_slot`` is Redis Cluster's ``HASH_SLOT``: CRC16-CCITT (XModem) of the key modulo
16384, where a key containing ``{tag}`` with a non-empty tag hashes only the tag, so
``{user1}.a`` and ``{user1}.b`` share a slot. ``binascii.crc_hqx(key, 0)`` computes
exactly that CRC in C, so no table lives here.

``parse_shards`` and ``parse_slots`` turn the two topology replies into the same
neutral list of :class:`ShardInfo`, for RESP3 maps and RESP2 flat lists alike. What
can go wrong: a node reports its own address as ``""`` or ``"?"`` when it does not
know it (a fresh node, ``cluster-announce-ip`` unset); the address the reply was read
from is used instead, which is what redis-cli does.
"""

from __future__ import annotations

from binascii import crc_hqx
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SLOTS", "NodeInfo", "ShardInfo", "key_bytes", "key_slot", "parse_shards", "parse_slots"]

SLOTS = 16384


def key_bytes(key: Any) -> bytes:
    """The bytes the encoder sends for ``key`` (str is UTF-8, ints as decimal text)."""
    if type(key) is bytes:
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return int.__repr__(key).encode()
    if isinstance(key, float):
        return float.__repr__(key).encode()
    raise TypeError(f"a key must be bytes, str, int or float, got {type(key).__name__}")


def key_slot(key: Any) -> int:
    """The slot (0..16383) of ``key``, honouring a non-empty ``{hash tag}``."""
    data = key if type(key) is bytes else key_bytes(key)
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return crc_hqx(data, 0) & 0x3FFF


@dataclass(frozen=True)
class NodeInfo:
    """One node as a topology reply describes it."""

    host: str
    port: int
    node_id: str = ""
    primary: bool = True
    failed: bool = False


@dataclass
class ShardInfo:
    """A primary, its replicas and the slot ranges (inclusive) they serve."""

    primary: NodeInfo
    replicas: list[NodeInfo] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else str(value)


def _as_dict(value: Any) -> dict[str, Any]:
    """A RESP3 map or a RESP2 flat ``[k, v, k, v...]`` list, with str keys."""
    if isinstance(value, dict):
        return {_text(k): v for k, v in value.items()}
    items = list(value)
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def _host(value: Any, fallback: str) -> str:
    host = _text(value) if value is not None else ""
    return fallback if host in ("", "?") else host


def parse_shards(reply: Any, queried_host: str) -> list[ShardInfo]:
    """CLUSTER SHARDS (Redis 7+) -> shards. A node whose health is not ``online``
    (``failed``, or ``loading``: a replica that has not received data yet) is kept but
    flagged ``failed``; CLUSTER SLOTS leaves such replicas out altogether."""
    shards = []
    for raw in reply:
        entry = _as_dict(raw)
        bounds = [int(b) for b in entry.get("slots", [])]
        ranges = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds) - 1, 2)]
        nodes = []
        for raw_node in entry.get("nodes", []):
            node = _as_dict(raw_node)
            port = node.get("port") or node.get("tls-port")
            if not port:
                continue
            endpoint = node.get("endpoint")
            address = endpoint if endpoint not in (None, b"", "") else node.get("ip")
            nodes.append(
                NodeInfo(
                    host=_host(address, queried_host),
                    port=int(port),
                    node_id=_text(node.get("id", "")),
                    primary=_text(node.get("role", "")) == "master",
                    failed=_text(node.get("health", "")) != "online",
                )
            )
        # Right after a failover the dead former primary may still be listed as a
        # master of the shard: the live one is the primary.
        ranked = sorted(nodes, key=lambda n: (not n.primary, n.failed))
        primary = ranked[0] if ranked and ranked[0].primary else None
        replicas = ranked[1:]
        if primary is not None and ranges:
            shards.append(ShardInfo(primary, replicas, ranges))
    return shards


def parse_slots(reply: Any, queried_host: str) -> list[ShardInfo]:
    """CLUSTER SLOTS (every version) -> shards, merging ranges served by one primary."""
    by_primary: dict[tuple[str, int], ShardInfo] = {}
    for entry in reply:
        low, high = int(entry[0]), int(entry[1])
        nodes = [
            NodeInfo(
                host=_host(raw[0], queried_host),
                port=int(raw[1]),
                node_id=_text(raw[2]) if len(raw) > 2 else "",
                primary=index == 0,
            )
            for index, raw in enumerate(entry[2:])
        ]
        if not nodes:
            continue
        address = (nodes[0].host, nodes[0].port)
        shard = by_primary.get(address)
        if shard is None:
            shard = by_primary[address] = ShardInfo(nodes[0], nodes[1:])
        shard.ranges.append((low, high))
    return list(by_primary.values())
