"""Connection settings: one frozen dataclass, built from keywords or from a URL.

Shared by the sync and asyncio clients, so both accept exactly the same options and
URLs (``redis://``, ``rediss://`` for TLS, ``unix://``).
"""

from __future__ import annotations

import codecs
import dataclasses
import ssl as _ssl
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

from .retry import Retry

__all__ = ["ConnectionConfig", "FromURL", "parse_url"]

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


@dataclasses.dataclass(frozen=True)
class ConnectionConfig:
    """Everything needed to open and set up one connection.

    ``protocol`` 3 (the default) negotiates RESP3 with HELLO and falls back to RESP2 on
    servers older than 6.0; ``protocol=2`` never sends HELLO.
    """

    host: str = "localhost"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None
    client_name: str | None = None
    protocol: int = 3
    decode_responses: bool = False
    encoding: str = "utf-8"
    encoding_errors: str = "strict"
    socket_timeout: float | None = None
    socket_connect_timeout: float | None = None
    socket_keepalive: bool = True
    unix_socket_path: str | None = None
    ssl: bool = False
    ssl_context: _ssl.SSLContext | None = None
    ssl_ca_certs: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_cert_reqs: str = "required"
    ssl_check_hostname: bool = True
    retry: Retry = dataclasses.field(default_factory=Retry)

    def __post_init__(self) -> None:
        if self.protocol not in (2, 3):
            raise ValueError(f"protocol must be 2 or 3, got {self.protocol!r}")
        if not isinstance(self.db, int) or self.db < 0:
            raise ValueError(f"db must be a non-negative int, got {self.db!r}")
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ValueError(f"port must be an int in 1..65535, got {self.port!r}")
        for name in ("socket_timeout", "socket_connect_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0 or None, got {value!r}")
        codecs.lookup(self.encoding)
        if self.ssl_cert_reqs not in ("required", "optional", "none"):
            raise ValueError(
                f"ssl_cert_reqs must be required/optional/none, got {self.ssl_cert_reqs!r}"
            )

    @property
    def reader_encoding(self) -> str | None:
        return self.encoding if self.decode_responses else None

    @property
    def address(self) -> str:
        return self.unix_socket_path or f"{self.host}:{self.port}"

    def make_ssl_context(self) -> _ssl.SSLContext:
        if self.ssl_context is not None:
            return self.ssl_context
        ctx = _ssl.create_default_context(cafile=self.ssl_ca_certs)
        if self.ssl_cert_reqs == "none":
            ctx.check_hostname = False
            ctx.verify_mode = _ssl.CERT_NONE
        else:
            ctx.check_hostname = self.ssl_check_hostname
            ctx.verify_mode = (
                _ssl.CERT_REQUIRED if self.ssl_cert_reqs == "required" else _ssl.CERT_OPTIONAL
            )
        if self.ssl_certfile:
            ctx.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return ctx

    def replace(self, **changes: Any) -> ConnectionConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ConnectionConfig:
        """The config of a client constructor's keywords (pass its ``locals()``).

        Names that are not fields (``self``, pool settings...) are left out, and
        ``retry=None`` means the default policy, so the sync and asyncio clients keep
        their redis-py signatures and build the same config. ValueError as in
        ``__post_init__`` for a bad value.
        """
        fields = {name: options[name] for name in _FIELDS if name in options}
        if fields.get("retry") is None:
            fields["retry"] = Retry()
        return cls(**fields)


_FIELDS = tuple(field.name for field in dataclasses.fields(ConnectionConfig))


def _flag(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"URL option {name}={value!r} is not a boolean")


_URL_OPTIONS: dict[str, Any] = {
    "db": int,
    "protocol": int,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "socket_keepalive": _flag,
    "decode_responses": _flag,
    "encoding": str,
    "encoding_errors": str,
    "client_name": str,
    "ssl_cert_reqs": str,
    "ssl_ca_certs": str,
    "ssl_check_hostname": _flag,
}


def parse_url(url: str) -> dict[str, Any]:
    """Turn ``redis://[user[:pass]@]host[:port][/db][?opt=val]`` into keywords.

    ``rediss://`` enables TLS; ``unix:///path/to/sock?db=1`` uses a Unix socket. Unknown
    query options raise ValueError rather than being silently ignored.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"URL scheme must be redis://, rediss:// or unix://, got {url!r}")
    kwargs: dict[str, Any] = {}
    if parsed.username:
        kwargs["username"] = unquote(parsed.username)
    if parsed.password:
        kwargs["password"] = unquote(parsed.password)
    if scheme == "unix":
        if not parsed.path:
            raise ValueError(f"unix:// URL without a socket path: {url!r}")
        kwargs["unix_socket_path"] = unquote(parsed.path)
    else:
        if parsed.hostname:
            kwargs["host"] = unquote(parsed.hostname)
        if parsed.port:
            kwargs["port"] = parsed.port
        path = parsed.path.lstrip("/")
        if path:
            try:
                kwargs["db"] = int(path)
            except ValueError:
                raise ValueError(f"URL path must be a database number, got {path!r}") from None
        if scheme == "rediss":
            kwargs["ssl"] = True
    for name, values in parse_qs(parsed.query, keep_blank_values=True).items():
        if name not in _URL_OPTIONS:
            raise ValueError(f"unknown URL option {name!r} in {url!r}")
        convert = _URL_OPTIONS[name]
        kwargs[name] = convert(name, values[-1]) if convert is _flag else convert(values[-1])
    return kwargs


_Built = TypeVar("_Built")


class FromURL:
    """``from_url`` for every class built from connection keywords (clients, pools)."""

    @classmethod
    def from_url(cls: type[_Built], url: str, **kwargs: Any) -> _Built:
        """``redis://[[user]:pass@]host[:port][/db][?protocol=2&...]``, ``rediss://``,
        ``unix://``; keyword arguments win over what the URL says."""
        options = parse_url(url)
        options.update(kwargs)
        return cls(**options)
