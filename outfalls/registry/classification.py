"""HJ 1312-2023 outfall classification (source document attachment 2): three levels, five type codes.

Level 1 is the type code (GY/SH/NY/YH/QT, stored as the standard writes them). Level 2 and level 3 have
stable English values and Chinese labels. 暂无法确定 (UNDETERMINED) is used before tracing is done.
"""

from django.db import models


class TypeCode(models.TextChoices):
    GY = "GY", "工业排污口"
    SH = "SH", "城镇污水处理厂排污口"
    NY = "NY", "农业排口"
    YH = "YH", "城镇雨洪排口"
    QT = "QT", "其他排口"
    UNDETERMINED = "UNDETERMINED", "暂无法确定"


class Level2(models.TextChoices):
    INDUSTRIAL_MINING = "industrial_mining", "工矿企业排污口"
    INDUSTRIAL_MINING_STORM = "industrial_mining_storm", "工矿企业雨洪排口"
    PARK_WWTP = "park_wwtp", "工业及其他各类园区污水处理厂排污口"
    PARK_WWTP_STORM = "park_wwtp_storm", "工业及其他各类园区污水处理厂雨洪排口"
    MUNICIPAL_WWTP = "municipal_wwtp", "城镇污水处理厂排污口"
    LIVESTOCK_SCALE = "livestock_scale", "规模化畜禽养殖排污口"
    AQUACULTURE_SCALE = "aquaculture_scale", "规模化水产养殖排污口"
    URBAN_STORM = "urban_storm", "城镇雨洪排口"
    IRRIGATION = "irrigation", "大中型灌区排口"
    PORT = "port", "港口码头排污口"
    LIVESTOCK_SMALL = "livestock_small", "规模以下畜禽养殖排污口"
    AQUACULTURE_SMALL = "aquaculture_small", "规模以下水产养殖排污口"
    URBAN_DOMESTIC_SCATTERED = "urban_domestic_scattered", "城镇生活污水散排口"
    RURAL_FACILITY = "rural_facility", "农村污水处理设施排污口"
    RURAL_DOMESTIC_SCATTERED = "rural_domestic_scattered", "农村生活污水散排口"
    OTHER = "other", "其他排污口"


class Level3(models.TextChoices):
    INDUSTRIAL_ENTERPRISE = "industrial_enterprise", "工业企业排污口"
    MINE = "mine", "矿山排污口"
    TAILINGS = "tailings", "尾矿库排污口"
    INDUSTRIAL_ENTERPRISE_STORM = "industrial_enterprise_storm", "工业企业雨洪排口"
    MINE_STORM = "mine_storm", "矿山雨洪排口"
    TAILINGS_STORM = "tailings_storm", "尾矿库雨洪排口"


LEVEL2_CODE = {
    Level2.INDUSTRIAL_MINING: TypeCode.GY,
    Level2.INDUSTRIAL_MINING_STORM: TypeCode.GY,
    Level2.PARK_WWTP: TypeCode.GY,
    Level2.PARK_WWTP_STORM: TypeCode.GY,
    Level2.MUNICIPAL_WWTP: TypeCode.SH,
    Level2.LIVESTOCK_SCALE: TypeCode.NY,
    Level2.AQUACULTURE_SCALE: TypeCode.NY,
    Level2.URBAN_STORM: TypeCode.YH,
    Level2.IRRIGATION: TypeCode.QT,
    Level2.PORT: TypeCode.QT,
    Level2.LIVESTOCK_SMALL: TypeCode.QT,
    Level2.AQUACULTURE_SMALL: TypeCode.QT,
    Level2.URBAN_DOMESTIC_SCATTERED: TypeCode.QT,
    Level2.RURAL_FACILITY: TypeCode.QT,
    Level2.RURAL_DOMESTIC_SCATTERED: TypeCode.QT,
    Level2.OTHER: TypeCode.QT,
}

LEVEL3_PARENT = {
    Level3.INDUSTRIAL_ENTERPRISE: Level2.INDUSTRIAL_MINING,
    Level3.MINE: Level2.INDUSTRIAL_MINING,
    Level3.TAILINGS: Level2.INDUSTRIAL_MINING,
    Level3.INDUSTRIAL_ENTERPRISE_STORM: Level2.INDUSTRIAL_MINING_STORM,
    Level3.MINE_STORM: Level2.INDUSTRIAL_MINING_STORM,
    Level3.TAILINGS_STORM: Level2.INDUSTRIAL_MINING_STORM,
}


# Each level-2 type's level-1 code and each level-3 type's level-2 type, as the narrowing pick-lists of the
# forms and filters take them (core.forms.NarrowedSelect: {option value: {parent field: parent value}}).
LEVEL2_PARENTS = {l2.value: {"type_code": code.value} for l2, code in LEVEL2_CODE.items()}
LEVEL3_PARENTS = {l3.value: {"type_level2": l2.value} for l3, l2 in LEVEL3_PARENT.items()}


def level2_for(code):
    """The level-2 values under a type code."""
    return [value for value, parent in LEVEL2_CODE.items() if parent == code]


def level3_for(level2):
    return [value for value, parent in LEVEL3_PARENT.items() if parent == level2]


def type_name(type_code, level2="", level3=""):
    """The most specific type name known, as used at the end of an outfall's HJ 1235 name."""
    if level3:
        return Level3(level3).label
    if level2:
        return Level2(level2).label
    if type_code and type_code != TypeCode.UNDETERMINED:
        return TypeCode(type_code).label
    return "入河排污口"


def tree():
    """The whole classification as nested dicts, for forms and the API."""
    return [
        {
            "code": code.value,
            "label": code.label,
            "level2": [
                {
                    "value": l2.value,
                    "label": l2.label,
                    "level3": [{"value": l3.value, "label": l3.label} for l3 in level3_for(l2)],
                }
                for l2 in level2_for(code)
            ],
        }
        for code in TypeCode
        if code != TypeCode.UNDETERMINED
    ]
