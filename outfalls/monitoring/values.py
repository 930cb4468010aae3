"""A measured value as labs write it, with its qualifier.

"12.3"        → 12.3
"<0.05", "＜0.05", "0.05L"      → below the limit of detection 0.05 (HJ report practice: the limit
                                  followed by L)
"ND", "未检出", "ND(0.05)", "未检出（0.05）" → below detection (with the limit when given)
"约12", "~12", "12E", "12*"     → estimated 12
"""

import math
import re
import unicodedata
from dataclasses import dataclass

from .choices import Qualifier

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_BELOW = re.compile(rf"^(?:<|≤|<=)\s*({_NUMBER})$")
_L_SUFFIX = re.compile(rf"^({_NUMBER})\s*[lL]$")
_ND = re.compile(rf"^(?:nd|n\.d\.|未检出|低于检出限)\s*(?:[(（]\s*({_NUMBER})\s*[)）])?$", re.IGNORECASE)
_ESTIMATED = re.compile(rf"^(?:约|~|≈)\s*({_NUMBER})$|^({_NUMBER})\s*[eE*]$")
_PLAIN = re.compile(rf"^{_NUMBER}$")


class ReadingError(ValueError):
    """A value that cannot be read; the message is Chinese."""


@dataclass(frozen=True)
class Reading:
    value: float | None
    qualifier: str = Qualifier.NONE
    detection_limit: float | None = None


def _number(text):
    number = float(text)
    if not math.isfinite(number):
        raise ReadingError(f"“{text}”不是有限的数值。")
    return number


def parse(raw):
    """A cell (text or number) → Reading; None for an empty cell; ReadingError with a Chinese message."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ReadingError(f"“{raw}”不是数值。")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ReadingError("数值无效。")
        return Reading(float(raw))
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "")
    if not text or text in ("-", "—", "/"):
        return None
    if _PLAIN.match(text):
        return Reading(_number(text))
    match = _BELOW.match(text) or _L_SUFFIX.match(text)
    if match:
        return Reading(None, Qualifier.BELOW_LOD, _number(match.group(1)))
    match = _ND.match(text)
    if match:
        limit = match.group(1)
        return Reading(None, Qualifier.BELOW_LOD, _number(limit) if limit else None)
    match = _ESTIMATED.match(text)
    if match:
        return Reading(_number(match.group(1) or match.group(2)), Qualifier.ESTIMATED)
    shown = text[:30]
    raise ReadingError(
        f"“{shown}”无法识别为监测值（可写作数值 12.3，未检出写作 <0.05、0.05L 或 未检出，估算值写作 约12）。"
    )
