"""Lua scripts (EVAL, EVALSHA, SCRIPT *) and functions (FCALL, FUNCTION *, Redis 7).

Script results are returned as the server sends them (``Any``): the script decides the
shape. Neither EVAL nor FCALL is retried after a lost connection, since the script may
have run; FCALL_RO cannot write, so it is. ``Redis.register_script`` builds on these.
"""

from __future__ import annotations

from typing import Any, Literal

from ..errors import DataError
from ._args import Key, Value
from ._base import IDEMPOTENT, READONLY, Command
from ._decoders import ByteStr, ok, str_if_bytes

__all__ = [
    "eval",
    "evalsha",
    "fcall",
    "fcall_ro",
    "function_delete",
    "function_flush",
    "function_load",
    "script_exists",
    "script_flush",
    "script_load",
]


def eval(script: ByteStr, numkeys: int, *keys_and_args: Key | Value) -> Command[Any]:
    """EVAL ``script`` with ``numkeys`` keys first in ``keys_and_args``, then arguments."""
    return Command((b"EVAL", script, numkeys, *keys_and_args), None)


def evalsha(sha: ByteStr, numkeys: int, *keys_and_args: Key | Value) -> Command[Any]:
    """EVALSHA of a cached script. NoScriptError if the server does not have it."""
    return Command((b"EVALSHA", sha, numkeys, *keys_and_args), None)


def _script_exists(reply: Any) -> list[bool]:
    return [bool(flag) for flag in reply]


def script_load(script: ByteStr) -> Command[str]:
    """SCRIPT LOAD. The script's SHA1 as ``str``."""
    return Command((b"SCRIPT", b"LOAD", script), str_if_bytes, flags=IDEMPOTENT)


def script_exists(*args: ByteStr) -> Command[list[bool]]:
    """SCRIPT EXISTS: one bool per SHA1."""
    return Command((b"SCRIPT", b"EXISTS", *args), _script_exists, flags=READONLY)


def script_flush(sync_type: Literal["SYNC", "ASYNC"] | None = None) -> Command[bool]:
    """SCRIPT FLUSH [SYNC|ASYNC]. DataError for any other mode."""
    if sync_type is None:
        return Command((b"SCRIPT", b"FLUSH"), ok, flags=IDEMPOTENT)
    if sync_type not in ("SYNC", "ASYNC"):
        raise DataError(
            f"SCRIPT FLUSH: sync_type must be 'SYNC', 'ASYNC' or None, got {sync_type!r}"
        )
    return Command((b"SCRIPT", b"FLUSH", sync_type), ok, flags=IDEMPOTENT)


def fcall(function: ByteStr, numkeys: int, *keys_and_args: Any) -> Command[Any]:
    """FCALL a function loaded with FUNCTION LOAD."""
    return Command((b"FCALL", function, numkeys, *keys_and_args), None)


def fcall_ro(function: ByteStr, numkeys: int, *keys_and_args: Any) -> Command[Any]:
    """FCALL_RO: only functions flagged ``no-writes`` may be called."""
    return Command((b"FCALL_RO", function, numkeys, *keys_and_args), None, flags=READONLY)


def function_load(code: ByteStr, replace: bool | None = False) -> Command[ByteStr]:
    """FUNCTION LOAD [REPLACE]. The library name. Without ``replace``, error if it exists."""
    if replace:
        return Command((b"FUNCTION", b"LOAD", b"REPLACE", code), None, flags=IDEMPOTENT)
    return Command((b"FUNCTION", b"LOAD", code), None)


def function_delete(library: ByteStr) -> Command[bool]:
    """FUNCTION DELETE. Error if the library does not exist."""
    return Command((b"FUNCTION", b"DELETE", library), ok)


def function_flush(mode: str = "SYNC") -> Command[bool]:
    """FUNCTION FLUSH [SYNC|ASYNC]: delete every library."""
    return Command((b"FUNCTION", b"FLUSH", mode), ok, flags=IDEMPOTENT)
