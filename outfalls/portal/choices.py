from django.db import models


class ReportCategory(models.TextChoices):
    """What the citizen saw (举报类别); also the Open311 service codes."""

    ODOUR = "odour", "异味"
    COLOUR = "colour", "水体颜色异常"
    DEAD_FISH = "dead_fish", "死鱼"
    ILLEGAL_PIPE = "illegal_pipe", "私设暗管"
    RAIN_DUMPING = "rain_dumping", "雨天偷排"
    OTHER = "other", "其他"


class ReportStatus(models.TextChoices):
    RECEIVED = "received", "已受理"
    ASSIGNED = "assigned", "已分派"
    INVESTIGATING = "investigating", "正在处理"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已合并"


OPEN_STATUSES = (ReportStatus.RECEIVED, ReportStatus.ASSIGNED, ReportStatus.INVESTIGATING)
# The handling workflow: the steps allowed from each status.
REPORT_STEPS = {
    ReportStatus.RECEIVED: (ReportStatus.ASSIGNED, ReportStatus.INVESTIGATING, ReportStatus.ANSWERED),
    ReportStatus.ASSIGNED: (ReportStatus.ASSIGNED, ReportStatus.INVESTIGATING, ReportStatus.ANSWERED),
    ReportStatus.INVESTIGATING: (ReportStatus.ASSIGNED, ReportStatus.ANSWERED),
    ReportStatus.ANSWERED: (ReportStatus.CLOSED, ReportStatus.INVESTIGATING),
    ReportStatus.CLOSED: (),
    ReportStatus.MERGED: (),
}


class LocationSource(models.TextChoices):
    GPS = "gps", "手机定位"
    MAP = "map", "地图选点"
    ADDRESS = "address", "填写地址"


class SignEventKind(models.TextChoices):
    GENERATED = "generated", "生成标识牌文件"
    INSTALLED = "installed", "确认已安装"


class SignSize(models.TextChoices):
    """The sign's forms (outfalls/portal/signboard.py: render_sign(content, size=...))."""

    WALL = "wall", "平面固定式（墙面）"
    STANDING = "standing", "立柱式"
