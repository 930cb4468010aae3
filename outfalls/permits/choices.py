"""Choices of the setup review (设置审核、登记) and discharge permits: stable English values, Chinese labels.

The materials checklists are data (MATERIALS), kept here in one table so a corrected list is a one-place change.
"""

from django.db import models

from outfalls.registry.classification import Level2


class ApplicationKind(models.TextChoices):
    NEW = "new", "新设"
    CHANGE = "change", "改设"
    ENLARGE = "enlarge", "扩大"


class ChangeItem(models.TextChoices):
    """What a change (改设) changes."""

    POSITION = "position", "位置"
    TYPE = "type", "类型"
    DISCHARGE_MODE = "discharge_mode", "排放方式"
    VOLUME = "volume", "排放量"


class Procedure(models.TextChoices):
    """审批 for the outfall types the Order names; 登记 (registration) for every other type."""

    APPROVAL = "approval", "审批"
    REGISTRATION = "registration", "登记"


# 《入河排污口监督管理办法》 (MEE Order No. 35): these types are approved; every other type is registered.
APPROVAL_TYPES = (Level2.INDUSTRIAL_MINING, Level2.PARK_WWTP, Level2.MUNICIPAL_WWTP)


def procedure_for(level2):
    return Procedure.APPROVAL if level2 in APPROVAL_TYPES else Procedure.REGISTRATION


class Authority(models.TextChoices):
    """Who decides: the city bureau (实施方案（九）: every outfall except those within the state's authority), or
    the state (生态环境部 or its basin bureau): such applications are only recorded here."""

    CITY = "city", "市生态环境局"
    NATIONAL = "national", "国家（生态环境部或流域海域局）"


class DischargeMode(models.TextChoices):
    CONTINUOUS = "continuous", "连续排放"
    INTERMITTENT = "intermittent", "间歇排放"
    SEASONAL = "seasonal", "季节性排放"
    OTHER = "other", "其他"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待县区转报"
    UNDER_REVIEW = "under_review", "市局审查中"
    RETURNED = "returned", "退回补正"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    REGISTERED = "registered", "已登记"
    WITHDRAWN = "withdrawn", "已撤回"


# Statuses in which the applicant's side may change the application.
EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)
# Decided: the application is closed.
DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.REFUSED, ApplicationStatus.REGISTERED)
# Waiting for someone other than the applicant.
PENDING = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)


class Outcome(models.TextChoices):
    APPROVE = "approve", "批准设置"
    REFUSE = "refuse", "不予批准"
    REGISTER = "register", "予以登记"


OUTCOME_STATUS = {
    Outcome.APPROVE: ApplicationStatus.APPROVED,
    Outcome.REFUSE: ApplicationStatus.REFUSED,
    Outcome.REGISTER: ApplicationStatus.REGISTERED,
}


class CheckOutcome(models.TextChoices):
    """What a check at submission concluded (permits/checks.py), strongest first."""

    REFUSE = "refuse", "不予设置"
    CONTROL = "control", "严格控制"
    CONSULT = "consult", "须征求意见"
    NOTICE = "notice", "提示"
    PASS = "pass", "通过"


class Opinion(models.TextChoices):
    """The water authority's reply to a consultation (意见征询)."""

    AGREE = "agree", "同意"
    CONDITIONAL = "conditional", "有条件同意"
    DISAGREE = "disagree", "不同意"


class Averaging(models.TextChoices):
    """The averaging period of a permitted limit."""

    INSTANT = "instant", "瞬时值"
    HOURLY = "hourly", "小时均值"
    DAILY = "daily", "日均值"
    MONTHLY = "monthly", "月均值"
    ANNUAL = "annual", "年均值"


class MaterialItem(models.TextChoices):
    APPLICATION_FORM = "application_form", "入河排污口设置申请书"
    ASSESSMENT = "assessment", "入河排污口设置论证报告或简要分析材料"
    SITE_PLAN = "site_plan", "排污口位置图及规范化设置方案"
    LICENCE = "licence", "营业执照或统一社会信用代码证明"
    EIA = "eia", "建设项目环境影响评价文件及批复"
    REGISTRATION_FORM = "registration_form", "入河排污口登记表"
    PHOTOS = "photos", "排污口位置示意图及现场照片"
    OTHER = "other", "其他材料"


# (item, required) per procedure. UNSURE in detail (STANDARDS.md): the Order lists the application, the
# assessment and the site; registration files a 登记表 before setting up. Kept as data.
MATERIALS = {
    Procedure.APPROVAL: (
        (MaterialItem.APPLICATION_FORM, True),
        (MaterialItem.ASSESSMENT, True),
        (MaterialItem.SITE_PLAN, True),
        (MaterialItem.LICENCE, False),
        (MaterialItem.EIA, False),
        (MaterialItem.OTHER, False),
    ),
    Procedure.REGISTRATION: (
        (MaterialItem.REGISTRATION_FORM, True),
        (MaterialItem.PHOTOS, True),
        (MaterialItem.OTHER, False),
    ),
}
