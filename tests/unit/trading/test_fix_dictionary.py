"""Data dictionaries: what is read from QuickFIX's XML, caching, custom files and their
errors, and the generated tags module staying in step with the XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from trading.errors import FixError
from trading.fix import DATA_FIELDS, MsgType, Tag, dictionary_for, load_dictionary
from trading.fix.spec import generate_tags

SPEC = Path(generate_tags.__file__).parent


def test_shipped_dictionaries_load_once() -> None:
    fix44 = dictionary_for("FIX.4.4")
    assert dictionary_for(b"FIX.4.4") is fix44
    assert fix44.begin_string == "FIX.4.4"
    assert dictionary_for("FIX.4.2").begin_string == "FIX.4.2"
    assert len(fix44.messages) == 93
    assert repr(fix44) == "<DataDictionary FIX.4.4: 93 messages>"


def test_unknown_begin_string() -> None:
    with pytest.raises(FixError, match=r"no data dictionary for BeginString 'FIX\.5\.0'"):
        dictionary_for("FIX.5.0")


def test_fields_types_and_enumerations() -> None:
    d = dictionary_for("FIX.4.4")
    side = d.fields[54]
    assert (side.name, side.type) == ("Side", "CHAR")
    assert side.values[b"1"] == "BUY"
    assert d.fields[18].is_multiple_value
    assert d.tag("ClOrdID") == 11
    assert d.has_value(373, b"16")
    assert not dictionary_for("FIX.4.2").has_value(373, b"12")
    assert not d.has_value(58, b"x")


def test_header_and_trailer() -> None:
    d = dictionary_for("FIX.4.4")
    assert d.header.required == (8, 9, 34, 35, 49, 52, 56)
    assert d.trailer.required == (10,)
    assert d.header.groups[627].delimiter == 628
    assert {49, 56, 52, 122, 1128} <= d.header_tags
    assert {89, 93, 10} <= d.trailer_tags
    assert d.section_of(49) == 0 and d.section_of(11) == 1 and d.section_of(10) == 2


def test_components_are_flattened_with_required_flags() -> None:
    d = dictionary_for("FIX.4.4")
    nos = d.message(MsgType.NewOrderSingle)
    assert nos is not None and nos.name == "NewOrderSingle" and nos.category == "app"
    assert nos.required == (11, 40, 54, 60)
    assert {55, 48, 38, 453} <= nos.field_set  # Instrument, OrderQtyData, Parties
    assert d.message("0") is not None and d.message("0").category == "admin"  # type: ignore[union-attr]
    assert d.message("ZZ") is None


def test_groups_nest_and_start_with_their_delimiter() -> None:
    d = dictionary_for("FIX.4.4")
    er = d.message("8")
    assert er is not None
    parties = er.groups[453]
    assert (parties.count_tag, parties.delimiter) == (453, 448)
    assert parties.fields == (448, 447, 452, 802)
    assert parties.groups[802].delimiter == 523
    assert set(d.groups_of(b"8")) >= {453, 802, 382, 627}
    # a group whose first child is a component takes that component's first field
    legs = d.message("AB").groups[555]  # type: ignore[union-attr]
    assert legs.delimiter == 600


def test_group_members_required_only_in_required_groups() -> None:
    d = dictionary_for("FIX.4.4")
    order_list = d.message("E")
    assert order_list is not None
    assert 73 in order_list.required  # NoOrders is required...
    assert {11, 67} <= set(order_list.groups[73].required)  # ...so are its ClOrdID/ListSeqNo
    assert d.message("8").groups[453].required == ()  # type: ignore[union-attr]


def test_fix42_has_no_components_and_old_names() -> None:
    d = dictionary_for("FIX.4.2")
    assert d.fields[32].name == "LastShares"
    assert d.message("D").required == (11, 21, 40, 54, 55, 60)  # type: ignore[union-attr]


def test_data_fields_and_their_lengths() -> None:
    d = dictionary_for("FIX.4.4")
    assert d.data_length_tags[96] == 95
    assert d.data_length_tags[89] == 93
    assert d.data_length_tags[213] == 212
    assert DATA_FIELDS[355] == 354
    assert set(d.data_length_tags.items()) <= set(DATA_FIELDS.items())


def test_generated_tags_are_up_to_date() -> None:
    assert generate_tags.main(["--check"]) == 0, "run python -m trading.fix.spec.generate_tags"
    assert generate_tags.render() == generate_tags.TARGET.read_text(encoding="utf-8")


def test_tag_enums() -> None:
    assert Tag.ClOrdID.value == 11
    assert Tag["LastShares"] is Tag.LastQty  # FIX 4.2 name as alias
    assert Tag.ExecTransType.value == 20  # FIX 4.2 only
    assert MsgType.NewOrderSingle.value == b"D"
    assert b"D" in {MsgType.NewOrderSingle}  # members hash and compare as bytes
    assert MsgType(b"AE") is MsgType.TradeCaptureReport
    assert MsgType["Allocation"] is MsgType.AllocationInstruction  # FIX 4.2 name


def test_licence_ships_with_the_dictionaries() -> None:
    text = (SPEC / "QUICKFIX-LICENSE.txt").read_text(encoding="utf-8")
    assert text.startswith("The QuickFIX Software License, Version 1.0")
    assert (SPEC / "FIX42.xml").is_file() and (SPEC / "FIX44.xml").is_file()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "custom.xml"
    path.write_text(body, encoding="utf-8")
    return path


MINIMAL = """<fix major='4' minor='4'>
 <header><field name='BeginString' required='Y'/></header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='Heartbeat' msgtype='0' msgcat='admin'>{body}</message>
 </messages>
 <components>{components}</components>
 <fields>
  <field number='8' name='BeginString' type='STRING'/>
  <field number='10' name='CheckSum' type='STRING'/>
  <field number='112' name='TestReqID' type='STRING'/>
 </fields>
</fix>"""


def test_custom_dictionary(tmp_path: Path) -> None:
    component = "<component name='C'><field name='TestReqID' required='Y'/></component>"
    body = "<component name='C' required='Y'/>"
    path = write(tmp_path, MINIMAL.format(body=body, components=component))
    d = load_dictionary(path)
    assert d.begin_string == "FIX.4.4"
    assert d.message("0").required == (112,)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "components", "problem"),
    [
        ("<field name='Nope' required='Y'/>", "", "field 'Nope' used but not defined"),
        ("<component name='Missing'/>", "", "component 'Missing' used but not defined"),
        ("<group name='TestReqID'></group>", "", "group 'TestReqID' has no fields"),
    ],
)
def test_broken_custom_dictionary(tmp_path: Path, body: str, components: str, problem: str) -> None:
    path = write(tmp_path, MINIMAL.format(body=body, components=components))
    with pytest.raises(FixError, match=f"custom.xml: {problem}"):
        load_dictionary(path)


def test_unreadable_dictionary(tmp_path: Path) -> None:
    with pytest.raises(FixError, match="cannot read data dictionary"):
        load_dictionary(write(tmp_path, "<fix"))
    with pytest.raises(FixError, match="cannot read data dictionary"):
        load_dictionary(tmp_path / "absent.xml")
    with pytest.raises(FixError, match="root element must be <fix"):
        load_dictionary(write(tmp_path, "<other/>"))
