"""The order manager: applies events to a book of orders, optionally through a store.

Theory of operation
-------------------
:class:`OrderBook` is the pure core. ``plan(event)`` computes a :class:`Change` (the
order's state before and after, the replacement order for a confirmed replace, whether
the event was a harmless repeat) without touching anything; ``commit(change)`` makes
it the book's state. It enforces what a single order cannot: client order ids unique
per account, exec ids applied at most once per order.

:class:`OrderManager` wraps a book and, optionally, an :class:`OrderStore` (Redis:
``trading.oms.store.RedisOrderStore``). Without a store it plans and commits. With one,
each change is written with an optimistic check (the store refuses it unless the
order is still at the version the change was planned from) and committed only once
the store took it. When another process got there first, the store answers with the
order's current state; the manager loads it and plans the event again, so concurrent
managers are serialised by the store, never by timing. A refusal (invalid transition,
over-fill) is final only once confirmed against fresh state from the store: a stale
view must not reject a fill that another process already made legal, nor miss an
exec id another process already applied.

``pre_trade`` checks run where exposure grows: on ``submit``, and on a ``ReplaceRequest``
once it is planned (the state machine refuses first, so nothing is reserved for a
replace it refuses) and before its first write. A refused replace raises ``ReplaceDenied``.

The manager itself does no I/O; it only calls the store it was given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from trading.core import Order, TimeInForce
from trading.errors import OrderError, ReplaceDenied, RiskDenied, TradingError
from trading.oms.events import (
    Deny,
    Event,
    Expire,
    ReplaceRequest,
    Submit,
)
from trading.oms.order_state import OrderState, step
from trading.oms.states import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    DuplicateOrder,
    EventKind,
    OrderStatus,
)

__all__ = [
    "Change",
    "Contention",
    "OrderBook",
    "OrderManager",
    "OrderStore",
    "PreTrade",
    "PreTradeCheck",
    "Stored",
    "WriteResult",
    "plan",
]

#: A pre-trade check: returns a denial reason, or None to let the order go. It may run
#: for a resubmission that another process already stored (the result then reports
#: ``duplicate``), so a check with side effects must undo them in that case.
PreTradeCheck = Callable[[Order], "str | None"]

Key = tuple[str, str]


class PreTrade(Protocol):
    """The pre-trade checks a manager runs itself (``OmsRiskHook`` fits). Each returns
    None to let the request through (having reserved what it needs) or a denial reason,
    ``"<code>: <message>"``."""

    def check(self, order: Order) -> str | None: ...

    def check_replace(self, state: OrderState, request: ReplaceRequest) -> str | None: ...


class Change(NamedTuple):
    """One applied (or planned) event. ``after`` is the event's order afterwards;
    ``replacement`` the order born by a confirmed replace. ``duplicate`` means nothing
    changed: an identical resubmission or an exec id the order had already applied."""

    event: Event
    kind: EventKind | None
    before: OrderState | None
    after: OrderState
    replacement: OrderState | None = None
    duplicate: bool = False

    @property
    def exec_id(self) -> str | None:
        exec_id: str | None = getattr(self.event, "exec_id", None)
        return exec_id

    def order_keys(self) -> tuple[Key, ...]:
        if self.replacement is None:
            return (self.after.key,)
        return (self.after.key, self.replacement.key)


@dataclass(frozen=True, slots=True)
class Stored:
    """An order as read from a store, with the exec ids it has applied."""

    state: OrderState
    exec_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a store did with a change: ``"ok"`` (written), ``"seen"`` (exec id already
    applied: nothing written), ``"conflict"`` (the order moved on) or ``"exists"`` (a
    created id is taken). Except for ``ok``, ``current`` is the stored order that stood
    in the way (None if it does not exist)."""

    outcome: str
    current: Stored | None = None


class OrderStore(Protocol):
    """Where a manager persists changes (see ``trading.oms.store.RedisOrderStore``)."""

    def write(self, change: Change) -> WriteResult: ...

    def write_many(self, changes: Sequence[Change]) -> list[WriteResult]: ...

    def load(self, account: str, client_order_id: str) -> Stored | None: ...

    def load_open(self, accounts: Iterable[str] | None = None) -> list[Stored]: ...


class Contention(TradingError):
    """A change kept losing the optimistic race (other writers changed the order each
    time) and the manager gave up after ``max_attempts``."""


def _creation_retry(state: OrderState, event: Event) -> bool:
    """An identical resubmission (after a timeout, say): same id, same order terms."""
    return isinstance(event, (Submit, Deny)) and event.order == state.order


def plan(
    event: Event,
    state: OrderState | None,
    seen: Container[str],
    exists: Callable[[Key], bool],
    now_ns: int,
) -> Change:
    """Compute the change ``event`` makes to ``state`` (None: unknown order).

    ``seen`` holds the order's applied exec ids; ``exists`` says whether a client order
    id is taken (for a replace's new id). Raises what :func:`step` raises, and
    :class:`DuplicateOrder` for a new id that is taken.
    """
    if state is not None:
        exec_id = getattr(event, "exec_id", None)
        if (exec_id is not None and exec_id in seen) or _creation_retry(state, event):
            return Change(event, None, state, state, duplicate=True)
    result = step(state, event, now_ns)
    if isinstance(event, ReplaceRequest):
        _check_free(event.account, event.new_client_order_id, exists)
    elif result.replacement is not None:
        _check_free(event.account, result.replacement.client_order_id, exists)
    return Change(event, result.kind, state, result.after, result.replacement)


def _check_free(account: str, client_order_id: str, exists: Callable[[Key], bool]) -> None:
    if exists((account, client_order_id)):
        raise DuplicateOrder(f"{account}/{client_order_id}: client order id already used")


class OrderBook:
    """Orders by ``(account, client_order_id)``, with open-order indexes and the exec
    ids each order applied. No I/O; see the module docstring."""

    def __init__(self) -> None:
        self._states: dict[Key, OrderState] = {}
        self._seen: dict[Key, set[str]] = {}
        self._open: dict[str, set[str]] = {}
        self._open_by_symbol: dict[Key, set[str]] = {}

    def __len__(self) -> int:
        return len(self._states)

    def get(self, account: str, client_order_id: str) -> OrderState | None:
        return self._states.get((account, client_order_id))

    def exec_ids(self, account: str, client_order_id: str) -> frozenset[str]:
        return frozenset(self._seen.get((account, client_order_id), ()))

    def plan(self, event: Event, now_ns: int) -> Change:
        key = (event.account, event.client_order_id)
        return plan(
            event, self._states.get(key), self._seen.get(key, ()), self._states.__contains__, now_ns
        )

    def commit(self, change: Change) -> None:
        if change.duplicate:
            return
        self._put(change.after)
        exec_id = change.exec_id
        if exec_id is not None:
            self._seen.setdefault(change.after.key, set()).add(exec_id)
        if change.replacement is not None:
            self._put(change.replacement)

    def forget(self, account: str, client_order_id: str) -> None:
        """Drop an order from the book (it no longer exists where it was loaded from)."""
        key = (account, client_order_id)
        state = self._states.pop(key, None)
        self._seen.pop(key, None)
        if state is not None:
            self._open.get(account, set()).discard(client_order_id)
            self._open_by_symbol.get((account, state.symbol), set()).discard(client_order_id)

    def load(self, stored: Stored) -> None:
        """Replace the book's copy of an order by one read from a store."""
        self._put(stored.state)
        self._seen[stored.state.key] = set(stored.exec_ids)

    def _put(self, state: OrderState) -> None:
        order = state.order
        account, client_order_id = order.account, order.client_order_id
        key = (account, client_order_id)
        previous = self._states.get(key)
        self._states[key] = state
        if previous is not None and (previous.status in TERMINAL_STATUSES) == (
            state.status in TERMINAL_STATUSES
        ):
            return  # open stays open (or done stays done): the indexes are right
        by_symbol = self._open_by_symbol.setdefault((account, state.symbol), set())
        if state.is_open:
            self._open.setdefault(account, set()).add(client_order_id)
            by_symbol.add(client_order_id)
        elif previous is None or previous.is_open:
            self._open.get(account, set()).discard(client_order_id)
            by_symbol.discard(client_order_id)

    def open_orders(self, account: str, symbol: str | None = None) -> list[OrderState]:
        """Open orders of ``account`` (optionally one symbol), sorted by client order id."""
        ids = (
            self._open.get(account, set())
            if symbol is None
            else (self._open_by_symbol.get((account, symbol), set()))
        )
        return [self._states[(account, i)] for i in sorted(ids)]

    def accounts(self) -> list[str]:
        return sorted({account for account, _ in self._states})


class OrderManager:
    """Applies events to orders, persisting each change through ``store`` when given.

    ``clock`` stamps events whose ``timestamp_ns`` is 0. ``max_attempts`` bounds the
    optimistic retries of one change under contention (then :class:`Contention`).
    ``pre_trade`` checks new orders (the default ``check`` of :meth:`submit`) and every
    ``ReplaceRequest`` (in :meth:`apply` and :meth:`apply_many`).
    """

    def __init__(
        self,
        store: OrderStore | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
        max_attempts: int = 100,
        pre_trade: PreTrade | None = None,
    ) -> None:
        self.book = OrderBook()
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        self.pre_trade = pre_trade

    # -- reading ------------------------------------------------------------------------

    def get(self, account: str, client_order_id: str) -> OrderState | None:
        """The order as this manager knows it; a store-backed manager reads a miss
        from the store (another process may have created it)."""
        state = self.book.get(account, client_order_id)
        if state is None and self.store is not None:
            stored = self.store.load(account, client_order_id)
            if stored is not None:
                self.book.load(stored)
                state = stored.state
        return state

    def open_orders(self, account: str, symbol: str | None = None) -> list[OrderState]:
        return self.book.open_orders(account, symbol)

    def recover(self, accounts: Iterable[str] | None = None) -> int:
        """Rebuild the view of open orders from the store (all accounts by default);
        returns how many orders were loaded. Terminal orders are read on demand."""
        if self.store is None:
            return 0
        loaded = self.store.load_open(accounts)
        for stored in loaded:
            self.book.load(stored)
        return len(loaded)

    # -- writing ------------------------------------------------------------------------

    def submit(
        self, order: Order, *, check: PreTradeCheck | None = None, timestamp_ns: int = 0
    ) -> Change:
        """Create ``order``: ``pending_new``, or ``denied`` when ``check`` (by default
        ``pre_trade.check``) returns a reason.

        A resubmission of the same client order id with identical terms returns the
        stored order (``duplicate``) without running ``check`` again when this manager
        already knows it; different terms raise :class:`DuplicateOrder`.
        """
        existing = self.book.get(order.account, order.client_order_id)
        if existing is not None:
            if existing.order == order:
                return Change(Submit(order, timestamp_ns), None, existing, existing, duplicate=True)
            where = f"{order.account}/{order.client_order_id}"
            raise DuplicateOrder(
                f"{where}: client order id already used by a different order "
                f"(status {existing.status.value})"
            )
        if check is None and self.pre_trade is not None:
            check = self.pre_trade.check
        reason = check(order) if check is not None else None
        event: Event = (
            Submit(order, timestamp_ns) if reason is None else Deny(order, reason, timestamp_ns)
        )
        return self.apply(event)

    def apply(self, event: Event) -> Change:
        """Apply one event and return the change (``duplicate`` if it changed nothing).

        Raises :class:`~trading.errors.InvalidTransition` or
        :class:`~trading.errors.OrderError` (nothing changed, in memory or in the store),
        :class:`~trading.errors.ReplaceDenied` (an ``OrderError`` and a ``RiskDenied``) for
        a replace ``pre_trade`` refused, :class:`Contention` after ``max_attempts`` lost
        races, and whatever the store raises for I/O (``resp3.ConnectionError``...: then
        the write may or may not have happened; apply the event again, exec ids make that
        safe for venue reports).
        """
        store = self.store
        if store is None:
            change = self.book.plan(event, self.clock())
            self._check_replace(change)
            self.book.commit(change)
            return change
        return self._apply_stored(store, event)

    def _apply_stored(self, store: OrderStore, event: Event) -> Change:
        account, client_order_id = event.account, event.client_order_id
        refreshed = False
        creation = isinstance(event, (Submit, Deny))
        if not creation and self.book.get(account, client_order_id) is None:
            refreshed = self._refresh(store, account, client_order_id)
        if isinstance(event, ReplaceRequest):
            self._refresh_new_id(store, account, event.new_client_order_id)
        checked = False
        for _ in range(self.max_attempts):
            try:
                change = self.book.plan(event, self.clock())
            except OrderError:
                if refreshed:
                    raise
                refreshed = self._refresh(store, account, client_order_id)
                continue
            if change.duplicate:
                return change
            if not checked:  # once: a retry after a lost race keeps the reservation
                self._check_replace(change)
                checked = True
            result = store.write(change)
            if result.outcome == "ok":
                self.book.commit(change)
                return change
            current = result.current
            if current is not None:
                self.book.load(current)
            else:  # the order vanished from the store: forget the stale copy
                self.book.forget(account, client_order_id)
            refreshed = True
            if result.outcome == "seen" and current is not None:
                return Change(event, None, current.state, current.state, duplicate=True)
        raise Contention(
            f"{account}/{client_order_id}: gave up after {self.max_attempts} conflicting writes"
        )

    def _check_replace(self, change: Change) -> None:
        """Run ``pre_trade.check_replace`` on a planned replace request; raise its denial."""
        event, state = change.event, change.before
        if self.pre_trade is None or not isinstance(event, ReplaceRequest) or state is None:
            return
        reason = self.pre_trade.check_replace(state, event)
        if reason is not None:
            denied = RiskDenied.from_reason(reason)
            where = (
                f"{event.account}/{event.client_order_id} replace by {event.new_client_order_id}"
            )
            raise ReplaceDenied(denied.code, f"{where}: {denied.message}")

    def _refresh(self, store: OrderStore, account: str, client_order_id: str) -> bool:
        """Replace the book's copy of one order by the store's (or drop it); always True."""
        stored = store.load(account, client_order_id)
        if stored is not None:
            self.book.load(stored)
        else:
            self.book.forget(account, client_order_id)
        return True

    def _refresh_new_id(self, store: OrderStore, account: str, client_order_id: str) -> None:
        if self.book.get(account, client_order_id) is None:
            self._refresh(store, account, client_order_id)

    def apply_many(self, events: Sequence[Event]) -> list[Change | OrderError]:
        """Apply ``events`` in order with few store round trips; refusals come back as
        :class:`~trading.errors.OrderError` values (``ReplaceDenied`` for a replace
        ``pre_trade`` refused) in the result list, like errors in a pipeline. Changes are
        written in rounds: each round holds at most one change per order, so every change
        is checked against a state that really was stored. An order whose change lost a
        race, or that meets a replace ``pre_trade`` must check, has its remaining events
        applied one by one.
        """
        store = self.store
        if store is None:
            return [self._apply_or_error(event) for event in events]
        results: list[Change | OrderError | None] = [None] * len(events)
        retry: list[int] = []
        rounds = self._plan_rounds(events, results, retry)
        broken: set[Key] = set()
        for batch in rounds:
            todo = [(i, c) for i, c in batch if not broken.intersection(c.order_keys())]
            retry.extend(i for i, c in batch if broken.intersection(c.order_keys()))
            written = store.write_many([c for _, c in todo]) if todo else []
            for (i, change), result in zip(todo, written, strict=True):
                if result.outcome == "ok":
                    self.book.commit(change)
                    results[i] = change
                else:
                    if result.current is not None:
                        self.book.load(result.current)
                    broken.update(change.order_keys())
                    retry.append(i)
        for i in sorted(retry):
            results[i] = self._apply_or_error(events[i])
        return [r if r is not None else OrderError("event not applied") for r in results]

    def _plan_rounds(
        self,
        events: Sequence[Event],
        results: list[Change | OrderError | None],
        deferred: list[int],
    ) -> list[list[tuple[int, Change]]]:
        """Plan every event against the book plus the batch's earlier changes. An event
        refused here (possibly because this view is stale) is deferred, with every later
        event of its order, to the one-by-one path, which confirms against the store."""
        deferred_keys: set[Key] = set()
        tentative: dict[Key, OrderState] = {}
        added: dict[Key, set[str]] = {}
        depth: dict[Key, int] = {}
        rounds: list[list[tuple[int, Change]]] = []
        book = self.book
        now = self.clock()
        checked = self.pre_trade is not None

        def exists(key: Key) -> bool:
            return key in tentative or book.get(*key) is not None

        for i, event in enumerate(events):
            key = (event.account, event.client_order_id)
            if key in deferred_keys or (checked and isinstance(event, ReplaceRequest)):
                deferred_keys.add(key)
                deferred.append(i)
                continue
            state = tentative.get(key) or book.get(*key)
            seen = added.get(key, set()) | book.exec_ids(*key)
            try:
                change = plan(event, state, seen, exists, now)
            except OrderError:
                deferred_keys.add(key)
                deferred.append(i)
                continue
            if change.duplicate:
                results[i] = change
                continue
            level = max(depth.get(k, -1) for k in change.order_keys()) + 1
            for k in change.order_keys():
                depth[k] = level
            tentative[key] = change.after
            if change.replacement is not None:
                tentative[change.replacement.key] = change.replacement
            if change.exec_id is not None:
                added.setdefault(key, set()).add(change.exec_id)
            while len(rounds) <= level:
                rounds.append([])
            rounds[level].append((i, change))
        return rounds

    def _apply_or_error(self, event: Event) -> Change | OrderError:
        try:
            return self.apply(event)
        except OrderError as exc:
            return exc

    def expire_due(self, now_ns: int, *, session_end: bool = False) -> list[Change]:
        """Expire open GTD orders whose expiry is at or before ``now_ns``, and DAY orders
        too when ``session_end``. Orders that cannot expire in their status (pending
        new) are skipped; returns the changes made."""
        due: list[OrderState] = []
        for account in self.book.accounts():
            for state in self.book.open_orders(account):
                order = state.order
                if (state.status, EventKind.EXPIRE) not in TRANSITIONS:
                    continue
                gtd = order.time_in_force is TimeInForce.GTD
                if (gtd and (order.expire_time_ns or 0) <= now_ns) or (
                    session_end and order.time_in_force is TimeInForce.DAY
                ):
                    due.append(state)
        changes = []
        for state in due:
            change = self.apply(Expire(state.account, state.client_order_id, timestamp_ns=now_ns))
            if not change.duplicate and change.after.status is OrderStatus.EXPIRED:
                changes.append(change)
        return changes
