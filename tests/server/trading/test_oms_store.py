"""RedisOrderStore: the whole (status, event) matrix through Redis, key layout,
optimistic conflicts between managers, exec-id idempotency, NOSCRIPT, recovery."""

from __future__ import annotations

import pytest
from _oms_support import check_order, oms_client_fixture, store_fixture  # noqa: F401

import resp3
from resp3.testing import RedisServer
from tests.unit.trading._oms_cases import (
    ACC,
    PAIRS,
    E,
    S,
    event_of,
    expected,
    fill,
    make_order,
    pair_id,
    path_to,
)
from trading.core import Quantity
from trading.errors import InvalidTransition, OrderError
from trading.oms import (
    Accept,
    Change,
    DuplicateOrder,
    Event,
    EventKind,
    OrderManager,
    OrderStatus,
    ReplaceAccept,
    ReplaceRequest,
    Submit,
    UnknownOrder,
)
from trading.oms.store import RedisOrderStore, decode_state


def raw(store: RedisOrderStore, cid: str = "c1") -> tuple[object, ...]:
    """Everything Redis holds about one order and the account's indexes."""
    c, k = store.client, store.keys
    return (
        c.hgetall(k.order(ACC, cid)),
        c.xlen(k.events(ACC, cid)),
        c.smembers(k.execs(ACC, cid)),
        c.smembers(k.open(ACC)),
        c.smembers(k.open(ACC, "AAPL")),
        c.smembers(k.orders(ACC)),
    )


def manager_at(store: RedisOrderStore, status: OrderStatus | None) -> OrderManager:
    manager = OrderManager(store, clock=lambda: 1_000)
    for event in path_to(status):
        manager.apply(event)
    return manager


@pytest.mark.parametrize(("status", "kind"), PAIRS, ids=[pair_id(s, k) for s, k in PAIRS])
def test_every_pair_in_redis(
    store: RedisOrderStore, status: OrderStatus | None, kind: EventKind
) -> None:
    manager = manager_at(store, status)
    before = manager.get(ACC, "c1")
    event = event_of(kind, before)
    target = expected(status, kind, before)
    if target is None:
        frozen, memory = raw(store), manager.get(ACC, "c1")
        with pytest.raises(InvalidTransition):
            manager.apply(event)
        assert raw(store) == frozen
        assert manager.get(ACC, "c1") == memory
        return
    change = manager.apply(event)
    assert change.after.status is target
    stored = check_order(store, ACC, "c1")
    assert stored == change.after == manager.get(ACC, "c1")
    if change.replacement is not None:
        assert check_order(store, ACC, change.replacement.client_order_id) == change.replacement


def test_key_layout_and_history(store: RedisOrderStore) -> None:
    manager = OrderManager(store, clock=lambda: 5)
    for event in path_to(S.REPLACED):
        manager.apply(event)
    p = store.keys.prefix
    keys = {k.decode() for k in store.client.scan_iter(match=f"{p}:*")}
    assert keys == {
        f"{p}:accounts",
        f"{p}:{{acc}}:orders",
        f"{p}:{{acc}}:open",
        f"{p}:{{acc}}:open:AAPL",
        *(f"{p}:{{acc}}:{kind}:{cid}" for kind in ("order", "events") for cid in ("c1", "c1-r")),
        f"{p}:{{acc}}:execs:c1",
    }
    assert store.kinds(ACC, "c1") == [
        E.SUBMIT, E.ACCEPT, E.FILL_PARTIAL, E.REPLACE_REQUEST, E.REPLACE_ACCEPT
    ]  # fmt: skip
    born = store.history(ACC, "c1-r")[0]
    assert (born["kind"], born["replaces"], born["cum"], born["qty"]) == (
        "replace_accept", "c1", "4", "20"
    )  # fmt: skip
    assert store.open_ids(ACC) == {"c1-r"} and store.order_ids(ACC) == {"c1", "c1-r"}
    assert store.accounts() == {ACC}
    with pytest.raises(OrderError, match="not allowed in an account"):
        store.keys.order("a{b}", "x")


def test_two_managers_serialise_through_versions(store: RedisOrderStore) -> None:
    a = OrderManager(store)
    for event in path_to(S.NEW):
        a.apply(event)
    b = OrderManager(store)
    assert b.recover() == 1
    a.apply(fill("c1", "e1", 6))
    change = b.apply(fill("c1", "e2", 3))  # planned on a stale version: retried
    assert change.after.cum_qty == Quantity(9) and change.after.version == 4
    with pytest.raises(OrderError, match="over-fill"):
        a.apply(fill("c1", "e3", 2))  # a's view is stale: refused only after a refresh
    assert a.apply(fill("c1", "e1", 6)).duplicate  # re-delivered to the other manager
    assert b.apply(fill("c1", "e1", 6)).duplicate
    state = check_order(store, ACC, "c1")
    assert state.cum_qty == Quantity(9) and a.get(ACC, "c1") == state


def test_stale_terminal_view_still_sees_redelivered_exec(store: RedisOrderStore) -> None:
    a, b = OrderManager(store), OrderManager(store)
    for event in path_to(S.NEW):
        a.apply(event)
    b.recover()
    a.apply(fill("c1", "x", 10))
    assert b.apply(fill("c1", "x", 10)).duplicate  # b's copy is stale and lacks "x"
    assert b.get(ACC, "c1").status is S.FILLED  # type: ignore[union-attr]


def test_duplicate_submit_across_managers(store: RedisOrderStore) -> None:
    a, b = OrderManager(store), OrderManager(store)
    first = a.submit(make_order("c1")).after
    retry = b.submit(make_order("c1"))
    assert retry.duplicate and retry.after == first
    with pytest.raises(DuplicateOrder, match="acc/c1"):
        b.submit(make_order("c1", 11))
    assert check_order(store, ACC, "c1") == first


def test_replacement_id_taken_at_accept_writes_nothing(store: RedisOrderStore) -> None:
    a, b = OrderManager(store), OrderManager(store)
    for event in path_to(S.NEW):
        a.apply(event)
    a.apply(ReplaceRequest(ACC, "c1", "c2", Quantity(20)))
    b.submit(make_order("c2"))  # another process takes the new id
    frozen = raw(store)
    with pytest.raises(DuplicateOrder, match="acc/c2"):
        a.apply(ReplaceAccept(ACC, "c1"))
    assert raw(store) == frozen


def test_script_refuses_a_transition_the_table_forbids(store: RedisOrderStore) -> None:
    manager = OrderManager(store)
    state = manager.apply(Submit(make_order())).after
    forged = Change(Accept(ACC, "c1"), EventKind.ACCEPT, state, state.__class__(
        state.order, S.FILLED, 2
    ))  # fmt: skip
    frozen = raw(store)
    with pytest.raises(OrderError, match="store refused transition pending_new -> filled"):
        store.write(forged)
    assert raw(store) == frozen


def test_noscript_is_repaired_for_single_and_pipelined_writes(store: RedisOrderStore) -> None:
    manager = OrderManager(store)
    store.client.script_flush()
    manager.apply(Submit(make_order("a")))
    store.client.script_flush()
    results = manager.apply_many([Submit(make_order("b")), Accept(ACC, "b"), Accept(ACC, "a")])
    assert [r.after.status for r in results if not isinstance(r, OrderError)] == [
        S.PENDING_NEW, S.NEW, S.NEW
    ]  # fmt: skip
    check_order(store, ACC, "a")
    check_order(store, ACC, "b")


def test_apply_many_with_conflicts_and_errors(store: RedisOrderStore) -> None:
    a, b = OrderManager(store), OrderManager(store)
    for event in path_to(S.NEW):
        a.apply(event)
    b.recover()
    a.apply(fill("c1", "e0", 5))  # b is now stale on c1
    events: list[Event] = [
        fill("c1", "e1", 2), fill("c1", "e2", 2), Submit(make_order("c9")), Accept(ACC, "c9"),
        fill("c1", "e3", 5), Accept(ACC, "nope"), fill("c1", "e0", 5),
    ]  # fmt: skip
    results = b.apply_many(events)
    errors = [type(r).__name__ for r in results if isinstance(r, OrderError)]
    assert errors == ["OrderError", "UnknownOrder"]  # the over-fill and the unknown order
    last = results[-1]
    assert not isinstance(last, OrderError) and last.duplicate
    assert check_order(store, ACC, "c1").cum_qty == Quantity(9)
    assert check_order(store, ACC, "c9").status is S.NEW


def test_recovery_rebuilds_open_orders(store: RedisOrderStore) -> None:
    manager = OrderManager(store)
    for cid in ("o1", "o2", "o3"):
        manager.submit(make_order(cid))
        manager.apply(Accept(ACC, cid))
    manager.apply(fill("o2", "e", 10))
    manager.apply(fill("o3", "e", 3))
    fresh = OrderManager(store)
    assert fresh.recover() == 2
    assert [s.client_order_id for s in fresh.open_orders(ACC)] == ["o1", "o3"]
    assert fresh.book.exec_ids(ACC, "o3") == {"e"}
    assert fresh.get(ACC, "o2").status is S.FILLED  # type: ignore[union-attr]  # lazily read
    with pytest.raises(UnknownOrder):
        fresh.apply(Accept(ACC, "never"))


def test_decode_refuses_a_foreign_hash() -> None:
    with pytest.raises(OrderError, match="stored order \\?/x is unreadable"):
        decode_state({b"id": b"x", b"status": b"new"})


@pytest.mark.parametrize(
    ("protocol", "decode"), [(2, False), (3, True), (2, True)], ids=["resp2", "str", "resp2-str"]
)
def test_other_client_settings(
    server: RedisServer, store: RedisOrderStore, protocol: int, decode: bool
) -> None:
    client = resp3.Redis(
        host=server.host, port=server.port, protocol=protocol, decode_responses=decode
    )
    try:
        other = RedisOrderStore(client, prefix=store.keys.prefix)
        a, b = OrderManager(other), OrderManager(other)
        for event in path_to(S.NEW):
            a.apply(event)
        b.recover()
        a.apply(fill("c1", "e1", 4))
        assert b.apply(fill("c1", "e2", 4)).after.cum_qty == Quantity(8)  # via a conflict
        assert b.apply(fill("c1", "e1", 4)).duplicate
        results = b.apply_many([fill("c1", "e3", 2), fill("c1", "e4", 1)])
        assert isinstance(results[1], OrderError)
        assert check_order(store, ACC, "c1").status is S.FILLED
        assert [e["kind"] for e in other.history(ACC, "c1")][-1] == "fill_complete"
    finally:
        client.close()
