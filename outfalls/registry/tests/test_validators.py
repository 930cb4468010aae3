import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from outfalls.registry.validators import (
    CREDIT_ALPHABET,
    credit_code_errors,
    is_valid_credit_code,
    make_credit_code,
    permit_number_errors,
    validate_credit_code,
    validate_permit_number,
)

division = st.text(alphabet="0123456789", min_size=6, max_size=6)
org8 = st.text(alphabet=CREDIT_ALPHABET, min_size=8, max_size=8)
head = st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "Y1"])
credit_codes = st.builds(lambda h, d, o: make_credit_code(h + d + o), head, division, org8)


def test_published_example_is_valid():
    assert credit_code_errors("91130200699229617X") == []
    assert permit_number_errors("91130200699229617X001P") == []


def test_wrong_check_character_names_the_expected_one():
    (message,) = credit_code_errors("911302006992296170")
    assert "第 18 位应为 X" in message


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("91130200699229617", "18 位"),
        ("91130200699229617XX", "18 位"),
        ("9113020069922961IX", "不允许的字符"),
        ("91AB0200699229617X", "行政区划码"),
    ],
)
def test_malformed_codes_get_chinese_reasons(code, fragment):
    (message,) = credit_code_errors(code)
    assert fragment in message


@given(credit_codes)
def test_generated_codes_validate(code):
    assert is_valid_credit_code(code)
    validate_credit_code(code)  # does not raise


@given(credit_codes, st.integers(min_value=0, max_value=17), st.sampled_from(CREDIT_ALPHABET))
def test_any_single_substitution_is_caught(code, position, char):
    if code[position] == char:
        return
    changed = code[:position] + char + code[position + 1 :]
    # Characters 3-8 must be digits; every other substitution breaks one of the two checks.
    assert not is_valid_credit_code(changed)


@given(credit_codes, st.integers(min_value=0, max_value=999), st.sampled_from("PVQRU"))
def test_permit_number_is_credit_code_plus_sequence_and_letter(code, seq, letter):
    validate_permit_number(f"{code}{seq:03d}{letter}")


@given(credit_codes)
def test_permit_number_with_bad_credit_code_is_refused(code):
    broken = code[:17] + CREDIT_ALPHABET[(CREDIT_ALPHABET.index(code[17]) + 1) % 31]
    with pytest.raises(ValidationError) as info:
        validate_permit_number(broken + "001P")
    assert "统一社会信用代码" in info.value.messages[0]


@pytest.mark.parametrize("value", ["91130200699229617X01P", "91130200699229617X0011", "abc"])
def test_permit_number_shape(value):
    with pytest.raises(ValidationError):
        validate_permit_number(value)
