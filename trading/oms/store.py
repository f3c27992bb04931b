"""Orders in Redis: one Lua script applies each change atomically, or refuses it.

Key layout (``{ACC}`` is a hash tag: every key of one account hashes to one Redis
Cluster slot, so the script may touch all of them)::

    oms:{ACC}:order:ID      hash    the order's current state (fields below), "v" = version
    oms:{ACC}:events:ID     stream  its history: one entry per applied event, v = 1, 2, ...
    oms:{ACC}:execs:ID      set     exec ids the order has applied (re-delivery is a no-op)
    oms:{ACC}:open          set     ids of the account's open (non-terminal) orders
    oms:{ACC}:open:SYMBOL   set     the same, per symbol
    oms:{ACC}:orders        set     every id the account ever used
    oms:accounts            set     accounts with orders (no tag: the one cross-slot key)

Theory of operation
-------------------
Exact arithmetic stays in Python: the manager computes a change from the state it last
saw, at version ``v``. :data:`APPLY_LUA` then, in one atomic step, checks that the
exec id is new, that each order it writes is still at ``v`` (or absent, when
created), and that ``from -> to`` is in the transition table (embedded from
``trading.oms.states``, the single source), and only then writes the hash, appends
the history entry, records the exec id and moves the order between the index sets.
Every check comes before the first write, so a refused change writes nothing (Redis
does not roll back a script that fails halfway). A reader therefore never sees a
hash whose version differs from its history length.

A refused change comes back with the order's current fields, so the manager can plan
again without another read. Pipelined writes (``write_many``) use EVALSHA directly and
re-run, in order, the entries the server answered NOSCRIPT (after a restart or a
``SCRIPT FLUSH``): NOSCRIPT means the script did not run, so re-running is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

import resp3
from resp3.errors import NoScriptError, ResponseError
from trading.core import Instrument, Order, OrderType, Price, Quantity, Side, TimeInForce
from trading.errors import OrderError
from trading.oms.events import (
    CancelReject,
    Deny,
    FillReport,
    Reject,
    ReplaceReject,
    ReplaceRequest,
    Submit,
)
from trading.oms.manager import Change, Stored, WriteResult
from trading.oms.order_state import OrderState, ReplaceTerms
from trading.oms.states import EventKind, OrderStatus, allowed_targets

__all__ = [
    "APPLY_LUA",
    "OrderKeys",
    "RedisOrderStore",
    "decode_state",
    "encode_changes",
    "encode_state",
    "history_fields",
]


class OrderKeys:
    """Key names under ``prefix`` (default ``oms``). Accounts may not contain ``{`` or
    ``}``, which would break the hash tag (raises :class:`OrderError`)."""

    def __init__(self, prefix: str = "oms") -> None:
        self.prefix = prefix
        self.accounts = f"{prefix}:accounts"

    def tag(self, account: str) -> str:
        if "{" in account or "}" in account:
            raise OrderError(f"account {account!r}: '{{' and '}}' are not allowed in an account")
        return f"{self.prefix}:{{{account}}}"

    def order(self, account: str, client_order_id: str) -> str:
        return f"{self.tag(account)}:order:{client_order_id}"

    def events(self, account: str, client_order_id: str) -> str:
        return f"{self.tag(account)}:events:{client_order_id}"

    def execs(self, account: str, client_order_id: str) -> str:
        return f"{self.tag(account)}:execs:{client_order_id}"

    def open(self, account: str, symbol: str | None = None) -> str:
        base = f"{self.tag(account)}:open"
        return base if symbol is None else f"{base}:{symbol}"

    def orders(self, account: str) -> str:
        return f"{self.tag(account)}:orders"


def _allowed() -> str:
    """The table as one Lua string constant, ``|from:kind>to|...`` (``from`` empty for a
    creation): a plain substring search needs no table built on every call."""
    entries = [
        f"{status}:{kind}>{target}"
        for (status, kind), targets in sorted(allowed_targets().items())
        for target in targets
    ]
    return "|" + "|".join(entries) + "|"


#: KEYS: open set, all-orders set, then per order: hash, history, exec-id set, open-by-
#: symbol set. ARGV: kind, exec id ("" for none), order count, then per order: id,
#: expected version ("0": must not exist), new status, index move ("1" open, "0"
#: closed, "-" unchanged), field count, fields..., history field count, history fields...
APPLY_LUA: Final = (
    f'local allowed = "{_allowed()}"'
    + """
local kind, exec_id, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
if exec_id ~= "" and redis.call("SISMEMBER", KEYS[5], exec_id) == 1 then
  return {"seen", 1, redis.call("HGETALL", KEYS[3]), redis.call("SMEMBERS", KEYS[5])}
end
local function current(outcome, i, base)
  local h = redis.call("HGETALL", KEYS[base + 1])
  return {outcome, i, h, redis.call("SMEMBERS", KEYS[base + 3])}
end
local plans, pos = {}, 4
for i = 1, n do
  local base = 2 + (i - 1) * 4
  local p = {id = ARGV[pos], expected = ARGV[pos + 1], to = ARGV[pos + 2], open = ARGV[pos + 3]}
  local nf = tonumber(ARGV[pos + 4])
  p.f1, p.f2 = pos + 5, pos + 4 + nf
  local nh = tonumber(ARGV[pos + 5 + nf])
  p.h1, p.h2 = pos + 6 + nf, pos + 5 + nf + nh
  pos = p.h2 + 1
  local cur = redis.call("HMGET", KEYS[base + 1], "v", "status")
  local from = ""
  if p.expected == "0" then
    if cur[1] then return current("exists", i, base) end
  else
    if cur[1] ~= p.expected then return current("conflict", i, base) end
    from = cur[2]
  end
  if not string.find(allowed, "|" .. from .. ":" .. kind .. ">" .. p.to .. "|", 1, true) then
    return {"invalid", i, from, p.to}
  end
  plans[i] = p
end
for i = 1, n do
  local p, base = plans[i], 2 + (i - 1) * 4
  local v = tostring(tonumber(p.expected) + 1)
  redis.call("HSET", KEYS[base + 1], "v", v, unpack(ARGV, p.f1, p.f2))
  redis.call("XADD", KEYS[base + 2], "*", "v", v, unpack(ARGV, p.h1, p.h2))
  if p.expected == "0" then redis.call("SADD", KEYS[2], p.id) end
  if p.open == "1" then
    redis.call("SADD", KEYS[1], p.id)
    redis.call("SADD", KEYS[base + 4], p.id)
  elseif p.open == "0" then
    redis.call("SREM", KEYS[1], p.id)
    redis.call("SREM", KEYS[base + 4], p.id)
  end
end
if exec_id ~= "" then redis.call("SADD", KEYS[5], exec_id) end
return {"ok"}
"""
)


# -- encoding ------------------------------------------------------------------------


def _s(value: object) -> str:
    return "" if value is None else str(value)


def encode_state(state: OrderState, *, static: bool) -> list[str]:
    """Hash fields of ``state`` as a flat ``[name, value, ...]`` list (None -> "").

    ``static`` adds the order's terms, which never change for a client order id and
    are written once, when the order is created.
    """
    pending = state.pending
    fields = [
        "status", state.status.value,
        "cum", str(state.cum_qty.value),
        "notional", str(state.cum_notional),
        "avg", _s(state.avg_px),
        "leaves", str(state.leaves_qty.value),
        "reason", _s(state.reason),
        "replaced_by", _s(state.replaced_by),
        "p_id", pending.client_order_id if pending else "",
        "p_qty", str(pending.quantity.value) if pending else "",
        "p_lpx", _s(pending.limit_price) if pending else "",
        "updated", str(state.updated_ns),
    ]  # fmt: skip
    if static:
        order = state.order
        instrument = order.instrument
        fields += [
            "account", order.account,
            "id", order.client_order_id,
            "symbol", instrument.symbol,
            "tick", str(instrument.tick_size),
            "lot", str(instrument.lot_size),
            "ccy", instrument.currency,
            "side", order.side.value,
            "type", order.order_type.value,
            "qty", str(order.quantity.value),
            "lpx", _s(order.limit_price),
            "spx", _s(order.stop_price),
            "tif", order.time_in_force.value,
            "expire", _s(order.expire_time_ns),
            "replaces", _s(state.replaces),
            "created", str(state.created_ns),
        ]  # fmt: skip
    return fields


def encode_changes(before: OrderState, after: OrderState) -> list[str]:
    """Only the hash fields that differ between two states of one order, as a flat list:
    less to encode, send and write than :func:`encode_state` for the common events
    (an accept changes two fields)."""
    fields = ["status", after.status.value, "updated", str(after.updated_ns)]
    if after.cum_qty != before.cum_qty:
        fields += ["cum", str(after.cum_qty.value), "notional", str(after.cum_notional)]
        fields += ["avg", _s(after.avg_px), "leaves", str(after.leaves_qty.value)]
    elif after.is_open != before.is_open:
        fields += ["leaves", str(after.leaves_qty.value)]
    if after.reason != before.reason:
        fields += ["reason", _s(after.reason)]
    if after.replaced_by != before.replaced_by:
        fields += ["replaced_by", _s(after.replaced_by)]
    if after.pending != before.pending:
        pending = after.pending
        fields += ["p_id", pending.client_order_id if pending else ""]
        fields += ["p_qty", str(pending.quantity.value) if pending else ""]
        fields += ["p_lpx", _s(pending.limit_price) if pending else ""]
    return fields


@lru_cache(maxsize=4096)
def _instrument(symbol: str, tick: str, lot: str, currency: str) -> Instrument:
    return Instrument(symbol, Decimal(tick), Decimal(lot), currency)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _price(text: str) -> Price | None:
    return Price(text) if text else None


def decode_state(fields: Mapping[Any, Any]) -> OrderState:
    """Rebuild an :class:`OrderState` from its hash (bytes or str keys and values).

    Raises :class:`OrderError` naming the key fields when the hash is incomplete or
    does not describe a valid order (written by something else than this module).
    """
    f = {_text(k): _text(v) for k, v in fields.items()}
    try:
        order = Order(
            f["id"],
            f["account"],
            _instrument(f["symbol"], f["tick"], f["lot"], f["ccy"]),
            Side(f["side"]),
            OrderType(f["type"]),
            Quantity(f["qty"]),
            _price(f["lpx"]),
            _price(f["spx"]),
            TimeInForce(f["tif"]),
            int(f["expire"]) if f["expire"] else None,
        )
        pending = (
            ReplaceTerms(f["p_id"], Quantity(f["p_qty"]), _price(f["p_lpx"])) if f["p_id"] else None
        )
        return OrderState(
            order,
            OrderStatus(f["status"]),
            int(f["v"]),
            Quantity(f["cum"]),
            Decimal(f["notional"]),
            f["reason"] or None,
            pending,
            f["replaces"] or None,
            f["replaced_by"] or None,
            int(f["created"]),
            int(f["updated"]),
        )
    except (KeyError, ValueError) as exc:
        where = f"{f.get('account', '?')}/{f.get('id', '?')}"
        raise OrderError(f"stored order {where} is unreadable: {exc!r}") from None


def history_fields(change: Change, state: OrderState, *, replacement: bool = False) -> list[str]:
    """History entry fields of ``change`` for ``state``, flat (the script adds ``v``);
    ``replacement`` for the entry that starts a replacement order's history."""
    kind = change.kind.value if change.kind else ""
    entry = ["kind", kind, "status", state.status.value, "ts", str(state.updated_ns)]
    event = change.event
    if replacement:
        return [
            *entry,
            "replaces", _s(state.replaces), "qty", str(state.order.quantity.value),
            "lpx", _s(state.order.limit_price), "cum", str(state.cum_qty.value),
            "notional", str(state.cum_notional),
        ]  # fmt: skip
    match event:
        case FillReport():
            entry += ["exec", event.exec_id, "qty", str(event.quantity.value)]
            entry += ["px", str(event.price.value), "cum", str(state.cum_qty.value)]
        case Submit():
            entry += ["qty", str(event.order.quantity.value), "lpx", _s(event.order.limit_price)]
        case Deny() | Reject() | CancelReject() | ReplaceReject():
            entry += ["reason", event.reason]
        case ReplaceRequest():
            entry += ["new_id", event.new_client_order_id, "qty", _s(event.quantity)]
            entry += ["lpx", _s(event.limit_price)]
        case _:
            pass
    if change.replacement is not None:
        entry += ["new_id", change.replacement.client_order_id]
    exec_id = change.exec_id
    if exec_id is not None and not isinstance(event, FillReport):
        entry += ["exec", exec_id]
    return entry


class RedisOrderStore:
    """Persists :class:`~trading.oms.manager.Change` objects with :data:`APPLY_LUA`.

    ``client`` is a ``resp3.Redis`` (``decode_responses`` either way). Connection errors
    propagate: after one, a change may or may not have been applied; the manager's next
    attempt finds out from the version (and exec ids make venue reports safe to resend).
    """

    def __init__(self, client: resp3.Redis, *, prefix: str = "oms") -> None:
        self.client = client
        self.keys = OrderKeys(prefix)
        self.script = client.register_script(APPLY_LUA)
        self._registered: set[str] = set()

    # -- writing ------------------------------------------------------------------------

    def _call(self, change: Change) -> tuple[list[str], list[str]]:
        """KEYS and ARGV of the script for ``change``."""
        before, after, born = change.before, change.after, change.replacement
        account = after.account
        k = self.keys
        keys = [k.open(account), k.orders(account)]
        args = [change.kind.value if change.kind else "", change.exec_id or "", "0"]
        writes = [(after, before.version if before else 0, False)]
        if born is not None:
            writes.append((born, 0, True))
        for state, expected, is_born in writes:
            oid = state.client_order_id
            keys += [k.order(account, oid), k.events(account, oid), k.execs(account, oid)]
            keys.append(k.open(account, state.symbol))
            is_open = state.is_open
            if expected == 0 or before is None:
                fields = encode_state(state, static=True)
                move = "1" if is_open else "0"
            else:
                fields = encode_changes(before, state)
                move = "-" if before.is_open == is_open else ("1" if is_open else "0")
            history = history_fields(change, state, replacement=is_born)
            args += [oid, str(expected), state.status.value, move]
            args += [str(len(fields)), *fields, str(len(history)), *history]
        args[2] = str(len(writes))
        return keys, args

    def _result(self, reply: Any) -> WriteResult:
        outcome = _text(reply[0])
        if outcome == "ok":
            return WriteResult("ok")
        if outcome == "invalid":
            raise OrderError(
                f"store refused transition {_text(reply[2]) or '(no order)'} -> "
                f"{_text(reply[3])}: the table and the manager disagree"
            )
        flat = reply[2]
        if not flat:
            return WriteResult(outcome)
        exec_ids = frozenset(_text(e) for e in reply[3])
        return WriteResult(outcome, Stored(decode_state(_pairs(flat)), exec_ids))

    def _register(self, change: Change) -> None:
        account = change.after.account
        if change.before is None and account not in self._registered:
            self.client.sadd(self.keys.accounts, account)
            self._registered.add(account)

    def write(self, change: Change) -> WriteResult:
        """Apply ``change`` atomically; see :class:`~trading.oms.manager.WriteResult`."""
        self._register(change)
        keys, args = self._call(change)
        return self._result(self.script(keys=keys, args=args))

    def write_many(self, changes: Sequence[Change]) -> list[WriteResult]:
        """Apply ``changes`` in one pipeline (not a transaction: each is atomic alone,
        and each is checked against its own expected version)."""
        for change in changes:
            self._register(change)
        calls = [self._call(change) for change in changes]
        replies: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        for attempt in range(2):
            with self.client.pipeline(transaction=False) as pipe:
                for i in todo:
                    keys, args = calls[i]
                    pipe.evalsha(self.script.sha, len(keys), *keys, *args)
                answers = pipe.execute(raise_on_error=False)
            missing = []
            for i, answer in zip(todo, answers, strict=True):
                if isinstance(answer, NoScriptError) and attempt == 0:
                    missing.append(i)
                elif isinstance(answer, ResponseError):
                    raise answer
                else:
                    replies[i] = answer
            if not missing:
                break
            self.client.script_load(APPLY_LUA)
            todo = missing
        return [self._result(reply) for reply in replies]

    # -- reading ------------------------------------------------------------------------

    def load(self, account: str, client_order_id: str) -> Stored | None:
        """The stored order and its exec ids, read in one round trip; None if absent."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.order(account, client_order_id))
            pipe.smembers(self.keys.execs(account, client_order_id))
            fields, exec_ids = pipe.execute()
        if not fields:
            return None
        return Stored(decode_state(fields), frozenset(_text(e) for e in exec_ids))

    def accounts(self) -> set[str]:
        return {_text(a) for a in self.client.smembers(self.keys.accounts)}

    def open_ids(self, account: str, symbol: str | None = None) -> set[str]:
        return {_text(i) for i in self.client.smembers(self.keys.open(account, symbol))}

    def order_ids(self, account: str) -> set[str]:
        return {_text(i) for i in self.client.smembers(self.keys.orders(account))}

    def load_open(self, accounts: Iterable[str] | None = None) -> list[Stored]:
        """Every open order of ``accounts`` (default: all known accounts)."""
        out: list[Stored] = []
        for account in sorted(self.accounts() if accounts is None else accounts):
            ids = sorted(self.open_ids(account))
            with self.client.pipeline(transaction=True) as pipe:
                for client_order_id in ids:
                    pipe.hgetall(self.keys.order(account, client_order_id))
                    pipe.smembers(self.keys.execs(account, client_order_id))
                replies = pipe.execute() if ids else []
            for i in range(0, len(replies), 2):
                if replies[i]:
                    exec_ids = frozenset(_text(e) for e in replies[i + 1])
                    out.append(Stored(decode_state(replies[i]), exec_ids))
        return out

    def history(self, account: str, client_order_id: str) -> list[dict[str, str]]:
        """The order's history entries, oldest first, as ``{field: value}`` (with ``id``,
        the stream entry id, and ``v``, the version the event produced)."""
        entries = self.client.xrange(self.keys.events(account, client_order_id)) or []
        out = []
        for entry_id, fields in entries:
            row = {_text(k): _text(v) for k, v in (fields or {}).items()}
            row["id"] = _text(entry_id)
            out.append(row)
        return out

    def kinds(self, account: str, client_order_id: str) -> list[EventKind]:
        return [EventKind(e["kind"]) for e in self.history(account, client_order_id)]
