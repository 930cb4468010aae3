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
