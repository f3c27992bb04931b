"""A conformance acceptor: the engine configured as QuickFIX's acceptance-test server.

::

    python -m trading.fix.conformance --port 5001 --sender-comp-id ISLD \\
        --target-comp-id TW --begin-strings FIX.4.2,FIX.4.4

One acceptor on one port hosts one session per BeginString (ours = SenderCompID);
each connection is routed by the BeginString, SenderCompID and TargetCompID of its
first message. Every session validates with its version's dictionary, checks CompIDs
and SendingTime (120 s), resets both sequence numbers on every Logon, takes HeartBtInt
from the counterparty's Logon, and keeps its store across connections (in memory, or
in Redis with ``--redis-url``). ``--log-dir`` writes message and event logs.

The application (:class:`EchoApplication`) answers as QuickFIX's test application:

* NewOrderSingle(D): dropped when PossResend(97)=Y and its ClOrdID was already received
  on this session since the last Logout; otherwise remembered and echoed;
* Email(C) and SecurityDefinition(d): echoed;
* any other application message: BusinessMessageReject, reason 3 (unsupported).

"Echo" sends the received message back through the session: the header is rebuilt
(BeginString, our CompIDs, MsgSeqNum, SendingTime; PossDupFlag and OrigSendingTime
dropped, as for any fresh message), every other field keeps its received text, and
BodyLength and CheckSum are computed. The process prints the listening address on one
line, then runs until SIGINT or SIGTERM, when it logs every session out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

import resp3
from trading.errors import ConfigError
from trading.fix.application import Application, UnsupportedMessageType
from trading.fix.message import Message
from trading.fix.session import send_to_target
from trading.fix.settings import SessionID, SessionSettings, Settings
from trading.fix.store import FileLogFactory, RedisStoreFactory
from trading.fix.transport import Acceptor

__all__ = ["EchoApplication", "build_acceptor", "conformance_settings", "main"]


class EchoApplication(Application):
    """QuickFIX's acceptance-test application (module docstring)."""

    def __init__(self) -> None:
        self.orders: dict[SessionID, set[bytes]] = {}

    def on_logout(self, session_id: SessionID) -> None:
        self.orders.pop(session_id, None)

    def from_app(self, message: Message, session_id: SessionID) -> None:
        msg_type = message.get(35)
        if msg_type == b"D":
            cl_ord_id = message.get(11, b"")
            seen = self.orders.setdefault(session_id, set())
            if message.get(97) == b"Y" and cl_ord_id in seen:
                return
            seen.add(cl_ord_id)
            send_to_target(message.copy(), session_id)
        elif msg_type in (b"C", b"d"):
            send_to_target(message.copy(), session_id)
        else:
            raise UnsupportedMessageType(f"MsgType {msg_type!r} is not handled here")


def conformance_settings(
    sender_comp_id: str,
    target_comp_id: str,
    begin_strings: Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    timer_interval: float = 0.2,
) -> Settings:
    """The acceptor settings the module docstring describes."""
    sessions = tuple(
        SessionSettings(
            begin_string,
            sender_comp_id,
            target_comp_id,
            reset_on_logon=True,
            check_comp_id=True,
            check_latency=True,
            max_latency=120.0,
            validate=True,
        )
        for begin_string in begin_strings
    )
    return Settings(sessions, accept_host=host, accept_port=port, timer_interval=timer_interval)


def build_acceptor(
    settings: Settings,
    *,
    redis_url: str | None = None,
    log_dir: str | None = None,
) -> Acceptor:
    """An :class:`Acceptor` running :class:`EchoApplication` on ``settings``."""
    stores = None
    if redis_url is not None:
        stores = RedisStoreFactory(resp3.Redis.from_url(redis_url, socket_timeout=5.0))
    logs = FileLogFactory(log_dir) if log_dir is not None else None
    return Acceptor(settings, EchoApplication(), store_factory=stores, log_factory=logs)


async def serve(acceptor: Acceptor) -> None:
    """Start, print the address, run until SIGINT/SIGTERM, then log out and stop."""
    await acceptor.start()
    begin_strings = ", ".join(s.begin_string for s in acceptor.settings.sessions)
    first = acceptor.settings.sessions[0]
    print(
        f"conformance acceptor on {acceptor.settings.accept_host}:{acceptor.port}"
        f" ({begin_strings}; {first.sender_comp_id} <- {first.target_comp_id})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await acceptor.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trading.fix.conformance", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sender-comp-id", default="ISLD", help="ours")
    parser.add_argument("--target-comp-id", default="TW", help="the counterparty's")
    parser.add_argument("--begin-strings", default="FIX.4.2,FIX.4.4")
    parser.add_argument("--redis-url", help="keep the message store in this Redis")
    parser.add_argument("--log-dir", help="write message and event logs here")
    parser.add_argument("--timer-interval", type=float, default=0.2, help="seconds")
    args = parser.parse_args(argv)
    try:
        settings = conformance_settings(
            args.sender_comp_id,
            args.target_comp_id,
            [b.strip() for b in args.begin_strings.split(",") if b.strip()],
            host=args.host,
            port=args.port,
            timer_interval=args.timer_interval,
        )
        acceptor = build_acceptor(settings, redis_url=args.redis_url, log_dir=args.log_dir)
        asyncio.run(serve(acceptor))
    except ConfigError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    except (OSError, resp3.RedisError) as exc:
        print(f"conformance: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
