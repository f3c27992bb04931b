"""FIX data dictionaries: which fields exist, their types and enumerations, which
fields each message allows or requires, and how repeating groups nest.

The dictionaries are QuickFIX's ``FIX42.xml`` and ``FIX44.xml`` (shipped unmodified
in ``trading/fix/spec/`` with the QuickFIX Software License). They are parsed with
:mod:`xml.etree.ElementTree` on first use and cached: :func:`dictionary_for` costs
about 0.1 s the first time a version is asked for, nothing afterwards.

Reading follows QuickFIX's ``DataDictionary::readFromDocument`` so that validation
agrees with it (checked against QuickFIX 1.16's own reader: the same required fields,
message fields, groups, header and trailer, tag for tag, in both versions):

* a component is flattened into the message that uses it; a field of a component is
  required when both the field and the component say ``required='Y'`` (a nested
  component counts as required when it says so itself, as in QuickFIX);
* a group's delimiter is its first field (or the first field of its first component);
  its members are required only when the group itself is required, and fields that
  come from a component inside a group are never required;
* groups are defined per message type, so ``NoPartyIDs`` in an ExecutionReport and in
  a NewOrderSingle are separate :class:`GroupDef` objects with the same layout.

What can go wrong: a custom XML file that names a field it never defines, or a
component it never declares, raises :class:`~trading.errors.FixError` naming both.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trading.errors import FixError

__all__ = [
    "DataDictionary",
    "FieldDef",
    "GroupDef",
    "Layout",
    "MessageDef",
    "dictionary_for",
    "load_dictionary",
]

SPEC_DIR = Path(__file__).parent / "spec"
_SPEC_FILES = {"FIX.4.2": "FIX42.xml", "FIX.4.4": "FIX44.xml"}

# Fields QuickFIX treats as header/trailer fields whatever the dictionary says
# (Message::isHeaderField / isTrailerField), so structure checks agree with it.
_STATIC_HEADER = frozenset(
    {8, 9, 35, 49, 56, 115, 128, 90, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52}
    | {122, 212, 213, 347, 369, 1128, 1129, 627, 370}
)
_STATIC_TRAILER = frozenset((93, 89, 10))


@dataclass(frozen=True, slots=True, eq=False)
class FieldDef:
    """One field: tag number, name, XML type (``"PRICE"``, ``"UTCTIMESTAMP"``...) and its
    enumeration (encoded value -> description; empty when any value is allowed)."""

    tag: int
    name: str
    type: str
    values: Mapping[bytes, str]

    @property
    def is_multiple_value(self) -> bool:
        """Space-separated lists (``ExecInst`` ``"1 5"``) are checked value by value."""
        return self.type in ("MULTIPLEVALUESTRING", "MULTIPLESTRINGVALUE", "MULTIPLECHARVALUE")


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """The fields of a header, trailer, message body or group instance.

    ``fields`` is the dictionary order of the top-level fields (a group appears as its
    count field); ``required`` the required ones, ascending, as QuickFIX checks them;
    ``groups`` maps each count field to its group.
    """

    name: str
    fields: tuple[int, ...]
    required: tuple[int, ...]
    groups: Mapping[int, GroupDef]
    field_set: frozenset[int] = field(init=False)
    position: Mapping[int, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_set", frozenset(self.fields))
        object.__setattr__(self, "position", {tag: i for i, tag in enumerate(self.fields)})


@dataclass(frozen=True, slots=True, eq=False)
class MessageDef(Layout):
    """A message body: its type (``b"D"``) and category (``"admin"`` or ``"app"``)."""

    msg_type: bytes = b""
    category: str = "app"


@dataclass(frozen=True, slots=True, eq=False)
class GroupDef(Layout):
    """A repeating group: ``count_tag`` (NumInGroup field) and ``delimiter``, the field
    that must open every instance."""

    count_tag: int = 0
    delimiter: int = 0


class DataDictionary:
    """One FIX version's dictionary; immutable once loaded, safe to share."""

    def __init__(
        self,
        begin_string: str,
        fields: Mapping[int, FieldDef],
        header: Layout,
        trailer: Layout,
        messages: Mapping[bytes, MessageDef],
    ) -> None:
        self.begin_string = begin_string
        self.fields = fields
        self.names: Mapping[str, int] = {f.name: tag for tag, f in fields.items()}
        self.header = header
        self.trailer = trailer
        self.messages = messages
        self.header_tags = header.field_set | _STATIC_HEADER
        self.trailer_tags = trailer.field_set | _STATIC_TRAILER
        self.data_length_tags = _data_length_tags(fields)
        # Canonical sort key of a top-level field: 8, 9, 35, header ascending, body
        # ascending, trailer ascending, 10 last. Body tags are absent: key = tag + _BODY.
        rank = {tag: tag for tag in self.header_tags}
        rank.update({tag: _TRAILER + tag for tag in self.trailer_tags})
        # SignatureLength(93) must come before Signature(89), which it measures.
        rank.update({8: -3, 9: -2, 35: -1, 10: _LAST, 93: _TRAILER + 88})
        self.rank: Mapping[int, int] = rank
        self._groups_cache: dict[bytes, dict[int, GroupDef]] = {}
        self._rank_list = [rank.get(tag, tag + _BODY) for tag in range(10000)]

    def __repr__(self) -> str:
        return f"<DataDictionary {self.begin_string}: {len(self.messages)} messages>"

    def message(self, msg_type: bytes | str) -> MessageDef | None:
        """The body layout of ``msg_type``, or None when this version does not define it."""
        key = msg_type.encode("ascii") if isinstance(msg_type, str) else msg_type
        return self.messages.get(key)

    def layout_of(self, msg_type: bytes) -> tuple[Layout, ...]:
        """Header, body (empty for an unknown type) and trailer layouts, in order."""
        body = self.messages.get(msg_type) or _EMPTY_BODY
        return (self.header, body, self.trailer)

    def section_of(self, tag: int) -> int:
        """0 for a header field, 2 for a trailer field, 1 for anything else."""
        if tag in self.header_tags:
            return 0
        return 2 if tag in self.trailer_tags else 1

    def tag(self, name: str) -> int:
        """The tag number of a field name (``"ClOrdID"`` -> 11); KeyError when unknown."""
        return self.names[name]

    def groups_of(self, msg_type: bytes) -> Mapping[int, GroupDef]:
        """Every group a message of this type can hold, nested ones included, by count
        tag (header groups too). Cached per type."""
        found = self._groups_cache.get(msg_type)
        if found is None:
            found = {}
            pending = [self.header.groups, self.layout_of(msg_type)[1].groups]
            while pending:
                for tag, group in pending.pop().items():
                    found.setdefault(tag, group)
                    pending.append(group.groups)
            self._groups_cache[msg_type] = found
        return found

    def canonical_order(self, tags: Sequence[int], msg_type: bytes) -> list[int]:
        """Indices of ``tags`` in the order the engine sends them, 8, 9 and 10 left out:
        35, the other header fields by tag, body fields by tag, trailer fields by tag.
        A repeating group stays after its count field, each instance's fields in
        dictionary order. Sorting and slicing are C-level list operations; only group
        members are walked in Python.

        Raises :class:`FixError` when a group member comes before the delimiter that
        must open its instance (the order would be ambiguous).
        """
        try:
            keys = list(map(self._rank_list.__getitem__, tags))
        except IndexError:  # a tag above 9999
            keys = [self.rank.get(tag, tag + _BODY) for tag in tags]
        groups = self.groups_of(msg_type)
        members: dict[int, list[int]] = {}
        top: Sequence[int] = range(len(tags))
        if not groups.keys().isdisjoint(tags):
            present = groups.keys() & set(tags)
            top, i = [], 0
            starts = [j for j, tag in enumerate(tags) if tag in present]
            for start in starts:
                if start < i:
                    continue  # a nested group's count, already taken with its parent
                top.extend(range(i, start + 1))
                members[start], i = _group_order(tags, start + 1, groups[tags[start]])
            top.extend(range(i, len(tags)))
        order = sorted(top, key=keys.__getitem__)
        low, high = 0, len(order)
        while low < high and keys[order[low]] < -1:  # 8 and 9
            low += 1
        while high > low and keys[order[high - 1]] == _LAST:  # 10
            high -= 1
        order = order[low:high]
        for start, inner in members.items():
            at = order.index(start) + 1
            order[at:at] = inner
        return order

    def group_instances(
        self, fields: Sequence[Field], count_tag: int, msg_type: bytes
    ) -> list[list[Field]]:
        """The fields of each instance of group ``count_tag`` (first occurrence), in
        received order, nested groups included. ``[]`` when the count field is absent.

        Raises :class:`FixError` when ``count_tag`` is no group of ``msg_type``.
        """
        group = self.groups_of(msg_type).get(count_tag)
        if group is None:
            raise FixError(
                f"{self.begin_string}: {count_tag} is not a group of MsgType {msg_type!r}"
            )
        start = next((i for i, f in enumerate(fields) if f[0] == count_tag), None)
        if start is None:
            return []
        instances: list[list[Field]] = []
        _walk_group(fields, start + 1, group, instances)
        return instances

    def has_value(self, tag: int, value: bytes) -> bool:
        """Whether ``value`` is in the enumeration of ``tag`` (False when it has none).

        The session uses this to learn whether FIX 4.2 knows a SessionRejectReason
        (it stops at 11) before it puts one in a Reject.
        """
        definition = self.fields.get(tag)
        return definition is not None and value in definition.values


_BODY = 1 << 24
_TRAILER = 1 << 32
_LAST = 1 << 40
_EMPTY_BODY = MessageDef("<unknown>", (), (), {})
Field = tuple[int, bytes]


def _walk_group(
    fields: Sequence[Field], i: int, group: GroupDef, instances: list[list[Field]]
) -> int:
    """Collect instances of ``group`` from ``fields[i:]`` (received order); returns the
    index of the first field after the group. Members before the first delimiter are
    put in an instance of their own so no field is lost."""
    n = len(fields)
    current: list[Field] | None = None
    while i < n:
        item = fields[i]
        tag = item[0]
        if tag not in group.field_set:
            break
        if tag == group.delimiter or current is None:
            current = []
            instances.append(current)
        current.append(item)
        i += 1
        nested = group.groups.get(tag)
        if nested is not None:
            inner: list[list[Field]] = []
            i = _walk_group(fields, i, nested, inner)
            current.extend(f for part in inner for f in part)
    return i


def _group_order(tags: Sequence[int], i: int, group: GroupDef) -> tuple[list[int], int]:
    """Indices of the members of ``group`` found at ``tags[i:]``, each instance in
    dictionary order (nested groups kept after their count), and the index after the
    group."""
    position = group.position
    members = group.field_set
    instances: list[list[tuple[int, int, list[int]]]] = []
    current: list[tuple[int, int, list[int]]] | None = None
    n = len(tags)
    while i < n:
        tag = tags[i]
        if tag not in members:
            break
        if tag == group.delimiter:
            current = []
            instances.append(current)
        elif current is None:
            raise FixError(
                f"group {group.name}({group.count_tag}): field {tag} comes before the "
                f"delimiter {group.delimiter} that opens each instance"
            )
        block = [i]
        i += 1
        nested = group.groups.get(tag)
        if nested is not None:
            inner, i = _group_order(tags, i, nested)
            block += inner
        current.append((position[tag], i, block))
    out: list[int] = []
    for instance in instances:
        instance.sort()
        for _, _, block in instance:
            out += block
    return out, i


def _data_length_tags(fields: Mapping[int, FieldDef]) -> Mapping[int, int]:
    """Data field -> its length field: the field just before it, except Signature(89),
    whose length is SignatureLength(93) (QuickFIX's Message::extractField rule)."""
    pairs: dict[int, int] = {}
    for tag, definition in fields.items():
        if definition.type == "DATA":
            length = 93 if tag == 89 else tag - 1
            if length in fields:
                pairs[tag] = length
    return pairs


class _Reader:
    """Turns one ``<fix>`` document into a :class:`DataDictionary`."""

    def __init__(self, root: ET.Element, source: str) -> None:
        self.root = root
        self.source = source
        self.components = {c.get("name", ""): c for c in root.iterfind("components/component")}
        self.fields: dict[int, FieldDef] = {}
        self.names: dict[str, int] = {}

    def fail(self, problem: str) -> FixError:
        return FixError(f"{self.source}: {problem}")

    def read(self) -> DataDictionary:
        root = self.root
        major, minor = root.get("major"), root.get("minor")
        if root.tag != "fix" or major is None or minor is None:
            raise self.fail("root element must be <fix major=.. minor=..>")
        begin_string = f"{root.get('type', 'FIX')}.{major}.{minor}"
        for node in root.iterfind("fields/field"):
            tag, name = int(node.get("number", "0")), node.get("name", "")
            values = {v.get("enum", "").encode("latin-1"): v.get("description", "") for v in node}
            self.fields[tag] = FieldDef(tag, name, node.get("type", "STRING"), values)
            self.names[name] = tag
        if not self.fields:
            raise self.fail("no <fields> defined")
        header = self.layout("_header_", self.section("header"), True)
        trailer = self.layout("_trailer_", self.section("trailer"), True)
        messages: dict[bytes, MessageDef] = {}
        for node in root.iterfind("messages/message"):
            msg_type = node.get("msgtype", "").encode("ascii")
            fields, required, groups = self.collect(node, True)
            messages[msg_type] = MessageDef(
                node.get("name", ""),
                tuple(fields),
                tuple(sorted(required)),
                groups,
                msg_type,
                node.get("msgcat", "app"),
            )
        return DataDictionary(begin_string, self.fields, header, trailer, messages)

    def section(self, name: str) -> ET.Element:
        node = self.root.find(name)
        if node is None:
            raise self.fail(f"<{name}> section missing")
        return node

    def layout(self, name: str, node: ET.Element, required_here: bool) -> Layout:
        fields, required, groups = self.collect(node, required_here)
        return Layout(name, tuple(fields), tuple(sorted(required)), groups)

    def number(self, node: ET.Element) -> int:
        name = node.get("name", "")
        try:
            return self.names[name]
        except KeyError:
            raise self.fail(f"field {name!r} used but not defined in <fields>") from None

    def collect(
        self, node: ET.Element, required_here: bool, in_group: bool = False
    ) -> tuple[list[int], set[int], dict[int, GroupDef]]:
        """Top-level fields (dictionary order), required fields and groups of ``node``,
        components flattened. ``required_here`` is False inside an optional group or
        component, where nothing is required."""
        fields: list[int] = []
        required: set[int] = set()
        groups: dict[int, GroupDef] = {}
        for child in node:
            flag = child.get("required", "N") in ("Y", "y")
            if child.tag in ("field", "group"):
                tag = self.number(child)
                fields.append(tag)
                if flag and required_here:
                    required.add(tag)
                if child.tag == "group":
                    groups[tag] = self.group(child, tag, flag)
            elif child.tag == "component":
                name = child.get("name", "")
                component = self.components.get(name)
                if component is None:
                    raise self.fail(f"component {name!r} used but not defined")
                inner_required = flag and not in_group
                sub_fields, sub_required, sub_groups = self.collect(
                    component, inner_required, in_group
                )
                fields.extend(sub_fields)
                required |= sub_required
                groups.update(sub_groups)
        return fields, required, groups

    def group(self, node: ET.Element, count_tag: int, group_required: bool) -> GroupDef:
        fields, required, groups = self.collect(node, group_required, in_group=True)
        if not fields:
            raise self.fail(f"group {node.get('name')!r} has no fields")
        return GroupDef(
            node.get("name", ""),
            tuple(fields),
            tuple(sorted(required)),
            groups,
            count_tag=count_tag,
            delimiter=fields[0],
        )


def load_dictionary(path: str | Path) -> DataDictionary:
    """Read a QuickFIX-format XML dictionary (for example a venue's customised copy).

    Raises :class:`FixError` naming the file when it is not well-formed XML or refers
    to fields or components it does not define.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise FixError(f"{path}: cannot read data dictionary ({exc})") from None
    return _Reader(root, str(path)).read()


@functools.cache
def _shipped(begin_string: str) -> DataDictionary:
    return load_dictionary(SPEC_DIR / _SPEC_FILES[begin_string])


def dictionary_for(begin_string: str | bytes) -> DataDictionary:
    """The shipped dictionary for ``"FIX.4.2"`` or ``"FIX.4.4"``, loaded once and cached.

    Raises :class:`FixError` for any other BeginString.
    """
    key = (
        begin_string.decode("ascii", "replace") if isinstance(begin_string, bytes) else begin_string
    )
    if key not in _SPEC_FILES:
        known = ", ".join(_SPEC_FILES)
        raise FixError(f"no data dictionary for BeginString {key!r} (shipped: {known})")
    return _shipped(key)
