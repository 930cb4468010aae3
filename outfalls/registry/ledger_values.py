"""The ledger's value vocabulary: what each attachment-1 cell holds, both ways.

`cell_values(outfall)` gives the cells the export writes, keyed by the column keys of
`ledger_template.COLUMNS` and `CODE_COLUMNS`: readable Chinese, labels taken from the TextChoices in
`choices.py` and `classification.py`, dates as `date` objects, coordinates as `format_point` text.

The `parse_*` functions read such cells back, as the import does, and tolerate the ways counties write
them by hand (full-width characters, spaces, common synonyms, codes in brackets). Every parser:

- takes one cell value (str, number, bool, date, datetime or None);
- returns `(value, error)`: `error` is None or a message in Chinese that names the bad text and what
  would be accepted (the import adds the row number and the column);
- returns `(None, None)` for an empty cell: "nothing written", which the caller decides about.

Round trip: for every outfall, parsing `cell_values(outfall)` gives back the stored values
(tests/test_ledger_export.py checks it on the whole demo ledger).

One deliberate detail: an outfall classified at level 1 only exports as "label（CODE）", e.g.
"城镇污水处理厂排污口（SH）". Two level-1 labels (SH, YH) are spelled exactly like a level-2 label, so the
bare label reads as level 2; the code in brackets marks "level 1 only" and keeps the round trip exact.
"""

import re
import unicodedata
from datetime import date, datetime

from .choices import Conveyance, EntryMode, OutletPosition, RectificationStatus, UnitKind
from .classification import LEVEL2_CODE, LEVEL3_PARENT, Level2, Level3, TypeCode
from .ledger_template import CODE_COLUMNS, COLUMNS, format_point

YES = "是"
NO = "否"
LIST_SEPARATOR = "、"
OUTLET_SEPARATOR = "，"  # between the position label and the description (Outfall.outlet_text)

COLUMN_KEYS = tuple(c.key for c in COLUMNS)
CODE_COLUMN_KEYS = tuple(c.key for c in CODE_COLUMNS)
ALL_KEYS = COLUMN_KEYS + CODE_COLUMN_KEYS


# Normalisation -----------------------------------------------------------------------------------------
def normalise(text):
    """Text as compared: NFKC (full-width to half-width), no whitespace, ASCII lower-cased, 其它 → 其他."""
    text = unicodedata.normalize("NFKC", str(text))
    text = "".join(text.split()).lower()
    return text.replace("其它", "其他").rstrip("。.")


def _is_empty(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value):
    """A cell value as quoted back in a message."""
    text = str(value).strip()
    return text if len(text) <= 40 else text[:40] + "…"


def _label(choice):
    return str(choice.label)


def _label_of(choices, value):
    """The Chinese label of a stored value, or None for blank; an unknown value is shown as it is."""
    if value in (None, ""):
        return None
    try:
        return _label(choices(value))
    except ValueError:
        return str(value)


def _vocabulary(choices, aliases=None):
    """normalised spelling → stored value: every label of `choices`, then the extra spellings."""
    table = {}
    for choice in choices:
        table[normalise(choice.label)] = str(choice.value)
    for value, spellings in (aliases or {}).items():
        for spelling in spellings:
            table.setdefault(normalise(spelling), str(value.value))
    return table


def _accepted(choices):
    return LIST_SEPARATOR.join(_label(c) for c in choices)


def _lookup(text, table, suffixes=()):
    """The stored value a cell names: exactly, or after dropping one common suffix (明渠排放 → 明渠)."""
    key = normalise(text)
    if key in table:
        return table[key]
    for suffix in suffixes:
        if key.endswith(suffix) and key[: -len(suffix)] in table:
            return table[key[: -len(suffix)]]
    return None


def _choice_parser(choices, noun, aliases, suffixes=()):
    table = _vocabulary(choices, aliases)
    accepted = _accepted(choices)

    def parse(value):
        if _is_empty(value):
            return None, None
        found = _lookup(value, table, suffixes)
        if found is None:
            return None, f"无法识别的{noun}“{_shown(value)}”，可填：{accepted}。"
        return found, None

    parse.vocabulary = table
    return parse


# Choice columns ----------------------------------------------------------------------------------------
ENTRY_MODE_ALIASES = {
    EntryMode.OPEN_CHANNEL: ("明沟", "明渠排放"),
    EntryMode.PIPE: ("管排", "管道口", "管口", "管网"),
    EntryMode.PUMP_STATION: ("泵站提升", "提升泵站", "泵排", "泵"),
    EntryMode.SLUICE: ("闸", "闸门", "水闸", "涵闸口"),
    EntryMode.SLUICE_PUMP: ("闸泵", "泵闸", "闸站", "闸泵结合"),
    EntryMode.BOX_CULVERT: ("涵洞", "箱涵口"),
    EntryMode.SUBMERGED: ("淹没", "水下", "潜没排放"),
}
ENTRY_SUFFIXES = ("排放", "入河", "排入", "方式", "式")

CONVEYANCE_ALIASES = {
    Conveyance.PIPE: ("管网", "管线", "管道引流", "管"),
    Conveyance.OPEN_CHANNEL: ("明沟",),
    Conveyance.CULVERT: ("暗渠", "暗涵", "涵", "涵管", "暗沟", "暗管"),
    Conveyance.DITCH: ("沟", "排水沟", "渠", "排干渠", "排干"),
    Conveyance.DIRECT: ("直接排放", "直接入河", "直排入河", "自流直排"),
}
CONVEYANCE_SUFFIXES = ("引流", "排放", "方式")

RECTIFICATION_ALIASES = {
    RectificationStatus.COMPLETED: (
        "完成",
        "已整治",
        "整治完成",
        "完成整治",
        "已完成整治",
        "已整治完成",
        "已销号",
    ),
    RectificationStatus.IN_PROGRESS: ("整治中", "在整治", "正在整治中", "进行中", "正在进行", "推进中"),
    RectificationStatus.NOT_STARTED: ("未开始", "尚未整治", "未启动", "暂未整治", "尚未开始"),
    RectificationStatus.NOT_NEEDED: ("无需", "不需整治", "不需要整治", "无须整治", "不需"),
}

# The words of the city's plan (同政办发〔2023〕8号) for the units behind outfalls are among these: 工矿企业,
# 工业企业, 化工类工业企业, 园区污水集中处理设施, 城镇污水处理厂, 规模化畜禽养殖, 水产养殖, 公共企事业单位,
# 住宅小区, 农村生活污水集中处理设施, 港口码头, and the governments and 经开区管委会 of 政府兜底.
UNIT_KIND_ALIASES = {
    UnitKind.INDUSTRIAL: ("工业", "企业", "工业企业单位", "工厂", "工矿企业", "化工企业", "化工类工业企业"),
    UnitKind.MINE: ("矿山", "矿", "煤矿", "矿企", "尾矿库"),
    UnitKind.PARK_WWTP: (
        "园区污水厂",
        "工业园区污水处理厂",
        "园区污水处理站",
        "园区污水集中处理设施",
        "工业及其他各类园区污水处理厂",
        "开发区污水集中处理设施",
    ),
    UnitKind.MUNICIPAL_WWTP: ("城镇污水厂", "城市污水处理厂", "市政污水处理厂"),
    UnitKind.LIVESTOCK: ("畜禽养殖", "养殖场", "畜禽养殖企业", "规模化畜禽养殖场", "规模化畜禽养殖"),
    UnitKind.AQUACULTURE: ("水产养殖", "渔场", "规模化水产养殖场", "规模化水产养殖"),
    UnitKind.HOSPITAL: ("医院", "卫生院", "诊所", "医疗"),
    UnitKind.COMMERCIAL: ("商业", "服务业", "商业服务", "餐饮"),
    UnitKind.RESIDENTIAL: ("小区", "居民小区", "住宅"),
    UnitKind.INSTITUTION: ("机关", "事业单位", "机关单位", "学校", "公共企事业单位", "企事业单位"),
    UnitKind.RURAL_FACILITY: (
        "农村污水处理站",
        "农村污水处理设施运维单位",
        "农村污水设施",
        "农村生活污水集中处理设施",
        "集中式农村生活污水处理设施",
    ),
    UnitKind.GOVERNMENT: (
        "政府",
        "政府部门",
        "政府兜底",
        "人民政府",
        "县区政府",
        "县区人民政府",
        "县人民政府",
        "区人民政府",
        "乡镇政府",
        "乡镇人民政府",
        "经开区管委会",
        "大同经开区管委会",
        "管委会",
    ),
    UnitKind.OTHER: ("港口码头", "码头", "港口"),
}

OUTLET_POSITION_ALIASES = {
    OutletPosition.LEFT_BANK: ("左侧", "左岸边"),
    OutletPosition.RIGHT_BANK: ("右侧", "右岸边"),
    OutletPosition.RIVER_BED: ("河床", "河底", "潜没", "河道中"),
}

parse_entry_mode = _choice_parser(EntryMode, "入河方式", ENTRY_MODE_ALIASES, ENTRY_SUFFIXES)
parse_entry_mode.__doc__ = "入河方式 → EntryMode value. 明渠排放, 管道, 泵站提升, 潜没式, 其它 …"

parse_conveyance = _choice_parser(Conveyance, "引流方式", CONVEYANCE_ALIASES, CONVEYANCE_SUFFIXES)
parse_conveyance.__doc__ = "引流方式 → Conveyance value. 管道, 暗渠, 排水沟, 直接排放 …"

_parse_rectification = _choice_parser(RectificationStatus, "整治进展", RECTIFICATION_ALIASES)


def parse_rectification(value):
    """整治进展情况 → RectificationStatus value. 已完成, 正在整治/整治中, 未整治, 无需整治; 整改 reads as 整治."""
    if isinstance(value, str):
        value = value.replace("整改", "整治")
    return _parse_rectification(value)


parse_unit_kind = _choice_parser(UnitKind, "排污单位类型", UNIT_KIND_ALIASES, ("类", "类型"))
parse_unit_kind.__doc__ = "排污单位类型 → UnitKind value. 工业企业, 城镇污水处理厂, 医院, 政府 …"

_POSITIONS = _vocabulary(OutletPosition, OUTLET_POSITION_ALIASES)
_OUTLET_SPLIT = re.compile(r"[，,、；;：:\s]+")


def parse_outlet(value):
    """入河排污口口门及位置 → ((position, description), None).

    The text before the first separator (，,、；;： or a space) is the position when it names one
    (左岸, 右岸, 河床（潜没）, 其他 and their synonyms); the rest, as written, is the description. A cell
    that names no position is all description, with position "". Never an error.
    """
    if _is_empty(value):
        return None, None
    text = str(value).strip()
    position = _POSITIONS.get(normalise(text))
    if position is not None:
        return (position, ""), None
    match = _OUTLET_SPLIT.search(text)
    if match:
        position = _POSITIONS.get(normalise(text[: match.start()]))
        if position is not None:
            return (position, text[match.end() :].strip()), None
    return ("", text), None


# Yes / no ------------------------------------------------------------------------------------------------
_YES_WORDS = (
    "已",
    "已完成",
    "完成",
    "√",
    "✓",
    "✔",
    "y",
    "yes",
    "1",
    "true",
    "t",
    "对",
    "有",
    "已登记",
    "已建档",
)
_NO_WORDS = ("未", "未完成", "×", "✗", "✘", "n", "no", "0", "false", "f", "无", "没有", "未登记", "未建档")
_YES_NO = {normalise(w): True for w in (YES, *_YES_WORDS)} | {normalise(w): False for w in (NO, *_NO_WORDS)}


def parse_yes_no(value):
    """是/否 → True/False. Also 已/未, 已完成/未完成, √/×, Y/N, 1/0, true/false, and Excel booleans."""
    if _is_empty(value):
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value), None
    found = _YES_NO.get(normalise(value))
    if found is None:
        return None, f"“{_shown(value)}”不是“{YES}”或“{NO}”（也可写 已/未、√/×、Y/N、1/0）。"
    return found, None


# Dates ---------------------------------------------------------------------------------------------------
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMBER = re.compile(r"^\d+(?:\.0+)?$")
# Excel serial numbers accepted as dates: 1950-01-01 .. 2100-12-31 (others are surely something else).
_SERIAL_MIN, _SERIAL_MAX = 18264, 73415
DATE_HINT = "请写作 2023-05-04、2023/5/4 或 2023年5月4日"


def _date_from_serial(serial):
    from openpyxl.utils.datetime import from_excel

    return from_excel(serial).date()


def _make_date(year, month, day, shown):
    try:
        return date(int(year), int(month), int(day)), None
    except ValueError:
        return None, f"日期“{shown}”不存在。"


def parse_date(value):
    """A date cell → date. Accepts date and datetime objects, Excel serial numbers, 2023-05-04,
    2023/5/4, 2023.5.4, 2023年5月4日, 20230504 (also with a time after the date); anything else is an error."""
    if _is_empty(value):
        return None, None
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, bool):
        return None, f"“{_shown(value)}”不是日期，{DATE_HINT}。"
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if isinstance(value, int | float) or _NUMBER.match(text):
        digits = _DATE_DIGITS.match(text.split(".")[0])
        if digits:
            return _make_date(*digits.groups(), text)
        number = float(text)
        if number.is_integer() and _SERIAL_MIN <= number <= _SERIAL_MAX:
            return _date_from_serial(int(number)), None
        return None, f"“{_shown(value)}”不是日期，{DATE_HINT}。"
    match = _DATE_TEXT.match(text)
    if match:
        return _make_date(*match.groups(), text)
    return None, f"日期“{_shown(value)}”无法识别，{DATE_HINT}。"


# Classification (HJ 1312) ----------------------------------------------------------------------------------
UNDETERMINED_WORDS = (
    "无法确定",
    "暂不确定",
    "不确定",
    "未确定",
    "待确定",
    "待定",
    "暂未确定",
    "暂无法判定",
    "未知",
    "待核实",
    "undetermined",
)
_UNDETERMINED = {normalise(w) for w in (TypeCode.UNDETERMINED.label, *UNDETERMINED_WORDS)}
TYPE_CODES = tuple(c for c in TypeCode if c != TypeCode.UNDETERMINED)
_CODE_TOKEN = re.compile(r"(?<![a-z])(" + "|".join(c.value.lower() for c in TYPE_CODES) + r")(?![a-z])")
_NOISE = re.compile(r"[()\[\]【】<>《》{}\-—–_/\\|:;,、·.]")
# Names for level-2 types that the city's plan and county ledgers write besides HJ 1312's own labels.
LEVEL2_ALIASES = {
    Level2.IRRIGATION: ("大中型灌区口",),  # attachment 2 of the plan writes it so
    Level2.PARK_WWTP: ("工业及其他园区污水处理厂排污口", "园区污水处理厂排污口", "工业园区污水处理厂排污口"),
    Level2.PARK_WWTP_STORM: (
        "工业及其他园区污水处理厂雨洪排口",
        "园区污水处理厂雨洪排口",
        "工业园区雨洪排口",
    ),
    Level2.AQUACULTURE_SMALL: ("中小型水产养殖散排口", "水产养殖散排口"),
    Level2.RURAL_FACILITY: ("农村生活污水处理设施排污口", "集中式农村生活污水处理设施排污口"),
}
_LEVEL3 = {normalise(c.label): c for c in Level3}
_LEVEL2 = {normalise(c.label): c for c in Level2} | {
    normalise(alias): level2 for level2, aliases in LEVEL2_ALIASES.items() for alias in aliases
}
_LEVEL1 = {normalise(c.label): c for c in TYPE_CODES}


def _label_variants(label):
    """The label and its usual variants: with 排污口/排口 added or swapped."""
    yield label
    for suffix in ("排污口", "排口"):
        if not label.endswith(("排污口", "排口")):
            yield label + suffix
    if label.endswith("排污口"):
        yield label[: -len("排污口")] + "排口"
    elif label.endswith("排口"):
        yield label[: -len("排口")] + "排污口"


def _classified(label, code):
    """(type_code, level2, level3) for a label (normalised) and an optional code written with it."""
    for variant in _label_variants(label):
        if variant in _LEVEL3:
            level3 = _LEVEL3[variant]
            level2 = LEVEL3_PARENT[level3]
            return LEVEL2_CODE[level2], level2, level3
        if variant in _LEVEL2:
            level2 = _LEVEL2[variant]
            # "城镇污水处理厂排污口（SH）": the level-1 label with its code means level 1 only.
            if code is not None and _LEVEL1.get(variant) == code:
                return code, None, None
            return LEVEL2_CODE[level2], level2, None
        if variant in _LEVEL1:
            return _LEVEL1[variant], None, None
    return None


def parse_classification(value):
    """入河排污口分类 → ((type_code, level2, level3), None), blanks as "".

    Reads a level-1, level-2 or level-3 label of HJ 1312 (also with 排污口/排口 swapped or left off), a
    code GY/SH/NY/YH/QT alone or beside a label ("工业排污口（GY）", "GY-工矿企业排污口"), and
    暂无法确定/待定/不确定 (→ UNDETERMINED). A label whose type disagrees with the code beside it is an error.
    """
    if _is_empty(value):
        return None, None
    text = normalise(value)
    if text in _UNDETERMINED:
        return (TypeCode.UNDETERMINED.value, "", ""), None
    codes = {m.group(1).upper() for m in _CODE_TOKEN.finditer(text)}
    if len(codes) > 1:
        return None, f"分类“{_shown(value)}”写了多个类型代码（{LIST_SEPARATOR.join(sorted(codes))}）。"
    code = TypeCode(codes.pop()) if codes else None
    label = _NOISE.sub("", _CODE_TOKEN.sub("", text))
    if not label:
        return (code.value, "", ""), None
    found = _classified(label, code)
    if found is None:
        return None, (
            f"无法识别的入河排污口分类“{_shown(value)}”，请填 HJ 1312 的分类名称（如 工矿企业排污口、"
            f"城镇雨洪排口）、类型代码（{LIST_SEPARATOR.join(c.value for c in TYPE_CODES)}）或“暂无法确定”。"
        )
    type_code, level2, level3 = found
    if code is not None and type_code != code:
        return None, (
            f"分类“{_shown(value)}”中的名称属于{type_code.label}（{type_code.value}），"
            f"与代码 {code.value} 不一致。"
        )
    return (type_code.value, level2.value if level2 else "", level3.value if level3 else ""), None


def classification_text(type_code, level2="", level3=""):
    """The classification cell: the most specific label; level 1 only as "label（CODE）"; else 暂无法确定."""
    if level3:
        return _label(Level3(level3))
    if level2:
        return _label(Level2(level2))
    if type_code and type_code != TypeCode.UNDETERMINED:
        code = TypeCode(type_code)
        return f"{code.label}（{code.value}）"
    return _label(TypeCode.UNDETERMINED)


# Export: one outfall → its cells ---------------------------------------------------------------------------
RELATED_FIELDS = ("county", "town", "village", "water_body", "responsible_entity")


def _name(obj):
    if obj is None:
        return None
    return getattr(obj, "name", None) or None


def _text(value):
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def outlet_text(position, description):
    """The outlet cell: position label + "，" + description (as Outfall.outlet_text)."""
    parts = [_label_of(OutletPosition, position) or "", (description or "").strip()]
    return OUTLET_SEPARATOR.join(p for p in parts if p) or None


def cell_values(outfall, seq=None, *, related=None):
    """The export's cells for one outfall, keyed by column key (COLUMNS and CODE_COLUMNS).

    `outfall` is an Outfall or a historical Outfall row. `related` optionally gives the related objects
    (county, town, village, water_body, responsible_entity) instead of reading them from the outfall, as
    the as-of export does with their versions of that date; each needs `name`, the responsible entity
    also `kind`, `lon` and `lat`. Empty cells are None; the approval date is a `date`.
    """
    related = related or {}

    def rel(name):
        return related[name] if name in related else getattr(outfall, name)

    entity = rel("responsible_entity") if outfall.responsible_entity_id else None
    return {
        "seq": seq,
        "water_body": _name(rel("water_body")),
        "section_interval": _text(outfall.section_interval),
        "county": _name(rel("county")),
        "town": _name(rel("town")) if outfall.town_id else None,
        "village": _name(rel("village")) if outfall.village_id else None,
        "name": _text(outfall.name),
        "location": format_point(outfall.lon, outfall.lat) or None,
        "entry_mode": _label_of(EntryMode, outfall.entry_mode),
        "outlet": outlet_text(outfall.outlet_position, outfall.outlet_description),
        "conveyance": _label_of(Conveyance, outfall.conveyance),
        "responsible_entity": _name(entity) if entity is not None else _text(outfall.responsibility_note),
        "unit_location": (format_point(entity.lon, entity.lat) or None) if entity is not None else None,
        "unit_kind": _label_of(UnitKind, entity.kind) if entity is not None else None,
        "classification": classification_text(outfall.type_code, outfall.type_level2, outfall.type_level3),
        "rectification": _label_of(RectificationStatus, outfall.rectification_status),
        "registered": YES if outfall.registered else NO,
        "approval_date": outfall.approval_date,
        "permit_number": _text(outfall.permit_number),
        "code": _text(outfall.code),
        "national_code": _text(outfall.national_code),
    }


# The parser for each column key whose cell is not plain text (the import's dispatch table). Plain-text
# columns (names, section interval, permit number, codes) are read as written; coordinates are read by
# the coordinate parser; place, river and unit names are resolved against the database.
PARSERS = {
    "entry_mode": parse_entry_mode,
    "outlet": parse_outlet,
    "conveyance": parse_conveyance,
    "unit_kind": parse_unit_kind,
    "classification": parse_classification,
    "rectification": parse_rectification,
    "registered": parse_yes_no,
    "approval_date": parse_date,
}
