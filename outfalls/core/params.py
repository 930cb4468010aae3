"""One strict reader for the parameters a request carries: query strings, form fields and path segments.

Python's own readers are too lenient for request data: ``str.isdigit()`` is true for "²" (which ``int()``
then refuses), ``int()`` and ``float()`` accept Arabic-Indic digits, underscores and surrounding spaces, and
``float()`` reads "inf", "nan" and "1e400" (infinity). Every number taken from a request goes through this
module instead: ASCII digits only (regular expressions), finite values within a range.

A parameter that cannot be read raises ``ParamError``: a ``django.core.exceptions.BadRequest`` whose Chinese
message names the parameter. Django turns it into the 400 page (``core.views.bad_request`` shows the
message), the REST API into its JSON error (``core.api.exception_handler``), the map's endpoints into
``{"detail": ...}`` and the OGC API into its ``InvalidParameterValue`` exception.
"""

import math
import re
from datetime import date

from django.core.exceptions import BadRequest

#: Optional sign and ASCII digits, nothing else (no spaces, no "_", no other scripts' digits).
INTEGER = re.compile(r"[+-]?[0-9]+")
#: A plain decimal number with an optional exponent: "12", "-0.5", ".5", "1e-3". No "inf", "nan", "0x1".
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: A calendar date as ISO 8601 writes it: 2024-03-05.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Database ids are 64-bit (BigAutoField).
MAX_ID = 2**63 - 1
#: Longer texts are no number this platform reads (and int() of a huge text is slow).
MAX_LENGTH = 40
REQUIRED = object()


class ParamError(BadRequest):
    """A request parameter that cannot be read: a 400 with a Chinese message naming the parameter."""

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name
        self.message = message

    def __str__(self):
        return self.message


def _shown(text):
    text = str(text)
    return text if len(text) <= 20 else text[:20] + "…"


def _missing(name, default, label):
    if default is REQUIRED:
        raise ParamError(name, f"缺少参数 {label or name}。")
    return default


def parse_int(text, name, *, default=REQUIRED, minimum=None, maximum=None, label=None):
    """An integer from ASCII digits (optional sign); ``default`` when missing or empty.

    Out of [minimum, maximum] is an error, never silently clamped.
    """
    if text is None or text == "":
        return _missing(name, default, label)
    shown = label or name
    text = str(text)
    if len(text) > MAX_LENGTH or not INTEGER.fullmatch(text):
        raise ParamError(name, f"{shown} 应为整数，收到“{_shown(text)}”。")
    value = int(text)
    _check_range(name, shown, value, minimum, maximum)
    return value


def parse_float(text, name, *, default=REQUIRED, minimum=None, maximum=None, clamp=False, label=None):
    """A finite decimal number; ``default`` when missing or empty.

    "inf", "nan" and numbers too large for a float ("1e400") are errors. Out of [minimum, maximum] is an
    error, or with ``clamp=True`` is moved to the nearest bound.
    """
    if text is None or text == "":
        return _missing(name, default, label)
    shown = label or name
    text = str(text)
    if len(text) > MAX_LENGTH or not DECIMAL.fullmatch(text):
        raise ParamError(name, f"{shown} 应为十进制数，收到“{_shown(text)}”。")
    value = float(text)
    if not math.isfinite(value):
        raise ParamError(name, f"{shown} 超出数值范围：“{_shown(text)}”。")
    if clamp:
        if minimum is not None:
            value = max(value, minimum)
        if maximum is not None:
            value = min(value, maximum)
        return value
    _check_range(name, shown, value, minimum, maximum)
    return value


def _check_range(name, shown, value, minimum, maximum):
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ParamError(name, f"{shown} 应在 {minimum} 到 {maximum} 之间，收到 {value}。")
    if minimum is not None and value < minimum:
        raise ParamError(name, f"{shown} 不能小于 {minimum}，收到 {value}。")
    if maximum is not None and value > maximum:
        raise ParamError(name, f"{shown} 不能大于 {maximum}，收到 {value}。")


def parse_id(text, name, *, default=REQUIRED, label=None):
    """A database id: a positive integer that fits the id column."""
    return parse_int(text, name, default=default, minimum=1, maximum=MAX_ID, label=label)


def parse_ids(values, name, *, label=None):
    """A list of ids (e.g. ``request.POST.getlist("ids")``); one bad id refuses the whole list."""
    return [parse_id(value, name, label=label) for value in values]


def parse_date(text, name, *, default=REQUIRED, label=None):
    """A date written YYYY-MM-DD (ASCII digits, a real day); ``default`` when missing or empty."""
    if text is None or text == "":
        return _missing(name, default, label)
    shown = label or name
    text = str(text)
    if not ISO_DATE.fullmatch(text):
        raise ParamError(name, f"{shown} 应为日期 YYYY-MM-DD，收到“{_shown(text)}”。")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParamError(name, f"{shown} 不是有效的日期：“{_shown(text)}”。") from None


def parse_numbers(text, name, *, counts, label=None, hint=""):
    """Comma-separated finite numbers, as many as one of ``counts``; e.g. a bbox's four or six."""
    shown = label or name
    message = f"{shown} 应为 {' 或 '.join(str(c) for c in counts)} 个用逗号分隔的数{hint}。"
    if not text:
        raise ParamError(name, message)
    parts = str(text).split(",")
    if len(parts) not in counts:
        raise ParamError(name, message)
    return [parse_float(part.strip(), name, label=shown) for part in parts]


def parse_bbox(text, name="bbox", *, heights=False, crossing=False, clamp=False, label=None):
    """(min_lon, min_lat, max_lon, max_lat) in degrees from "minLon,minLat,maxLon,maxLat".

    - ``heights=True``: six numbers (a minimum and maximum height, OGC style) are accepted too; the
      heights are dropped.
    - ``crossing=True``: a minimum longitude above the maximum is a box across the antimeridian (OGC);
      otherwise it is an error.
    - ``clamp=True``: values beyond ±180/±90 (a map zoomed far out) are moved to the bounds; otherwise
      they are an error.

    The minimum latitude is never above the maximum.
    """
    shown = label or name
    hint = "：最小经度,最小纬度,最大经度,最大纬度（十进制度）"
    values = parse_numbers(text, name, counts=(4, 6) if heights else (4,), label=label, hint=hint)
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    min_lon, min_lat, max_lon, max_lat = values
    if min_lat > max_lat or (min_lon > max_lon and not crossing):
        raise ParamError(name, f"{shown} 的最小值不能大于最大值{hint}。")
    if clamp:
        return (max(min_lon, -180.0), max(min_lat, -90.0), min(max_lon, 180.0), min(max_lat, 90.0))
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat and max_lat <= 90):
        raise ParamError(name, f"{shown} 超出经纬度范围（经度 -180 到 180，纬度 -90 到 90）。")
    return min_lon, min_lat, max_lon, max_lat
