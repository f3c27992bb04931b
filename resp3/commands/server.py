"""Connection and server commands: PING/ECHO/SELECT/AUTH, INFO, CLIENT *, CONFIG *...

Connection-state commands (SELECT, AUTH, CLIENT SETNAME, RESET, QUIT) act on whichever
pooled connection runs them; prefer the client's constructor options (``db``,
``password``, ``client_name``), which apply to every connection.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from ._args import Key, Pattern, Value
from ._base import BLOCKING, IDEMPOTENT, READONLY, Command
from ._decoders import (
    ByteStr,
    ok,
    pong,
    str_if_bytes,
    str_or_none,
    time_pair,
    timestamp_to_datetime,
)

__all__ = [
    "auth",
    "client_getname",
    "client_id",
    "client_kill",
    "client_kill_filter",
    "client_list",
    "client_pause",
    "client_setname",
    "client_unpause",
    "config_get",
    "config_set",
    "echo",
    "info",
    "lastsave",
    "memory_usage",
    "object",
    "parse_client_list",
    "parse_info",
    "ping",
    "quit",
    "reset",
    "select",
    "swapdb",
    "time",
    "wait",
]

_CLIENT_LIST_TYPES = ("normal", "master", "replica", "pubsub")
_CLIENT_KILL_TYPES = ("normal", "master", "slave", "replica", "pubsub")


# -- decoders -----------------------------------------------------------------------------


def _info_value(value: str) -> Any:
    if "," not in value and "=" not in value:
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    if "=" not in value:
        return [_info_value(v) for v in value.split(",") if v]
    sub: dict[str, Any] = {}
    for item in value.split(","):
        if not item:
            continue
        if "=" in item:
            k, v = item.rsplit("=", 1)
            sub[k] = _info_value(v)
        else:
            sub[item] = True
    return sub


def parse_info(reply: Any) -> dict[str, Any]:
    """INFO text -> dict, exactly like redis-py's ``parse_info``.

    Numbers become int/float, ``a=1,b=2`` values become dicts, ``module:`` lines are
    collected in ``info["modules"]``, lines without ``:`` in ``info["__raw__"]``.
    """
    info: dict[str, Any] = {}
    for line in str_if_bytes(reply).splitlines():
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            info.setdefault("__raw__", []).append(line)
            continue
        key, value = line.split(":", 1)
        if key == "cmdstat_host":  # the one key that contains ':' itself
            key, value = line.rsplit(":", 1)
        if key == "module":
            info.setdefault("modules", []).append(_info_value(value))
        else:
            info[key] = _info_value(value)
    return info


def parse_client_list(reply: Any) -> list[dict[str, str]]:
    """CLIENT LIST text -> one ``{field: value}`` (all str) per client line.

    A token without ``=`` continues the previous value (a unix socket path with a space).
    """
    clients = []
    for line in str_if_bytes(reply).splitlines():
        client: dict[str, str] = {}
        last_key = ""
        for token in line.split(" "):
            if "=" in token:
                key, value = token.split("=", 1)
                client[key] = value
                last_key = key
            elif last_key:
                client[last_key] += " " + token
        if client:
            clients.append(client)
    return clients


def _client_kill(reply: Any) -> bool | int:
    if isinstance(reply, int):
        return reply
    return ok(reply)


def _config_get(reply: Any) -> dict[str | None, str | None]:
    if not reply:
        return {}
    if isinstance(reply, dict):
        items: Any = reply.items()
    else:
        it = iter(reply)
        items = zip(it, it, strict=False)
    return {str_if_bytes(k): str_if_bytes(v) for k, v in items}


# -- connection -----------------------------------------------------------------------------


def ping() -> Command[bool]:
    """PING. True for PONG."""
    return Command((b"PING",), pong, flags=IDEMPOTENT)


def echo(value: Value) -> Command[ByteStr]:
    """ECHO ``value`` back."""
    return Command((b"ECHO", value), None, flags=IDEMPOTENT)


def select(index: int) -> Command[bool]:
    """SELECT a database on the connection that runs it (see the module docstring)."""
    return Command((b"SELECT", index), ok, flags=IDEMPOTENT)


def auth(password: str, username: str | None = None) -> Command[bool]:
    """AUTH [username] password. AuthenticationError (WRONGPASS) when refused."""
    if username is None:
        return Command((b"AUTH", password), bool, flags=IDEMPOTENT)
    return Command((b"AUTH", username, password), bool, flags=IDEMPOTENT)


def quit() -> Command[bool]:
    """QUIT: the server closes the connection after replying OK (deprecated in 7.2)."""
    return Command((b"QUIT",), ok)


def reset() -> Command[ByteStr]:
    """RESET (Redis 6.2) the connection's state. ``b"RESET"`` under RESP3, ``"RESET"``
    under RESP2 (redis-py's values)."""
    return Command((b"RESET",), None, decode2=str_if_bytes)


# -- server ---------------------------------------------------------------------------------


def info(section: str | None = None, *args: str) -> Command[dict[str, Any]]:
    """INFO [section ...] as a dict (see ``parse_info``)."""
    if section is None:
        return Command((b"INFO",), parse_info, flags=READONLY)
    return Command((b"INFO", section, *args), parse_info, flags=READONLY)


def client_id() -> Command[int]:
    """CLIENT ID of the connection that runs it."""
    return Command((b"CLIENT", b"ID"), None, flags=READONLY)


def client_setname(name: str) -> Command[bool]:
    """CLIENT SETNAME (no spaces allowed) on the connection that runs it."""
    return Command((b"CLIENT", b"SETNAME", name), ok, flags=IDEMPOTENT)


def client_getname() -> Command[ByteStr | None]:
    """CLIENT GETNAME. None when unnamed; bytes under RESP3 and str under RESP2, as
    redis-py returns them."""
    return Command((b"CLIENT", b"GETNAME"), None, decode2=str_or_none, flags=READONLY)


def client_list(
    _type: str | None = None, client_id: Sequence[Value] = ()
) -> Command[list[dict[str, str]]]:
    """CLIENT LIST [TYPE t] [ID id ...]. DataError for an unknown type or a
    ``client_id`` that is not a list/tuple."""
    args: tuple[Any, ...] = (b"CLIENT", b"LIST")
    if _type is not None:
        if str(_type).lower() not in _CLIENT_LIST_TYPES:
            raise DataError(
                f"CLIENT LIST: _type must be one of {_CLIENT_LIST_TYPES}, got {_type!r}"
            )
        args += (b"TYPE", _type)
    if not isinstance(client_id, (list, tuple)):
        raise DataError(f"CLIENT LIST: client_id must be a list, got {type(client_id).__name__}")
    if client_id:
        args += (b"ID", *client_id)
    return Command(args, parse_client_list, flags=READONLY)


def client_kill(address: str) -> Command[bool | int]:
    """CLIENT KILL ip:port (old form). True, or error if no such client."""
    return Command((b"CLIENT", b"KILL", address), _client_kill)


def client_kill_filter(
    _id: str | int | None = None,
    _type: str | None = None,
    addr: str | None = None,
    skipme: bool | None = None,
    laddr: str | None = None,
    user: str | None = None,
    maxage: int | None = None,
) -> Command[bool | int]:
    """CLIENT KILL with filters. The number of clients killed.

    DataError: no filter, an unknown ``_type``, or a non-bool ``skipme``.
    """
    args: tuple[Any, ...] = (b"CLIENT", b"KILL")
    if _type is not None:
        if str(_type).lower() not in _CLIENT_KILL_TYPES:
            raise DataError(
                f"CLIENT KILL: _type must be one of {_CLIENT_KILL_TYPES}, got {_type!r}"
            )
        args += (b"TYPE", _type)
    if skipme is not None:
        if not isinstance(skipme, bool):
            raise DataError(f"CLIENT KILL: skipme must be a bool, got {skipme!r}")
        args += (b"SKIPME", b"YES" if skipme else b"NO")
    for option, value in ((b"ID", _id), (b"ADDR", addr), (b"LADDR", laddr), (b"USER", user)):
        if value is not None:
            args += (option, value)
    if maxage is not None:
        args += (b"MAXAGE", maxage)
    if len(args) == 2:
        raise DataError("CLIENT KILL: give at least one filter")
    return Command(args, _client_kill)


def client_pause(timeout: int, all: bool = True) -> Command[bool]:
    """CLIENT PAUSE ``timeout`` ms; ``all=False`` pauses only writes (WRITE mode)."""
    if not isinstance(timeout, int) or isinstance(timeout, bool):
        raise DataError(f"CLIENT PAUSE: timeout must be an int (milliseconds), got {timeout!r}")
    if all:
        return Command((b"CLIENT", b"PAUSE", timeout), ok)
    return Command((b"CLIENT", b"PAUSE", timeout, b"WRITE"), ok)


def client_unpause() -> Command[ByteStr]:
    """CLIENT UNPAUSE. The raw ``OK``, as in redis-py."""
    return Command((b"CLIENT", b"UNPAUSE"), None, flags=IDEMPOTENT)


def config_get(pattern: Pattern = "*", *args: Pattern) -> Command[dict[str | None, str | None]]:
    """CONFIG GET (several patterns since Redis 7) as a ``{str: str}`` dict."""
    return Command((b"CONFIG", b"GET", pattern, *args), _config_get, flags=READONLY)


def config_set(name: Key, value: Value, *args: Key | Value) -> Command[bool]:
    """CONFIG SET name value [name value ...] (several pairs since Redis 7)."""
    return Command((b"CONFIG", b"SET", name, value, *args), ok, flags=IDEMPOTENT)


def time() -> Command[tuple[int, int]]:
    """TIME: ``(unix_seconds, microseconds)``."""
    return Command((b"TIME",), time_pair, flags=READONLY)


def wait(num_replicas: int, timeout: int) -> Command[int]:
    """WAIT until ``num_replicas`` acknowledged this connection's writes, or ``timeout``
    ms (0: forever). The number of replicas that did."""
    return Command((b"WAIT", num_replicas, timeout), None, flags=BLOCKING)


def object(infotype: str, key: Key) -> Command[Any]:
    """OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key: bytes or int depending on ``infotype``."""
    return Command((b"OBJECT", infotype, key), None, flags=READONLY)


def lastsave() -> Command[datetime.datetime | None]:
    """LASTSAVE as a local naive datetime."""
    return Command((b"LASTSAVE",), timestamp_to_datetime, flags=READONLY)


def swapdb(first: int, second: int) -> Command[bool]:
    """SWAPDB. Not retried: a second run swaps back."""
    return Command((b"SWAPDB", first, second), ok)


def memory_usage(key: Key, samples: int | None = None) -> Command[int | None]:
    """MEMORY USAGE in bytes; None for a missing key. ``samples=0`` samples everything."""
    if isinstance(samples, int):
        return Command((b"MEMORY", b"USAGE", key, b"SAMPLES", samples), None, flags=READONLY)
    return Command((b"MEMORY", b"USAGE", key), None, flags=READONLY)
