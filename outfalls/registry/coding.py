"""The local outfall code (HJ 1235-2021): receiving water code + division code + type code + sequence.

The exact segment rule is not settled (STANDARDS.md says UNSURE), so it lives here alone and its
order, separator and widths come from settings (OUTFALL_CODE_*). A corrected rule is a one-file change.
The national code (国家统一赋码) is assigned by the national platform and kept in its own field.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError

UNDETERMINED_TYPE_SEGMENT = "XX"
UNKNOWN_WATER_SEGMENT = "000000"


def _segments():
    return list(settings.OUTFALL_CODE_SEGMENTS)


def _sep():
    return settings.OUTFALL_CODE_SEPARATOR


def division_segment(county, town=None, village=None):
    digits = settings.OUTFALL_CODE_DIVISION_DIGITS
    most_specific = village or town or county
    code = most_specific.code if most_specific else ""
    return (code + "0" * 12)[:digits] if code else "0" * digits


def water_segment(water_body):
    code = (water_body.code if water_body else "") or UNKNOWN_WATER_SEGMENT
    return re.sub(r"[^0-9A-Za-z]", "", code).upper() or UNKNOWN_WATER_SEGMENT


def type_segment(type_code):
    return type_code if type_code in {"GY", "SH", "NY", "YH", "QT"} else UNDETERMINED_TYPE_SEGMENT


def prefix_for(*, water_body, county, town=None, village=None, type_code=""):
    """Every segment but the sequence, joined, ending with the separator before the sequence."""
    values = {
        "water_body": water_segment(water_body),
        "division": division_segment(county, town, village),
        "type": type_segment(type_code),
    }
    parts = []
    for name in _segments():
        if name == "seq":
            break
        parts.append(values[name])
    return _sep().join(parts) + (_sep() if parts else "")


class SequenceExhausted(ValidationError):
    """No sequence number left for a prefix (a refusal for the person saving, not a crash: a form shows it, an
    import names the row)."""


def format_code(prefix, seq):
    width = settings.OUTFALL_CODE_SEQ_WIDTH
    if seq >= 10**width:
        raise SequenceExhausted(
            f"排口编码“{prefix}”之后的 {width} 位顺序号已用完（同一水体、行政区和类型最多 {10**width - 1:,} 个），"
            "请联系管理员调整编码规则（OUTFALL_CODE_SEQ_WIDTH）"
        )
    return f"{prefix}{seq:0{width}d}"


def sequence_of(code, prefix):
    """The sequence number of a code that starts with prefix, or None."""
    rest = code[len(prefix) :] if code.startswith(prefix) else ""
    # isascii(): "²".isdigit() is true too, and int("²") raises.
    return (
        int(rest)
        if rest.isascii() and rest.isdigit() and len(rest) == settings.OUTFALL_CODE_SEQ_WIDTH
        else None
    )


def next_code(existing_codes, prefix):
    """The first code after the highest sequence among existing codes with this prefix."""
    highest = max((s for s in (sequence_of(c, prefix) for c in existing_codes) if s is not None), default=0)
    return format_code(prefix, highest + 1)


def parse(code):
    """Split a code built by this module back into its segments (for checks and tests)."""
    names = _segments()
    sep = _sep()
    if sep:
        parts = code.split(sep)
        if len(parts) != len(names):
            raise ValueError(f"编码段数不符：{code}")
        return dict(zip(names, parts, strict=True))
    # Without a separator only fixed-width segments can be split; the water code is taken as the rest.
    width = settings.OUTFALL_CODE_SEQ_WIDTH
    fixed = {"division": settings.OUTFALL_CODE_DIVISION_DIGITS, "type": 2, "seq": width}
    result, rest = {}, code
    for name in reversed(names):
        if name == "water_body":
            continue
        result[name], rest = rest[-fixed[name] :], rest[: -fixed[name]]
    if "water_body" in names:
        result["water_body"] = rest
    return result


class CodeAllocator:
    """Local codes for new outfalls, one place for a single save and an import of many: the highest sequence
    per prefix is read once (existing(prefix) gives the codes starting with it), then counted up."""

    def __init__(self, existing):
        self.existing = existing
        self.next = {}

    def code(self, prefix):
        if prefix not in self.next:
            self.next[prefix] = sequence_of(next_code(self.existing(prefix), prefix), prefix)
        seq = self.next[prefix]
        self.next[prefix] = seq + 1
        return format_code(prefix, seq)
