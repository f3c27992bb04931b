"""Limits that hold across processes: one Lua script checks and reserves atomically.

Theory of operation
-------------------
Per-order checks need nothing shared, but a position limit, the gross exposure, the
open-order count and the order rate are budgets that every process trading an account
draws on. Checking them with reads and then writing the reservation would let two
processes read the same headroom and both pass. So the whole decision runs in Redis,
in one script (:data:`SCRIPT`), and Redis runs scripts one at a time:

* ``reserve`` reads the kill switches, the used IDs, the rate window, the open orders
  and the symbol's position, runs the checks of :func:`~.checks.evaluate` in the same
  order, and then either writes *every* reservation (open lots, exposure, the order's
  record, its ID, its rate entry) or writes *nothing* and returns what it saw, from
  which Python rebuilds the denial message with ``evaluate`` itself;
* ``release`` (cancel, reject, expiry) gives an order's remaining lots back; it is
  idempotent, so releasing twice, or releasing a filled order, changes nothing;
* ``fill`` moves filled lots from open to position, once per execution ID.

The kill switch is read inside ``reserve``: once ``SET`` of the switch has returned,
no process can reserve another order that the switch forbids.

Numbers in Lua are doubles, so every quantity is an integer count (lots of the
instrument, notional units of the config) written with ``%.0f``; the script refuses
a gross exposure of 2**53 units or more, the limit of exact integers in a double.

Redis keys (``risk`` is the default prefix, ``{A}`` the account's hash tag, so one
account's keys live on one node)::

    risk:kill                 global kill switch: off | on | reduce_only (absent: off)
    risk:{A}:kill             the account's kill switch
    risk:{A}:book             hash: pos:S buy:S sell:S (lots), px:S (units per lot),
                              exp:S (units), gross (units)
    risk:{A}:orders           hash: client order ID -> "S side remaining_lots"
    risk:{A}:ids              set: every client order ID the account used
    risk:{A}:rate             sorted set: IDs accepted, scored by server time (us)
    risk:{A}:execs            set: execution IDs applied to the book
    risk:accounts             set: accounts that ever reserved or filled
    risk:{A}:positions        hash, risk:{A}:fills set: exact positions (positions.py)

The script touches the two global keys together with one account's keys, so the
design needs one Redis node; it is not written for Redis Cluster.

:class:`~.memory.MemoryLimits` keeps the same state in a dict for one process (tests,
paper trading, benchmarks); the server tests run both on random sequences and compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from resp3.errors import ResponseError
from trading.risk.checks import Request, Snapshot, evaluate
from trading.risk.reasons import Denial, KillMode, Reason

if TYPE_CHECKING:
    from resp3.client import Redis

__all__ = [
    "SCRIPT",
    "AccountUsage",
    "Limits",
    "RedisLimits",
    "RiskKeys",
    "SymbolUsage",
    "account_usage",
]


@dataclass(frozen=True, slots=True)
class RiskKeys:
    """Key names of one risk namespace (see the module docstring for the layout)."""

    prefix: str = "risk"

    def __post_init__(self) -> None:
        if not self.prefix or any(c.isspace() or c in "{}" for c in self.prefix):
            raise ValueError(
                f"key prefix must be non-empty without whitespace or braces, got {self.prefix!r}"
            )

    def kill(self, account: str | None = None) -> str:
        if account is None:
            return f"{self.prefix}:kill"
        return self._of(account, "kill")

    def accounts(self) -> str:
        return f"{self.prefix}:accounts"

    def book(self, account: str) -> str:
        return self._of(account, "book")

    def orders(self, account: str) -> str:
        return self._of(account, "orders")

    def ids(self, account: str) -> str:
        return self._of(account, "ids")

    def rate(self, account: str) -> str:
        return self._of(account, "rate")

    def execs(self, account: str) -> str:
        return self._of(account, "execs")

    def positions(self, account: str) -> str:
        """Hash of exact positions and P&L per symbol (written by ``positions.py``)."""
        return self._of(account, "positions")

    def fills(self, account: str) -> str:
        """Set of execution IDs applied to the exact positions."""
        return self._of(account, "fills")

    def script_keys(self, account: str) -> list[str]:
        """KEYS of :data:`SCRIPT`, in its order."""
        return [
            self.kill(),
            self.kill(account),
            self.book(account),
            self.orders(account),
            self.ids(account),
            self.rate(account),
            self.execs(account),
            self.accounts(),
        ]

    def _of(self, account: str, name: str) -> str:
        return f"{self.prefix}:{{{account}}}:{name}"


SCRIPT = """
local book, orders = KEYS[3], KEYS[4]
local op = ARGV[1]
local function int(n) return string.format('%.0f', n + 0) end
local function get(f) return tonumber(redis.call('HGET', book, f) or '0') end
local function worst(pos, buy, sell)
  return math.max(math.abs(pos + buy), math.abs(pos - sell))
end
local function revalue(sym, pos, buy, sell, px)
  local exp = worst(pos, buy, sell) * px
  local gross = get('gross') - get('exp:' .. sym) + exp
  redis.call('HSET', book, 'pos:' .. sym, int(pos), 'buy:' .. sym, int(buy),
    'sell:' .. sym, int(sell), 'px:' .. sym, int(px), 'exp:' .. sym, int(exp),
    'gross', int(gross))
end
local function record(id)
  local rec = redis.call('HGET', orders, id)
  if not rec then return nil end
  local sym, side, left = string.match(rec, '^(%S+) (%S+) (%S+)$')
  return sym, tonumber(side), tonumber(left)
end

if op == 'reserve' then
  local account, id, sym = ARGV[2], ARGV[3], ARGV[4]
  local side, lots, px = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
  local max_long, max_short = tonumber(ARGV[8]), tonumber(ARGV[9])
  local max_gross, max_open = tonumber(ARGV[10]), tonumber(ARGV[11])
  local max_rate, window = tonumber(ARGV[12]), tonumber(ARGV[13])
  local severity = {off = 0, reduce_only = 1, on = 2}
  local kill = redis.call('MGET', KEYS[1], KEYS[2])
  local mode, scope, own = kill[1] or 'off', 'global', kill[2] or 'off'
  if (severity[own] or 3) > (severity[mode] or 3) then mode, scope = own, 'account' end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local seen = redis.call('SISMEMBER', KEYS[5], id)
  local recent = redis.call('ZCOUNT', KEYS[6], '(' .. int(now - window), '+inf')
  local open = redis.call('HLEN', orders)
  local row = redis.call('HMGET', book, 'pos:' .. sym, 'buy:' .. sym, 'sell:' .. sym,
    'exp:' .. sym, 'gross')
  local pos, buy, sell = tonumber(row[1] or '0'), tonumber(row[2] or '0'), tonumber(row[3] or '0')
  local exp, gross = tonumber(row[4] or '0'), tonumber(row[5] or '0')
  local function deny(code)
    return {code, mode, scope, int(seen), int(recent), int(open), int(pos), int(buy),
      int(sell), int(exp), int(gross)}
  end
  if mode == 'reduce_only' then
    local reduces
    if side > 0 then reduces = pos < 0 and buy + lots <= -pos
    else reduces = pos > 0 and sell + lots <= pos end
    if not reduces then return deny('reduce_only') end
  elseif mode ~= 'off' then
    return deny('kill_switch')
  end
  if seen == 1 then return deny('duplicate_client_order_id') end
  if max_rate >= 0 and recent >= max_rate then return deny('order_rate') end
  if max_open >= 0 and open >= max_open then return deny('max_open_orders') end
  local nbuy, nsell = buy, sell
  if side > 0 then
    nbuy = buy + lots
    if max_long >= 0 and pos + nbuy > max_long then return deny('max_long_position') end
  else
    nsell = sell + lots
    if max_short >= 0 and nsell - pos > max_short then return deny('max_short_position') end
  end
  local old_w, new_w = worst(pos, buy, sell), worst(pos, nbuy, nsell)
  local new_exp = new_w * px
  local new_gross = gross - exp + new_exp
  if new_gross >= 9007199254740992
      or (new_w > old_w and max_gross >= 0 and new_gross > max_gross) then
    return deny('max_gross_exposure')
  end
  redis.call('HSET', book, 'buy:' .. sym, int(nbuy), 'sell:' .. sym, int(nsell),
    'px:' .. sym, int(px), 'exp:' .. sym, int(new_exp), 'gross', int(new_gross))
  redis.call('HSET', orders, id, sym .. ' ' .. int(side) .. ' ' .. int(lots))
  redis.call('SADD', KEYS[5], id)
  redis.call('ZADD', KEYS[6], int(now), id)
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', int(now - window))
  redis.call('PEXPIRE', KEYS[6], int(math.ceil(window / 1000) + 1000))
  redis.call('SADD', KEYS[8], account)
  return {'ok'}
elseif op == 'release' then
  local sym, side, left = record(ARGV[2])
  if not sym then return {'none', '0'} end
  local pos, buy, sell = get('pos:' .. sym), get('buy:' .. sym), get('sell:' .. sym)
  if side > 0 then buy = buy - left else sell = sell - left end
  revalue(sym, pos, buy, sell, get('px:' .. sym))
  redis.call('HDEL', orders, ARGV[2])
  return {'released', int(left)}
elseif op == 'fill' then
  local account, id, exec, sym = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
  local side, lots, px = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  if redis.call('SISMEMBER', KEYS[7], exec) == 1 then return {'duplicate', '0'} end
  local rsym, rside, left = record(id)
  if rsym and (rsym ~= sym or rside ~= side) then
    return redis.error_reply('fill ' .. exec .. ' of ' .. sym .. ' side ' .. int(side) ..
      ' does not match order ' .. id .. ' reserved for ' .. rsym .. ' side ' .. int(rside))
  end
  local pos, buy, sell = get('pos:' .. sym), get('buy:' .. sym), get('sell:' .. sym)
  local rest = 0
  if rsym then
    local take = math.min(lots, left)
    rest = left - take
    if side > 0 then buy = buy - take else sell = sell - take end
    if rest > 0 then
      redis.call('HSET', orders, id, sym .. ' ' .. int(side) .. ' ' .. int(rest))
    else
      redis.call('HDEL', orders, id)
    end
  end
  revalue(sym, pos + side * lots, buy, sell, px)
  redis.call('SADD', KEYS[7], exec)
  redis.call('SADD', KEYS[8], account)
  return {'filled', int(rest)}
end
return redis.error_reply('unknown risk limits operation ' .. tostring(op))
"""


@dataclass(frozen=True, slots=True)
class SymbolUsage:
    """One symbol of an account, in lots and notional units (see :class:`AccountUsage`)."""

    symbol: str
    position: int
    open_buy: int
    open_sell: int
    price_units: int
    exposure: int


@dataclass(frozen=True, slots=True)
class AccountUsage:
    """What an account currently draws on its limits: open orders, orders in the rate
    window, gross exposure (notional units), the account's own kill switch, and each
    symbol it holds or has open orders in."""

    account: str
    kill: KillMode
    open_orders: int
    recent: int
    gross: int
    symbols: tuple[SymbolUsage, ...]


class Limits(Protocol):
    """What the engine needs from a limits backend (:class:`RedisLimits`,
    :class:`~.memory.MemoryLimits`)."""

    def reserve(self, req: Request) -> Denial | None:
        """Check every shared limit and reserve the order, atomically; or deny."""
        ...

    def release(self, account: str, client_order_id: str) -> int:
        """Give back the order's remaining lots; returns them (0: nothing was reserved)."""
        ...

    def fill(
        self,
        account: str,
        client_order_id: str,
        execution_id: str,
        symbol: str,
        side: int,
        lots: int,
        price_units: int,
    ) -> bool:
        """Apply one execution once; False when ``execution_id`` was applied before.
        Raises ``ValueError`` (writing nothing) when the order holds a reservation for
        another symbol or side."""
        ...

    def usage(self, account: str) -> AccountUsage: ...


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _kill_mode(value: Any) -> KillMode:
    """A stored switch value; anything unknown counts as ON, as the script treats it."""
    if value is None:
        return KillMode.OFF
    try:
        return KillMode(_text(value))
    except ValueError:
        return KillMode.ON


def _mismatch(req: Request, code: str, snap: Snapshot) -> Denial:
    """The script denied but ``evaluate`` on what it saw does not agree: a bug in one of
    them. Still a denial, with everything needed to find it."""
    try:
        reason = Reason(code)
    except ValueError:
        reason = Reason.KILL_SWITCH
    return Denial(reason, f"{req.symbol}: denied by the limits script as {code} ({snap})")


class RedisLimits:
    """Limits shared by every process using the same Redis (see the module docstring).

    ``window_ms`` is the order-rate window. Errors from Redis (connection lost,
    ``NOSCRIPT`` after a failover is handled by the client) propagate as the driver's
    exceptions: the caller must treat them as "not reserved".
    """

    def __init__(self, client: Redis, keys: RiskKeys | None = None, *, window_ms: int = 1000):
        self.client = client
        self.keys = keys or RiskKeys()
        self.window_us = window_ms * 1000
        self._script = client.register_script(SCRIPT)
        self._account_keys: dict[str, list[str]] = {}

    def _keys_of(self, account: str) -> list[str]:
        keys = self._account_keys.get(account)
        if keys is None:
            keys = self._account_keys[account] = self.keys.script_keys(account)
        return keys

    def reserve(self, req: Request) -> Denial | None:
        reply = self._script(
            keys=self._keys_of(req.account),
            args=(
                "reserve", req.account, req.client_order_id, req.symbol, req.side, req.lots,
                req.price_units, req.max_long_lots, req.max_short_lots, req.max_gross_units,
                req.max_open_orders, req.max_rate, self.window_us,
            ),
        )  # fmt: skip
        code = _text(reply[0])
        if code == "ok":
            return None
        numbers = [int(_text(item)) for item in reply[3:]]
        snap = Snapshot(_kill_mode(reply[1]), _text(reply[2]), bool(numbers[0]), *numbers[1:])
        denial = evaluate(req, snap)
        if denial is None or denial.reason.value != code:
            return _mismatch(req, code, snap)
        return denial

    def release(self, account: str, client_order_id: str) -> int:
        reply = self._script(keys=self._keys_of(account), args=("release", client_order_id))
        return int(_text(reply[1]))

    def fill(
        self,
        account: str,
        client_order_id: str,
        execution_id: str,
        symbol: str,
        side: int,
        lots: int,
        price_units: int,
    ) -> bool:
        try:
            reply = self._script(
                keys=self._keys_of(account),
                args=(
                    "fill",
                    account,
                    client_order_id,
                    execution_id,
                    symbol,
                    side,
                    lots,
                    price_units,
                ),
            )
        except ResponseError as exc:
            if str(exc).startswith("fill "):
                raise ValueError(str(exc)) from None  # the same error MemoryLimits raises
            raise
        return _text(reply[0]) == "filled"

    def usage(self, account: str) -> AccountUsage:
        seconds, micros = self.client.time()
        now = int(seconds) * 1_000_000 + int(micros)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self.keys.kill(account))
        pipe.hgetall(self.keys.book(account))
        pipe.hlen(self.keys.orders(account))
        pipe.zcount(self.keys.rate(account), f"({now - self.window_us}", "+inf")
        kill, book, open_orders, recent = pipe.execute()
        fields = {_text(k): int(_text(v)) for k, v in book.items()}
        return account_usage(account, _kill_mode(kill), int(open_orders), int(recent), fields)


def account_usage(
    account: str, kill: KillMode, open_orders: int, recent: int, fields: dict[str, int]
) -> AccountUsage:
    symbols = sorted({name.partition(":")[2] for name in fields if ":" in name})
    rows = []
    for sym in symbols:
        row = SymbolUsage(
            sym,
            *(fields.get(f"{part}:{sym}", 0) for part in ("pos", "buy", "sell", "px", "exp")),
        )
        if row.position or row.open_buy or row.open_sell:
            rows.append(row)
    return AccountUsage(account, kill, open_orders, recent, fields.get("gross", 0), tuple(rows))
