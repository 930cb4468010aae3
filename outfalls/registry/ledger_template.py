"""Attachment 1 of the city's plan: 大同市×××县区（或单位）入河排污口信息汇总表.

One definition of the table's columns serves the export (which writes it) and the import (which finds it in
hand-filled files). Column order, group headers and printed names follow the source document; `aliases`
hold the other spellings counties use, including the document's own typos (收纳/受纳, 主任/主体,
入河单位/排污单位 地理坐标).
"""

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # stable English key
    header: str  # as printed in the prescribed table
    group: str | None  # the merged group header above it; None when the header spans both header rows
    aliases: tuple = ()
    width: float = 12  # Excel column width (units of "0"), chosen for print (ledger_export)


GROUP_PLACE = "区位信息"
GROUP_OUTFALL = "排污口信息"
GROUP_CONVEYANCE = "引流设施"
GROUP_UNIT = "排污单位信息"
GROUP_PLATFORM = "平台编码"

COLUMNS = (
    Column("seq", "序号", None, ("编号", "序"), 5),
    Column(
        "water_body",
        "受纳河流名称",
        GROUP_PLACE,
        ("收纳河流名称", "受纳水体名称", "受纳水体", "河流名称"),
        7,
    ),
    Column("section_interval", "断面区间", GROUP_PLACE, ("所在断面区间",), 10.5),
    Column("county", "县区", GROUP_PLACE, ("县（区）", "区县", "县市区"), 7),
    Column("town", "乡镇（街道）", GROUP_PLACE, ("乡镇", "乡（镇、街道）", "乡镇街道", "街道（乡镇）"), 9),
    Column("village", "村（社区）", GROUP_PLACE, ("村", "村社区", "村（居）", "社区（村）"), 7),
    Column("name", "入河排污口名称", GROUP_OUTFALL, ("排污口名称", "入河排口名称"), 20),
    Column(
        "location",
        "入河排污口地理坐标",
        GROUP_OUTFALL,
        ("排污口地理坐标", "入河排口地理坐标", "排污口坐标"),
        20.5,
    ),
    Column("entry_mode", "入河方式", GROUP_OUTFALL, ("排放方式（入河方式）",), 7),
    Column(
        "outlet",
        "入河排污口口门及位置",
        GROUP_OUTFALL,
        ("口门及位置", "排污口口门及位置", "口门形态及位置"),
        14,
    ),
    Column("conveyance", "引流方式", GROUP_CONVEYANCE, ("引流设施",), 7),
    Column(
        "responsible_entity",
        "排污责任主体单位名称",
        GROUP_UNIT,
        ("排污责任主任单位名称", "责任主体单位名称", "排污责任主体", "责任主体"),
        13,
    ),
    Column("unit_location", "排污单位地理坐标", GROUP_UNIT, ("入河单位地理坐标", "单位地理坐标"), 20.5),
    Column("unit_kind", "排污单位类型", GROUP_UNIT, ("单位类型",), 9),
    Column("classification", "入河排污口分类", None, ("排污口分类", "排口分类", "排污口类型"), 10.5),
    Column("rectification", "整治进展情况（已完成/正在整治）", None, ("整治进展情况", "整治进展"), 9),
    Column("registered", "是否完成登记建档", None, ("登记建档", "是否登记建档"), 7),
    Column(
        "approval_date",
        "设置审批或排污许可批准时间",
        None,
        ("设置审批或排污许可批复时间", "审批时间", "批准时间"),
        10.5,
    ),
    Column("permit_number", "排污许可证编号", None, ("许可证编号", "排污许可证号"), 13),
)

# Two trailing columns the platform adds so a returned file matches rows by code; the import reads files
# with or without them.
CODE_COLUMNS = (
    Column("code", "入河排污口编码", GROUP_PLATFORM, ("排污口编码", "本地编码"), 14),
    Column("national_code", "国家统一编码", GROUP_PLATFORM, ("国家编码", "国家统一赋码"), 13),
)

# Coordinates split over two cells: these headers stand in for the one-cell location columns.
SPLIT_COORDINATE_COLUMNS = (
    Column("lon", "入河排污口经度", GROUP_OUTFALL, ("经度", "排污口经度", "东经"), 12),
    Column("lat", "入河排污口纬度", GROUP_OUTFALL, ("纬度", "排污口纬度", "北纬"), 12),
    Column("unit_lon", "排污单位经度", GROUP_UNIT, ("单位经度",), 12),
    Column("unit_lat", "排污单位纬度", GROUP_UNIT, ("单位纬度",), 12),
)

ALL_COLUMNS = COLUMNS + CODE_COLUMNS + SPLIT_COORDINATE_COLUMNS


def normalise_header(text):
    """Header text as compared: NFKC (full-width to half-width), no whitespace or line breaks."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(text.split())


def _index():
    index = {}
    for column in ALL_COLUMNS:
        for name in (column.header, *column.aliases):
            index.setdefault(normalise_header(name), column)
    return index


HEADER_INDEX = _index()


def column_for_header(text):
    """The column a header cell names, or None."""
    return HEADER_INDEX.get(normalise_header(text))


def title_for(city_name, subject):
    """The table's title: 大同市平城区入河排污口信息汇总表 (subject: a county or a unit's name)."""
    return f"{city_name}{subject}入河排污口信息汇总表"


DATE_FORMAT = "%Y-%m-%d"


def format_date(value):
    return value.strftime(DATE_FORMAT) if value else ""


def format_point(lon, lat):
    """One consistent coordinate form for exported cells: decimal degrees, longitude first, CGCS2000."""
    if lon is None or lat is None:
        return ""
    return f"{lon:.6f},{lat:.6f}"
