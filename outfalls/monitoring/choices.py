from django.db import models

from outfalls.registry.limits import Frequency
from outfalls.registry.limits import LimitKind as RegistryLimitKind


class StandardKind(models.TextChoices):
    EFFLUENT = "effluent", "排放标准"
    SURFACE_WATER = "surface_water", "地表水环境质量标准"


class Dimension(models.TextChoices):
    """What a parameter measures, which decides the units it may be converted between."""

    CONCENTRATION = "concentration", "浓度"
    PH = "ph", "pH（无量纲）"
    FLOW = "flow", "流量"
    TEMPERATURE = "temperature", "温度"
    OTHER = "other", "其他"


class LimitKind(models.TextChoices):
    MAX = RegistryLimitKind.MAX, "最高限值"
    MIN = RegistryLimitKind.MIN, "最低限值（不低于）"
    RANGE = RegistryLimitKind.RANGE, "范围（如 pH 6–9）"
    DAILY_MEAN = RegistryLimitKind.DAILY_MEAN, "日均值限值"


class LimitCondition(models.TextChoices):
    """When a limit applies: always, only at low water temperature (GB 18918's NH3-N values in brackets), or only
    in lakes and reservoirs (GB 3838's TN, and its TP values in brackets)."""

    ALWAYS = "", "一般情况"
    COLD = "cold", "水温≤12℃时"
    LAKE = "lake", "湖、库"


class LimitSource(models.TextChoices):
    PERMIT = "permit", "排污许可（或设置审批）"
    ASSIGNED = "assigned", "指定执行标准"
    RULE = "rule", "按排口类型与受纳水体"


class SampleSource(models.TextChoices):
    SUPERVISORY = "supervisory", "监督性监测"
    SELF = "self", "自行监测"
    ONLINE = "online", "在线监测"
    CITIZEN = "citizen", "群众举报监测"
    RANDOM = "random", "双随机抽查监测"


class Weather(models.TextChoices):
    UNKNOWN = "", "未记录"
    DRY = "dry", "旱天"
    WET = "wet", "雨天"


class Qualifier(models.TextChoices):
    NONE = "", "—"
    BELOW_LOD = "below_lod", "未检出（低于检出限）"
    ESTIMATED = "estimated", "估算值"


class StationKind(models.TextChoices):
    MANUAL = "manual", "手工采样点"
    ONLINE = "online", "在线监测站（HJ 212）"


class Grain(models.TextChoices):
    SAMPLE = "sample", "手工样品"
    MINUTE = "minute", "分钟值"
    HOUR = "hour", "小时值"
    DAY = "day", "日均值"


class FindingKind(models.TextChoices):
    EXCEEDANCE = "exceedance", "超标"
    CHRONIC = "chronic", "持续超标"
    MISSING = "missing", "缺少应测样品"
    UNJUDGED = "unjudged", "检出限高于限值，无法判定"


class DutyFrequency(models.TextChoices):
    DAILY = Frequency.DAILY, "每日"
    WEEKLY = Frequency.WEEKLY, "每周"
    MONTHLY = Frequency.MONTHLY, "每月"
    QUARTERLY = Frequency.QUARTERLY, "每季度"
    HALF_YEARLY = Frequency.HALF_YEARLY, "每半年"
    YEARLY = Frequency.YEARLY, "每年"
    ONLINE = Frequency.ONLINE, "自动监测（每小时）"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    IMPORTED = "imported", "已导入"
    UNCHANGED = "unchanged", "无变化（重复文件）"
    FAILED = "failed", "失败"


class RejectReason(models.TextChoices):
    """Why the HJ 212 listener refused a packet (counted, logged, never stored as data)."""

    BAD_FRAME = "bad_frame", "报文格式错误"
    BAD_CRC = "bad_crc", "CRC 校验错误"
    UNKNOWN_MN = "unknown_mn", "未登记的设备编码（MN）"
    BAD_PASSWORD = "bad_password", "访问密码错误"
    BAD_DATA = "bad_data", "数据区无法解析"


class DrawStatus(models.TextChoices):
    DRAWN = "drawn", "已抽取（保密）"
    PUBLISHED = "published", "已公开"


class InspectionClass(models.TextChoices):
    """双随机 target classes (实施方案（十）): the outfalls whose water quality is monitored by random inspection."""

    INDUSTRIAL = "industrial_mining", "工矿企业入河排污口"
    PARK_WWTP = "park_wwtp", "工业及其他各类园区污水处理厂入河排污口"
    MUNICIPAL_WWTP = "municipal_wwtp", "城镇污水处理厂入河排污口"
    RURAL_FACILITY = "rural_facility", "集中式农村生活污水处理设施入河排污口"


class InspectionResult(models.TextChoices):
    PENDING = "", "待检查"
    COMPLIANT = "compliant", "达标"
    EXCEEDED = "exceeded", "超标"
    NOT_DISCHARGING = "not_discharging", "检查时未排水"
    OTHER = "other", "其他问题"


class DryWeatherSource(models.TextChoices):
    FIELD_CHECK = "field_check", "现场核查"
    SAMPLE = "sample", "手工采样"
    ONLINE = "online", "在线流量"
