"""Thin asyncio shells around :class:`~trading.fix.session.Session`: :class:`Acceptor`
(listens, routes each connection to its session) and :class:`Initiator` (connects
each session and reconnects after ``reconnect_interval``).

Theory of operation
-------------------
The sessions do all the protocol work; the transport only moves bytes and time:

* one :class:`Connection` (an ``asyncio.Protocol``) per TCP connection. Bytes go to
  ``session.receive``; the :class:`~trading.fix.session_messages.Output` that comes
  back is written in one ``transport.write`` per loop iteration (a flush scheduled with
  ``loop.call_soon``), and a ``Disconnect`` event flushes and closes;
* an acceptor connection is unbound until its first complete message: BeginString,
  SenderCompID and TargetCompID name the session (ours = its TargetCompID). No such
  session, a session that already has a connection, or a first frame that does not
  parse: the connection is closed without a byte sent. A connection that sends nothing
  within the session's ``logon_timeout`` is closed too, so a bare connect-and-close,
  or a port scanner, never touches a session;
* one timer per engine (``loop.call_later``, every ``Settings.timer_interval``)
  calls ``session.tick`` for every connected session: heartbeats, TestRequest,
  timeouts;
* ``send_to_target`` (module :mod:`trading.fix.session`) reaches the connection
  through ``session.transmit``, which the connection sets while it owns the session.

An exception from a session input (a store that cannot write, say) is logged through
the ``trading.fix`` logger and the connection is dropped: nothing that was not stored
is ever written. TLS: pass an ``ssl.SSLContext`` (``ssl=``); for an initiator,
``server_hostname=`` when it must differ from the connect host.

Everything runs on the event loop's thread; call ``send_to_target`` from it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl as ssl_module
import time
from collections.abc import Callable
from types import TracebackType

from trading.errors import FixError, FixParseError
from trading.fix.application import Application
from trading.fix.session import Session
from trading.fix.session_messages import Disconnect, LoggedOn, LoggedOut, Output
from trading.fix.session_wire import Framer, parse_message
from trading.fix.settings import SessionID, Settings
from trading.fix.store import LogFactory, MemoryStore, MessageStore, NullLog, StoreFactory

__all__ = ["Acceptor", "Connection", "Initiator"]

logger = logging.getLogger("trading.fix")


class Connection(asyncio.Protocol):
    """One TCP connection; ``session`` is None until an acceptor connection is routed."""

    def __init__(self, engine: _Engine, session: Session | None) -> None:
        self.engine = engine
        self.session = session
        self.transport: asyncio.Transport | None = None
        self.peer: object = None
        self.opened_at = engine.clock()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._early = bytearray()
        self._framer = Framer(engine.settings.max_message_size)
        self._pending: list[bytes] = []
        self._flush_scheduled = False
        self._done = False  # closing: later bytes must not reach a (re-bound) session

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.engine.connections.add(self)
        if self.session is not None:
            self._bind(self.session)

    def data_received(self, data: bytes) -> None:
        if self._done:
            return
        session = self.session
        if session is not None:
            self._call(session.receive, data)
            return
        self._early += data
        self._framer.feed(data)
        frame = self._framer.next()
        if frame is None:
            if len(self._early) > self.engine.settings.max_message_size:
                self.close("no message within the size limit")
            return
        found = self.engine.route(frame, self.peer)
        if found is None:
            self.close("no session for the first message")
            return
        self._bind(found)
        early, self._early = bytes(self._early), bytearray()
        self._call(found.receive, early)

    def connection_lost(self, exc: Exception | None) -> None:
        self.engine.connections.discard(self)
        session = self.session
        if session is not None and self.engine.owners.get(session.session_id) is self:
            self._call(session.disconnected)
            self._unbind()
        if not self.closed.done():
            self.closed.set_result(None)

    # -- session plumbing ----------------------------------------------------------------

    def _bind(self, session: Session) -> None:
        self.session = session
        self.engine.owners[session.session_id] = self
        session.transmit = self.handle
        self._call(session.connect)

    def _unbind(self) -> None:
        session = self.session
        if session is not None and self.engine.owners.get(session.session_id) is self:
            del self.engine.owners[session.session_id]
            session.transmit = None

    def _call(self, method: Callable[..., Output], *args: object) -> None:
        """Run a session input and act on its output; an exception drops the line."""
        try:
            out = method(*args)
        except Exception:
            logger.exception("%s: session input failed, dropping the connection", self.session)
            self._unbind()
            self._abort()
            return
        self.handle(out)

    def handle(self, out: Output) -> None:
        """Write ``out.data`` (batched per loop iteration) and act on its events."""
        if out.data:
            self._pending.extend(out.data)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
        for event in out.events:
            self.engine.on_event(event)
            if isinstance(event, Disconnect):
                self._unbind()
                self.close(event.reason)

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        transport = self.transport
        if pending and transport is not None and not transport.is_closing():
            transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self, reason: str) -> None:
        """Write what is pending, then close."""
        logger.debug("closing connection from %s: %s", self.peer, reason)
        self._done = True
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def _abort(self) -> None:
        self._done = True
        self._pending = []
        if self.transport is not None:
            self.transport.abort()


class _Engine:
    """What Acceptor and Initiator share: sessions, their connections, the timer."""

    initiator = False

    def __init__(
        self,
        settings: Settings,
        application: Application | None = None,
        *,
        store_factory: StoreFactory | None = None,
        log_factory: LogFactory | None = None,
        ssl: ssl_module.SSLContext | None = None,
        server_hostname: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.server_hostname = server_hostname
        self.application = application or Application()
        self.ssl = ssl
        self.clock = clock
        make_store = store_factory or _memory_store
        self.sessions: dict[SessionID, Session] = {}
        for s in settings.sessions:
            sid = s.session_id
            self.sessions[sid] = Session(
                s,
                self.application,
                store=make_store(sid),
                log=log_factory(sid) if log_factory else NullLog(),
                initiator=self.initiator,
                clock=clock,
                max_message_size=settings.max_message_size,
            )
        self.connections: set[Connection] = set()
        self.owners: dict[SessionID, Connection] = {}
        self._logged_on: dict[SessionID, asyncio.Event] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._stopping = False

    def session(self, session_id: SessionID | None = None) -> Session:
        """The session with this ID (the only one when None). KeyError if unknown."""
        if session_id is None:
            if len(self.sessions) != 1:
                raise KeyError(f"{len(self.sessions)} sessions: name one")
            return next(iter(self.sessions.values()))
        return self.sessions[session_id]

    def logout(self, session_id: SessionID | None = None, text: str = "") -> None:
        """Start an orderly Logout of a connected session (an initiator reconnects
        after its ``reconnect_interval``). Nothing happens when it is not connected."""
        session = self.session(session_id)
        connection = self.owners.get(session.session_id)
        if connection is not None:
            connection._call(session.logout, text)

    def on_event(self, event: object) -> None:
        if isinstance(event, LoggedOn):
            self._event(event.session_id).set()
        elif isinstance(event, LoggedOut):
            self._event(event.session_id).clear()

    def _event(self, session_id: SessionID) -> asyncio.Event:
        found = self._logged_on.get(session_id)
        if found is None:
            found = self._logged_on[session_id] = asyncio.Event()
        return found

    async def wait_for_logon(
        self, session_id: SessionID | None = None, timeout: float = 10.0
    ) -> None:
        """Wait until the session is logged on; ``TimeoutError`` after ``timeout``."""
        sid = self.session(session_id).session_id
        if not self.sessions[sid].is_logged_on:
            await asyncio.wait_for(self._event(sid).wait(), timeout)

    def _start_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.settings.timer_interval, self._on_timer)

    def _on_timer(self) -> None:
        now = self.clock()
        for connection in list(self.connections):
            session = connection.session
            if session is not None:
                connection._call(session.tick, now)
            elif now - connection.opened_at >= self._unbound_timeout():
                connection.close("no Logon within the logon timeout")
        if not self._stopping:
            self._start_timer()

    def _unbound_timeout(self) -> float:
        return min(s.logon_timeout for s in self.settings.sessions)

    def route(self, frame: bytes, peer: object) -> Session | None:
        raise NotImplementedError

    async def stop(self, *, force: bool = False) -> None:
        """Log out every logged-on session and wait (up to their ``logout_timeout``)
        for the answers, then close every connection. ``force`` skips the Logout."""
        self._stopping = True
        if not force:
            for connection in list(self.connections):
                session = connection.session
                if session is not None and session.is_logged_on:
                    connection._call(session.logout, "")
            waiting = [c.closed for c in self.connections if c.session is not None]
            if waiting:
                limit = max(s.logout_timeout for s in self.settings.sessions)
                await asyncio.wait(waiting, timeout=limit)
        for connection in list(self.connections):
            connection.close("engine stopped")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        closing = [c.closed for c in self.connections]
        if closing:
            await asyncio.wait(closing, timeout=1.0)

    async def __aenter__(self) -> _Engine:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        raise NotImplementedError


def _memory_store(session_id: SessionID) -> MessageStore:
    return MemoryStore()


class Acceptor(_Engine):
    """Listens on ``settings.accept_host:accept_port`` (port 0: a free one, readable
    as ``port`` once started) and serves every session in ``settings``."""

    initiator = False
    port = 0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = False
        self._server = await loop.create_server(
            lambda: Connection(self, None),
            self.settings.accept_host,
            self.settings.accept_port,
            ssl=self.ssl,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._start_timer()
        logger.info("accepting on %s:%d", self.settings.accept_host, self.port)

    def route(self, frame: bytes, peer: object) -> Session | None:
        """The session a first message names, if it exists and is free."""
        try:
            message = parse_message(frame)
            sid = SessionID(message.get_str(8), message.get_str(56), message.get_str(49))
        except (FixParseError, FixError) as exc:
            logger.info("connection from %s: unreadable first message (%s)", peer, exc)
            return None
        session = self.sessions.get(sid)
        if session is None:
            logger.info("connection from %s: no session %s", peer, sid)
            return None
        if session.connected or sid in self.owners:
            logger.info("connection from %s: session %s already has a connection", peer, sid)
            return None
        return session

    async def stop(self, *, force: bool = False) -> None:
        if self._server is not None:
            self._server.close()
        await super().stop(force=force)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


class Initiator(_Engine):
    """Connects every session to its ``connect_host:connect_port`` and keeps it
    connected: after a failed attempt or a lost connection it waits the session's
    ``reconnect_interval`` and tries again (only within its schedule, if any)."""

    initiator = True
    _tasks: list[asyncio.Task[None]]
    _wake: asyncio.Event

    async def start(self) -> None:
        self._stopping = False
        self._tasks = []
        self._wake = asyncio.Event()
        for session in self.sessions.values():
            s = session.settings
            if s.connect_host is None or s.connect_port is None:
                raise FixError(f"session {s.session_id}: connect_host and connect_port are needed")
            self._tasks.append(asyncio.create_task(self._keep_connected(session)))
        self._start_timer()

    async def _keep_connected(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        s = session.settings
        host, port = s.connect_host or "", s.connect_port or 0
        while not self._stopped():
            schedule = s.schedule
            if schedule is None or schedule.in_session(self.clock()):
                try:
                    _, connection = await loop.create_connection(
                        lambda: Connection(self, session),
                        host,
                        port,
                        ssl=self.ssl,
                        server_hostname=self.server_hostname if self.ssl else None,
                    )
                    await connection.closed
                except OSError as exc:
                    where = f"{s.connect_host}:{s.connect_port}"
                    logger.info("%s: cannot connect to %s (%s)", s.session_id, where, exc)
            if self._stopped():
                return
            try:
                await asyncio.wait_for(self._wake.wait(), s.reconnect_interval)
            except asyncio.TimeoutError:
                pass

    def _stopped(self) -> bool:
        return self._stopping

    def route(self, frame: bytes, peer: object) -> Session | None:
        return None  # initiator connections are bound from the start

    async def stop(self, *, force: bool = False) -> None:
        self._stopping = True
        self._wake.set()
        await super().stop(force=force)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
