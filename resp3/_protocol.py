"""Sans-I/O pieces shared by the sync and asyncio connections.

``Handshake`` is the connect-time exchange as a tiny state machine: it produces the
bytes to send and consumes the replies, and never touches a socket. With
``protocol=3`` it sends ``HELLO 3 [AUTH user pass] [SETNAME name]`` and ``SELECT db``
in one write (one round trip); if the server does not know HELLO (Redis < 6) it falls
back to ``AUTH`` / ``CLIENT SETNAME`` / ``SELECT`` in RESP2 (a second round trip,
paid only on such old servers). ``protocol=2`` goes straight to the RESP2 sequence.

``decode_reply``, ``decode_pipeline`` and ``decode_transaction`` turn replies into
results (raising error replies) for every client kind; the clients' single-command hot
paths inline the same two steps.
"""

from __future__ import annotations

from typing import Any

from ._reader import pack_commands
from .commands._base import Command
from .config import ConnectionConfig
from .errors import (
    AuthenticationError,
    AuthenticationResponseError,
    ConnectionError,
    ExecAbortError,
    ResponseError,
    WatchError,
)

__all__ = [
    "Handshake",
    "decode_pipeline",
    "decode_reply",
    "decode_transaction",
    "transaction_bytes",
]


def _is_unknown_hello(error: ResponseError) -> bool:
    text = str(error).lower()
    return "unknown command" in text or error.code == "NOPROTO"


class Handshake:
    """Connect-time exchange. Usage::

    hs = Handshake(config)
    data = hs.start()
    while data is not None:
        send(data)
        data = hs.receive([read_reply() for _ in range(hs.expected)])
    hs.protocol, hs.server_info
    """

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.protocol = config.protocol
        self.server_info: dict[Any, Any] = {}
        self.expected = 0
        self._stage = "new"

    def _resp2_commands(self) -> list[tuple[Any, ...]]:
        cfg = self.config
        cmds: list[tuple[Any, ...]] = []
        if cfg.password is not None:
            cmds.append(
                (b"AUTH", cfg.username, cfg.password) if cfg.username else (b"AUTH", cfg.password)
            )
        if cfg.client_name:
            cmds.append((b"CLIENT", b"SETNAME", cfg.client_name))
        if cfg.db:
            cmds.append((b"SELECT", cfg.db))
        return cmds

    def start(self) -> bytes | None:
        cfg = self.config
        if cfg.protocol == 3:
            hello: tuple[Any, ...] = (b"HELLO", b"3")
            if cfg.password is not None:
                hello += (b"AUTH", cfg.username or b"default", cfg.password)
            if cfg.client_name:
                hello += (b"SETNAME", cfg.client_name)
            cmds = [hello]
            if cfg.db:
                cmds.append((b"SELECT", cfg.db))
            self._stage = "hello"
        else:
            cmds = self._resp2_commands()
            self._stage = "resp2"
            if not cmds:
                self._stage = "done"
                return None
        self.expected = len(cmds)
        return pack_commands(cmds)

    def receive(self, replies: list[Any]) -> bytes | None:
        """Consume the replies to the last batch; return the next batch or None (done)."""
        if self._stage == "hello":
            hello = replies[0]
            if isinstance(hello, ResponseError):
                if isinstance(hello, AuthenticationResponseError):
                    raise AuthenticationError(str(hello))
                if not _is_unknown_hello(hello):
                    raise ConnectionError(f"HELLO failed: {hello}")
                # Old server: RESP2 from here on, and redo AUTH/SETNAME/SELECT.
                self.protocol = 2
                cmds = self._resp2_commands()
                if not cmds:
                    self._stage = "done"
                    return None
                self._stage = "resp2"
                self.expected = len(cmds)
                return pack_commands(cmds)
            self.server_info = hello if isinstance(hello, dict) else {}
            self._check(replies[1:])
        else:
            self._check(replies)
        self._stage = "done"
        return None

    @staticmethod
    def _check(replies: list[Any]) -> None:
        # Which replies are authentication failures is decided once, by the error
        # table in errors.py (WRONGPASS, NOAUTH and the AUTH-related ERR texts).
        for reply in replies:
            if isinstance(reply, AuthenticationResponseError):
                raise AuthenticationError(str(reply))
            if isinstance(reply, ResponseError):
                raise reply


def decode_reply(cmd: Command[Any], reply: Any, protocol: int) -> Any:
    """Raise an error reply, else apply the command's decoder for this protocol."""
    if isinstance(reply, ResponseError):
        raise reply
    decode = cmd.decode if protocol == 3 else (cmd.decode2 or cmd.decode)
    return decode(reply) if decode is not None else reply


def annotate(error: ResponseError, index: int, cmd: Command[Any]) -> ResponseError:
    """Prefix an error from a batch with the position and start of its command."""
    args = " ".join(repr(a) for a in cmd.args[:3])
    error.args = (
        f"Command # {index + 1} ({args}) of pipeline caused error: {error}",
        *error.args[1:],
    )
    return error


def decode_pipeline(
    stack: list[Command[Any]], replies: list[Any], protocol: int, raise_on_error: bool
) -> list[Any]:
    """Decode a batch in place; errors stay values, the first is raised if asked."""
    out: list[Any] = []
    first_error: ResponseError | None = None
    for index, (cmd, reply) in enumerate(zip(stack, replies, strict=True)):
        if isinstance(reply, ResponseError):
            annotate(reply, index, cmd)
            first_error = first_error or reply
            out.append(reply)
            continue
        decode = cmd.decode if protocol == 3 else (cmd.decode2 or cmd.decode)
        out.append(decode(reply) if decode is not None else reply)
    if first_error is not None and raise_on_error:
        raise first_error
    return out


def transaction_bytes(stack: list[Command[Any]]) -> bytes:
    return pack_commands([(b"MULTI",), *(cmd.args for cmd in stack), (b"EXEC",)])


def decode_transaction(
    stack: list[Command[Any]], replies: list[Any], protocol: int, raise_on_error: bool
) -> list[Any]:
    """Replies of MULTI, each QUEUED, and EXEC -> the results, per position.

    A command rejected while queueing makes EXEC fail with EXECABORT: with
    ``raise_on_error`` the first rejection is raised (annotated with its position);
    otherwise rejected positions hold their own error and the others the
    ExecAbortError. EXEC answering null means a WATCHed key changed: ``WatchError``.
    """
    multi_reply, queued, exec_reply = replies[0], replies[1:-1], replies[-1]
    if isinstance(multi_reply, ResponseError):
        raise multi_reply
    queue_errors = {
        i: annotate(reply, i, stack[i])
        for i, reply in enumerate(queued)
        if isinstance(reply, ResponseError)
    }
    if isinstance(exec_reply, ResponseError):
        if raise_on_error:
            raise next(iter(queue_errors.values())) if queue_errors else exec_reply
        abort = (
            exec_reply
            if isinstance(exec_reply, ExecAbortError)
            else ExecAbortError(str(exec_reply))
        )
        return [queue_errors.get(i, abort) for i in range(len(stack))]
    if exec_reply is None:
        raise WatchError("watched variable changed; transaction discarded")
    if len(exec_reply) != len(stack):
        raise ResponseError(f"EXEC returned {len(exec_reply)} results for {len(stack)} commands")
    return decode_pipeline(stack, list(exec_reply), protocol, raise_on_error)
