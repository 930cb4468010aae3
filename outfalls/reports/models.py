"""The statutory reports a county, 经开区 or department writes and sends (StatutoryReport); the city's merged
report is generated, not stored (statutory.py)."""

from django.conf import settings
from django.db import models

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.locking import VersionedModel
from outfalls.core.scopes import county_or_department

from .choices import ReportKind, SubmissionStatus


class StatutoryReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The city sees every report; a county and a department their own."""
        return county_or_department(self, user)

    def editable_by(self, user):
        """Only its own county or department writes and sends a report (the city reads them)."""
        return county_or_department(self, user, citywide=False)


class StatutoryReport(VersionedModel):
    """One county's (or 经开区's, or department's) report of one kind: the parts it writes, and when it was sent.
    The figures are not stored: they are read from the ledger as of `as_of` whenever the document is made."""

    kind = models.CharField("报告", max_length=16, choices=ReportKind.choices)
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name="部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    as_of = models.DateField("数据截至", help_text="报告中的数据以台账在该日结束时的状态为准")
    work_done = models.TextField("工作开展情况", blank=True, max_length=5000)
    problems = models.TextField("存在的问题", blank=True, max_length=3000)
    next_steps = models.TextField("下一步工作", blank=True, max_length=3000)
    status = models.CharField(
        "状态", max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = StatutoryReportQuerySet.as_manager()

    class Meta:
        verbose_name = "工作报告"
        verbose_name_plural = "工作报告"
        ordering = ["kind", "county__code", "department__order"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(county__isnull=False, department__isnull=True)
                | models.Q(county__isnull=True, department__isnull=False),
                name="statutory_report_one_subject",
            ),
            models.UniqueConstraint(
                fields=["kind", "county"],
                condition=models.Q(county__isnull=False),
                name="statutory_report_county",
            ),
            models.UniqueConstraint(
                fields=["kind", "department"],
                condition=models.Q(department__isnull=False),
                name="statutory_report_department",
            ),
        ]

    def __str__(self):
        return f"{self.subject_name}·{self.get_kind_display()}"

    @property
    def subject_name(self):
        return self.county.name if self.county_id else self.department.name
