"""Sans-I/O pieces shared by the sync and asyncio connections.

``Handshake`` is the connect-time exchange as a tiny state machine: it produces the
bytes to send and consumes the replies, and never touches a socket. With
``protocol=3`` it sends ``HELLO 3 [AUTH user pass] [SETNAME name]`` and ``SELECT db``
in one write (one round trip); if the server does not know HELLO (Redis < 6) it falls
back to ``AUTH`` / ``CLIENT SETNAME`` / ``SELECT`` in RESP2 (a second round trip,
paid only on such old servers). ``protocol=2`` goes straight to the RESP2 sequence.

``raise_for_reply`` is the one place an error reply turns into an exception.
"""

from __future__ import annotations

from typing import Any

from ._reader import pack_commands
from .config import ConnectionConfig
from .errors import (
    AuthenticationError,
    AuthenticationResponseError,
    ConnectionError,
    ResponseError,
)

__all__ = ["Handshake", "raise_for_reply"]


def raise_for_reply(reply: Any) -> Any:
    """Return ``reply``, or raise it if it is an error reply."""
    if isinstance(reply, ResponseError):
        raise reply
    return reply


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
        for reply in replies:
            if isinstance(reply, AuthenticationResponseError):
                raise AuthenticationError(str(reply))
            if isinstance(reply, ResponseError):
                if "invalid password" in str(reply).lower() or "auth" in reply.code.lower():
                    raise AuthenticationError(str(reply))
                raise reply
