"""Shared bits of the cluster tests: keys for chosen slots, and load generators that
record what was acknowledged, what failed, and when."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from resp3.cluster import key_slot

__all__ = ["Load", "key_for_slot", "keys_for_every_slot", "tag_for_slot"]

_EVERY_SLOT: list[str] = []


def keys_for_every_slot() -> list[str]:
    """One key per slot, index = slot (found by search, cached)."""
    if not _EVERY_SLOT:
        found: dict[int, str] = {}
        i = 0
        while len(found) < 16384:
            key = f"k:{i}"
            found.setdefault(key_slot(key), key)
            i += 1
        _EVERY_SLOT.extend(found[slot] for slot in range(16384))
    return _EVERY_SLOT


def key_for_slot(slot: int) -> str:
    return keys_for_every_slot()[slot]


def tag_for_slot(slot: int) -> str:
    """A hash tag ``{...}`` whose keys all land in ``slot``."""
    return "{" + key_for_slot(slot) + "}"


@dataclass
class Load:
    """Threads running ``op(i)`` in a loop; records acks, errors and completion times.

    ``op`` returns what to remember for iteration ``i`` (e.g. the key it wrote), or
    raises. ``times`` holds (start, end) per acknowledged op, for recovery measurements.
    """

    op: Callable[[int], Any]
    threads: int = 2
    pause: float = 0.001  # leaves the GIL to the thread driving the cluster meanwhile
    acked: list[tuple[float, float, Any]] = field(default_factory=list)
    errors: list[tuple[float, BaseException]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _run(self) -> None:
        while not self._stop.is_set():
            i = self._next()
            start = time.monotonic()
            try:
                result = self.op(i)
            except Exception as exc:
                self.errors.append((time.monotonic(), exc))
                time.sleep(0.01)
            else:
                self.acked.append((start, time.monotonic(), result))
            time.sleep(self.pause)

    def start(self) -> Load:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)
        assert not any(w.is_alive() for w in self._workers), "a load thread did not stop"
