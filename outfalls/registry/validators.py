"""Identity-number checks: unified social credit code (GB 32100-2015) and permit number (HJ 608-2017)."""

import re

from django.core.exceptions import ValidationError

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
PERMIT_RE = re.compile(r"^(?P<credit>[0-9A-Z]{18})(?P<seq>\d{3})(?P<letter>[A-Z])$")


def credit_check_char(first17):
    """Character 18 of a credit code, from the first 17."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def org_check_char(first8):
    """The organisation code's own check character (position 17 of the credit code)."""
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def credit_code_errors(code):
    """A list of Chinese messages; empty when the code is valid."""
    if len(code) != 18:
        return [f"统一社会信用代码应为 18 位，当前为 {len(code)} 位。"]
    bad = sorted({c for c in code if c not in CREDIT_ALPHABET})
    if bad:
        return [f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、Z、S、V）。"]
    if not code[2:8].isdigit():
        return ["统一社会信用代码第 3–8 位应为登记管理机关行政区划码（数字）。"]
    org_expected = org_check_char(code[8:16])
    if code[16] != org_expected:
        return [f"统一社会信用代码中组织机构代码校验位错误：第 17 位应为 {org_expected}，实际为 {code[16]}。"]
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        return [f"统一社会信用代码校验位错误：第 18 位应为 {expected}，实际为 {code[17]}。"]
    return []


def validate_credit_code(value):
    errors = credit_code_errors((value or "").strip().upper())
    if errors:
        raise ValidationError(errors[0], code="credit_code")


def is_valid_credit_code(value):
    return not credit_code_errors((value or "").strip().upper())


def permit_number_errors(number):
    match = PERMIT_RE.match(number)
    if not match:
        return [
            "排污许可证编号应为统一社会信用代码（18 位）＋ 3 位流水号 ＋ 1 位字母，如 91130200699229617X001P。"
        ]
    errors = credit_code_errors(match["credit"])
    return [f"排污许可证编号前 18 位不是有效的统一社会信用代码：{errors[0]}"] if errors else []


def validate_permit_number(value):
    errors = permit_number_errors((value or "").strip().upper())
    if errors:
        raise ValidationError(errors[0], code="permit_number")


def make_credit_code(first16):
    """Complete 16 characters (2 + 6 division digits + 8 organisation characters) into a valid code."""
    first17 = first16 + org_check_char(first16[8:16])
    return first17 + credit_check_char(first17)
