from django.db import models

from .classification import Level2, Level3, TypeCode  # noqa: F401  (re-exported: one import site)


class WaterBodyKind(models.TextChoices):
    RIVER = "river", "河流"
    LAKE = "lake", "湖泊"
    RESERVOIR = "reservoir", "水库"
    CANAL = "canal", "渠道"


class WaterClass(models.TextChoices):
    I = "I", "Ⅰ类"  # noqa: E741
    II = "II", "Ⅱ类"
    III = "III", "Ⅲ类"
    IV = "IV", "Ⅳ类"
    V = "V", "Ⅴ类"
    WORSE_V = "worse_v", "劣Ⅴ类"


# GB 3838 classes from best to worst: a zone whose assessed class ranks after its target misses it.
WATER_CLASS_ORDER = tuple(WaterClass)
# Targets are one of the five classes; 劣Ⅴ类 is only ever an assessed class.
TARGET_CLASSES = tuple(c for c in WaterClass if c != WaterClass.WORSE_V)


def worse_than(assessed, target):
    """True when the assessed class is worse than the target (both WaterClass values; blank: unknown)."""
    if not assessed or not target:
        return False
    return WATER_CLASS_ORDER.index(WaterClass(assessed)) > WATER_CLASS_ORDER.index(WaterClass(target))


class ZoneKind(models.TextChoices):
    """水功能区 (water resources planning) or 水环境功能区 (environmental zoning): both carry a GB 3838 target."""

    WATER_FUNCTION = "water_function", "水功能区"
    WATER_ENVIRONMENT = "water_environment", "水环境功能区"


class WaterWorksKind(models.TextChoices):
    """Works near which setting up an outfall needs the water authority's opinion (实施方案（九）)."""

    FLOOD_WORKS = "flood_works", "防洪工程"
    WATER_INTAKE = "water_intake", "取水口"
    DYKE = "dyke", "堤防"


class SectionLevel(models.TextChoices):
    NATIONAL = "national", "国考"
    PROVINCIAL = "provincial", "省考"
    CITY = "city", "市考"


class UnitKind(models.TextChoices):
    INDUSTRIAL = "industrial", "工业企业"
    MINE = "mine", "矿山企业"
    PARK_WWTP = "park_wwtp", "园区污水处理厂"
    MUNICIPAL_WWTP = "municipal_wwtp", "城镇污水处理厂"
    LIVESTOCK = "livestock", "畜禽养殖场"
    AQUACULTURE = "aquaculture", "水产养殖场"
    HOSPITAL = "hospital", "医疗机构"
    COMMERCIAL = "commercial", "商业服务业"
    RESIDENTIAL = "residential", "住宅小区"
    INSTITUTION = "institution", "机关事业单位"
    RURAL_FACILITY = "rural_facility", "农村污水处理设施"
    GOVERNMENT = "government", "政府部门（兜底）"
    OTHER = "other", "其他"


class LifecycleStatus(models.TextChoices):
    SUSPECTED = "suspected", "疑似"
    VERIFIED = "verified", "已核实"
    TRACED = "traced", "已溯源"
    CLASSIFIED = "classified", "已分类"
    RECTIFYING = "rectifying", "整治中"
    KEPT = "kept", "保留"
    MERGED = "merged", "合并"
    REMOVED = "removed", "取缔"
    CLOSED = "closed", "已销号"


# The lifecycle's allowed steps (DESIGN.md). Every change of an outfall's state goes through
# registry.services.set_outfall_state, which finds the path through this table.
LIFECYCLE_TRANSITIONS = {
    LifecycleStatus.SUSPECTED: (LifecycleStatus.VERIFIED,),
    LifecycleStatus.VERIFIED: (LifecycleStatus.TRACED,),
    LifecycleStatus.TRACED: (LifecycleStatus.CLASSIFIED,),
    LifecycleStatus.CLASSIFIED: (LifecycleStatus.RECTIFYING, LifecycleStatus.KEPT),
    LifecycleStatus.RECTIFYING: (LifecycleStatus.KEPT, LifecycleStatus.MERGED, LifecycleStatus.REMOVED),
    LifecycleStatus.KEPT: (LifecycleStatus.RECTIFYING, LifecycleStatus.CLOSED),
    # A close-out that is reopened (remediation) goes back to rectifying.
    LifecycleStatus.MERGED: (LifecycleStatus.CLOSED, LifecycleStatus.RECTIFYING),
    LifecycleStatus.REMOVED: (LifecycleStatus.CLOSED, LifecycleStatus.RECTIFYING),
    LifecycleStatus.CLOSED: (LifecycleStatus.RECTIFYING,),
}


class Workflow(models.TextChoices):
    """Who may make a lifecycle step (registry.services.set_outfall_state(workflow=...))."""

    LEDGER = "ledger", "台账状态变更"
    TRACING = "tracing", "溯源结案"
    REMEDIATION = "remediation", "一口一策整治方案"
    CLOSEOUT = "closeout", "销号审核"
    # Makes no lifecycle step: the setup-review decision writes the approval fields (registry.services).
    SETUP_REVIEW = "setup_review", "设置审核决定"


# The workflow that owns each step. Steps owned by no workflow (LEDGER) are the only ones the generic
# status change on the outfall's page offers; the others are reached only through their workflow's service:
# traced only by concluding a tracing case, rectifying only by a plan (or a reopened close-out), and the
# outcomes (kept, merged, removed, closed) only by an approved close-out.
STEP_OWNER = {
    (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED): Workflow.LEDGER,
    (LifecycleStatus.VERIFIED, LifecycleStatus.TRACED): Workflow.TRACING,
    (LifecycleStatus.TRACED, LifecycleStatus.CLASSIFIED): Workflow.LEDGER,
    (LifecycleStatus.CLASSIFIED, LifecycleStatus.RECTIFYING): Workflow.REMEDIATION,
    (LifecycleStatus.CLASSIFIED, LifecycleStatus.KEPT): Workflow.CLOSEOUT,
    (LifecycleStatus.RECTIFYING, LifecycleStatus.KEPT): Workflow.CLOSEOUT,
    (LifecycleStatus.RECTIFYING, LifecycleStatus.MERGED): Workflow.CLOSEOUT,
    (LifecycleStatus.RECTIFYING, LifecycleStatus.REMOVED): Workflow.CLOSEOUT,
    (LifecycleStatus.KEPT, LifecycleStatus.RECTIFYING): Workflow.REMEDIATION,
    (LifecycleStatus.KEPT, LifecycleStatus.CLOSED): Workflow.CLOSEOUT,
    (LifecycleStatus.MERGED, LifecycleStatus.CLOSED): Workflow.CLOSEOUT,
    (LifecycleStatus.MERGED, LifecycleStatus.RECTIFYING): Workflow.REMEDIATION,
    (LifecycleStatus.REMOVED, LifecycleStatus.CLOSED): Workflow.CLOSEOUT,
    (LifecycleStatus.REMOVED, LifecycleStatus.RECTIFYING): Workflow.REMEDIATION,
    (LifecycleStatus.CLOSED, LifecycleStatus.RECTIFYING): Workflow.REMEDIATION,
}


def ledger_steps(status):
    """The steps from `status` that belong to no workflow (offered by the generic status change)."""
    return tuple(
        to
        for to in LIFECYCLE_TRANSITIONS[LifecycleStatus(status)]
        if STEP_OWNER[status, to] == Workflow.LEDGER
    )


def workflow_steps(status):
    """[(next status, the workflow that makes the step)] for the steps from `status` that a workflow owns
    (shown on the outfall's page beside the generic status change, so people know where to go)."""
    return [
        (LifecycleStatus(to), Workflow(STEP_OWNER[status, to]))
        for to in LIFECYCLE_TRANSITIONS[LifecycleStatus(status)]
        if STEP_OWNER[status, to] != Workflow.LEDGER
    ]


# Groupings of the lifecycle, named once for every app.
NOT_TRACED = (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED)
TRACED_OR_LATER = tuple(s for s in LifecycleStatus if s not in NOT_TRACED)
# Outfalls that no longer discharge on their own (merged into another, removed, closed out): they are not
# rectified again unless a close-out is reopened, and another outfall cannot be merged into them.
FINISHED = (LifecycleStatus.MERGED, LifecycleStatus.REMOVED, LifecycleStatus.CLOSED)
# Verified and not finished: what the rectification rules look at.
ACTIVE = (
    LifecycleStatus.VERIFIED,
    LifecycleStatus.TRACED,
    LifecycleStatus.CLASSIFIED,
    LifecycleStatus.RECTIFYING,
    LifecycleStatus.KEPT,
)
# States a new outfall may start in: a ledger entry starts suspected or verified; the later states are reached
# through their workflows.
INITIAL = (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED)


class RectificationStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未整治"
    IN_PROGRESS = "in_progress", "正在整治"
    COMPLETED = "completed", "已完成"
    NOT_NEEDED = "not_needed", "无需整治"


class DisclosureBasis(models.TextChoices):
    """Why an outfall is public or not: the disclosure rules (settings DISCLOSURE_STATUSES / DISCLOSURE_TYPE_CODES)
    or a person's decision, which the rules no longer change."""

    RULE = "rule", "按公开规则"
    DECISION = "decision", "人工决定"


class DisclosureState(models.TextChoices):
    """The values a status-change row of the field "disclosed" records."""

    PUBLIC = "public", "向社会公开"
    WITHHELD = "withheld", "不公开"


class SignState(models.TextChoices):
    """The values a status-change row of the field "sign_installed" records."""

    INSTALLED = "installed", "已设置标识牌"
    NOT_INSTALLED = "not_installed", "未设置标识牌"


class RectificationMeasure(models.TextChoices):
    REMOVE = "remove", "依法取缔"
    MERGE = "merge", "清理合并"
    REGULARISE = "regularise", "规范整治"
    NONE = "none", "无需整治"


# 实施方案（十）: "严禁合并、封堵城镇雨洪排口，防止影响汛期排水防涝安全".
STORM_FORBIDDEN_MEASURES = (RectificationMeasure.REMOVE, RectificationMeasure.MERGE)


def storm_measure_error(type_code, measure):
    """The plan's rule for storm outfalls: a Chinese refusal when `measure` would remove or merge a 城镇雨洪排口,
    else None. The model (clean), the state service, plan validation and the rules all ask this."""
    if type_code == TypeCode.YH and measure in STORM_FORBIDDEN_MEASURES:
        return (
            f"城镇雨洪排口严禁合并、封堵（实施方案（十）），整治措施不能为“{RectificationMeasure(measure).label}”；"
            "旱天有污水排放的，应溯源治理后规范整治。"
        )
    return None


# What an approved close-out (销号) leaves, per measure (docs/architecture.md): 取缔 → removed and closed out
# (the outfall no longer exists: 整治中 → 取缔 → 已销号 in one step); 合并 → merged into the plan's target
# (merged_into); 规范整治 and 无需整治 → kept (保留, on the retained list), registered by the approver.
CLOSEOUT_STATUS = {
    RectificationMeasure.REMOVE: LifecycleStatus.CLOSED,
    RectificationMeasure.MERGE: LifecycleStatus.MERGED,
    RectificationMeasure.REGULARISE: LifecycleStatus.KEPT,
    RectificationMeasure.NONE: LifecycleStatus.KEPT,
}
# The state a close-out passes through on its way (a removal is recorded as removed, then closed out).
CLOSEOUT_VIA = {RectificationMeasure.REMOVE: LifecycleStatus.REMOVED}


class EntryMode(models.TextChoices):
    """入河方式 / 口门形态 (value list seen in real outfall systems)."""

    OPEN_CHANNEL = "open_channel", "明渠"
    PIPE = "pipe", "管道"
    PUMP_STATION = "pump_station", "泵站"
    SLUICE = "sluice", "涵闸"
    SLUICE_PUMP = "sluice_pump", "闸泵联用"
    BOX_CULVERT = "box_culvert", "箱涵"
    SUBMERGED = "submerged", "潜没"
    OTHER = "other", "其他"


class OutletPosition(models.TextChoices):
    LEFT_BANK = "left_bank", "左岸"
    RIGHT_BANK = "right_bank", "右岸"
    RIVER_BED = "river_bed", "河床（潜没）"
    OTHER = "other", "其他"


class Conveyance(models.TextChoices):
    """引流方式: how the water is led from the unit to the outfall."""

    PIPE = "pipe", "管道"
    OPEN_CHANNEL = "open_channel", "明渠"
    CULVERT = "culvert", "暗渠（涵）"
    DITCH = "ditch", "沟渠"
    DIRECT = "direct", "直排"
    OTHER = "other", "其他"


class ResponsibilityBasis(models.TextChoices):
    """How the responsible entity was determined."""

    UNKNOWN = "unknown", "尚未确定"
    TRACED = "traced", "溯源确定"
    DECLARED = "declared", "单位申报"
    GOVERNMENT_FALLBACK = "government_fallback", "政府兜底"


class LinkRole(models.TextChoices):
    OWNER = "owner", "产权单位"
    SHARES = "shares", "共用"
    BORROWS = "borrows", "借道排污"


class FieldKnowledge(models.TextChoices):
    """Name and code as known in the field."""

    UNKNOWN = "unknown", "暂不掌握"
    KNOWN = "known", "已掌握"
    ON_SIGN = "on_sign", "标识牌显示"


class ProtectedAreaKind(models.TextChoices):
    """特殊保护区域: an outfall inside one is to be removed by law (应依法取缔)."""

    DRINKING_WATER_1 = "drinking_water_1", "饮用水水源一级保护区"
    DRINKING_WATER_2 = "drinking_water_2", "饮用水水源二级保护区"
    DRINKING_WATER_QUASI = "drinking_water_quasi", "饮用水水源准保护区"
    SPRING = "spring", "泉域重点保护区"
    NATURE_RESERVE = "nature_reserve", "自然保护区"
    ECO_REDLINE = "eco_redline", "生态保护红线"
    OTHER = "other", "其他需要特殊保护的区域"


class FindingKind(models.TextChoices):
    PROTECTED_AREA = "protected_area", "位于特殊保护区域"
    COUNTY_MISMATCH = "county_mismatch", "坐标不在所填县区内"
    SECTION_INTERVAL = "section_interval", "断面区间"
    FAR_FROM_RIVER = "far_from_river", "距所填受纳水体较远"
    DUPLICATE = "duplicate", "疑似重复排口"


class FindingSeverity(models.TextChoices):
    ERROR = "error", "严重"
    WARNING = "warning", "警告"
    INFO = "info", "信息"


# The choices whose values an outfall's status-change rows record (status, measure, disclosure, sign): every page
# that lists an outfall's changes labels them with these.
OUTFALL_CHANGE_CHOICES = (LifecycleStatus, RectificationMeasure, DisclosureState, SignState)
