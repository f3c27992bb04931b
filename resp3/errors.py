"""Exception hierarchy, named as in redis-py so that ``except`` clauses carry over.

::

    RedisError
    ├── ProtocolError            the byte stream broke the RESP grammar
    ├── ConnectionError          (also the builtin ConnectionError)
    │   └── AuthenticationError  wrong password, or auth required
    ├── TimeoutError             (also the builtin TimeoutError)
    ├── ResponseError            the server answered with an error reply
    │   ├── NoScriptError, ReadOnlyError, BusyLoadingError, ExecAbortError,
    │   │   OutOfMemoryError, NoPermissionError, MovedError, AskError,
    │   │   TryAgainError, ClusterDownError, CrossSlotError, MasterDownError
    │   └── AuthenticationResponseError (also AuthenticationError)
    ├── DataError                a value the encoder cannot send (raised before sending)
    ├── WatchError               a watched key changed; the transaction did not run
    └── InvalidResponse          alias of ProtocolError, for redis-py users

The readers *return* error replies as :class:`ResponseError` instances instead of
raising them, so that one bad reply in a pipeline does not lose the replies after it.
:func:`error_from_reply` is the single table that turns a server message into the
right class; both reader implementations call it.
"""

from __future__ import annotations

import builtins

__all__ = [
    "AskError",
    "AuthenticationError",
    "AuthenticationResponseError",
    "BusyLoadingError",
    "ClusterDownError",
    "ConnectionError",
    "CrossSlotError",
    "DataError",
    "ExecAbortError",
    "InvalidResponse",
    "MasterDownError",
    "MovedError",
    "NoPermissionError",
    "NoScriptError",
    "OutOfMemoryError",
    "ProtocolError",
    "ReadOnlyError",
    "RedisError",
    "ResponseError",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "error_from_reply",
]


class RedisError(Exception):
    """Base class of every error this package raises."""


class ProtocolError(RedisError):
    """The server's bytes do not follow RESP; the connection can no longer be trusted."""


InvalidResponse = ProtocolError


class ConnectionError(RedisError, builtins.ConnectionError):
    """The connection could not be opened, or broke while a command was in flight."""


class AuthenticationError(ConnectionError):
    """The server refused the credentials (WRONGPASS) or demands them (NOAUTH)."""


class TimeoutError(RedisError, builtins.TimeoutError):
    """No reply within ``socket_timeout``; the connection is discarded, not reused."""


class DataError(RedisError, TypeError):
    """An argument cannot be encoded (None, bool, dict, ...); nothing was sent."""


class WatchError(RedisError):
    """A key under WATCH changed before EXEC; the transaction was not applied."""


class ResponseError(RedisError):
    """An error reply from the server.

    ``code`` is the first word of the reply (``ERR``, ``WRONGTYPE``, ``NOSCRIPT``...).
    As in redis-py, ``str(error)`` omits the code for the codes in the table below and
    keeps the whole message for the others.
    """

    code: str

    def __init__(self, message: str = "", code: str = "") -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[ResponseError], tuple[str, str]]:
        return (type(self), (str(self), self.code))

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, ResponseError)
            and self.args == other.args
            and self.code == other.code
        )

    def __hash__(self) -> int:
        return hash((type(self), self.args, self.code))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class AuthenticationResponseError(ResponseError, AuthenticationError):
    """WRONGPASS / NOAUTH as an error reply: both a ResponseError and an AuthenticationError."""


class NoScriptError(ResponseError):
    """EVALSHA named a script the server does not have (after SCRIPT FLUSH or restart)."""


class ReadOnlyError(ResponseError):
    """A write reached a read-only replica."""


class BusyLoadingError(ResponseError):
    """The server is loading its dataset and cannot answer yet."""


class ExecAbortError(ResponseError):
    """EXEC refused: a command queued in the transaction was rejected when queued."""


class OutOfMemoryError(ResponseError):
    """The server is over ``maxmemory`` and refuses writes."""


class NoPermissionError(ResponseError):
    """The ACL user may not run this command or touch this key."""


class MovedError(ResponseError):
    """Cluster: the slot lives on another node (``MOVED slot host:port``)."""


class AskError(ResponseError):
    """Cluster: the slot is migrating; ask the other node once (``ASK slot host:port``)."""


class TryAgainError(ResponseError):
    """Cluster: keys of a multi-key command are being migrated; retry later."""


class ClusterDownError(ResponseError):
    """Cluster: the cluster is down or the slot is not served."""


class CrossSlotError(ResponseError):
    """Cluster: the keys of one command hash to different slots."""


class MasterDownError(ResponseError):
    """The replica lost its link with the primary and ``replica-serve-stale-data`` is off."""


# Error code (first word of the reply) -> class. As in redis-py, the code is stripped
# from the message for these codes; ERR is stripped too but stays a plain ResponseError.
_CODES: dict[str, type[ResponseError]] = {
    "ERR": ResponseError,
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "LOADING": BusyLoadingError,
    "EXECABORT": ExecAbortError,
    "OOM": OutOfMemoryError,
    "NOPERM": NoPermissionError,
    "WRONGPASS": AuthenticationResponseError,
    "NOAUTH": AuthenticationResponseError,
    "MOVED": MovedError,
    "ASK": AskError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "CROSSSLOT": CrossSlotError,
    "MASTERDOWN": MasterDownError,
}


# ERR replies that are really authentication failures (as in redis-py).
_AUTH_ERR_PREFIXES = (
    "Client sent AUTH, but no password is set",
    "AUTH <password> called without any password configured",
    "invalid password",
    "invalid username-password pair",
)


def error_from_reply(message: str) -> ResponseError:
    """Build the error object for a ``-`` or ``!`` reply (returned, not raised)."""
    code, sep, rest = message.partition(" ")
    cls = _CODES.get(code)
    if cls is None:
        return ResponseError(message, code)
    if cls is ResponseError and rest.startswith(_AUTH_ERR_PREFIXES):
        cls = AuthenticationResponseError
    return cls(rest if sep else "", code)
