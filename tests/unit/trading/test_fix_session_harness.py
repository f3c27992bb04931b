"""A scripted counterparty for sans-I/O sessions, and tests of the session's wire
helpers (framing as QuickFIX frames, the lenient parse, SendingTime text).

The other ``test_fix_session_*`` modules import :class:`Peer`, :func:`acceptor`,
:func:`pair` and :class:`Clock` from here. Scripts use a compact notation: ``|`` for
SOH, no 8/9/10 (added and computed), ``<T>`` for the clock's time (``<T-121>``,
``<T+10>`` shifted by seconds). Expected messages use the same notation with ``*``
for any value; BeginString, BodyLength and CheckSum of every reply are checked too.
"""

from __future__ import annotations

import re
import time

import pytest

from trading.errors import FixParseError
from trading.fix.application import Application
from trading.fix.message import checksum
from trading.fix.parser import parse
from trading.fix.session import Session
from trading.fix.session_messages import Disconnect, Output, SessionEvent
from trading.fix.session_wire import Framer, parse_message, sending_time
from trading.fix.settings import SessionSettings
from trading.fix.store import MemoryStore, MessageStore

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def stamp(moment: float) -> str:
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(moment)) + ".000"


def frame(begin: str, body: str, now: float) -> bytes:
    """Wire bytes of ``body`` (script notation). A body starting with ``9=`` keeps its
    BodyLength, one ending in ``|10=...`` its CheckSum, so tests can break them."""

    def when(match: re.Match[str]) -> str:
        return stamp(now + int(match.group(1) or 0))

    text = re.sub(r"<T([+-]\d+)?>", when, body).replace("|", "\x01") + "\x01"
    tail = None
    found = re.search(r"(^|\x01)(10=[^\x01]*\x01)$", text)
    if found:
        tail = found.group(2)
        text = text[: found.start(2)]
    head = f"8={begin}\x01"
    if not text.startswith("9="):
        head += f"9={len(text.encode('latin-1'))}\x01"
    data = (head + text).encode("latin-1")
    return data + (tail.encode() if tail else b"10=%03d\x01" % checksum(data))


def show(raw: bytes) -> str:
    return raw.decode("latin-1").replace("\x01", "|")


def matches(raw: bytes, begin: str, pattern: str) -> bool:
    """Whether ``raw`` is a valid message (framing, CheckSum) with exactly the fields
    of ``pattern`` in that order (``*`` matches any value)."""
    message = parse(raw)
    fields = [f"{tag}={value.decode('latin-1')}" for tag, value in message]
    if fields[0] != f"8={begin}" or fields[1][:2] != "9=" or fields[-1][:3] != "10=":
        return False
    want = pattern.split("|")
    got = fields[2:-1]
    pairs = zip(want, got, strict=False)
    same = all(w == g or (w.endswith("=*") and g.startswith(w[:-1])) for w, g in pairs)
    return len(want) == len(got) and same


class Peer:
    """Drives one session as its scripted counterparty. Every output is collected:
    ``pending`` holds the messages not yet expected, ``events`` every event."""

    def __init__(self, session: Session, clock: Clock, begin: str, *, connect: bool = True) -> None:
        self.session = session
        self.clock = clock
        self.begin = begin
        self.pending: list[bytes] = []
        self.events: list[SessionEvent] = []
        self.disconnected = False
        if connect:
            self.take(session.connect())

    def take(self, out: Output) -> Output:
        self.pending.extend(out.data)
        self.events.extend(out.events)
        if out.disconnect is not None:
            self.disconnected = True
        return out

    def send(self, body: str, begin: str | None = None) -> Output:
        return self.raw(frame(begin or self.begin, body, self.clock.now))

    def raw(self, data: bytes) -> Output:
        return self.take(self.session.receive(data))

    def tick(self, seconds: float = 0.0) -> Output:
        self.clock.advance(seconds)
        return self.take(self.session.tick())

    def expect(self, pattern: str) -> bytes:
        assert self.pending, f"expected {pattern}, got nothing (events {self.events})"
        raw = self.pending.pop(0)
        assert matches(raw, self.begin, pattern), f"\nexpected {pattern}\n     got {show(raw)}"
        return raw

    def expect_nothing(self) -> None:
        assert not self.pending, f"unexpected: {[show(m) for m in self.pending]}"

    def expect_disconnect(self) -> Disconnect:
        self.expect_nothing()
        assert self.disconnected, "the session did not disconnect"
        found = [e for e in self.events if isinstance(e, Disconnect)]
        return found[-1]

    def logon(self, heartbeat: int = 30, extra: str = "") -> None:
        self.send(f"35=A|34=1|49=TW|52=<T>|56=ISLD|98=0|108={heartbeat}{extra}")
        self.expect(f"35=A|34=1|49=ISLD|52=*|56=TW|98=0|108={heartbeat}{extra}")

    def logout(self, seq: int, ours: int) -> None:
        self.send(f"35=5|34={seq}|49=TW|52=<T>|56=ISLD")
        self.expect(f"35=5|34={ours}|49=ISLD|52=*|56=TW")
        self.expect_disconnect()


def acceptor(
    begin: str = "FIX.4.2",
    application: Application | None = None,
    *,
    store: MessageStore | None = None,
    clock: Clock | None = None,
    **options: object,
) -> Peer:
    """An acceptor session ISLD <- TW configured as the conformance server (reset on
    Logon, validation, CompID and latency checks), connected, with its peer."""
    clock = clock or Clock()
    settings = SessionSettings(begin, "ISLD", "TW", reset_on_logon=True, **options)  # type: ignore[arg-type]
    session = Session(settings, application, store=store or MemoryStore(clock()), clock=clock)
    return Peer(session, clock, begin)


def pair(
    begin: str = "FIX.4.4", clock: Clock | None = None, **options: object
) -> tuple[Session, Session, Clock]:
    """An initiator TW -> ISLD and an acceptor ISLD <- TW on one clock, not connected."""
    clock = clock or Clock()
    initiator = Session(
        SessionSettings(begin, "TW", "ISLD", **options),  # type: ignore[arg-type]
        initiator=True,
        clock=clock,
    )
    acceptor = Session(SessionSettings(begin, "ISLD", "TW", **options), clock=clock)  # type: ignore[arg-type]
    return initiator, acceptor, clock


def pump(first: Session, second: Session, out: Output) -> list[SessionEvent]:
    """Deliver ``out`` (from ``first``) to ``second`` and the answers back, until
    neither side has anything to say; returns every event on the way."""
    events = list(out.events)
    sender, receiver = first, second
    while out.data:
        out = receiver.receive(b"".join(out.data))
        events.extend(out.events)
        sender, receiver = receiver, sender
    return events


# ----------------------------------------------------------------------- wire helpers


def test_harness_frames_what_the_codec_parses() -> None:
    raw = frame("FIX.4.4", "35=0|34=2|49=TW|52=<T>|56=ISLD", T0)
    message = parse(raw)
    assert message.get(52) == stamp(T0).encode()
    assert matches(raw, "FIX.4.4", "35=0|34=2|49=TW|52=*|56=ISLD")
    assert not matches(raw, "FIX.4.4", "35=0|34=3|49=TW|52=*|56=ISLD")
    assert not matches(raw, "FIX.4.2", "35=0|34=2|49=TW|52=*|56=ISLD")


def test_framer_cuts_messages_split_anywhere() -> None:
    stream = b"".join(frame("FIX.4.2", f"35=0|34={n}|49=TW|52=<T>|56=ISLD", T0) for n in range(3))
    for cut in range(1, len(stream)):
        framer = Framer()
        found = []
        for part in (stream[:cut], stream[cut:]):
            framer.feed(part)
            while (raw := framer.next()) is not None:
                found.append(parse(raw).seq_num)
        assert found == [0, 1, 2], cut


def test_framer_lets_a_too_long_body_length_swallow_the_next_message() -> None:
    """As QuickFIX frames: from BodyLength on, the first <SOH>10=...<SOH> ends the
    frame, so the following message is part of one garbled frame."""
    good = frame("FIX.4.2", "35=0|34=3|49=TW|52=<T>|56=ISLD", T0)
    body = f"35=0|34=2|49=TW|52={stamp(T0)}|56=ISLD|"
    long = frame("FIX.4.2", f"9={len(body) + 20}|{body[:-1]}", T0)
    framer = Framer()
    framer.feed(long + good + good)
    first = framer.next()
    assert first == long + good
    with pytest.raises(FixParseError):
        parse_message(first)
    assert framer.next() == good
    assert framer.next() is None


def test_framer_skips_noise_and_waits_for_a_partial_header() -> None:
    framer = Framer()
    framer.feed(b"garbage\x01" + b"8=FIX.4")
    assert framer.next() is None
    framer.feed(b".2\x019=")
    assert framer.next() is None
    framer.feed(frame("FIX.4.2", "35=0|34=1|49=TW|52=<T>|56=ISLD", T0)[len(b"8=FIX.4.2\x019=") :])
    raw = framer.next()
    assert raw is not None and parse(raw).seq_num == 1


def test_framer_cuts_a_header_that_cannot_be_one_as_garbled() -> None:
    framer = Framer()
    good = frame("FIX.4.2", "35=0|34=1|49=TW|52=<T>|56=ISLD", T0)
    framer.feed(b"8=FIX.4.2\x019=abc\x0135=0\x01" + good)
    bad = framer.next()
    assert bad == b"8=FIX.4.2\x019=abc\x0135=0\x01"
    assert framer.next() == good


def test_lenient_parse_reads_negative_and_zero_tags_only() -> None:
    raw = frame("FIX.4.2", "35=0|34=4|49=TW|52=<T>|56=ISLD|-1=HI", T0)
    with pytest.raises(FixParseError):
        parse(raw)
    assert parse_message(raw).get(-1) == b"HI"
    assert parse_message(frame("FIX.4.2", "35=0|34=4|49=TW|52=<T>|56=ISLD|0=HI", T0)).get(0)
    for body in ("35=0|34=4|49=TW|x=1", "35=0|34=4|49=TW|4garbled9=TW"):
        with pytest.raises(FixParseError):
            parse_message(frame("FIX.4.2", body, T0))
    broken = frame("FIX.4.2", "35=0|34=4|-1=HI", T0)
    with pytest.raises(FixParseError):  # a wrong CheckSum stays garbled
        parse_message(broken[:-4] + b"%03d\x01" % ((int(broken[-4:-1]) + 1) % 256))


def test_sending_time_has_milliseconds() -> None:
    assert sending_time(T0 + 0.1234) == b"20231114-22:13:20.123"
    assert sending_time(T0 + 59.9999) == b"20231114-22:14:19.999"
    assert sending_time(T0) == b"20231114-22:13:20.000"
