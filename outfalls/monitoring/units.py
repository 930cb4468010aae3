"""Units: values are kept as given and converted to the parameter's unit where the conversion is safe.

Safe means a pure scale within one dimension: mass concentrations (mg/L = g/m³, µg/L, ng/L, g/L), flows
(m³/h, m³/d, t/d of water, L/s, m³/s, m³/min), temperature in °C, pH without unit. Anything else (mg/kg,
"mg/L as NH3" against a parameter "as N", kelvin, a unit nobody wrote down for a concentration) is refused
with a message naming the unit: a wrong conversion is worse than a question.
"""

import re
import unicodedata

from .choices import Dimension

# (dimension, factor to the dimension's canonical unit); canonical: mg/L, m3/h, ℃, pH.
_UNITS = {
    Dimension.CONCENTRATION: {
        "": 1.0,
        "mg/l": 1.0,
        "mg/dm3": 1.0,
        "g/m3": 1.0,
        "毫克/升": 1.0,
        "ug/l": 1e-3,
        "μg/l": 1e-3,
        "微克/升": 1e-3,
        "ng/l": 1e-6,
        "纳克/升": 1e-6,
        "g/l": 1e3,
        "克/升": 1e3,
    },
    Dimension.FLOW: {
        "m3/h": 1.0,
        "立方米/时": 1.0,
        "立方米/小时": 1.0,
        "t/h": 1.0,
        "m3/d": 1 / 24,
        "立方米/日": 1 / 24,
        "立方米/天": 1 / 24,
        "t/d": 1 / 24,
        "吨/日": 1 / 24,
        "吨/天": 1 / 24,
        "l/s": 3.6,
        "升/秒": 3.6,
        "m3/s": 3600.0,
        "立方米/秒": 3600.0,
        "m3/min": 60.0,
    },
    Dimension.TEMPERATURE: {"": 1.0, "℃": 1.0, "°c": 1.0, "摄氏度": 1.0, "c": 1.0},
    Dimension.PH: {"": 1.0, "无量纲": 1.0, "ph": 1.0, "ph值": 1.0, "-": 1.0},
}
CANONICAL = {
    Dimension.CONCENTRATION: "mg/L",
    Dimension.FLOW: "m3/h",
    Dimension.TEMPERATURE: "℃",
    Dimension.PH: "无量纲",
}
# Plausible ranges in the canonical unit; a value outside is a typing or unit mistake, not a measurement.
RANGES = {
    Dimension.CONCENTRATION: (0.0, 1e6),
    Dimension.FLOW: (0.0, 1e7),
    Dimension.TEMPERATURE: (-5.0, 100.0),
    Dimension.PH: (0.0, 14.0),
}


class UnitError(ValueError):
    """A unit that cannot be converted safely; the message is Chinese and names it."""


def normalise(unit):
    """A unit as typed → the lookup form: NFKC (full-width to half-width), lower case, no spaces, ³ → 3,
    µ → μ."""
    text = unicodedata.normalize("NFKC", str(unit or "")).strip().lower()
    text = text.replace("³", "3").replace("µ", "μ").replace(" ", "")
    return re.sub(r"^\((.*)\)$|^（(.*)）$", lambda m: m.group(1) or m.group(2), text)


def factor(unit, dimension, parameter_name=""):
    """The factor that turns a value in `unit` into the dimension's canonical unit, or UnitError."""
    dimension = Dimension(dimension)
    units = _UNITS.get(dimension)
    shown = str(unit or "").strip() or "（未填写）"
    what = f"“{parameter_name}”" if parameter_name else "该项目"
    if units is None:
        raise UnitError(f"{what}的单位“{shown}”不能换算。")
    key = normalise(unit)
    if key == "" and dimension == Dimension.FLOW:
        # No unit: the canonical one is assumed for concentrations (mg/L is what every lab writes), temperatures
        # and pH; a flow has too many usual units to guess.
        raise UnitError(f"{what}须填写单位（如 {CANONICAL[dimension]}）。")
    if key in units:
        return units[key]
    canonical = "、".join(sorted({CANONICAL[dimension], *[u for u in units if u and u.isascii()][:4]}))
    raise UnitError(f"{what}的单位“{shown}”无法安全换算为 {CANONICAL[dimension]}（可用：{canonical}）。")


def to_standard(value, unit, dimension, parameter_name=""):
    """value in unit → the canonical unit (None stays None)."""
    if value is None:
        return None
    return value * factor(unit, dimension, parameter_name)


def check_range(value, dimension, parameter_name=""):
    """A Chinese message when a canonical value is implausible, else None."""
    low, high = RANGES.get(Dimension(dimension), (None, None))
    if value is None or low is None:
        return None
    if value < low or value > high:
        return f"“{parameter_name}”的值 {value:g} 超出合理范围（{low:g}–{high:g} {CANONICAL[Dimension(dimension)]}），请核对数值和单位。"
    return None


def format_value(value, digits=4):
    """A measured value for people: `digits` significant figures, never in scientific notation
    (19180, not 1.918e+04; 0.000012, not 1.2e-05); "—" when there is none."""
    if value is None:
        return "—"
    text = f"{value:.{digits}g}"
    if "e" in text:
        from decimal import Decimal

        text = format(Decimal(text), "f")
    return text
