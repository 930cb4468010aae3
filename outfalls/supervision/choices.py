"""Choices of enforcement (执法): the kinds of case, where a case came from, its steps, and the entities'
借道排污 reports."""

from django.db import models


class CaseKind(models.TextChoices):
    """What the case is about (实施方案（十一）)."""

    ILLEGAL_SETUP = "illegal_setup", "违法设置入河排污口"
    OVER_LIMIT = "over_limit", "超标排放"
    BORROWING = "borrowing", "借道排污"
    HIDDEN_PIPE = "hidden_pipe", "私设暗管"
    RAIN_DUMPING = "rain_dumping", "借雨天偷排偷倒"
    OTHER = "other", "其他"


class CaseSource(models.TextChoices):
    """Where a case was opened from. The value names the source's model (app_label.model) only in
    SOURCE_MODELS below: supervision reads it through the content types, never by import."""

    REPORT = "report", "群众举报"
    TRACING = "tracing", "溯源结论"
    EXCEEDANCE = "exceedance", "监测超标"
    PATROL = "patrol", "巡河发现"
    ENTITY = "entity", "责任主体报告"
    DIRECT = "direct", "直接立案"


# The source kinds that name an object, and its model (ContentType app_label, model).
SOURCE_MODELS = {
    CaseSource.REPORT: ("portal", "report"),
    CaseSource.TRACING: ("survey", "tracingcase"),
    CaseSource.EXCEEDANCE: ("monitoring", "finding"),
    CaseSource.ENTITY: ("supervision", "entityreport"),
    CaseSource.PATROL: ("supervision", "patrolfinding"),
}


class CaseStatus(models.TextChoices):
    """The case's steps: 立案 → 调查 → 告知 → 决定 → 执行 → 结案. A decision without a penalty (责令改正,
    不予处罚) closes without the 执行 step."""

    OPENED = "opened", "已立案"
    INVESTIGATED = "investigated", "已调查"
    NOTIFIED = "notified", "已告知"
    DECIDED = "decided", "已决定"
    ENFORCED = "enforced", "已执行"
    CLOSED = "closed", "已结案"


OPEN_CASE_STATUSES = (
    CaseStatus.OPENED,
    CaseStatus.INVESTIGATED,
    CaseStatus.NOTIFIED,
    CaseStatus.DECIDED,
    CaseStatus.ENFORCED,
)

# The step each status leads to, and the name of the step (the button and the status-change row).
STEP_NAMES = {
    CaseStatus.INVESTIGATED: "调查",
    CaseStatus.NOTIFIED: "告知",
    CaseStatus.DECIDED: "决定",
    CaseStatus.ENFORCED: "执行",
    CaseStatus.CLOSED: "结案",
}
NEXT_STEPS = {
    CaseStatus.OPENED: (CaseStatus.INVESTIGATED,),
    CaseStatus.INVESTIGATED: (CaseStatus.NOTIFIED,),
    CaseStatus.NOTIFIED: (CaseStatus.DECIDED,),
    CaseStatus.DECIDED: (CaseStatus.ENFORCED, CaseStatus.CLOSED),  # 结案 directly only without a penalty
    CaseStatus.ENFORCED: (CaseStatus.CLOSED,),
    CaseStatus.CLOSED: (),
}
# The date field each status sets.
STEP_DATES = {
    CaseStatus.OPENED: "opened_on",
    CaseStatus.INVESTIGATED: "investigated_on",
    CaseStatus.NOTIFIED: "notified_on",
    CaseStatus.DECIDED: "decided_on",
    CaseStatus.ENFORCED: "enforced_on",
    CaseStatus.CLOSED: "closed_on",
}


class Outcome(models.TextChoices):
    """The decision (决定)."""

    PENALTY = "penalty", "行政处罚"
    CORRECTION = "correction", "责令改正（不予罚款）"
    NO_PENALTY = "no_penalty", "不予行政处罚"


class EntityReportStatus(models.TextChoices):
    SUBMITTED = "submitted", "待处理"
    CASE_OPENED = "case_opened", "已立案"
    DISMISSED = "dismissed", "不予立案"
