"""Operator commands: orders, positions, kill switch and limit usage, straight from Redis.

::

    orders list [--account A] [--status S]     orders of every (or one) account
    orders show ID [--account A]               one order and its event history
    orders cancel ID [--account A]             record a cancel request (pending_cancel)
    positions [--account A]                    exact positions, P&L marked to the cache
    risk kill-switch [on|off|reduce-only] [--account A]   set and/or show the switches
    risk limits --config FILE [--account A]    current usage against each limit

Every command takes ``--redis-url`` (default ``redis://$REDIS_HOST:$REDIS_PORT/0``) and
``--json`` (machine-readable output instead of a table; decimals as strings).

:func:`register` adds the commands to an ``argparse`` sub-parser set (the ``ocamlot``
command); each leaf sets ``handler``, a function of the parsed arguments returning
the exit status. :func:`main` runs them on their own (``python -m trading.cli_ops``):
exit 0 on success, 1 for Redis or domain errors (unknown order, invalid transition),
2 for bad arguments or a bad limits file.

``orders cancel`` only records the request in the OMS store (status
``pending_cancel``); the process that owns the venue session sends it on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import resp3
from trading.errors import ConfigError, TradingError
from trading.market_data.keys import DEFAULT_PREFIX as MD_PREFIX
from trading.market_data.keys import KeyLayout
from trading.risk.config import RiskConfig, load_config
from trading.risk.killswitch import KillSwitch
from trading.risk.limits import RedisLimits, RiskKeys
from trading.risk.positions import PositionBook, RedisMarks
from trading.risk.reasons import KillMode

__all__ = ["main", "register"]

Row = dict[str, Any]
Handler = Callable[[argparse.Namespace], int]
KILL_CHOICES = {"on": KillMode.ON, "off": KillMode.OFF, "reduce-only": KillMode.REDUCE_ONLY}


# -- output ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def table(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """Rows as aligned text columns: numbers to the right, text to the left, '-' for None."""
    if not rows:
        return "(none)"

    def cell(value: Any) -> tuple[str, bool]:
        if value is None:
            return "-", True
        return str(value), isinstance(value, int | Decimal) and not isinstance(value, bool)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i][0]) for line in cells)) for i, c in enumerate(columns)]

    def fmt(values: Sequence[tuple[str, bool]]) -> str:
        parts = [
            text.rjust(width) if right else text.ljust(width)
            for (text, right), width in zip(values, widths, strict=True)
        ]
        return "  ".join(parts).rstrip()

    header = fmt([(c, False) for c in columns])
    rule = fmt([("-" * w, False) for w in widths])
    return "\n".join([header, rule, *map(fmt, cells)])


def _emit(args: argparse.Namespace, data: Any, text: str, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    if args.json:
        print(json.dumps(_plain(data), indent=2, sort_keys=True), file=stream)
    else:
        print(text, file=stream)


def _client(args: argparse.Namespace) -> resp3.Redis:
    url = args.redis_url
    if not url:
        from trading.cli import default_redis_url  # late: trading.cli may import this module

        url = default_redis_url()
    return resp3.Redis.from_url(url)


_CENTS = Decimal("0.01")


def _tidy(value: Decimal | None) -> Decimal | None:
    """Drop trailing zeros beyond two decimals (600.000000000000 -> 600.00): the value
    is unchanged, the 12 places of the averaging policy are just noise on screen."""
    if value is None:
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return value.quantize(_CENTS) if value == value.quantize(_CENTS) else value
    return value.normalize()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- orders (OMS store) ------------------------------------------------------------------


def _order_row(state: Any) -> Row:
    order = state.order
    price = order.limit_price or order.stop_price
    return {
        "account": order.account,
        "id": order.client_order_id,
        "symbol": order.instrument.symbol,
        "side": order.side.value,
        "type": order.order_type.value,
        "quantity": order.quantity.value,
        "price": None if price is None else price.value,
        "status": state.status.value,
        "filled": state.cum_qty.value,
        "avg_price": None if state.avg_px is None else state.avg_px.value,
        "reason": state.reason,
    }


ORDER_COLUMNS: tuple[str, ...] = (
    "account", "id", "symbol", "side", "type", "quantity", "price", "status", "filled", "avg_price",
)  # fmt: skip


def _store(args: argparse.Namespace, client: resp3.Redis) -> Any:
    from trading.oms.store import RedisOrderStore

    return RedisOrderStore(client, prefix=args.oms_prefix)


def _locate(store: Any, order_id: str, account: str | None) -> Any:
    """The stored order ``order_id`` (searched in every account unless one is given)."""
    accounts = [account] if account else sorted(store.accounts())
    found = [s for s in (store.load(a, order_id) for a in accounts) if s is not None]
    if not found:
        where = f"account {account}" if account else "any account"
        raise TradingError(f"order {order_id!r} not found in {where}")
    if len(found) > 1:
        names = ", ".join(s.state.account for s in found)
        raise TradingError(
            f"order {order_id!r} exists in several accounts ({names}): use --account"
        )
    return found[0]


def orders_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        store = _store(args, client)
        accounts = [args.account] if args.account else sorted(store.accounts())
        rows = []
        for account in accounts:
            ids = store.open_ids(account) if args.status == "open" else store.order_ids(account)
            for order_id in sorted(ids):
                stored = store.load(account, order_id)
                if stored is None:
                    continue
                row = _order_row(stored.state)
                if args.status in (None, "open") or row["status"] == args.status:
                    rows.append(row)
    _emit(args, rows, table(rows, ORDER_COLUMNS))
    return 0


def orders_show(args: argparse.Namespace) -> int:
    with _client(args) as client:
        store = _store(args, client)
        stored = _locate(store, args.id, args.account)
        state = stored.state
        history = store.history(state.account, state.client_order_id)
    row = _order_row(state)
    row["exec_ids"] = sorted(stored.exec_ids)
    row["history"] = history
    fields = "\n".join(
        f"{k:>10}: {'-' if v is None else v}" for k, v in row.items() if k != "history"
    )
    kinds = [f"{e.get('v', '?'):>3} {e.get('kind', '?'):<16} {e.get('id', '')}" for e in history]
    _emit(args, row, fields + "\n   history:\n" + "\n".join(kinds or ["(none)"]))
    return 0


def orders_cancel(args: argparse.Namespace) -> int:
    from trading.oms.events import CancelRequest
    from trading.oms.manager import OrderManager

    with _client(args) as client:
        store = _store(args, client)
        stored = _locate(store, args.id, args.account)
        state = stored.state
        change = OrderManager(store).apply(CancelRequest(state.account, state.client_order_id))
    row = _order_row(change.after)
    _emit(
        args,
        row,
        f"{state.account}/{state.client_order_id}: cancel requested, status {row['status']}",
    )
    return 0


# -- positions -----------------------------------------------------------------------------

POSITION_COLUMNS: tuple[str, ...] = (
    "account", "symbol", "quantity", "avg_price", "cost", "realized", "mark", "unrealized",
    "currency",
)  # fmt: skip


def positions(args: argparse.Namespace) -> int:
    with _client(args) as client:
        book = PositionBook(client, RiskKeys(args.prefix))
        marks = RedisMarks(client, KeyLayout(args.md_prefix), max_age=60.0)
        accounts = [args.account] if args.account else book.accounts()
        rows = []
        for account in accounts:
            for view in book.report(account, marks):
                pos = view.position
                rows.append(
                    {
                        "account": account,
                        "symbol": view.symbol,
                        "quantity": pos.quantity.value,
                        "avg_price": _tidy(avg.value if (avg := pos.average_price) else None),
                        "cost": _tidy(pos.cost.amount),
                        "realized": _tidy(pos.realized_pnl.amount),
                        "mark": view.mark,
                        "unrealized": _tidy(view.unrealized.amount if view.unrealized else None),
                        "currency": pos.instrument.currency,
                    }
                )
    _emit(args, rows, table(rows, POSITION_COLUMNS))
    return 0


# -- risk ------------------------------------------------------------------------------------


def kill_switch(args: argparse.Namespace) -> int:
    with _client(args) as client:
        switch = KillSwitch(client, RiskKeys(args.prefix))
        if args.mode is not None:
            switch.set(KILL_CHOICES[args.mode], args.account)
        data: Row = {"global": switch.get().value}
        accounts = switch.accounts()
        if args.account and args.account not in accounts:
            accounts[args.account] = KillMode.OFF
        data["accounts"] = {
            name: {"own": mode.value, "effective": switch.effective(name)[0].value}
            for name, mode in accounts.items()
            if not args.account or name == args.account
        }
    rows = [{"scope": "global", "mode": data["global"], "effective": data["global"]}]
    rows += [
        {"scope": f"account {name}", "mode": v["own"], "effective": v["effective"]}
        for name, v in data["accounts"].items()
    ]
    _emit(args, data, table(rows, ("scope", "mode", "effective")))
    return 0


LIMIT_COLUMNS = ("account", "check", "used", "limit", "headroom")


def _limit(used: Any, limit: Any) -> Row:
    headroom = None if limit is None else limit - used
    return {"used": used, "limit": limit, "headroom": headroom}


def limits_usage(config: RiskConfig, limits: RedisLimits, account: str) -> list[Row]:
    """Rows of ``risk limits`` for one account: each limit with its current usage."""
    usage = limits.usage(account)
    rules = config.account_rules(account)
    unit = config.notional_unit
    rows = [
        {
            "account": account,
            "check": "open_orders",
            **_limit(usage.open_orders, rules.max_open_orders),
        },
        {
            "account": account,
            "check": "orders_per_second",
            **_limit(usage.recent, rules.max_orders_per_second),
        },
        {
            "account": account,
            "check": f"gross_exposure ({config.currency})",
            **_limit(usage.gross * unit, rules.max_gross_exposure),
        },
    ]
    for sym in usage.symbols:
        symbol = config.symbol_rules(account, sym.symbol)
        if symbol is None:
            continue
        lot = symbol.instrument.lot_size
        pos, buy, sell = sym.position * lot, sym.open_buy * lot, sym.open_sell * lot
        long_row = _limit(pos + buy, symbol.max_long_position)
        short_row = _limit(sell - pos, symbol.max_short_position)
        rows.append({"account": account, "check": f"{sym.symbol} long", **long_row})
        rows.append({"account": account, "check": f"{sym.symbol} short", **short_row})
    kill = usage.kill.value
    rows.append({"account": account, "check": "kill_switch (own)", "used": kill})
    return rows


def risk_limits(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with _client(args) as client:
        keys = RiskKeys(args.prefix)
        limits = RedisLimits(client, keys)
        if args.account:
            accounts = [args.account]
        else:
            known = {_text(a) for a in client.smembers(keys.accounts())}
            accounts = sorted(known | {a.account for a in config.accounts})
        rows = [row for account in accounts for row in limits_usage(config, limits, account)]
    _emit(args, rows, table(rows, LIMIT_COLUMNS))
    return 0


# -- parser ----------------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis-url", help="default: redis://$REDIS_HOST:$REDIS_PORT/0")
    common.add_argument("--json", action="store_true", help="JSON output instead of a table")
    common.add_argument("--prefix", default="risk", help="risk key prefix (default: risk)")
    common.add_argument("--oms-prefix", default="oms", help="OMS key prefix (default: oms)")
    common.add_argument("--md-prefix", default=MD_PREFIX, help="market-data key prefix")
    return common


def register(subparsers: Any) -> None:
    """Add ``orders``, ``positions`` and ``risk`` to ``subparsers`` (the object returned
    by ``ArgumentParser.add_subparsers``). Each leaf sets ``handler``."""
    common = _common()
    orders = subparsers.add_parser("orders", help="list, show or cancel orders in the OMS store")
    osub = orders.add_subparsers(dest="orders_command", required=True)
    lst = osub.add_parser("list", parents=[common], help="orders, newest state")
    lst.add_argument("--account")
    lst.add_argument("--status", help="an order status, or 'open' for every open status")
    lst.set_defaults(handler=orders_list)
    for name, handler, text in (
        ("show", orders_show, "one order and its history"),
        ("cancel", orders_cancel, "request a cancel (status pending_cancel)"),
    ):
        sub = osub.add_parser(name, parents=[common], help=text)
        sub.add_argument("id", help="client order ID")
        sub.add_argument("--account", help="needed when the ID exists in several accounts")
        sub.set_defaults(handler=handler)
    pos = subparsers.add_parser("positions", parents=[common], help="positions and P&L")
    pos.add_argument("--account")
    pos.set_defaults(handler=positions)
    risk = subparsers.add_parser("risk", help="kill switch and limit usage")
    rsub = risk.add_subparsers(dest="risk_command", required=True)
    kill = rsub.add_parser("kill-switch", parents=[common], help="set and/or show kill switches")
    kill.add_argument("mode", nargs="?", choices=sorted(KILL_CHOICES), help="omit to show")
    kill.add_argument("--account", help="the account's own switch (default: global)")
    kill.set_defaults(handler=kill_switch)
    lim = rsub.add_parser("limits", parents=[common], help="current usage against each limit")
    lim.add_argument("--config", required=True, type=Path, help="risk limits JSON file")
    lim.add_argument("--account")
    lim.set_defaults(handler=risk_limits)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocamlot", description="operator commands")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one operator command; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"ocamlot: {exc}", file=sys.stderr)
        return 2
    except (TradingError, resp3.RedisError, OSError) as exc:
        print(f"ocamlot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
