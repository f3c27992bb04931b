"""Many commands for many slots, grouped per node and sent in rounds, without I/O.

Theory of operation
-------------------
Pipelines and split multi-key commands are a list of :class:`Item` (a command and
its slot). :meth:`Batch.groups` assigns every pending item to the node that serves its
slot and returns one :class:`Group` per node: the bytes to write (one buffer, with
``ASKING`` before each item that follows an ASK redirection) and how many replies to
read. The shell writes every group, then reads every group (sync: write to all nodes
first, so they work at the same time; asyncio: one ``gather``), and reports each
group's replies to :meth:`Batch.receive` or its failure to :meth:`Batch.fail`.

Replies that are redirections (MOVED, ASK, TRYAGAIN, CLUSTERDOWN...) put their item
back in the pending list through its own :class:`~.attempt.Attempt`, exactly as a
single command would be retried; :meth:`Batch.next_round` then says how long to wait
and whether to refresh the slot map first. Within one node, items keep the caller's
order; an item retried in a later round is sent after the ones that succeeded.

A group whose connection broke after writing re-sends its items only if every one of
them may be re-sent (docs/retry.md); otherwise ``fatal`` holds the ConnectionError
and the shell raises it once every other group was read, so no connection is left
with unread replies.
"""

from __future__ import annotations

from typing import Any

from .._reader import pack_commands
from ..commands._base import READONLY, Command
from ..errors import ResponseError
from .attempt import REDIRECTS, Attempt, ClusterPolicy
from .errors import SlotNotCoveredError
from .nodes import ClusterNode, Topology

__all__ = ["ASKING", "Batch", "Group", "Item"]

ASKING = (b"ASKING",)
_PENDING = object()


class Item:
    """One command of a batch.

    A keyed command has a ``slot``. A keyless one is pinned to ``node``; if that was
    chosen as the DEFAULT_NODE or RANDOM ``target``, a failed node is replaced by
    another choice on the next round.
    """

    __slots__ = ("attempt", "cmd", "node", "reply", "slot", "target")

    def __init__(
        self,
        cmd: Command[Any],
        slot: int | None,
        node: ClusterNode | None = None,
        target: str | None = None,
    ) -> None:
        self.cmd = cmd
        self.slot = slot
        self.node = node
        self.target = target
        self.attempt: Attempt | None = None
        self.reply: Any = _PENDING


class Group:
    """The items going to one node in this round, and the bytes that carry them."""

    __slots__ = ("asking", "count", "data", "items", "node")

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self.items: list[Item] = []
        self.asking: list[bool] = []
        self.count = 0
        self.data = b""

    def pack(self) -> None:
        commands: list[tuple[Any, ...]] = []
        for item, asking in zip(self.items, self.asking, strict=True):
            if asking:
                commands.append(ASKING)
            commands.append(item.cmd.args)
        self.count = len(commands)
        self.data = pack_commands(commands)


class Batch:
    """Rounds of per-node groups until every item has a reply (or an error)."""

    def __init__(self, items: list[Item], topology: Topology, policy: ClusterPolicy) -> None:
        self.items = items
        self.topology = topology
        self.policy = policy
        self.pending = list(items)
        self.fatal: BaseException | None = None
        self.refresh = 0
        self._delay = 0.0

    def groups(self) -> list[Group]:
        """Group the pending items by node for the next round (assigns items' nodes)."""
        groups: dict[str, Group] = {}
        pending, self.pending = self.pending, []
        topology = self.topology
        for item in pending:
            attempt = item.attempt
            asking = False
            if item.node is not None:
                if item.target is not None and attempt is not None and attempt.node is None:
                    item.node = topology.targets(item.target)[0]  # the old one failed
                node: ClusterNode | None = item.node
            elif attempt is not None and attempt.node is not None:
                node, asking = attempt.node, attempt.asking
            else:
                assert item.slot is not None
                node = topology.node_for(item.slot, item.cmd.flags & READONLY)
            if node is None:
                self._retry(
                    item, SlotNotCoveredError(f"slot {item.slot} is not served"), False, None
                )
                continue
            group = groups.get(node.name)
            if group is None:
                group = groups[node.name] = Group(node)
            group.items.append(item)
            group.asking.append(asking)
        for group in groups.values():
            group.pack()
        return list(groups.values())

    def receive(self, group: Group, replies: list[Any]) -> None:
        """The replies of one group, in order (ASKING's own OK replies included)."""
        index = 0
        for item, asking in zip(group.items, group.asking, strict=True):
            if asking:
                index += 1
            reply = replies[index]
            index += 1
            if isinstance(reply, REDIRECTS) and item.slot is not None and item.node is None:
                self._retry(item, reply, False, group.node)
            else:
                item.reply = reply

    def fail(self, group: Group, error: BaseException, written: bool) -> None:
        """The group's connection failed (before writing if not ``written``)."""
        for item in group.items:
            self._retry(item, error, written, group.node)

    def _retry(
        self, item: Item, error: BaseException, written: bool, node: ClusterNode | None
    ) -> None:
        attempt = item.attempt
        if attempt is None:
            attempt = item.attempt = Attempt(item.slot or 0, item.cmd.flags, self.policy)
        try:
            delay = attempt.retry(error, written, node, self.topology)
        except ResponseError as final:
            item.reply = final
            return
        except BaseException as final:
            item.reply = final
            if self.fatal is None:
                self.fatal = final
            return
        self.refresh = max(self.refresh, attempt.refresh)
        self._delay = max(self._delay, delay)
        self.pending.append(item)

    def next_round(self) -> float | None:
        """None when done; else the delay before the next round (``refresh`` tells more)."""
        if not self.pending or self.fatal is not None:
            return None
        delay, self._delay = self._delay, 0.0
        return delay

    def start_round(self) -> None:
        self.refresh = 0

    def replies(self) -> list[Any]:
        return [item.reply for item in self.items]
