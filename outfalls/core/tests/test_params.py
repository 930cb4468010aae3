"""The strict parameter reader (core/params.py): ASCII digits only, finite numbers, and only ParamError."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outfalls.core import params
from outfalls.core.params import ParamError


@pytest.mark.parametrize("text", ["²", "١٢", "٣", "1_000", " 3", "3 ", "+", "", "0x10", "1.0", "1e3", "一"])
def test_integers_are_ascii_digits_only(text):
    # "²".isdigit() is True and int("٣") == 3: neither is an integer here.
    with pytest.raises(ParamError) as error:
        params.parse_int(text, "page")
    assert "page" in error.value.message


def test_integers_within_their_range():
    assert params.parse_int("12", "n") == 12
    assert params.parse_int("-3", "n") == -3
    assert params.parse_int(None, "n", default=7) == 7
    with pytest.raises(ParamError, match="不能小于 1"):
        params.parse_int("0", "n", minimum=1)
    assert params.parse_id("9223372036854775807", "id") == 2**63 - 1
    for text in ("0", "-1", "9223372036854775808", "9" * 30):
        with pytest.raises(ParamError):
            params.parse_id(text, "id")


@pytest.mark.parametrize(
    "text", ["inf", "-inf", "Infinity", "nan", "NaN", "1e400", "-1e400", "١.٥", "1,5", "1__0"]
)
def test_floats_are_finite_plain_decimals(text):
    with pytest.raises(ParamError) as error:
        params.parse_float(text, "zoom")
    assert "zoom" in error.value.message


def test_floats_within_or_clamped_to_their_range():
    assert params.parse_float("-0.5", "x") == -0.5
    assert params.parse_float(".5e1", "x") == 5.0
    with pytest.raises(ParamError):
        params.parse_float("23", "zoom", minimum=0, maximum=22)
    assert params.parse_float("23", "zoom", minimum=0, maximum=22, clamp=True) == 22


def test_id_lists_refuse_the_whole_list_for_one_bad_id():
    assert params.parse_ids(["3", "12"], "ids") == [3, 12]
    with pytest.raises(ParamError):
        params.parse_ids(["3", "²"], "ids")


def test_bboxes():
    assert params.parse_bbox("113,39.5,114,40.5") == (113, 39.5, 114, 40.5)
    assert params.parse_bbox("113,39.5,0,114,40.5,10", heights=True) == (113, 39.5, 114, 40.5)
    assert params.parse_bbox("170,-10,-170,10", crossing=True) == (170, -10, -170, 10)
    assert params.parse_bbox("-200,-95,200,95", clamp=True) == (-180, -90, 180, 90)
    for text in ("170,-10,-170,10", "1,2,3", "1,2,3,inf", "1,50,2,40", "-200,0,0,1", "1,2,3,4,5,6"):
        with pytest.raises(ParamError):
            params.parse_bbox(text)


@given(st.text(max_size=50))
def test_any_text_is_an_int_or_a_param_error(text):
    try:
        value = params.parse_int(text, "n")
    except ParamError:
        return
    assert isinstance(value, int) and text.lstrip("+-").isascii()


@given(
    st.text(max_size=50)
    | st.from_regex(r"[+-]?[0-9]{0,400}(\.[0-9]*)?([eE][+-]?[0-9]{1,4})?", fullmatch=True)
)
def test_any_text_is_a_finite_float_or_a_param_error(text):
    try:
        value = params.parse_float(text, "x")
    except ParamError:
        return
    assert math.isfinite(value)


def test_jurisdiction_codes_are_ascii_digits():
    from django.core.exceptions import ValidationError

    from outfalls.core.models import Jurisdiction

    with pytest.raises(ValidationError, match="区划代码"):
        Jurisdiction(code="14021²", name="x", level="county").clean()
