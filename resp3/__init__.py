"""resp3: a fast, correct RESP3/RESP2 Redis driver with a compiled core."""

from ._reader import IMPLEMENTATION, Reader, encode_command, pack_commands
from .client import Redis, StrictRedis
from .cluster import RedisCluster
from .config import ConnectionConfig
from .connection import Connection
from .errors import (
    AskError,
    AuthenticationError,
    BusyLoadingError,
    ClusterDownError,
    ConnectionError,
    CrossSlotError,
    DataError,
    ExecAbortError,
    InvalidResponse,
    MasterDownError,
    MovedError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ProtocolError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    TryAgainError,
    WatchError,
)
from .pool import BlockingConnectionPool, ConnectionPool
from .retry import (
    ConstantBackoff,
    ExponentialBackoff,
    ExponentialWithJitterBackoff,
    NoBackoff,
    Retry,
)
from .types import INCOMPLETE, Push

__version__ = "0.1.0"

from_url = Redis.from_url

__all__ = [
    "IMPLEMENTATION",
    "INCOMPLETE",
    "AskError",
    "AuthenticationError",
    "BlockingConnectionPool",
    "BusyLoadingError",
    "ClusterDownError",
    "Connection",
    "ConnectionConfig",
    "ConnectionError",
    "ConnectionPool",
    "ConstantBackoff",
    "CrossSlotError",
    "DataError",
    "ExecAbortError",
    "ExponentialBackoff",
    "ExponentialWithJitterBackoff",
    "InvalidResponse",
    "MasterDownError",
    "MovedError",
    "NoBackoff",
    "NoPermissionError",
    "NoScriptError",
    "OutOfMemoryError",
    "ProtocolError",
    "Push",
    "ReadOnlyError",
    "Reader",
    "Redis",
    "RedisCluster",
    "RedisError",
    "ResponseError",
    "Retry",
    "StrictRedis",
    "TimeoutError",
    "TryAgainError",
    "WatchError",
    "__version__",
    "encode_command",
    "from_url",
    "pack_commands",
]
