"""Coordinate systems and hand-written coordinate text (no Django).

One module for everything that turns what a county officer typed, or what a web map reports, into the
longitude/latitude the platform stores (CGCS2000, treated as equal to WGS84 at this scale). The ledger
import, the forms and the map all go through it.

Coordinate systems
------------------
- CGCS2000 / WGS84: the stored system (EPSG:4490 / EPSG:4326; they differ by centimetres).
- GCJ-02 (国测局坐标, used by Amap and Tencent): WGS84 shifted by the published obfuscation series over the
  Krasovsky ellipsoid. Points outside a rough bounding box of China are left as they are (the usual
  ``out_of_china`` rule). The series has no closed-form inverse; ``gcj02_to_wgs84`` iterates the forward
  formula until it reproduces its input (the common one-step approximation is off by up to ~6e-5 degree,
  several metres).
- BD-09 (Baidu): GCJ-02 with a further rotation and offset (``x_pi = pi * 3000 / 180``). The BD-09 formula
  is applied everywhere, as the usual implementations do; only the GCJ-02 step has the China test. The
  widely used closed-form inverse is off by up to ~2e-6 degree, so ``bd09_to_gcj02`` refines it the same
  way.

Coordinate text
---------------
``parse_angle`` reads one value, ``parse_point`` one cell holding both, ``parse_lon_lat`` two cells. They
accept decimals, degrees-minutes-seconds with any of the usual marks, degrees and decimal minutes,
hemisphere letters before or after (E/W/N/S, 东经/西经/北纬/南纬), 经度/纬度 labels, full-width digits and
punctuation, and stray spaces. Anything they cannot read with certainty raises ``CoordinateError`` with a
message in Chinese; nothing is guessed: a longitude and latitude that look swapped are reported, never
swapped back.
"""

import enum
import math
import re
from dataclasses import dataclass
from decimal import Decimal

# ---------------------------------------------------------------------------------------------------------
# Coordinate systems
# ---------------------------------------------------------------------------------------------------------


class CRS(enum.StrEnum):
    """Coordinate systems a coordinate may arrive in; values are stable, labels are for the UI."""

    CGCS2000 = "cgcs2000", "CGCS2000"
    WGS84 = "wgs84", "WGS84"
    GCJ02 = "gcj02", "GCJ-02（高德/腾讯）"
    BD09 = "bd09", "BD-09（百度）"

    def __new__(cls, value, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


#: (value, label) pairs, in the shape form and model fields take as ``choices``.
CRS_CHOICES = [(crs.value, crs.label) for crs in CRS]

# GCJ-02: the Krasovsky 1940 ellipsoid the published series is expressed on.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# BD-09.
_X_PI = math.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

# The iterative inverses stop when a step is below this (in degrees); the error left is smaller still.
_INVERSE_TOLERANCE = 1e-10
_INVERSE_MAX_STEPS = 50


def out_of_china(lon, lat):
    """True when (lon, lat) lies outside the rough box of China where GCJ-02 shifts points."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _series_lat(x, y):
    result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    result += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    result += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return result


def _series_lon(x, y):
    result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    result += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    result += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return result


def _gcj02_shift(lon, lat):
    """The GCJ-02 forward formula, without the China test (the inverse iterates on it)."""
    dlat = _series_lat(lon - 105.0, lat - 35.0)
    dlon = _series_lon(lon - 105.0, lat - 35.0)
    radlat = math.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, start):
    """Solve forward(x, y) == (lon, lat) by fixed-point iteration from start.

    Both shifts change by far less than one degree per degree, so each step shrinks the error by a large
    factor; a handful of steps reach the tolerance.
    """
    x, y = start
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        dx, dy = lon - fx, lat - fy
        x, y = x + dx, y + dy
        if abs(dx) < _INVERSE_TOLERANCE and abs(dy) < _INVERSE_TOLERANCE:
            break
    return x, y


def wgs84_to_gcj02(lon, lat):
    """WGS84 (or CGCS2000) to GCJ-02 (Amap/Tencent); points outside China are returned unchanged."""
    if out_of_china(lon, lat):
        return lon, lat
    return _gcj02_shift(lon, lat)


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 to WGS84 by iterating the forward formula (to well under 1e-7 degree)."""
    if out_of_china(lon, lat):
        return lon, lat
    glon, glat = _gcj02_shift(lon, lat)
    # The one-step approximation is the starting point.
    return _invert(_gcj02_shift, lon, lat, (2 * lon - glon, 2 * lat - glat))


def _bd09_closed_inverse(lon, lat):
    x, y = lon - _BD_DLON, lat - _BD_DLAT
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 to BD-09 (Baidu)."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + _BD_DLON, z * math.sin(theta) + _BD_DLAT


def bd09_to_gcj02(lon, lat):
    """BD-09 to GCJ-02: the usual closed-form inverse, refined by iteration (to well under 1e-7 degree)."""
    return _invert(gcj02_to_bd09, lon, lat, _bd09_closed_inverse(lon, lat))


def wgs84_to_bd09(lon, lat):
    """WGS84 (or CGCS2000) to BD-09, through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 to WGS84, through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_CGCS2000 = {
    CRS.CGCS2000: lambda lon, lat: (lon, lat),
    CRS.WGS84: lambda lon, lat: (lon, lat),
    CRS.GCJ02: gcj02_to_wgs84,
    CRS.BD09: bd09_to_wgs84,
}
_FROM_CGCS2000 = {
    CRS.CGCS2000: lambda lon, lat: (lon, lat),
    CRS.WGS84: lambda lon, lat: (lon, lat),
    CRS.GCJ02: wgs84_to_gcj02,
    CRS.BD09: wgs84_to_bd09,
}


def to_cgcs2000(lon, lat, crs):
    """(lon, lat) in crs (a CRS or its value, e.g. "gcj02") converted to CGCS2000."""
    return _TO_CGCS2000[CRS(crs)](lon, lat)


def from_cgcs2000(lon, lat, crs):
    """(lon, lat) in CGCS2000 converted to crs (a CRS or its value)."""
    return _FROM_CGCS2000[CRS(crs)](lon, lat)


def convert(lon, lat, source, target):
    """(lon, lat) converted from one CRS to another (through CGCS2000 unless GCJ-02 ↔ BD-09)."""
    source, target = CRS(source), CRS(target)
    if source == CRS.GCJ02 and target == CRS.BD09:
        return gcj02_to_bd09(lon, lat)
    if source == CRS.BD09 and target == CRS.GCJ02:
        return bd09_to_gcj02(lon, lat)
    return from_cgcs2000(*to_cgcs2000(lon, lat, source), target)


# ---------------------------------------------------------------------------------------------------------
# Errors and ranges
# ---------------------------------------------------------------------------------------------------------

LON = "lon"
LAT = "lat"
_AXIS_NAMES = {LON: "经度", LAT: "纬度"}

#: The plausible range for a point in China, inclusive (longitude, latitude).
CHINA_LON_RANGE = (73.0, 136.0)
CHINA_LAT_RANGE = (3.0, 54.0)


class CoordinateError(ValueError):
    """A coordinate that cannot be accepted, with a message in Chinese for the user.

    ``code`` says what is wrong ("empty", "unreadable", "minutes", "seconds", "hemisphere", "ambiguous",
    "range", "swapped"), so an import can, say, allow an empty optional cell without reading the text.
    ``field`` is "lon" or "lat" when the error belongs to one of them, else None.
    """

    def __init__(self, message, code="invalid", field=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def __str__(self):
        return self.message


def _number(value):
    """A number for a message: up to 6 decimals, no trailing zeros (12.3, 113.3125, 40)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _check_axis(axis):
    if axis not in (None, LON, LAT):
        raise ValueError(f"axis must be 'lon', 'lat' or None, not {axis!r}.")


def validate_lon_lat(lon, lat, *, detect_swap=True):
    """Raise CoordinateError unless (lon, lat) is a plausible point in China.

    With detect_swap, a longitude that looks like a latitude together with a latitude that looks like a
    longitude is reported as swapped; pass detect_swap=False when hemisphere letters fixed the order.
    """
    lon_low, lon_high = CHINA_LON_RANGE
    lat_low, lat_high = CHINA_LAT_RANGE
    if detect_swap and lat_low <= lon <= lat_high and lon_low <= lat <= lon_high:
        raise CoordinateError(
            f"经纬度疑似填反：经度为 {_number(lon)}、纬度为 {_number(lat)}，请核对后重新填写", code="swapped"
        )
    if not lon_low <= lon <= lon_high:
        raise CoordinateError(
            f"经度 {_number(lon)} 超出范围（{lon_low:g}–{lon_high:g}）", code="range", field=LON
        )
    if not lat_low <= lat <= lat_high:
        raise CoordinateError(
            f"纬度 {_number(lat)} 超出范围（{lat_low:g}–{lat_high:g}）", code="range", field=LAT
        )


def check_in_bbox(lon, lat, bbox, *, region="辖区", margin=0.0):
    """A Chinese message when (lon, lat) lies outside bbox, else None.

    bbox is (min_lon, min_lat, max_lon, max_lat), the order of shapely's ``bounds``; margin widens it by
    that many degrees on every side. region names the area in the message (e.g. "大同市").
    """
    min_lon, min_lat, max_lon, max_lat = bbox
    if min_lon > max_lon or min_lat > max_lat:
        raise ValueError(f"Invalid bbox {bbox!r}: expected (min_lon, min_lat, max_lon, max_lat).")
    if min_lon - margin <= lon <= max_lon + margin and min_lat - margin <= lat <= max_lat + margin:
        return None
    return (
        f"坐标（{_number(lon)}，{_number(lat)}）不在{region}范围内"
        f"（经度 {_number(min_lon)}–{_number(max_lon)}，纬度 {_number(min_lat)}–{_number(max_lat)}）"
    )


# ---------------------------------------------------------------------------------------------------------
# Reading coordinate text
# ---------------------------------------------------------------------------------------------------------

# Full-width ASCII (U+FF01–U+FF5E) to ASCII, the ideographic space to a space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = ord(" ")

# Every mark seen for degrees, minutes and seconds, mapped to one of ° ′ ″; other look-alikes too.
_MARKS = str.maketrans(
    {
        "˚": "°",  # ring above
        "º": "°",  # masculine ordinal
        "'": "′",
        "’": "′",
        "‘": "′",
        "´": "′",
        "分": "′",
        '"': "″",
        "”": "″",
        "“": "″",
        "〃": "″",
        "秒": "″",
        "∶": ":",  # ratio sign
        "−": "-",  # minus sign
    }
)

# Placeholders officers write for "no value"; read as empty.
_PLACEHOLDERS = {"-", "--", "—", "——", "/", "无", "暂无", "空", "null", "none", "nan", "n/a"}

_HEMISPHERES = {
    "E": "E",
    "W": "W",
    "N": "N",
    "S": "S",
    "东经": "E",
    "西经": "W",
    "北纬": "N",
    "南纬": "S",
    "東經": "E",
    "西經": "W",
    "北緯": "N",
    "南緯": "S",
    "东": "E",
    "西": "W",
    "北": "N",
    "南": "S",
}
_LABELS = {"经度": LON, "纬度": LAT, "經度": LON, "緯度": LAT}
_HEMISPHERE_AXIS = {"E": LON, "W": LON, "N": LAT, "S": LAT}
_UNITS = "°′″"

_MARKER_PATTERN = "|".join(
    sorted((re.escape(word) for word in [*_HEMISPHERES, *_LABELS] if len(word) > 1), key=len, reverse=True)
)
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
    | (?P<num>[0-9]+(?:\.[0-9]+)*\.?|\.[0-9]+)
    | (?P<unit>[°′″])
    | (?P<colon>:)
    | (?P<sep>[,;、/|])
    | (?P<sign>[-+])
    | (?P<marker>{_MARKER_PATTERN}|[EWNSewns东西南北])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


@dataclass(frozen=True)
class _Reading:
    """One value read from text, before minutes and seconds are checked.

    components are (number, unit) pairs with unit 0 for degrees, 1 minutes, 2 seconds.
    """

    text: str
    components: tuple
    negative: bool
    hemisphere: str | None
    axis: str | None

    @property
    def key(self):
        return self.components, self.negative

    def value(self):
        """Decimal degrees; raises CoordinateError for minutes or seconds of 60 or more."""
        total = 0.0
        for number, unit in self.components:
            if unit == 1 and number >= 60:
                raise CoordinateError(f"分值必须小于 60，实为 {_number(number)}：{self.text}", code="minutes")
            if unit == 2 and number >= 60:
                raise CoordinateError(f"秒值必须小于 60，实为 {_number(number)}：{self.text}", code="seconds")
            total += number / (1, 60, 3600)[unit]
        return -total if self.negative else total


def _empty():
    return CoordinateError("坐标为空", code="empty")


def _unreadable(text):
    return CoordinateError(f"无法识别的坐标：{text}", code="unreadable")


def _is_blank(value):
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ("", *_PLACEHOLDERS)


def _normalise(text):
    text = text.translate(_FULL_WIDTH)
    text = re.sub(r"(?<=[0-9])。(?=[0-9])", ".", text)  # a Chinese full stop typed as a decimal point
    text = re.sub(r"(?<![经纬經緯])度", "°", text)  # 度 as a unit, but not in the labels 经度/纬度
    text = text.translate(_MARKS)
    text = text.replace("′′", "″")  # two apostrophes for seconds
    return text.strip().rstrip("。").strip()


def _tokenise(text, original):
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise _unreadable(original)
        tokens.append(_Token(match.lastgroup, match.group()))
        position = match.end()
    return tokens


def _read_tokens(tokens, text):
    """A _Reading from the tokens of one value (no separators), or CoordinateError."""
    tokens = list(tokens)
    markers = []

    def strip_spaces():
        while tokens and tokens[0].kind == "space":
            tokens.pop(0)
        while tokens and tokens[-1].kind == "space":
            tokens.pop()

    strip_spaces()
    while tokens and tokens[0].kind == "marker":
        markers.append(tokens.pop(0).text)
        strip_spaces()
        if tokens and tokens[0].kind == "colon":  # "经度：113.3" or "东经: 113.3"
            tokens.pop(0)
            strip_spaces()
    while tokens and tokens[-1].kind == "marker":
        markers.append(tokens.pop().text)
        strip_spaces()

    hemispheres = {_HEMISPHERES[m.upper()] for m in markers if m.upper() in _HEMISPHERES}
    axes = {_LABELS[m] for m in markers if m in _LABELS} | {_HEMISPHERE_AXIS[h] for h in hemispheres}
    if len(hemispheres) > 1 or len(axes) > 1:
        raise CoordinateError(f"方向标记相互矛盾：{text}", code="hemisphere")
    hemisphere = hemispheres.pop() if hemispheres else None
    axis = axes.pop() if axes else None

    negative = False
    if tokens and tokens[0].kind == "sign":
        negative = tokens.pop(0).text == "-"
        if negative and hemisphere:
            raise CoordinateError(f"负号与方向标记不能同时使用：{text}", code="hemisphere")
        strip_spaces()

    # What is left: numbers, each optionally followed by a unit mark, separated by spaces or colons.
    pieces = []  # [number text, unit mark or None]
    for token in tokens:
        if token.kind == "num":
            pieces.append([token.text, None])
        elif token.kind == "unit" and pieces and pieces[-1][1] is None:
            pieces[-1][1] = token.text
        elif token.kind in ("space", "colon") and pieces:
            continue
        else:
            raise _unreadable(text)
    if not pieces or len(pieces) > 3:
        raise _unreadable(text)

    number, mark = pieces[0]
    if len(pieces) == 1 and number.count(".") >= 2 and mark is None:
        # "113.18.45" or "113.18.45.5": degrees.minutes.seconds written with dots.
        groups = number.split(".")
        if len(groups) > 4 or not all(groups):
            raise _unreadable(text)
        seconds = float(".".join(groups[2:]))
        components = ((float(groups[0]), 0), (float(groups[1]), 1), (seconds, 2))
    else:
        components = []
        previous = -1
        for index, (number, mark) in enumerate(pieces):
            unit = previous + 1 if mark is None else _UNITS.index(mark)
            last = index == len(pieces) - 1
            if unit <= previous or unit > 2 or (index == 0 and unit != 0):
                raise _unreadable(text)
            if number.count(".") > 1 or (not last and "." in number):
                raise _unreadable(text)  # only the last part may have a fraction
            components.append((float(number), unit))
            previous = unit
        components = tuple(components)

    if hemisphere in ("W", "S"):
        negative = True
    return _Reading(text, components, negative, hemisphere, axis)


def _read(value):
    """A _Reading from a cell value (text or number), or CoordinateError."""
    if _is_blank(value):
        raise _empty()
    if isinstance(value, bool):
        raise _unreadable(value)
    if isinstance(value, int | float | Decimal):
        number = float(value)
        if not math.isfinite(number):
            raise _unreadable(value)
        return _Reading(str(value), ((abs(number), 0),), number < 0, None, None)
    if not isinstance(value, str):
        raise _unreadable(value)
    original = value.strip()
    tokens = _tokenise(_normalise(original), original)
    if any(token.kind == "sep" for token in tokens):
        raise _unreadable(original)
    return _read_tokens(tokens, original)


def _check_world_range(value, axis, text):
    limit = 90 if axis == LAT else 180
    if not -limit <= value <= limit:
        name = _AXIS_NAMES.get(axis, "坐标")
        raise CoordinateError(
            f"{name} {_number(value)} 超出有效范围（-{limit} 至 {limit}）：{text}", code="range", field=axis
        )


def _contradiction(axis, reading):
    other = LAT if axis == LON else LON
    return CoordinateError(
        f"{_AXIS_NAMES[axis]}不应带有{_AXIS_NAMES[other]}方向标记：{reading.text}",
        code="hemisphere",
        field=axis,
    )


def parse_angle(value, axis=None):
    """Decimal degrees from one hand-written value (text, or a number from a spreadsheet cell).

    axis is "lon", "lat" or None. A hemisphere letter of the other axis (N on a longitude) is an error;
    W and S give negative values. Only the world range is checked here (±180, ±90); the China range and
    swapped pairs are checked by parse_point, parse_lon_lat and validate_lon_lat.
    """
    _check_axis(axis)
    reading = _read(value)
    if axis and reading.axis and reading.axis != axis:
        raise _contradiction(axis, reading)
    result = reading.value()
    _check_world_range(result, axis or reading.axis, reading.text)
    return result


def _assign(first, second):
    """(lon reading, lat reading) from two readings: letters decide the order, else lon comes first."""
    if first.axis and second.axis and first.axis == second.axis:
        name = _AXIS_NAMES[first.axis]
        raise CoordinateError(f"两个值都标为{name}：{first.text}，{second.text}", code="hemisphere")
    if first.axis == LAT or second.axis == LON:
        return second, first
    return first, second


def _candidate_splits(tokens):
    """Ways to cut a separator-less token list into two values, best first.

    Cuts at spaces come first ("113.3125E 40.0901"); cuts between other tokens ("113.3125E40.0901N")
    are tried only when no cut at a space reads.
    """
    at_spaces = [(tokens[:i], tokens[i + 1 :]) for i, token in enumerate(tokens) if token.kind == "space"]
    elsewhere = [
        (tokens[:i], tokens[i:])
        for i in range(1, len(tokens))
        if tokens[i - 1].kind != "space" and tokens[i].kind != "space"
    ]
    return [at_spaces, elsewhere]


def _part_text(tokens):
    return "".join(token.text for token in tokens).strip()


_PLAIN_POINT = re.compile(r"\s*(\d{1,3}\.\d+)\s*[,，]\s*(\d{1,3}\.\d+)\s*")


def parse_point(value):
    """(lon, lat) from one cell holding both values.

    The two values may be separated by a comma (also "，"), "、", ";" or "/", or only by spaces when the
    cut is unambiguous ("113.3125 40.0901", "113 18 45 40 5 24"). Hemisphere letters or 经度/纬度 labels
    decide the order ("40.0901N 113.3125E"); without them the order is longitude, latitude, and a pair
    that looks swapped is an error rather than being swapped back.
    """
    if _is_blank(value):
        raise _empty()
    if not isinstance(value, str):
        raise CoordinateError(f"需要经度和纬度两个值：{value}", code="unreadable")
    plain = _PLAIN_POINT.fullmatch(value)
    if plain:  # the common "113.312345,40.090123": no tokenising needed (20x faster on a big import)
        lon, lat = float(plain[1]), float(plain[2])
        validate_lon_lat(lon, lat)
        return lon, lat
    original = value.strip()
    tokens = _tokenise(_normalise(original), original)

    separators = [i for i, token in enumerate(tokens) if token.kind == "sep"]
    if len(separators) > 1:
        raise _unreadable(original)
    if separators:
        i = separators[0]
        tiers = [[(tokens[:i], tokens[i + 1 :])]]
    else:
        tiers = _candidate_splits(tokens)

    problem = None  # the error of a cut that read but whose letters clash
    for tier in tiers:
        found = {}
        for left, right in tier:
            if not _part_text(left) or not _part_text(right):
                continue
            try:
                first, second = _read_tokens(left, _part_text(left)), _read_tokens(right, _part_text(right))
            except CoordinateError:
                if separators:
                    raise
                continue
            try:
                lon, lat = _assign(first, second)
            except CoordinateError as error:
                problem = problem or error
                continue
            found.setdefault((lon.key, lat.key), (lon, lat))
        if len(found) > 1:
            raise CoordinateError(
                f"无法确定哪部分是经度、哪部分是纬度，请用逗号分隔：{original}", code="ambiguous"
            )
        if found:
            lon, lat = found.popitem()[1]
            break
        if problem:
            # A cut read but its letters clash ("E113 E40"): say so rather than try looser cuts.
            raise problem
    else:
        if sum(token.kind == "num" for token in tokens) == 1 or separators:
            raise CoordinateError(f"需要经度和纬度两个值：{original}", code="unreadable")
        raise _unreadable(original)

    lon_value, lat_value = lon.value(), lat.value()
    validate_lon_lat(lon_value, lat_value, detect_swap=not (lon.axis or lat.axis))
    return lon_value, lat_value


def parse_lon_lat(lon_value, lat_value):
    """(lon, lat) from two cells, each text or a number.

    Errors that belong to one cell are prefixed with 经度/纬度 and carry ``field``. Values without
    hemisphere letters that look swapped are an error; letters that put each value in the other cell
    are reported as swapped too.
    """
    if _is_blank(lon_value) and _is_blank(lat_value):
        raise _empty()
    readings = {}
    for axis, value in ((LON, lon_value), (LAT, lat_value)):
        try:
            readings[axis] = _read(value)
        except CoordinateError as error:
            raise CoordinateError(f"{_AXIS_NAMES[axis]}：{error.message}", code=error.code, field=axis)
    lon, lat = readings[LON], readings[LAT]
    if lon.axis == LAT and lat.axis == LON:
        raise CoordinateError(
            f"经纬度疑似填反：经度栏为 {lon.text}、纬度栏为 {lat.text}，请核对后重新填写", code="swapped"
        )
    for axis, reading in readings.items():
        if reading.axis and reading.axis != axis:
            raise _contradiction(axis, reading)

    values = {}
    for axis, reading in readings.items():
        try:
            values[axis] = reading.value()
        except CoordinateError as error:
            raise CoordinateError(f"{_AXIS_NAMES[axis]}：{error.message}", code=error.code, field=axis)
    validate_lon_lat(values[LON], values[LAT], detect_swap=not (lon.axis or lat.axis))
    return values[LON], values[LAT]


# ---------------------------------------------------------------------------------------------------------
# Writing coordinates
# ---------------------------------------------------------------------------------------------------------


def format_dms(value, axis, decimals=2):
    """Degrees-minutes-seconds with a hemisphere letter: 113.3125, "lon" -> "113°18′45.00″E".

    Seconds carry ``decimals`` digits (0.01″ is about 0.3 m); rounding carries into minutes and degrees.
    """
    if axis not in (LON, LAT):
        raise ValueError(f"axis must be 'lon' or 'lat', not {axis!r}.")
    if not math.isfinite(value):
        raise ValueError(f"Cannot format {value!r} as degrees-minutes-seconds.")
    scale = 10**decimals
    total = round(abs(value) * 3600 * scale)  # in units of the last seconds digit
    degrees, rest = divmod(total, 3600 * scale)
    minutes, seconds = divmod(rest, 60 * scale)
    positive, negative = ("E", "W") if axis == LON else ("N", "S")
    letter = negative if value < 0 and total else positive
    width = 2 + (decimals + 1 if decimals else 0)
    return f"{degrees}°{minutes:02d}′{seconds / scale:0{width}.{decimals}f}″{letter}"


def format_decimal(value, decimals=6):
    """Decimal degrees with a fixed number of decimals (6 by default, about 0.1 m)."""
    return f"{value:.{decimals}f}"
