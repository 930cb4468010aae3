from django.db import models


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", "未开始"
    ACTIVE = "active", "进行中"
    COMPLETED = "completed", "已完成"


class Bank(models.TextChoices):
    LEFT = "left", "左岸"
    RIGHT = "right", "右岸"
    BOTH = "both", "两岸"


class PointSource(models.TextChoices):
    """Where a suspected point came from (HJ 1232-2021 level 1, or found on the walk)."""

    UAV = "uav", "无人机航测"
    REMOTE_SENSING = "remote_sensing", "卫星遥感解译"
    FIELD = "field", "现场新发现"
    REPORT = "report", "群众举报或其他"


class PointOutcome(models.TextChoices):
    """Every suspected point ends in exactly one of the final outcomes (不重不漏)."""

    PENDING = "pending", "待核查"
    ESCALATED = "escalated", "待专家研判"
    CONFIRMED = "confirmed", "确认为排口"
    DUPLICATE = "duplicate", "与已有排口重复"
    NOT_OUTFALL = "not_outfall", "非排口"


FINAL_OUTCOMES = (PointOutcome.CONFIRMED, PointOutcome.DUPLICATE, PointOutcome.NOT_OUTFALL)
OPEN_OUTCOMES = (PointOutcome.PENDING, PointOutcome.ESCALATED)


class FlowState(models.TextChoices):
    """排水特征 at the visit."""

    FLOWING = "flowing", "排水"
    DRY = "dry", "无水"
    STAGNANT = "stagnant", "有死水"
    GATE_CLOSED = "gate_closed", "闸断"
    UNSURE = "unsure", "不确定"


class Colour(models.TextChoices):
    CLEAR = "clear", "无色透明"
    GREY = "grey", "灰色"
    BLACK = "black", "黑色"
    YELLOW = "yellow", "黄色"
    RED = "red", "红色"
    GREEN = "green", "绿色"
    MILKY = "milky", "乳白色"
    OTHER = "other", "其他"


class Odour(models.TextChoices):
    NONE = "none", "无异味"
    SLIGHT = "slight", "轻微异味"
    STRONG = "strong", "明显异味"
    FOUL = "foul", "恶臭"


class Turbidity(models.TextChoices):
    CLEAR = "clear", "清澈"
    SLIGHT = "slight", "微浊"
    TURBID = "turbid", "浑浊"


class PositionSource(models.TextChoices):
    GPS = "gps", "手机定位"
    MAP = "map", "地图选点"
    TYPED = "typed", "手工输入"


class CaseStatus(models.TextChoices):
    OPEN = "open", "溯源中"
    CONCLUDED = "concluded", "已结案"


class StepKind(models.TextChoices):
    """溯源 methods (HJ 1313-2023)."""

    PIPE_WALK = "pipe_walk", "管线排查"
    MANHOLE = "manhole", "检查井排查"
    DYE_TEST = "dye_test", "示踪（染色）试验"
    CCTV = "cctv", "管道 CCTV 检测"
    SAMPLING = "sampling", "采样监测"
    DOCUMENT_REVIEW = "document_review", "资料及许可核查"
    INTERVIEW = "interview", "走访询问"
    OTHER = "other", "其他"
