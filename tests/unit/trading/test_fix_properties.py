"""Property tests: build -> encode -> parse round trips (groups, raw data with SOH),
random splits through the splitter, and corrupted streams (bit flips, inserted and
deleted bytes) that are detected or resynchronised, never crash, never hang and never
yield a message whose checksum fails."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading.errors import FixParseError
from trading.fix import (
    INCOMPLETE,
    Message,
    Splitter,
    checksum,
    dictionary_for,
    parse,
    validate,
)
from trading.fix.parser import _parse_carefully

FIX44 = dictionary_for("FIX.4.4")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Printable values without SOH; '=' is allowed inside values.
text = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12).map(
    str.encode
)
raw_data = st.binary(min_size=1, max_size=24).map(lambda b: b + b"\x01")
party_roles = st.sampled_from(sorted(FIX44.fields[452].values))
sub_id_types = st.sampled_from(sorted(FIX44.fields[803].values) or [b"1"])
digits = st.integers(0, 10**6).map(lambda n: b"%d" % n)


@st.composite
def parties(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    """A NoPartyIDs group with optional nested NoPartySubIDs, members in any order
    after the delimiter."""
    count = draw(st.integers(0, 3))
    fields: list[tuple[int, bytes]] = [(453, b"%d" % count)]
    for _ in range(count):
        members = [(447, b"D"), (452, draw(party_roles))]
        members = draw(st.permutations(members))[: draw(st.integers(0, 2))]
        fields += [(448, draw(text)), *members]
        subs = draw(st.integers(0, 2))
        if subs:
            fields.append((802, b"%d" % subs))
            for _ in range(subs):
                fields += [(523, draw(text)), (803, draw(sub_id_types))]
    return fields


@st.composite
def execution_reports(draw: st.DrawFn) -> Message:
    body = [
        (37, draw(text)), (17, draw(text)), (150, b"0"), (39, b"0"), (54, b"1"),
        (151, draw(digits)), (14, draw(digits)), (6, draw(digits)),
    ]  # fmt: skip
    optional = [(11, draw(text)), (55, draw(text)), (44, draw(digits)), (58, draw(text))]
    body += draw(st.lists(st.sampled_from(optional), unique_by=lambda f: f[0]))
    if draw(st.booleans()):
        data = draw(raw_data)
        body += [(354, b"%d" % len(data)), (355, data)]  # EncodedText: may hold SOH
    header = [(49, draw(text)), (56, draw(text)), (34, b"%d" % draw(st.integers(1, 10**9)))]
    header.append((52, b"20240102-03:04:05.678"))
    scalars = draw(st.permutations(header + body))
    # keep each data field right after its length field, groups after the scalars
    scalars = [f for f in scalars if f[0] != 355]
    if any(f[0] == 354 for f in body):
        at = next(i for i, f in enumerate(scalars) if f[0] == 354)
        scalars.insert(at + 1, next(f for f in body if f[0] == 355))
    group = draw(parties())
    return Message([(8, b"FIX.4.4"), (35, b"8"), *scalars, *group])


def canonical_set(message: Message) -> list[tuple[int, bytes]]:
    return sorted(f for f in message if f[0] not in (9, 10))


@SETTINGS
@given(execution_reports())
def test_encode_parse_round_trip(message: Message) -> None:
    raw = message.encode()
    parsed = parse(raw)
    assert canonical_set(parsed) == canonical_set(message)  # no field lost or changed
    assert parsed.encode() == raw  # canonical order is a fixed point
    assert validate(parsed, FIX44) is None
    assert [g.get(448) for g in parsed.groups(453)] == message.get_all(448)


@SETTINGS
@given(execution_reports(), st.sampled_from([b"", b"=", b"a=b", b"=="]))
def test_fast_and_careful_paths_agree(message: Message, text: bytes) -> None:
    if text:
        message.set(58, text)  # '=' in a value: the fast path declines, the careful one reads
    raw = message.encode()
    assert parse(raw) == _parse_carefully(raw)
    assert parse(raw).get(58) == message.get(58)


@SETTINGS
@given(st.lists(execution_reports(), min_size=1, max_size=4), st.data())
def test_random_splits(messages: list[Message], data: st.DataObject) -> None:
    frames = [m.encode() for m in messages]
    stream = b"".join(frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    splitter = Splitter()
    got: list[bytes] = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        splitter.feed(stream[a:b])
        while (raw := splitter.gets()) is not INCOMPLETE:
            got.append(raw)
    assert got == frames
    assert splitter.buffered == 0 and splitter.discarded == 0


def corrupt(stream: bytes, kind: str, at: int, byte: int) -> bytes:
    at = min(at, len(stream) - 1)
    if kind == "flip":
        return stream[:at] + bytes([stream[at] ^ (byte or 1)]) + stream[at + 1 :]
    if kind == "insert":
        return stream[:at] + bytes([byte]) + stream[at:]
    return stream[:at] + stream[at + 1 :]


def frames_ok(raw: bytes) -> bool:
    body_end = raw.rfind(b"\x0110=") + 1
    return int(raw[body_end + 3 : body_end + 6]) == checksum(raw[:body_end])


@SETTINGS
@given(
    st.lists(execution_reports(), min_size=2, max_size=4),
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "insert", "delete"]),
            st.integers(0, 10**5),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=3,
    ),
    st.data(),
)
def test_corruption_is_detected_or_resynchronised(
    messages: list[Message], damage: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    frames = [m.encode() for m in messages]
    stream = b"".join(frames)
    starts = [sum(map(len, frames[:i])) for i in range(len(frames))]
    touched: set[int] = set()
    for kind, at, byte in damage:
        at %= len(stream)
        touched |= {i for i, s in enumerate(starts) if s <= at <= s + len(frames[i])}
        stream = corrupt(stream, kind, at, byte)
        # later offsets shift by one on insert/delete; mark everything after as shifted
        starts = [s + (kind == "insert") - (kind == "delete") if s > at else s for s in starts]
    max_size = 4096
    stream += b"\x00" * max_size  # resolve any BodyLength corrupted upwards
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    splitter = Splitter(max_message_size=max_size)
    got: list[bytes] = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        splitter.feed(stream[a:b])
        for _ in range(len(stream) + 2):  # bounded: each round consumes or stops
            try:
                raw = splitter.gets()
            except FixParseError:
                continue
            if raw is INCOMPLETE:
                break
            got.append(raw)
        else:  # pragma: no cover - would mean the splitter stopped making progress
            raise AssertionError("splitter did not make progress")
    assert all(frames_ok(raw) for raw in got)
    for i, frame in enumerate(frames):
        if i not in touched:  # intact frames come out, alone or inside a lucky bigger one
            assert any(frame in raw for raw in got), i
    for raw in got:
        try:
            parse(raw)
        except FixParseError:
            pass  # framing held but the content is broken: reported, never a crash


@SETTINGS
@given(st.binary(max_size=300))
def test_parse_never_crashes_on_noise(noise: bytes) -> None:
    for candidate in (noise, b"8=FIX.4.4\x019=%d\x01" % len(noise) + noise + b"10=000\x01"):
        try:
            parse(candidate)
        except FixParseError:
            pass
