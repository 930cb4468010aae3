from django.db import models


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    ACCEPTED = "accepted", "已采纳"
    OVERRIDDEN = "overridden", "已改定"
    SUPERSEDED = "superseded", "已失效"


class PlanStatus(models.TextChoices):
    """一口一策 and its close-out (销号): the county submits, the city bureau approves or returns."""

    IN_PROGRESS = "in_progress", "整治中"
    SUBMITTED = "submitted", "已申请销号"
    RETURNED = "returned", "销号退回"
    APPROVED = "approved", "已销号"


class ProgrammeKind(models.TextChoices):
    BLACK_ODOROUS = "black_odorous", "黑臭水体治理"
    SEWER_SEPARATION = "sewer_separation", "雨污分流改造"
    PARK = "park", "园区污水整治"
    OTHER = "other", "其他专项"


class AccountabilityKind(models.TextChoices):
    """问责 (实施方案（十五）：对履职不力、进展迟缓、弄虚作假等问题突出的，采取通报批评、公开约谈等措施)."""

    CRITICISM = "criticism", "通报批评"
    INTERVIEW = "interview", "公开约谈"
