"""resp3 for asyncio: ``from resp3.asyncio import Redis`` (was ``redis.asyncio``)."""

from .client import Redis, StrictRedis
from .cluster import RedisCluster
from .connection import AsyncConnection
from .pipeline import Pipeline
from .pool import AsyncConnectionPool
from .pubsub import PubSub

__all__ = [
    "AsyncConnection",
    "AsyncConnectionPool",
    "Pipeline",
    "PubSub",
    "Redis",
    "RedisCluster",
    "StrictRedis",
]
