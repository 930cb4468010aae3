"""执法: enforcement cases (立案 → 调查 → 告知 → 决定 → 执行 → 结案) and the entities' 借道排污 reports.

Scope (visible_to / editable_by):
- a case belongs to one county-level jurisdiction (属地). The city bureau, the city admin and the auditor see
  every case; a county officer sees their county's; a department or a river chief sees the cases on outfalls
  they see; a responsible entity sees the cases naming its unit once it has been told (告知 and after).
  The city bureau's editors and the county's officers record the steps (the decision and 结案 are the
  city bureau's: services.py).
- an entity report is seen by the entity that filed it, by the county of the outfall it is about, and by
  the city.
- a patrol (巡河) is seen by whoever recorded it, by the county it was in, by the river chiefs of its river
  (within their county when their membership names one) and by the city; its findings go with it.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models

from outfalls.core.choices import COUNTY_LEVELS, Role
from outfalls.core.locking import VersionedModel
from outfalls.core.scopes import scope_of
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody

from .choices import CaseKind, CaseSource, CaseStatus, EntityReportStatus, Outcome

# The statuses at which the party (the responsible entity) sees its case: it has been told.
TOLD = (CaseStatus.NOTIFIED, CaseStatus.DECIDED, CaseStatus.ENFORCED, CaseStatus.CLOSED)


class EnforcementCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if scope.citywide:
            return self
        if not scope.grants:
            return self.none()
        q = models.Q(county_id__in=sorted(scope.county_ids))
        if any(g.role in (Role.DEPARTMENT, Role.RIVER_CHIEF) for g in scope.grants):
            q |= models.Q(
                pk__in=EnforcementCase.outfalls.through.objects.filter(
                    outfall__in=Outfall.objects.visible_to(user)
                ).values("enforcementcase_id")
            )
        if scope.unit_ids:
            q |= models.Q(
                pk__in=EnforcementCase.units.through.objects.filter(
                    dischargeunit_id__in=sorted(scope.unit_ids)
                ).values("enforcementcase_id"),
                status__in=TOLD,
            )
        return self.filter(q)

    def editable_by(self, user):
        scope = scope_of(user)
        if scope.can_edit_citywide:
            return self
        return self.filter(county_id__in=sorted(scope.county_ids))


class EnforcementCase(VersionedModel):
    """One enforcement case: its kind, the outfalls and units it concerns, where it came from, and each step
    dated with what was found, told, decided and done. Evidence is kept as core attachments on the case."""

    number = models.CharField("案件编号", max_length=16, unique=True)
    kind = models.CharField("案件类型", max_length=16, choices=CaseKind.choices)
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="属地县区",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )
    summary = models.TextField("案情摘要", max_length=2000)
    outfalls = models.ManyToManyField(Outfall, verbose_name="涉及排污口", blank=True, related_name="+")
    units = models.ManyToManyField(DischargeUnit, verbose_name="涉及单位", blank=True, related_name="+")
    source = models.CharField(
        "案件来源", max_length=12, choices=CaseSource.choices, default=CaseSource.DIRECT
    )
    source_type = models.ForeignKey(
        ContentType,
        verbose_name="来源类型",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_id = models.PositiveBigIntegerField("来源编号", null=True, blank=True)
    source_label = models.CharField("来源说明", max_length=200, blank=True)
    status = models.CharField("状态", max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPENED)
    # The steps, each dated (the status-change rows say who and when it was recorded).
    opened_on = models.DateField("立案日期")
    investigated_on = models.DateField("调查终结日期", null=True, blank=True)
    findings = models.TextField("调查情况", blank=True)
    notified_on = models.DateField("告知日期", null=True, blank=True)
    notice = models.TextField(
        "告知内容", blank=True, help_text="拟作出处罚的事实、理由、依据及当事人陈述申辩、听证的权利"
    )
    decided_on = models.DateField("决定日期", null=True, blank=True)
    outcome = models.CharField("决定结果", max_length=12, choices=Outcome.choices, blank=True)
    decision_number = models.CharField("决定书文号", max_length=64, blank=True)
    penalty_amount = models.DecimalField(
        "罚款金额（元）",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    legal_basis = models.TextField("法律依据", blank=True)
    enforced_on = models.DateField("执行日期", null=True, blank=True)
    enforcement = models.TextField("执行情况", blank=True)
    closed_on = models.DateField("结案日期", null=True, blank=True)
    closing_note = models.TextField("结案说明", blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="立案人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = EnforcementCaseQuerySet.as_manager()

    class Meta:
        verbose_name = "执法案件"
        verbose_name_plural = "执法案件"
        ordering = ["-opened_on", "-id"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["county", "status"])]

    def __str__(self):
        return f"案件 {self.number}"

    @property
    def is_open(self):
        return self.status != CaseStatus.CLOSED


class EntityReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if scope.citywide:
            return self
        if not scope.grants:
            return self.none()
        q = models.Q(county_id__in=sorted(scope.county_ids))
        if scope.unit_ids:
            q |= models.Q(unit_id__in=sorted(scope.unit_ids))
        return self.filter(q)

    def editable_by(self, user):
        """Who handles a report (opens a case from it or dismisses it): the city's editors and the county."""
        scope = scope_of(user)
        if scope.can_edit_citywide:
            return self
        return self.filter(county_id__in=sorted(scope.county_ids))


class EntityReport(models.Model):
    """借道排污 found by a responsible entity (实施方案（十一）：发现借道排污等情况的，应立即报告并留存证据): which of its
    outfalls is used, by whom as far as known, what was seen, with evidence. It reaches the county's to-do list,
    where it becomes a case or is dismissed with a reason."""

    unit = models.ForeignKey(
        DischargeUnit, verbose_name="报告单位", on_delete=models.PROTECT, related_name="+"
    )
    outfall = models.ForeignKey(
        Outfall, verbose_name="被借道的排污口", on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(
        "core.Jurisdiction", verbose_name="属地县区", on_delete=models.PROTECT, related_name="+"
    )
    suspect = models.CharField(
        "疑似借道单位或个人", max_length=128, blank=True, help_text="知道的写明，不知道可空"
    )
    description = models.TextField(
        "发现情况", max_length=2000, help_text="时间、位置、排放情况，以及如何发现的"
    )
    found_on = models.DateField("发现日期")
    status = models.CharField(
        "状态", max_length=12, choices=EntityReportStatus.choices, default=EntityReportStatus.SUBMITTED
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_at = models.DateTimeField("报告时间", auto_now_add=True)
    handling_note = models.TextField("处理说明", blank=True)
    case = models.ForeignKey(
        EnforcementCase,
        verbose_name="执法案件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = EntityReportQuerySet.as_manager()

    class Meta:
        verbose_name = "借道排污报告"
        verbose_name_plural = "借道排污报告"
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["county", "status"])]

    def __str__(self):
        return f"借道排污报告 {self.pk}：{self.outfall}"


class PatrolQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if scope.citywide:
            return self
        if not scope.grants:
            return self.none()
        q = models.Q(county_id__in=sorted(scope.county_ids)) | models.Q(recorded_by=user)
        for grant in scope.grants:
            if grant.role == Role.RIVER_CHIEF and grant.water_body_ids:
                on_river = models.Q(water_body_id__in=sorted(grant.water_body_ids))
                if grant.county_id:
                    on_river &= models.Q(county_id=grant.county_id)
                q |= on_river
        return self.filter(q)

    def editable_by(self, user):
        """Who adds findings to a patrol: whoever recorded it, the county's officers and the city's editors."""
        scope = scope_of(user)
        if scope.can_edit_citywide:
            return self
        if not scope.grants:
            return self.none()
        return self.filter(models.Q(county_id__in=sorted(scope.county_ids)) | models.Q(recorded_by=user))


class Patrol(models.Model):
    """巡河: one walk along a river on one day, with the track walked (GeoJSON, from the phone's GPX/KML) and
    what was seen at outfalls (PatrolFinding)."""

    water_body = models.ForeignKey(
        WaterBody, verbose_name="巡查河流", on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )
    patrolled_on = models.DateField("巡查日期")
    participants = models.CharField("巡查人员", max_length=200, blank=True)
    track = models.JSONField("轨迹（GeoJSON）", null=True, blank=True)
    track_km = models.FloatField("轨迹长度（公里）", null=True, blank=True)
    note = models.TextField("巡查情况", blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        verbose_name = "巡河记录"
        verbose_name_plural = "巡河记录"
        ordering = ["-patrolled_on", "-id"]
        indexes = [
            models.Index(fields=["water_body", "patrolled_on"]),
            models.Index(fields=["county", "patrolled_on"]),
        ]

    def __str__(self):
        return f"{self.water_body} 巡河 {self.patrolled_on:%Y-%m-%d}"


class PatrolFindingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(patrol__in=Patrol.objects.visible_to(user))

    def editable_by(self, user):
        return self.filter(patrol__in=Patrol.objects.editable_by(user))


class PatrolFinding(models.Model):
    """What a patrol saw: at a ledger outfall (or at a point not in the ledger), with photos (core attachments).
    Its follow-ups (an enforcement case, a tracing case, a field check) are status-change rows on it."""

    patrol = models.ForeignKey(
        Patrol, verbose_name="巡河记录", on_delete=models.CASCADE, related_name="findings"
    )
    outfall = models.ForeignKey(
        Outfall, verbose_name="排污口", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lon = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    description = models.TextField("发现的问题", max_length=2000)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = PatrolFindingQuerySet.as_manager()

    class Meta:
        verbose_name = "巡河发现"
        verbose_name_plural = "巡河发现"
        ordering = ["patrol", "id"]

    def __str__(self):
        return f"巡河发现 {self.pk}：{self.outfall or self.description[:20]}"

    @property
    def county_id(self):
        return self.outfall.county_id if self.outfall_id else self.patrol.county_id
