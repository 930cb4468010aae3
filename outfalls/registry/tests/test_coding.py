from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from outfalls.registry import coding, naming
from outfalls.registry.classification import Level2, Level3, TypeCode, type_name

water_codes = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=10)
county_codes = st.text(alphabet="0123456789", min_size=6, max_size=6)
type_codes = st.sampled_from(["GY", "SH", "NY", "YH", "QT", "UNDETERMINED"])


def place(code, name="某区", parent=None):
    return SimpleNamespace(code=code, name=name, parent=parent)


@given(water_codes, county_codes, type_codes, st.lists(st.integers(1, 9998), max_size=20))
def test_next_code_is_unique_and_parses_back(water, county, type_code, taken):
    prefix = coding.prefix_for(
        water_body=SimpleNamespace(code=water), county=place(county), type_code=type_code
    )
    existing = [coding.format_code(prefix, n) for n in taken]
    new = coding.next_code(existing, prefix)
    assert new not in existing
    assert coding.sequence_of(new, prefix) == max(taken, default=0) + 1
    parts = coding.parse(new)
    assert parts["water_body"] == water
    assert parts["division"] == county
    assert parts["type"] == (type_code if type_code != "UNDETERMINED" else "XX")


@given(water_codes, county_codes, type_codes, st.integers(1, 9999))
@override_settings(OUTFALL_CODE_SEPARATOR="", OUTFALL_CODE_DIVISION_DIGITS=12)
def test_codes_without_separator_split_by_width(water, county, type_code, seq):
    prefix = coding.prefix_for(
        water_body=SimpleNamespace(code=water), county=place(county), type_code=type_code
    )
    code = coding.format_code(prefix, seq)
    parts = coding.parse(code)
    assert parts["division"] == county + "000000"
    assert int(parts["seq"]) == seq
    assert parts["water_body"] == water


@override_settings(
    OUTFALL_CODE_SEGMENTS=["division", "type", "water_body", "seq"], OUTFALL_CODE_SEPARATOR="/"
)
def test_segment_order_comes_from_settings():
    prefix = coding.prefix_for(
        water_body=SimpleNamespace(code="YH01"), county=place("140213"), type_code="GY"
    )
    assert coding.format_code(prefix, 7) == "140213/GY/YH01/0007"


def test_sequence_overflow_is_a_refusal_naming_the_prefix():
    with pytest.raises(coding.SequenceExhausted) as refused:
        coding.format_code("X-", 10000)
    assert "“X-”" in refused.value.message and "9,999" in refused.value.message
    assert isinstance(refused.value, ValidationError)  # a form shows it; an import names the row


def test_hj1235_name_from_places_landmark_number_and_type():
    city = place("140200", "大同市")
    county = place("140213", "平城区", city)
    town = place("140213001", "北关街道", county)
    name = naming.outfall_name(
        county=county, town=town, landmark="御河桥", number="3", type_code="YH", level2=Level2.URBAN_STORM
    )
    assert name == "大同市平城区北关街道御河桥3#城镇雨洪排口"


def test_name_uses_most_specific_type_and_does_not_repeat_the_place():
    county = place("140213", "平城区", place("140200", "大同市"))
    name = naming.outfall_name(
        county=county, landmark="平城区山橡集团", type_code="GY", level3=Level3.INDUSTRIAL_ENTERPRISE
    )
    assert name == "大同市平城区山橡集团工业企业排污口"
    assert type_name(TypeCode.UNDETERMINED) == "入河排污口"


def test_a_typed_code_with_unicode_digits_has_no_sequence():
    """A user may type a code; "²".isdigit() is true and int("²") raised while numbering the next one."""
    assert coding.sequence_of("X-²²²²", "X-") is None
    assert coding.next_code(["X-²²²²", "X-0003"], "X-") == "X-0004"
