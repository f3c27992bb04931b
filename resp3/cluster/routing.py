"""Per-command routing: which slot, which nodes, or how to split, decided without I/O.

``Router.plan(args)`` answers one of:

* an ``int``: the slot every key of the command hashes to (the common case);
* a :class:`NodeRoute`: a keyless command and the nodes it goes to by default
  (``PRIMARIES`` for FLUSHDB, DBSIZE, KEYS, SCRIPT LOAD...; ``DEFAULT_NODE`` for INFO,
  PING, TIME...), with the aggregator that folds the per-node replies into one value,
  as redis-py does (DBSIZE sums, KEYS concatenates, FLUSHDB is True if all were);
* ``SPLIT``: MGET, MSET, DEL, EXISTS, UNLINK or TOUCH across slots; :func:`split` cuts
  it into one command per slot and returns the function that reassembles the replies
  in the caller's order (sums for the counting ones);
* ``LOOKUP``: a command missing from the key table; the client asks ``COMMAND INFO``
  once and calls :meth:`Router.learn`;
* ``GETKEYS``: a movable-keys command the client resolves with ``COMMAND GETKEYS``.

Any other multi-key command whose keys hash to different slots raises
:class:`~.errors.ClusterCrossSlotError` here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..commands._base import Command
from ..errors import ResponseError
from .errors import ClusterCrossSlotError, ClusterError
from .keyspecs import GETKEYS, KEY_RANGES, MOVABLE, command_name, upper_bytes
from .slots import key_slot

__all__ = [
    "ALL_NODES",
    "DEFAULT_NODE",
    "GETKEYS_NEEDED",
    "LOOKUP",
    "PRIMARIES",
    "RANDOM",
    "REPLICAS",
    "SPLIT",
    "NodeRoute",
    "Router",
    "slot_of_keys",
    "split",
]

PRIMARIES = "primaries"
REPLICAS = "replicas"
ALL_NODES = "all"
RANDOM = "random"
DEFAULT_NODE = "default-node"
TARGETS = frozenset({PRIMARIES, REPLICAS, ALL_NODES, RANDOM, DEFAULT_NODE})

Aggregate = Callable[[list[Any]], Any]


class NodeRoute:
    """A keyless command's default target and how to fold several nodes' replies."""

    __slots__ = ("aggregate", "target")

    def __init__(self, target: str, aggregate: Aggregate | None = None) -> None:
        self.target = target
        self.aggregate = aggregate

    def __repr__(self) -> str:
        return f"NodeRoute({self.target!r})"


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SPLIT = _Marker("SPLIT")
LOOKUP = _Marker("LOOKUP")
GETKEYS_NEEDED = _Marker("GETKEYS")

Plan = int | NodeRoute | _Marker


# -- aggregators (they receive the decoded reply of each node, in node order) --------


def _all_true(values: list[Any]) -> bool:
    return all(values)


def _sum(values: list[Any]) -> Any:
    return sum(values)


def _concat(values: list[Any]) -> list[Any]:
    return [item for value in values for item in value]


def _union(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(item for value in values for item in value))


def _first(values: list[Any]) -> Any:
    return values[0]


def _all_per_position(values: list[Any]) -> list[bool]:
    return [all(column) for column in zip(*values, strict=True)]


def _numsub(values: list[Any]) -> list[tuple[Any, int]]:
    totals: dict[Any, int] = {}
    for pairs in values:
        for channel, count in pairs:
            totals[channel] = totals.get(channel, 0) + int(count)
    return list(totals.items())


def _names(text: str) -> list[str]:
    return text.split()


_DEFAULT = NodeRoute(DEFAULT_NODE)
_ROUTES: dict[str, NodeRoute] = {
    **dict.fromkeys(
        _names("FLUSHDB FLUSHALL SCRIPT|FLUSH FUNCTION|FLUSH FUNCTION|DELETE"),
        NodeRoute(PRIMARIES, _all_true),
    ),
    "DBSIZE": NodeRoute(PRIMARIES, _sum),
    "KEYS": NodeRoute(PRIMARIES, _concat),
    "SCRIPT|LOAD": NodeRoute(PRIMARIES, _first),
    "FUNCTION|LOAD": NodeRoute(PRIMARIES, _first),
    "SCRIPT|EXISTS": NodeRoute(PRIMARIES, _all_per_position),
    "PUBSUB|CHANNELS": NodeRoute(ALL_NODES, _union),
    "PUBSUB|SHARDCHANNELS": NodeRoute(ALL_NODES, _union),
    "PUBSUB|NUMSUB": NodeRoute(ALL_NODES, _numsub),
    "PUBSUB|NUMPAT": NodeRoute(ALL_NODES, _sum),
    **dict.fromkeys(
        _names(
            """PING INFO ECHO TIME LASTSAVE AUTH QUIT RESET SELECT SWAPDB WAIT UNWATCH
            RANDOMKEY PUBLISH MULTI EXEC DISCARD READONLY READWRITE HELLO ASKING CLIENT
            CONFIG CLUSTER COMMAND SLOWLOG DEBUG LATENCY MEMORY OBJECT XINFO XGROUP ACL
            MODULE SAVE BGSAVE BGREWRITEAOF ROLE REPLICAOF FAILOVER LOLWUT MONITOR"""
        ),
        _DEFAULT,
    ),
}
# With an explicit multi-node target, these fold the replies instead of a dict.
_AGGREGATES: dict[bytes, Aggregate] = {
    **{name.encode(): route.aggregate for name, route in _ROUTES.items() if route.aggregate},
    b"PING": _all_true,
}
NODE_ROUTES: dict[bytes, NodeRoute] = {name.encode(): route for name, route in _ROUTES.items()}
_SPLITTABLE = frozenset({b"MGET", b"MSET", b"DEL", b"EXISTS", b"UNLINK", b"TOUCH"})
_UNROUTABLE = {
    b"SCAN": "SCAN's cursor belongs to one node: use scan_iter() (every primary) "
    "or with_target(node).scan(...)",
}


def aggregator(args: Sequence[Any]) -> Aggregate | None:
    """How to fold per-node replies of this command, when it went to several nodes.

    None means "return ``{node name: reply}``", as redis-py does for commands it has
    no rule for (INFO, CLIENT LIST, CONFIG GET...).
    """
    name = command_name(args)
    if name in (b"CONFIG", b"CLIENT"):  # SET/PAUSE/UNPAUSE answer OK/True per node
        sub = upper_bytes(args[1]) if len(args) > 1 else b""
        return _all_true if sub in (b"SET", b"PAUSE", b"UNPAUSE", b"SETNAME") else None
    return _AGGREGATES.get(name)


def _keys_by_spec(args: Sequence[Any], spec: tuple[int, int, int]) -> Sequence[Any]:
    first, last, step = spec
    if first <= 0:
        return ()
    end = last + 1 if last >= 0 else len(args) + last + 1
    return args[first:end:step]


def slot_of_keys(name: bytes, keys: Sequence[Any]) -> int:
    """The one slot of ``keys``; ClusterCrossSlotError naming two keys that differ."""
    slot = key_slot(keys[0])
    for key in keys[1:]:
        other = key_slot(key)
        if other != slot:
            raise ClusterCrossSlotError(
                f"{name.decode(errors='replace')}: key {keys[0]!r} is in slot {slot} but "
                f"{key!r} is in slot {other}; use a {{hash tag}} to keep them together"
            )
    return slot


class Router:
    """The routing table plus what this client learned from COMMAND INFO."""

    def __init__(self) -> None:
        self.learned: dict[bytes, tuple[int, int, int]] = {}

    def plan(self, args: Sequence[Any]) -> Plan:
        """Where ``args`` goes (see the module docstring); may raise ClusterCrossSlotError."""
        spec = KEY_RANGES.get(args[0])  # builders' names hit here directly
        name: bytes = args[0]
        if spec is None:
            name = command_name(args)
            spec = KEY_RANGES.get(name) or self.learned.get(name)
            if spec is None:
                return self._plan_special(name, args)
        first, last, _ = spec
        if first == last:
            if len(args) <= first:
                return _DEFAULT  # missing key: let the server report the arity error
            return key_slot(args[first])
        keys = _keys_by_spec(args, spec)
        if not keys:
            return _DEFAULT
        try:
            return slot_of_keys(name, keys)
        except ClusterCrossSlotError:
            if name in _SPLITTABLE:
                return SPLIT
            raise

    def _plan_special(self, name: bytes, args: Sequence[Any]) -> Plan:
        finder = MOVABLE.get(name)
        if finder is not None:
            keys = finder(args)
            return slot_of_keys(name, keys) if keys else _DEFAULT
        if name in GETKEYS:
            return GETKEYS_NEEDED
        route = NODE_ROUTES.get(name) or NODE_ROUTES.get(name.partition(b"|")[0])
        if route is not None:
            return route
        if name in _UNROUTABLE:
            raise ClusterError(_UNROUTABLE[name])
        if name in self.learned:
            return _DEFAULT
        return LOOKUP

    def learn(self, name: bytes, info: Any) -> None:
        """Remember COMMAND INFO's key triple for ``name`` (keyless: ``(0, 0, 0)``)."""
        spec = (0, 0, 0)
        if isinstance(info, (list, tuple)) and info and isinstance(info[0], (list, tuple)):
            entry = info[0]
            if len(entry) >= 6:
                spec = (int(entry[3]), int(entry[4]), int(entry[5]))
        self.learned[name] = spec


def split(cmd: Command[Any]) -> tuple[list[tuple[int, Command[Any]]], Callable[[list[Any]], Any]]:
    """Cut a cross-slot MGET/MSET/DEL/EXISTS/UNLINK/TOUCH into one command per slot.

    Returns ``[(slot, command), ...]`` and ``merge(raw_replies)``, which rebuilds the
    raw reply the unsplit command would have had (then decoded by the caller with the
    original decoder): values back in the caller's key order for MGET, one OK for MSET,
    the sum for the counting commands. An error reply among the parts is raised.
    """
    name = bytes(command_name(cmd.args))
    step = 2 if name == b"MSET" else 1
    args = cmd.args
    groups: dict[int, list[int]] = {}
    for position, index in enumerate(range(1, len(args), step)):
        groups.setdefault(key_slot(args[index]), []).append(position)
    parts: list[tuple[int, Command[Any]]] = []
    order: list[list[int]] = []
    for slot, positions in groups.items():
        part_args: list[Any] = [args[0]]
        for position in positions:
            start = 1 + position * step
            part_args.extend(args[start : start + step])
        parts.append((slot, Command(tuple(part_args), None, flags=cmd.flags)))
        order.append(positions)
    total = (len(args) - 1) // step

    def merge(replies: list[Any]) -> Any:
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
        if name == b"MGET":
            values: list[Any] = [None] * total
            for positions, reply in zip(order, replies, strict=True):
                for position, value in zip(positions, reply, strict=True):
                    values[position] = value
            return values
        if name == b"MSET":
            return replies[0]
        return sum(int(reply) for reply in replies)

    return parts, merge


def check_error(reply: Any) -> Any:
    """Raise an error reply (used where batches surface the first failure)."""
    if isinstance(reply, ResponseError):
        raise reply
    return reply
