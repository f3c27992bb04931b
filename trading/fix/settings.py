"""Session identity and configuration: :class:`SessionID`, :class:`SessionSettings`
(one session), :class:`Settings` (an engine: its sessions and sockets), a daily
:class:`Schedule`, and :func:`load_settings` for QuickFIX-style ``.cfg`` files.

Every setting has QuickFIX's name in the ``.cfg`` format and QuickFIX's default
(HeartBtInt 30 s, MaxLatency 120 s, LogonTimeout 10 s, LogoutTimeout 2 s,
ReconnectInterval 30 s, every validation on). Construction checks the values and
raises :class:`~trading.errors.ConfigError` listing *every* problem, each prefixed
with the session it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from trading.errors import ConfigError, ConfigProblem

__all__ = [
    "BEGIN_STRINGS",
    "Schedule",
    "SessionID",
    "SessionSettings",
    "Settings",
    "load_settings",
    "parse_settings",
]

#: BeginStrings the engine ships dictionaries for.
BEGIN_STRINGS = ("FIX.4.2", "FIX.4.4")


@dataclass(frozen=True, slots=True)
class SessionID:
    """A session as seen from this side: our SenderCompID, their TargetCompID.

    ``str()`` is ``FIX.4.4:ISLD->TW`` (``:qualifier`` appended when set); it names the
    session in logs, store keys and errors.
    """

    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    qualifier: str = ""

    def __str__(self) -> str:
        text = f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"
        return f"{text}:{self.qualifier}" if self.qualifier else text


_DAY = 86400


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@dataclass(frozen=True, slots=True)
class Schedule:
    """Daily session hours in UTC, ``start`` to ``end``; an ``end`` at or before
    ``start`` means the session runs over midnight (22:00 to 21:00 is a 23-hour day).

    A session resets its sequence numbers when a new period starts, refuses Logons
    outside its hours and logs out when its hours end.
    """

    start: time
    end: time

    def _offsets(self) -> tuple[int, int]:
        return _seconds(self.start), _seconds(self.end)

    def period_start(self, now: float) -> float | None:
        """Epoch seconds at which the period containing ``now`` began, or None when
        ``now`` is outside the session hours."""
        start, end = self._offsets()
        day = now - now % _DAY
        second = now - day
        if start < end:
            return day + start if start <= second <= end else None
        if second >= start:
            return day + start
        return day - _DAY + start if second <= end else None

    def in_session(self, now: float) -> bool:
        return self.period_start(now) is not None

    def same_period(self, first: float, second: float) -> bool:
        """Whether both instants lie in the same session period."""
        a = self.period_start(first)
        return a is not None and a == self.period_start(second)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """One session's configuration (see the module docstring for defaults).

    ``connect_host``/``connect_port`` are used by an initiator; an acceptor takes the
    counterparty's HeartBtInt from its Logon and ignores ``heartbeat_interval``.
    ``validate`` turns data-dictionary validation on (``data_dictionary`` names a
    custom QuickFIX XML file; default: the shipped one for the BeginString).
    """

    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    qualifier: str = ""
    heartbeat_interval: int = 30
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    check_comp_id: bool = True
    check_latency: bool = True
    max_latency: float = 120.0
    schedule: Schedule | None = None
    reconnect_interval: float = 30.0
    logon_timeout: float = 10.0
    logout_timeout: float = 2.0
    validate: bool = True
    data_dictionary: str | None = None
    validate_fields_out_of_order: bool = True
    validate_fields_have_values: bool = True
    validate_user_defined_fields: bool = True
    allow_unknown_message_fields: bool = False
    persist_messages: bool = True
    send_redundant_resend_requests: bool = False
    connect_host: str | None = None
    connect_port: int | None = None
    session_id: SessionID = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "session_id",
            SessionID(self.begin_string, self.sender_comp_id, self.target_comp_id, self.qualifier),
        )
        problems = list(self._problems())
        if problems:
            raise ConfigError(problems)

    def _problems(self) -> Iterator[ConfigProblem]:
        where = f"session {self.session_id}"
        if self.begin_string not in BEGIN_STRINGS and self.data_dictionary is None:
            known = ", ".join(BEGIN_STRINGS)
            yield ConfigProblem(where, f"BeginString {self.begin_string!r} is not one of {known}")
        for name in ("sender_comp_id", "target_comp_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or _SOH_OR_SPACE.search(value):
                yield ConfigProblem(where, f"{name} must be a non-empty string, got {value!r}")
        if not isinstance(self.heartbeat_interval, int) or self.heartbeat_interval < 0:
            got = self.heartbeat_interval
            yield ConfigProblem(where, f"heartbeat_interval must be an int >= 0, got {got!r}")
        for name in ("max_latency", "reconnect_interval", "logon_timeout", "logout_timeout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                yield ConfigProblem(where, f"{name} must be a number > 0, got {value!r}")
        port = self.connect_port
        if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
            yield ConfigProblem(where, f"connect_port must be 1-65535, got {port!r}")


_SOH_OR_SPACE = re.compile(r"[\x01\s]")


@dataclass(frozen=True, slots=True)
class Settings:
    """An engine's configuration: its sessions, the acceptor's listening address
    (``accept_port`` 0 picks a free port), the timer period and the largest message
    accepted from the wire. Session IDs must be unique."""

    sessions: tuple[SessionSettings, ...]
    accept_host: str = "127.0.0.1"
    accept_port: int = 0
    timer_interval: float = 0.5
    max_message_size: int = 1 << 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", tuple(self.sessions))
        problems = []
        seen: set[SessionID] = set()
        for s in self.sessions:
            if s.session_id in seen:
                problems.append(ConfigProblem(f"session {s.session_id}", "defined twice"))
            seen.add(s.session_id)
        if not self.sessions:
            problems.append(ConfigProblem("settings", "no session defined"))
        if not isinstance(self.accept_port, int) or not 0 <= self.accept_port < 65536:
            got = self.accept_port
            problems.append(ConfigProblem("settings", f"accept_port must be 0-65535, got {got!r}"))
        if not self.timer_interval > 0 or not self.max_message_size > 0:
            text = "timer_interval and max_message_size must be > 0"
            problems.append(ConfigProblem("settings", text))
        if problems:
            raise ConfigError(problems)

    def session(self, session_id: SessionID) -> SessionSettings:
        for s in self.sessions:
            if s.session_id == session_id:
                return s
        raise KeyError(f"no session {session_id} in these settings")


# ------------------------------------------------------------------ QuickFIX .cfg

# .cfg key -> (attribute, converter name)
_KEYS = {
    "BeginString": ("begin_string", "str"),
    "SenderCompID": ("sender_comp_id", "str"),
    "TargetCompID": ("target_comp_id", "str"),
    "SessionQualifier": ("qualifier", "str"),
    "HeartBtInt": ("heartbeat_interval", "int"),
    "ResetOnLogon": ("reset_on_logon", "bool"),
    "ResetOnLogout": ("reset_on_logout", "bool"),
    "ResetOnDisconnect": ("reset_on_disconnect", "bool"),
    "CheckCompID": ("check_comp_id", "bool"),
    "CheckLatency": ("check_latency", "bool"),
    "MaxLatency": ("max_latency", "float"),
    "ReconnectInterval": ("reconnect_interval", "float"),
    "LogonTimeout": ("logon_timeout", "float"),
    "LogoutTimeout": ("logout_timeout", "float"),
    "UseDataDictionary": ("validate", "bool"),
    "DataDictionary": ("data_dictionary", "str"),
    "ValidateFieldsOutOfOrder": ("validate_fields_out_of_order", "bool"),
    "ValidateFieldsHaveValues": ("validate_fields_have_values", "bool"),
    "ValidateUserDefinedFields": ("validate_user_defined_fields", "bool"),
    "AllowUnknownMsgFields": ("allow_unknown_message_fields", "bool"),
    "PersistMessages": ("persist_messages", "bool"),
    "SendRedundantResendRequests": ("send_redundant_resend_requests", "bool"),
    "SocketConnectHost": ("connect_host", "str"),
    "SocketConnectPort": ("connect_port", "int"),
}
_ENGINE_KEYS = {"SocketAcceptHost", "SocketAcceptPort", "ConnectionType", "StartTime", "EndTime"}
_IGNORED = {"FileStorePath", "FileLogPath", "SocketNodelay", "TimeZone", "SocketReuseAddress"}


def _convert(kind: str, text: str) -> object:
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        if text not in ("Y", "N"):
            raise ValueError(f"expected Y or N, got {text!r}")
        return text == "Y"
    return text


def _time(text: str) -> time:
    hour, minute, second = (int(part) for part in text.split(":"))
    return time(hour, minute, second)


def _sections(text: str, source: str) -> Iterator[tuple[str, int, dict[str, str]]]:
    name, line_no, values = "", 0, dict[str, str]()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            if name:
                yield name, line_no, values
            name, line_no, values = line[1:-1].strip().upper(), number, {}
        elif "=" in line and name:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
        else:
            raise ConfigError([ConfigProblem(f"line {number}", f"cannot read {raw!r}")], source)
    if name:
        yield name, line_no, values


def parse_settings(text: str, *, source: str | None = None) -> tuple[Settings, str]:
    """A QuickFIX ``.cfg`` text as :class:`Settings` and its ConnectionType
    (``"acceptor"`` or ``"initiator"``). ``[DEFAULT]`` values apply to every
    ``[SESSION]``; StartTime/EndTime (HH:MM:SS, UTC) make a :class:`Schedule`.
    Unknown keys, bad values and bad sessions are all reported in one ConfigError.
    """
    where = source or "settings"
    defaults: dict[str, str] = {}
    sessions: list[SessionSettings] = []
    problems: list[ConfigProblem] = []
    blocks = list(_sections(text, where))
    for name, _line, values in blocks:
        if name == "DEFAULT":
            defaults.update(values)
    for name, line, values in blocks:
        if name == "SESSION":
            merged = {**defaults, **values}
            found = _session(merged, f"[SESSION] at line {line}", problems)
            if found is not None:
                sessions.append(found)
        elif name != "DEFAULT":
            problems.append(ConfigProblem(f"line {line}", f"unknown section [{name}]"))
    kind = defaults.get("ConnectionType", "acceptor")
    if kind not in ("acceptor", "initiator"):
        text = f"must be acceptor or initiator, got {kind!r}"
        problems.append(ConfigProblem("ConnectionType", text))
    if problems:
        raise ConfigError(problems, source)
    try:
        settings = Settings(
            tuple(sessions),
            accept_host=defaults.get("SocketAcceptHost", "127.0.0.1"),
            accept_port=int(defaults.get("SocketAcceptPort", "0")),
        )
    except ValueError as exc:
        raise ConfigError([ConfigProblem("SocketAcceptPort", str(exc))], source) from None
    return settings, kind


def _session(
    values: dict[str, str], where: str, problems: list[ConfigProblem]
) -> SessionSettings | None:
    kwargs: dict[str, object] = {}
    before = len(problems)
    for key, text in values.items():
        if key in _ENGINE_KEYS or key in _IGNORED:
            continue
        if key not in _KEYS:
            problems.append(ConfigProblem(f"{where}: {key}", "unknown setting"))
            continue
        attribute, kind = _KEYS[key]
        try:
            kwargs[attribute] = _convert(kind, text)
        except ValueError as exc:
            problems.append(ConfigProblem(f"{where}: {key}", str(exc)))
    if "StartTime" in values or "EndTime" in values:
        try:
            kwargs["schedule"] = Schedule(_time(values["StartTime"]), _time(values["EndTime"]))
        except (KeyError, ValueError) as exc:
            text = f"need both as HH:MM:SS ({exc})"
            problems.append(ConfigProblem(f"{where}: StartTime/EndTime", text))
    for required in ("BeginString", "SenderCompID", "TargetCompID"):
        if required not in values:
            problems.append(ConfigProblem(where, f"{required} is missing"))
    if len(problems) > before:
        return None
    try:
        return SessionSettings(**kwargs)  # type: ignore[arg-type]
    except ConfigError as exc:
        problems.extend(ConfigProblem(f"{where}: {p.path}", p.message) for p in exc.problems)
        return None


def load_settings(path: str | Path) -> tuple[Settings, str]:
    """:func:`parse_settings` on a file; ConfigError names the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(source, f"cannot read: {exc}")], source) from None
    return parse_settings(text, source=source)
