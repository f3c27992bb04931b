"""The buffering state every pipeline shares: sync, asyncio, single node and cluster.

Theory of operation. A pipeline is in one of three states:

* buffering (the start): command methods append to ``command_stack`` and return the
  pipeline, so calls chain;
* watching (after ``watch()``): command methods run at once on the pipeline's own
  connection, through the shell's ``_immediate``, so the caller can read the watched
  values; the shell awaits or not;
* in a transaction (after ``multi()``): buffering again, and ``execute()`` sends
  MULTI/EXEC.

``reset()`` (and ``execute()``, which ends with it) goes back to buffering. Only these
transitions live here; sending, reading, retrying and releasing connections stay in
the shells, which is where sync and asyncio differ.
"""

from __future__ import annotations

from typing import Any

from .commands._base import Command, PipelineExecutor
from .errors import RedisError

__all__ = ["PipelineState"]


class PipelineState(PipelineExecutor):
    """``command_stack`` plus the WATCH/MULTI flags, and the rules between them."""

    transaction: bool
    command_stack: list[Command[Any]]
    watching: bool
    explicit_transaction: bool

    def _init_state(self, transaction: bool) -> None:
        self.transaction = transaction
        self.command_stack = []
        self.watching = False
        self.explicit_transaction = False

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        return True

    def _execute(self, cmd: Command[Any]) -> Any:
        if self.watching and not self.explicit_transaction:
            return self._immediate(cmd)
        self.command_stack.append(cmd)
        return self

    def _immediate(self, cmd: Command[Any]) -> Any:
        """Run ``cmd`` now on the watching connection (a coroutine in asyncio shells)."""
        raise NotImplementedError

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self._execute(Command(args))

    def _check_watch(self) -> None:
        """WATCH is refused once MULTI started: the server would reject it inside."""
        if self.explicit_transaction:
            raise RedisError("cannot issue WATCH after MULTI")

    def multi(self) -> None:
        """Start buffering for MULTI/EXEC; RedisError if already started, or if
        commands were buffered without WATCH (they would silently join the block)."""
        if self.explicit_transaction:
            raise RedisError("cannot issue nested calls to MULTI")
        if self.command_stack:
            raise RedisError("commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    @property
    def _in_transaction(self) -> bool:
        return self.transaction or self.explicit_transaction

    def _clear_flags(self) -> None:
        """Out of WATCH and MULTI. The shell empties ``command_stack`` first and then
        releases the connection (sending UNWATCH while ``watching`` still says so)."""
        self.watching = False
        self.explicit_transaction = False
