"""Our retry/blocking flags against the server's own command table (COMMAND INFO).

The builders' flags drive the retry policy, so they are checked against what the server
says about each command used in the unit-test case table:

* READONLY only on commands the server does not flag ``write``; and every command the
  server flags ``readonly`` is READONLY for us (no read is left un-retried);
* BLOCKING only on commands the server flags ``blocking`` (WAIT excepted: it blocks
  but carries no such flag), and every blocking pop of a list or sorted set is BLOCKING.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import resp3
from resp3.commands import BLOCKING, READONLY, Command, CoreCommands
from resp3.commands._base import Executor
from resp3.testing import RedisServer

_CASES_PATH = Path(__file__).parent.parent / "unit" / "_commands_cases.py"
_spec = importlib.util.spec_from_file_location("_commands_cases_for_flags", _CASES_PATH)
assert _spec is not None and _spec.loader is not None
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)

CONTAINERS = {b"XINFO", b"XGROUP", b"CLIENT", b"CONFIG", b"SCRIPT", b"FUNCTION", b"PUBSUB"}
CONTAINERS |= {b"OBJECT", b"MEMORY"}
BLOCKING_POPS = {"blpop", "brpop", "blmove", "bzpopmin", "bzpopmax"}


class Builders(CoreCommands, Executor):
    def _execute(self, cmd: Command[Any]) -> Any:
        return cmd


def built() -> list[tuple[str, Command[Any]]]:
    b: Any = Builders()
    return [(case[0], getattr(b, case[0])(*case[1], **case[2])) for case in _cases.CASES]


def command_name(cmd: Command[Any]) -> str:
    first = cmd.args[0]
    if first in CONTAINERS:
        sub = cmd.args[1]
        sub = sub.encode() if isinstance(sub, str) else sub
        return f"{first.decode()}|{sub.decode()}".lower()
    return str(first.decode()).lower()


@pytest.fixture(scope="module")
def server_flags(server: RedisServer) -> Iterator[dict[str, set[str]]]:
    client = resp3.Redis(host=server.host, port=server.port, protocol=2)
    names = sorted({command_name(cmd) for _, cmd in CASES})
    try:
        table = {}
        for name, info in zip(
            names, client.execute_command("COMMAND", "INFO", *names), strict=True
        ):
            assert info is not None, f"server does not know {name}"
            table[name] = {flag.decode() for flag in info[2]}
        yield table
    finally:
        client.close()


CASES = built()


@pytest.mark.parametrize(
    ("method", "cmd"), CASES, ids=[f"{method}-{i}" for i, (method, _) in enumerate(CASES)]
)
def test_flags_agree_with_the_server(
    server_flags: dict[str, set[str]], method: str, cmd: Command[Any]
) -> None:
    flags = server_flags[command_name(cmd)]
    if cmd.flags & READONLY:
        assert "write" not in flags, f"{method} is READONLY but the server flags it write"
    if "readonly" in flags:
        assert cmd.flags & READONLY, f"the server flags {method} readonly"
    if cmd.flags & BLOCKING and method != "wait":
        assert "blocking" in flags, f"{method} is BLOCKING but the server does not say so"
    if method in BLOCKING_POPS:
        assert cmd.flags & BLOCKING
