"""排查 and 溯源: campaigns, suspected points, field checks, walked tracks, tracing cases and their steps.

Scope: a campaign belongs to one county-level jurisdiction; everything under a campaign is visible to whoever
sees the campaign. A tracing case belongs to an outfall and is visible to whoever sees the outfall.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from outfalls.core.choices import COUNTY_LEVELS, Role
from outfalls.core.locking import VersionedModel
from outfalls.core.scopes import scope_of
from outfalls.registry.choices import EntryMode, ResponsibilityBasis
from outfalls.registry.models import Outfall
from outfalls.registry.models.ledger import LAT_VALIDATORS, LON_VALIDATORS

from .choices import (
    Bank,
    CampaignStatus,
    CaseStatus,
    Colour,
    FlowState,
    Odour,
    PointOutcome,
    PointSource,
    PositionSource,
    StepKind,
    Turbidity,
)


class CampaignQuerySet(models.QuerySet):
    def _scoped(self, user, editing):
        scope = scope_of(user)
        grants = [g for g in scope.grants if g.can_edit] if editing else list(scope.grants)
        if any(g.citywide for g in grants):
            return self
        q = models.Q(pk__in=[])
        for grant in grants:
            if grant.role == Role.COUNTY:
                q |= models.Q(county_id=grant.county_id)
            elif grant.role == Role.DEPARTMENT and grant.department_id:
                q |= models.Q(department_id=grant.department_id)
            elif grant.role == Role.RIVER_CHIEF and grant.water_body_ids:
                by_water = models.Q(water_bodies__in=sorted(grant.water_body_ids))
                if grant.county_id:
                    by_water &= models.Q(county_id=grant.county_id)
                q |= models.Q(pk__in=Campaign.objects.filter(by_water).values("pk"))
        return self.filter(q)

    def visible_to(self, user):
        return self._scoped(user, editing=False)

    def editable_by(self, user):
        return self._scoped(user, editing=True)


class Campaign(VersionedModel):
    """排查任务: chosen rivers or reaches in one county-level jurisdiction, with a team and a deadline."""

    name = models.CharField("任务名称", max_length=128)
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )
    water_bodies = models.ManyToManyField("registry.WaterBody", verbose_name="排查河流", blank=True)
    department = models.ForeignKey(
        "core.Department",
        verbose_name="牵头部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="留空则由县区（分局）牵头",
    )
    lead_unit = models.CharField("牵头单位", max_length=128, blank=True, help_text="如 平城区人民政府")
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="排查人员（账号）", blank=True, related_name="campaigns"
    )
    team_names = models.CharField("排查组成员", max_length=300, blank=True, help_text="姓名，以顿号分隔")
    start_date = models.DateField("开始日期", null=True, blank=True)
    deadline = models.DateField("完成期限")
    status = models.CharField(
        "状态", max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    notes = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "排查任务"
        verbose_name_plural = "排查任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class CampaignReach(models.Model):
    """A stretch of one river's bank(s) a campaign must walk, by chainage (km from the source) along its line."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="排查任务", on_delete=models.CASCADE, related_name="reaches"
    )
    water_body = models.ForeignKey(
        "registry.WaterBody", verbose_name="河流", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("河段名称", max_length=128, blank=True)
    from_km = models.FloatField("起点（公里）", validators=[MinValueValidator(0)])
    to_km = models.FloatField("终点（公里）", validators=[MinValueValidator(0)])
    bank = models.CharField("岸别", max_length=8, choices=Bank.choices, default=Bank.BOTH)
    checked = models.BooleanField("已完成徒步排查", default=False)
    checked_at = models.DateTimeField("完成时间", null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "排查河段"
        verbose_name_plural = "排查河段"
        ordering = ["campaign", "water_body", "from_km"]

    def __str__(self):
        return self.name or f"{self.water_body} {self.from_km:g}–{self.to_km:g} km"


class SuspectedPointQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(campaign__in=Campaign.objects.visible_to(user))

    def editable_by(self, user):
        return self.filter(campaign__in=Campaign.objects.editable_by(user))


class PointImport(models.Model):
    """One upload of level-1 suspected points (CSV, GeoJSON or KML from UAV or remote-sensing interpretation)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="排查任务", on_delete=models.CASCADE, related_name="imports"
    )
    file = models.FileField("原始文件", upload_to="survey/imports/%Y/%m/", max_length=300)
    filename = models.CharField("文件名", max_length=200)
    crs = models.CharField("坐标系", max_length=32, blank=True)
    source = models.CharField("来源", max_length=16, choices=PointSource.choices, default=PointSource.UAV)
    points_created = models.PositiveIntegerField("新增疑似点", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "疑似点导入"
        verbose_name_plural = "疑似点导入"
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename


class SuspectedPoint(models.Model):
    """疑似排口: a level-1 point (or one found on the walk) that must end in exactly one outcome."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="排查任务", on_delete=models.CASCADE, related_name="points"
    )
    number = models.CharField("编号", max_length=48, help_text="解译成果中的编号；任务内唯一")
    source = models.CharField("来源", max_length=16, choices=PointSource.choices, default=PointSource.UAV)
    imported_in = models.ForeignKey(
        PointImport,
        verbose_name="导入批次",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="points",
    )
    lon = models.FloatField("经度", validators=LON_VALIDATORS)
    lat = models.FloatField("纬度", validators=LAT_VALIDATORS)
    water_body = models.ForeignKey(
        "registry.WaterBody",
        verbose_name="河流",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField("解译说明", max_length=300, blank=True)
    outcome = models.CharField(
        "结论", max_length=16, choices=PointOutcome.choices, default=PointOutcome.PENDING
    )
    decided_level = models.PositiveSmallIntegerField(
        "判定层级", null=True, blank=True, help_text="2：现场核查；3：专家研判"
    )
    outfall = models.ForeignKey(
        Outfall,
        verbose_name="对应排口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suspected_points",
        help_text="确认为排口时新建的台账排口，或重复时的已有排口",
    )
    decision_note = models.TextField("判定说明", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="判定人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("判定时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = SuspectedPointQuerySet.as_manager()

    class Meta:
        verbose_name = "疑似排口"
        verbose_name_plural = "疑似排口"
        ordering = ["campaign", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="point_unique_number")]
        indexes = [models.Index(fields=["campaign", "outcome"])]

    def __str__(self):
        return f"{self.campaign} · {self.number}"


class FieldCheckQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(point__campaign__in=Campaign.objects.visible_to(user))

    def editable_by(self, user):
        return self.filter(point__campaign__in=Campaign.objects.editable_by(user))


class FieldCheck(models.Model):
    """现场核查 (level 2): one visit to a suspected point, recorded on a phone, possibly offline first."""

    point = models.ForeignKey(
        SuspectedPoint, verbose_name="疑似排口", on_delete=models.CASCADE, related_name="checks"
    )
    # The phone makes this id when the form is filled; a second upload of the same record finds it.
    client_uuid = models.UUIDField("客户端记录标识", unique=True)
    checked_at = models.DateTimeField("核查时间")
    lon = models.FloatField("经度", validators=LON_VALIDATORS)
    lat = models.FloatField("纬度", validators=LAT_VALIDATORS)
    accuracy_m = models.FloatField("定位精度（米）", null=True, blank=True)
    position_source = models.CharField(
        "位置来源", max_length=8, choices=PositionSource.choices, default=PositionSource.GPS
    )
    flow = models.CharField("排水特征", max_length=16, choices=FlowState.choices)
    dry_weather = models.BooleanField("旱天", default=True)
    colour = models.CharField("颜色", max_length=12, choices=Colour.choices, blank=True)
    odour = models.CharField("气味", max_length=12, choices=Odour.choices, blank=True)
    turbidity = models.CharField("浊度", max_length=12, choices=Turbidity.choices, blank=True)
    oil_film = models.BooleanField("有油膜", default=False)
    foam = models.BooleanField("有泡沫", default=False)
    sampling_possible = models.BooleanField("具备采样条件", default=False)
    outlet_form = models.CharField("口门形态", max_length=16, choices=EntryMode.choices, blank=True)
    outlet_size = models.CharField("口门尺寸", max_length=64, blank=True, help_text="如 DN600、1.2m×0.8m")
    entry_mode = models.CharField("入河方式", max_length=16, choices=EntryMode.choices, blank=True)
    suspected_source = models.CharField("疑似来源", max_length=200, blank=True)
    notes = models.TextField("备注", blank=True)
    staff = models.JSONField("核查人员", default=list, help_text="至少两人")
    outcome = models.CharField("核查结论", max_length=16, choices=PointOutcome.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField("服务器接收时间", auto_now_add=True)

    objects = FieldCheckQuerySet.as_manager()

    class Meta:
        verbose_name = "现场核查记录"
        verbose_name_plural = "现场核查记录"
        ordering = ["-checked_at", "-id"]

    def __str__(self):
        return f"{self.point} · {self.checked_at:%Y-%m-%d %H:%M}"


class Track(models.Model):
    """A walked GPS track (徒步排查轨迹); projected on the river line it gives the bank length covered."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="排查任务", on_delete=models.CASCADE, related_name="tracks"
    )
    water_body = models.ForeignKey(
        "registry.WaterBody", verbose_name="河流", on_delete=models.PROTECT, related_name="+"
    )
    bank = models.CharField("岸别", max_length=8, choices=Bank.choices, default=Bank.BOTH)
    geometry = models.JSONField("轨迹（GeoJSON LineString）")
    client_uuid = models.UUIDField("客户端记录标识", unique=True, null=True, blank=True)
    recorded_at = models.DateTimeField("记录时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "排查轨迹"
        verbose_name_plural = "排查轨迹"
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.water_body} 轨迹 {self.recorded_at:%Y-%m-%d %H:%M}"


class TracingCaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(outfall__in=Outfall.objects.visible_to(user))

    def editable_by(self, user):
        return self.filter(outfall__in=Outfall.objects.editable_by(user))


class TracingCase(models.Model):
    """溯源: one case per outfall, from the units found to the responsible entity and how it was fixed."""

    outfall = models.OneToOneField(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="tracing_case"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name="排查任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
    )
    status = models.CharField("状态", max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    deadline = models.DateField("溯源期限", null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="立案人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField("立案时间", auto_now_add=True)
    # The conclusion, copied to the outfall (responsible_entity, responsibility_basis, responsibility_note).
    responsible_entity = models.ForeignKey(
        "registry.DischargeUnit",
        verbose_name="责任主体",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    basis = models.CharField("确定方式", max_length=24, choices=ResponsibilityBasis.choices, blank=True)
    conclusion = models.TextField("结论说明", blank=True, help_text="政府兜底时写明无法溯源的原因")
    concluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结案人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    concluded_at = models.DateTimeField("结案时间", null=True, blank=True)

    objects = TracingCaseQuerySet.as_manager()

    class Meta:
        verbose_name = "溯源案件"
        verbose_name_plural = "溯源案件"
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"溯源：{self.outfall}"


class TracingStepQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(case__in=TracingCase.objects.visible_to(user))

    def editable_by(self, user):
        return self.filter(case__in=TracingCase.objects.editable_by(user))


class TracingStep(models.Model):
    """One dated tracing step with its findings; photos and documents attach to it (core.Attachment)."""

    case = models.ForeignKey(
        TracingCase, verbose_name="溯源案件", on_delete=models.CASCADE, related_name="steps"
    )
    kind = models.CharField("方法", max_length=20, choices=StepKind.choices)
    date = models.DateField("日期")
    findings = models.TextField("发现")
    staff = models.CharField("参与人员", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = TracingStepQuerySet.as_manager()

    class Meta:
        verbose_name = "溯源步骤"
        verbose_name_plural = "溯源步骤"
        ordering = ["date", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d}"
