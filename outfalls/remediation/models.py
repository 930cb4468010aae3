"""整治: measures proposed by the rules, one plan per outfall (一口一策), progress, and the close-out (销号).

Scope: every row here belongs to an outfall and is visible to (editable by) whoever sees (edits) that outfall.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from outfalls.core.locking import VersionedModel
from outfalls.core.scopes import county_or_department
from outfalls.registry.choices import RectificationMeasure
from outfalls.registry.models import Outfall

from .choices import AccountabilityKind, PlanStatus, ProgrammeKind, ProposalStatus


class ByOutfallQuerySet(models.QuerySet):
    outfall_path = "outfall"

    def visible_to(self, user):
        return self.filter(**{f"{self.outfall_path}__in": Outfall.objects.visible_to(user)})

    def editable_by(self, user):
        return self.filter(**{f"{self.outfall_path}__in": Outfall.objects.editable_by(user)})


class RuleRun(models.Model):
    """One run of the rules over the ledger (or one county of it): when, by whom, what each rule found."""

    started_at = models.DateTimeField("运行时间", auto_now_add=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="运行人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outfalls_checked = models.PositiveIntegerField("检查排口数", default=0)
    hits = models.JSONField("各规则命中数", default=dict, help_text="{规则名: 命中排口数}")

    class Meta:
        verbose_name = "整治规则运行"
        verbose_name_plural = "整治规则运行"
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"规则运行 {self.started_at:%Y-%m-%d %H:%M}"


class MeasureProposal(models.Model):
    """A measure the rules propose for one outfall, with every rule that fired; a person accepts or overrides."""

    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="proposals"
    )
    run = models.ForeignKey(
        RuleRun, verbose_name="规则运行", null=True, blank=True, on_delete=models.SET_NULL
    )
    measure = models.CharField("建议措施", max_length=16, choices=RectificationMeasure.choices)
    reason = models.TextField("建议理由")
    hits = models.JSONField("命中规则", default=list, help_text="[{rule, measure, reason}]")
    status = models.CharField(
        "状态", max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    decided_measure = models.CharField(
        "确定措施", max_length=16, choices=RectificationMeasure.choices, blank=True
    )
    override_reason = models.TextField("改定理由", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    created_at = models.DateTimeField("提出时间", auto_now_add=True)

    objects = ByOutfallQuerySet.as_manager()

    class Meta:
        verbose_name = "整治措施建议"
        verbose_name_plural = "整治措施建议"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "measure"])]

    def __str__(self):
        return f"{self.outfall}：{self.get_measure_display()}"


class Programme(models.Model):
    """A programme plans are coordinated under: black-and-odorous water, sewer separation, park works."""

    name = models.CharField("专项名称", max_length=128, unique=True)
    kind = models.CharField("类别", max_length=20, choices=ProgrammeKind.choices)
    description = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "整治专项"
        verbose_name_plural = "整治专项"
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class RectificationPlan(VersionedModel):
    """一口一策: the measure, actions, responsible unit and deadline for one outfall, and its close-out."""

    outfall = models.OneToOneField(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="rectification_plan"
    )
    proposal = models.ForeignKey(
        MeasureProposal,
        verbose_name="来源建议",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    measure = models.CharField("整治措施", max_length=16, choices=RectificationMeasure.choices)
    actions = models.TextField("具体措施", help_text="如 设置标识牌、规范采样点、建设检查井、修复管道")
    responsible_unit = models.ForeignKey(
        "registry.DischargeUnit",
        verbose_name="整治责任单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification_plans",
    )
    responsible_org = models.CharField(
        "整治责任单位（非排污单位）", max_length=128, blank=True, help_text="如 市城市管理局；与上一项二选一"
    )
    deadline = models.DateField("整治期限")
    transitional_until = models.DateField("过渡期至", null=True, blank=True)
    transitional_reason = models.CharField("过渡期理由", max_length=300, blank=True)
    merge_target = models.ForeignKey(
        Outfall,
        verbose_name="并入排口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="清理合并时必填",
    )
    programme = models.ForeignKey(
        Programme,
        verbose_name="所属专项",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans",
    )
    status = models.CharField(
        "状态", max_length=12, choices=PlanStatus.choices, default=PlanStatus.IN_PROGRESS
    )
    percent_done = models.PositiveSmallIntegerField(
        "完成进度（%）", default=0, validators=[MaxValueValidator(100)]
    )
    submission_note = models.TextField("销号申请说明", blank=True)
    submitted_at = models.DateTimeField("申请销号时间", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)
    approved_at = models.DateTimeField("销号时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="制定人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("制定时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ByOutfallQuerySet.as_manager()

    class Meta:
        verbose_name = "一口一策整治方案"
        verbose_name_plural = "一口一策整治方案"
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self):
        return f"{self.outfall}：{self.get_measure_display()}"

    @property
    def is_overdue(self):
        """Open (close-out not approved) and past its deadline today; supervision.overdue_q is the same test
        as a query."""
        return (
            self.status != PlanStatus.APPROVED
            and self.deadline is not None
            and self.deadline < timezone.localdate()
        )


class ProgressUpdateQuerySet(ByOutfallQuerySet):
    outfall_path = "plan__outfall"


class ProgressUpdate(models.Model):
    """A dated progress report on a plan, with percent done; photos and documents attach to it."""

    plan = models.ForeignKey(
        RectificationPlan, verbose_name="整治方案", on_delete=models.CASCADE, related_name="updates"
    )
    date = models.DateField("日期")
    percent = models.PositiveSmallIntegerField("完成进度（%）", validators=[MaxValueValidator(100)])
    note = models.TextField("进展说明")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("填报时间", auto_now_add=True)

    objects = ProgressUpdateQuerySet.as_manager()

    class Meta:
        verbose_name = "整治进展"
        verbose_name_plural = "整治进展"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.percent}%"


class AccountabilityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The city sees every record; a county its own; a department its own; nobody else."""
        return county_or_department(self, user)


class Accountability(models.Model):
    """A record of 通报批评 or 公开约谈 of a county-level jurisdiction or a department, with its reason and the
    supervision figures it rests on as they were that day (figures: services.accountability_figures)."""

    kind = models.CharField("问责方式", max_length=12, choices=AccountabilityKind.choices)
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name="部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_on = models.DateField("日期")
    document_number = models.CharField("文号", max_length=64, blank=True)
    reason = models.TextField("事由", max_length=2000)
    figures = models.JSONField("依据数据", default=dict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = AccountabilityQuerySet.as_manager()

    class Meta:
        verbose_name = "问责记录"
        verbose_name_plural = "问责记录"
        ordering = ["-decided_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(county__isnull=False, department__isnull=True)
                | models.Q(county__isnull=True, department__isnull=False),
                name="accountability_one_target",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.target_name}（{self.decided_on:%Y-%m-%d}）"

    @property
    def target_name(self):
        return self.county.name if self.county_id else self.department.name
