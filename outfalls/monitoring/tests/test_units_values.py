"""Units (converted only where safe) and values as labs write them (qualifiers)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outfalls.monitoring import units, values
from outfalls.monitoring.choices import Dimension, Qualifier


@pytest.mark.parametrize(
    "value, unit, dimension, expected",
    [
        (50, "mg/L", Dimension.CONCENTRATION, 50),
        (50, "ＭＧ／Ｌ", Dimension.CONCENTRATION, 50),
        (50, "g/m³", Dimension.CONCENTRATION, 50),
        (25, "μg/L", Dimension.CONCENTRATION, 0.025),
        (25, "ug/l", Dimension.CONCENTRATION, 0.025),
        (2, "g/L", Dimension.CONCENTRATION, 2000),
        (12, "", Dimension.CONCENTRATION, 12),
        (10, "L/s", Dimension.FLOW, 36),
        (240, "m3/d", Dimension.FLOW, 10),
        (480, "吨/日", Dimension.FLOW, 20),
        (1, "m³/s", Dimension.FLOW, 3600),
        (7.1, "无量纲", Dimension.PH, 7.1),
        (7.1, "", Dimension.PH, 7.1),
        (11.5, "℃", Dimension.TEMPERATURE, 11.5),
    ],
)
def test_safe_conversions(value, unit, dimension, expected):
    assert units.to_standard(value, unit, dimension) == pytest.approx(expected)


@pytest.mark.parametrize(
    "unit, dimension, words",
    [
        ("mg/kg", Dimension.CONCENTRATION, "mg/kg"),
        ("mg/L（以NH3计）", Dimension.CONCENTRATION, "以NH3计"),
        ("K", Dimension.TEMPERATURE, "“K”"),
        ("", Dimension.FLOW, "须填写单位"),
        ("mg/L", Dimension.TEMPERATURE, "mg/L"),
        ("mg/L", Dimension.FLOW, "无法安全换算"),
    ],
)
def test_unsafe_conversions_are_refused_naming_the_unit(unit, dimension, words):
    with pytest.raises(units.UnitError) as error:
        units.factor(unit, dimension, "氨氮")
    assert words in str(error.value) and "氨氮" in str(error.value)


def test_implausible_values_are_named():
    assert units.check_range(7.2, Dimension.PH, "pH值") is None
    assert "pH值" in units.check_range(72, Dimension.PH, "pH值")
    assert units.check_range(-1, Dimension.CONCENTRATION, "氨氮")


@pytest.mark.parametrize(
    "raw, value, qualifier, limit",
    [
        ("12.3", 12.3, "", None),
        (12.3, 12.3, "", None),
        ("１２．５", 12.5, "", None),
        ("<0.05", None, Qualifier.BELOW_LOD, 0.05),
        ("＜0.05", None, Qualifier.BELOW_LOD, 0.05),
        ("0.025L", None, Qualifier.BELOW_LOD, 0.025),
        ("ND", None, Qualifier.BELOW_LOD, None),
        ("未检出", None, Qualifier.BELOW_LOD, None),
        ("未检出（0.01）", None, Qualifier.BELOW_LOD, 0.01),
        ("ND(0.5)", None, Qualifier.BELOW_LOD, 0.5),
        ("约12", 12, Qualifier.ESTIMATED, None),
        ("~12", 12, Qualifier.ESTIMATED, None),
        ("12E", 12, Qualifier.ESTIMATED, None),
        ("1,234.5", 1234.5, "", None),
    ],
)
def test_values_and_qualifiers(raw, value, qualifier, limit):
    reading = values.parse(raw)
    assert (reading.value, reading.qualifier, reading.detection_limit) == (value, qualifier, limit)


@pytest.mark.parametrize("raw", ["abc", "12mg", "inf", "1e400", "<", "--5", True])
def test_unreadable_values_are_refused(raw):
    with pytest.raises(values.ReadingError):
        values.parse(raw)


@pytest.mark.parametrize("raw", [None, "", " ", "—", "/"])
def test_empty_cells_are_no_value(raw):
    assert values.parse(raw) is None


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_a_number_written_as_text_reads_back(number):
    assert values.parse(repr(number)).value == pytest.approx(number)
    below = values.parse(f"<{number!r}")
    assert below.qualifier == Qualifier.BELOW_LOD and below.detection_limit == pytest.approx(number)


@pytest.mark.parametrize(
    "value, expected",
    [(19180.3, "19180"), (0.0000123, "0.0000123"), (12.345, "12.35"), (7.04, "7.04"), (0, "0"), (None, "—")],
)
def test_values_are_written_as_people_write_them(value, expected):
    """Four significant figures, never scientific notation (a load page said 1.918e+04 m³/d)."""
    assert units.format_value(value) == expected
