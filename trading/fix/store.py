"""Where a session keeps what must survive a reconnect or a restart, and its logs.

Message stores (:class:`MessageStore`) hold the next sender and target sequence
numbers, the sent application messages by sequence number (what a ResendRequest can
ask for) and the creation time of the current sequence (so a scheduled session knows
when a new period started):

* :class:`MemoryStore`: a dict; lives as long as the process, so an acceptor keeps
  its sessions' sequence numbers across connections, but not across restarts;
* :class:`RedisStore`: the same in Redis through ``resp3.Redis``, so a restarted
  process resumes its sessions where they stopped.

The session calls the store synchronously and ends every input with ``flush()``.
``RedisStore`` buffers the writes of one input and sends them in one MULTI/EXEC round
trip at ``flush()``, before the session hands its output to the transport: a message
is stored before it is written to the wire. If Redis fails, ``flush()`` raises the
client's error (``resp3.ConnectionError``...); the transport then drops the
connection, and messages whose write was lost are gap-filled if asked for later.

Redis keys, hash-tagged per session so both live in one cluster slot (``{sid}`` is
``str(SessionID)``, e.g. ``FIX.4.4:ISLD->TW``, with braces replaced by ``_``)::

    <prefix>:{<sid>}:seq    hash: sender, target (next sequence numbers),
                            created (epoch seconds of the last reset)
    <prefix>:{<sid>}:msgs   hash: sequence number -> the message bytes as sent

Logs (:class:`MessageLog`) record messages in and out and session events.
:class:`FileLog` appends them to ``<dir>/<sid>.messages.log`` and
``<dir>/<sid>.events.log`` (``sid`` with ``:``, ``>`` and ``/`` made file-safe), one
line each: ``YYYYMMDD-HH:MM:SS.ffffff IN|OUT <message>``; messages keep their SOH
bytes, exactly as on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Protocol

import resp3
from trading.fix.settings import SessionID

__all__ = [
    "FileLog",
    "FileLogFactory",
    "LogFactory",
    "MemoryStore",
    "MessageLog",
    "MessageStore",
    "NullLog",
    "RedisStore",
    "RedisStoreFactory",
    "StoreFactory",
]


class MessageStore(Protocol):
    """What a session needs from a store (see the module docstring)."""

    next_sender: int
    next_target: int
    creation_time: float

    def save(self, seq: int, raw: bytes) -> None:
        """Keep a sent message and make ``seq + 1`` the next sender number."""

    def set_next_sender(self, seq: int) -> None: ...

    def set_next_target(self, seq: int) -> None: ...

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored messages with ``begin <= seq <= end``, ascending."""

    def reset(self, now: float) -> None:
        """Both numbers back to 1, messages dropped, ``creation_time = now``."""

    def refresh(self) -> None:
        """Reload numbers from the backing storage (another process may own it)."""

    def flush(self) -> None:
        """Write what is buffered; raise the backend's error if it cannot."""


class MemoryStore:
    """In-process store: fast, gone with the process."""

    def __init__(self, now: float | None = None) -> None:
        self.next_sender = 1
        self.next_target = 1
        self.creation_time = time.time() if now is None else now
        self._messages: dict[int, bytes] = {}

    def save(self, seq: int, raw: bytes) -> None:
        self._messages[seq] = raw
        self.next_sender = seq + 1

    def set_next_sender(self, seq: int) -> None:
        self.next_sender = seq

    def set_next_target(self, seq: int) -> None:
        self.next_target = seq

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        messages = self._messages
        if end - begin > len(messages):
            return sorted((s, m) for s, m in messages.items() if begin <= s <= end)
        return [(s, messages[s]) for s in range(begin, end + 1) if s in messages]

    def reset(self, now: float) -> None:
        self.next_sender = self.next_target = 1
        self.creation_time = now
        self._messages.clear()

    def refresh(self) -> None:
        """Nothing to reload: this object is the storage."""

    def flush(self) -> None:
        """Nothing to write."""


def _tag(session_id: SessionID) -> str:
    return str(session_id).replace("{", "_").replace("}", "_")


class RedisStore:
    """A store in Redis (keys in the module docstring). ``client`` is a sync
    ``resp3.Redis``; every method may raise its errors. Loading happens at
    construction: a missing ``seq`` hash starts a fresh sequence at 1."""

    def __init__(
        self,
        client: resp3.Redis,
        session_id: SessionID,
        *,
        prefix: str = "fix",
        now: float | None = None,
    ) -> None:
        self.client = client
        tag = _tag(session_id)
        self.seq_key = f"{prefix}:{{{tag}}}:seq"
        self.messages_key = f"{prefix}:{{{tag}}}:msgs"
        self._pending: dict[bytes, bytes] = {}  # seq hash fields to write
        self._messages: dict[int, bytes] = {}  # messages to write
        self.next_sender = 1
        self.next_target = 1
        self.creation_time = 0.0
        self.refresh(now)

    def refresh(self, now: float | None = None) -> None:
        """Read the numbers back; create them (at 1, created now) when absent."""
        self._pending.clear()
        self._messages.clear()
        found = self.client.hgetall(self.seq_key)
        if not found:
            self.reset(time.time() if now is None else now)
            return
        values = {_text(k): _text(v) for k, v in found.items()}
        self.next_sender = int(values.get("sender", "1"))
        self.next_target = int(values.get("target", "1"))
        self.creation_time = float(values.get("created", "0"))

    def save(self, seq: int, raw: bytes) -> None:
        self._messages[seq] = raw
        self.set_next_sender(seq + 1)

    def set_next_sender(self, seq: int) -> None:
        self.next_sender = seq
        self._pending[b"sender"] = b"%d" % seq

    def set_next_target(self, seq: int) -> None:
        self.next_target = seq
        self._pending[b"target"] = b"%d" % seq

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        self.flush()
        top = min(end, self.next_sender - 1)
        out: list[tuple[int, bytes]] = []
        for low in range(begin, top + 1, 1000):
            numbers = list(range(low, min(low + 1000, top + 1)))
            values = self.client.hmget(self.messages_key, numbers)
            pairs = zip(numbers, values, strict=True)
            out.extend((n, _raw(v)) for n, v in pairs if v is not None)
        return out

    def reset(self, now: float) -> None:
        """Drop everything, immediately (one MULTI/EXEC), buffered writes included."""
        self._pending.clear()
        self._messages.clear()
        self.next_sender = self.next_target = 1
        self.creation_time = now
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.messages_key, self.seq_key)
        pipe.hset(self.seq_key, mapping={b"sender": b"1", b"target": b"1", b"created": repr(now)})
        pipe.execute()

    def flush(self) -> None:
        if not self._pending and not self._messages:
            return
        pipe = self.client.pipeline(transaction=True)
        if self._messages:
            pipe.hset(self.messages_key, mapping=self._messages)
        if self._pending:
            pipe.hset(self.seq_key, mapping=self._pending)
        pipe.execute()
        self._pending = {}
        self._messages = {}


def _raw(value: Any) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray) else str(value).encode()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


# ------------------------------------------------------------------ logs


class MessageLog(Protocol):
    def incoming(self, raw: bytes) -> None: ...

    def outgoing(self, raw: bytes) -> None: ...

    def event(self, text: str) -> None: ...

    def flush(self) -> None: ...


class NullLog:
    """Discards everything (the default)."""

    def incoming(self, raw: bytes) -> None:
        pass

    def outgoing(self, raw: bytes) -> None:
        pass

    def event(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def _stamp(now: float) -> bytes:
    moment = datetime.fromtimestamp(now, timezone.utc)
    return moment.strftime("%Y%m%d-%H:%M:%S.%f").encode()


class FileLog:
    """Appends messages and events to two files per session (module docstring).
    Lines are buffered and written at ``flush()``, which the session calls at the end
    of every input; ``close()`` flushes and closes. ``clock`` stamps the lines."""

    def __init__(
        self,
        directory: str | Path,
        session_id: SessionID,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        name = str(session_id).replace("->", "-").replace(":", "-").replace("/", "_")
        self.messages_path = folder / f"{name}.messages.log"
        self.events_path = folder / f"{name}.events.log"
        self._messages: IO[bytes] = open(self.messages_path, "ab")  # noqa: SIM115
        self._events: IO[bytes] = open(self.events_path, "ab")  # noqa: SIM115
        self._clock = clock

    def incoming(self, raw: bytes) -> None:
        self._messages.write(b"%b IN  %b\n" % (_stamp(self._clock()), raw))

    def outgoing(self, raw: bytes) -> None:
        self._messages.write(b"%b OUT %b\n" % (_stamp(self._clock()), raw))

    def event(self, text: str) -> None:
        self._events.write(b"%b %b\n" % (_stamp(self._clock()), text.encode("utf-8", "replace")))

    def flush(self) -> None:
        self._messages.flush()
        self._events.flush()

    def close(self) -> None:
        self._messages.close()
        self._events.close()


StoreFactory = Callable[[SessionID], MessageStore]
LogFactory = Callable[[SessionID], MessageLog]


class RedisStoreFactory:
    """``RedisStoreFactory(client, prefix=...)`` makes a :class:`RedisStore` per session."""

    def __init__(self, client: resp3.Redis, *, prefix: str = "fix") -> None:
        self.client = client
        self.prefix = prefix

    def __call__(self, session_id: SessionID) -> RedisStore:
        return RedisStore(self.client, session_id, prefix=self.prefix)


class FileLogFactory:
    """``FileLogFactory(directory)`` makes a :class:`FileLog` per session."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def __call__(self, session_id: SessionID) -> FileLog:
        return FileLog(self.directory, session_id)
