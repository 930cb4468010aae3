"""设置审核、登记 and 排污许可: applications to set up, change or enlarge an outfall, their materials, the water
authority's consultation, the decision with its conditions, and discharge permits with their outfalls, limits and
duties.

Scope (docs/architecture.md): an application is seen by the city roles, the county it lies in, the applicant
unit's responsible entity, the department responsible for its outfall type and the river chief of its river;
its materials, consultations and decision follow it. A permit is seen by the city roles, and by whoever sees one
of the outfalls it covers, its unit's county, or is that unit. Only the city bureau decides and keeps permits.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from outfalls.core.choices import COUNTY_LEVELS, Role
from outfalls.core.locking import VersionedModel
from outfalls.core.scopes import scope_of
from outfalls.core.workdays import working_days_between
from outfalls.registry.choices import EntryMode
from outfalls.registry.classification import Level2, Level3, TypeCode
from outfalls.registry.models import Outfall
from outfalls.registry.models.ledger import LAT_VALIDATORS, LON_VALIDATORS
from outfalls.registry.validators import validate_permit_number

from .choices import (
    DECIDED,
    ApplicationKind,
    ApplicationStatus,
    Authority,
    Averaging,
    DischargeMode,
    MaterialItem,
    Opinion,
    Outcome,
    Procedure,
)


def _grant_q(grant, prefix=""):
    """The applications (or rows under them, through `prefix`) one membership sees."""
    if grant.citywide:
        return models.Q()
    if grant.role == Role.COUNTY:
        return models.Q(**{f"{prefix}county_id": grant.county_id})
    if grant.role == Role.ENTITY:
        return models.Q(**{f"{prefix}applicant_id": grant.unit_id})
    if grant.role == Role.DEPARTMENT:
        return models.Q(**{f"{prefix}type_level2__in": sorted(grant.department_types)})
    if grant.role == Role.RIVER_CHIEF:
        q = models.Q(**{f"{prefix}water_body_id__in": sorted(grant.water_body_ids)})
        return q & models.Q(**{f"{prefix}county_id": grant.county_id}) if grant.county_id else q
    return models.Q(pk__in=[])


def application_scope_q(user, prefix="", *, editing=False):
    """The filter for the applications a user sees (editing: may file and change as the applicant's side: the
    entity for its own unit, the county officer in their county, the city editors); None: no limit."""
    scope = scope_of(user)
    grants = list(scope.grants)
    if editing:
        grants = [g for g in grants if g.can_edit and g.role in (*_CITY_EDITORS, Role.COUNTY, Role.ENTITY)]
    if any(g.citywide for g in grants):
        return None
    q = models.Q(pk__in=[])
    for grant in grants:
        q |= _grant_q(grant, prefix)
    return q


_CITY_EDITORS = (Role.CITY_ADMIN, Role.BUREAU)


class ApplicationQuerySet(models.QuerySet):
    prefix = ""

    def visible_to(self, user):
        if not scope_of(user).authenticated:
            return self.none()
        q = application_scope_q(user, self.prefix)
        return self if q is None else self.filter(q)

    def editable_by(self, user):
        q = application_scope_q(user, self.prefix, editing=True)
        return self if q is None else self.filter(q)


class ApplicationChildQuerySet(ApplicationQuerySet):
    prefix = "application__"


class SetupApplication(VersionedModel):
    """One application to set up (新设), change (改设) or enlarge (扩大) an outfall: approval (审批) or registration
    (登记) by its type; decided by the city bureau, or by the state and only recorded here."""

    number = models.CharField("申请编号", max_length=20, unique=True, editable=False)
    kind = models.CharField("申请类型", max_length=12, choices=ApplicationKind.choices)
    change_items = models.JSONField(
        "改设内容", default=list, blank=True, help_text="改设时：位置、类型、排放方式、排放量中的一项或几项"
    )
    procedure = models.CharField("程序", max_length=16, choices=Procedure.choices, editable=False)
    authority = models.CharField("审批权限", max_length=12, choices=Authority.choices, default=Authority.CITY)
    national_basis = models.CharField(
        "属国家审核权限的依据", max_length=200, blank=True, help_text="审批权限为国家时填写"
    )
    applicant = models.ForeignKey(
        "registry.DischargeUnit",
        verbose_name="申请单位（责任主体）",
        on_delete=models.PROTECT,
        related_name="setup_applications",
    )
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="所在县区",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level__in": COUNTY_LEVELS},
    )
    outfall = models.ForeignKey(
        Outfall,
        verbose_name="入河排污口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="setup_applications",
        help_text="改设、扩大或补办审核的台账排口；新设的排口批准后由平台建档",
    )
    outfall_name = models.CharField(
        "拟设排污口名称", max_length=200, blank=True, help_text="留空则批准后按 HJ 1235 规则命名"
    )
    type_code = models.CharField(
        "排污口类型（一级）", max_length=12, choices=TypeCode.choices, default=TypeCode.UNDETERMINED
    )
    type_level2 = models.CharField("二级分类", max_length=32, choices=Level2.choices)
    type_level3 = models.CharField("三级分类", max_length=32, choices=Level3.choices, blank=True)
    lon = models.FloatField("经度", validators=LON_VALIDATORS, help_text="CGCS2000，十进制度")
    lat = models.FloatField("纬度", validators=LAT_VALIDATORS, help_text="CGCS2000，十进制度")
    water_body = models.ForeignKey(
        "registry.WaterBody", verbose_name="受纳水体", on_delete=models.PROTECT, related_name="+"
    )
    zone = models.ForeignKey(
        "registry.WaterFunctionZone",
        verbose_name="所在水功能区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="setup_applications",
        help_text="留空则按位置自动确定",
    )
    entry_mode = models.CharField("入河方式", max_length=16, choices=EntryMode.choices, blank=True)
    discharge_mode = models.CharField("排放方式", max_length=16, choices=DischargeMode.choices)
    daily_volume_m3 = models.FloatField(
        "设计日排放量（立方米/日）", validators=[MinValueValidator(0, "日排放量不能为负数。")]
    )
    production_to_municipal = models.BooleanField(
        "生产废水排入城镇污水处理厂",
        default=False,
        help_text="工业企业的生产废水经市政管网进入城镇污水处理厂时勾选",
    )
    exception_reason = models.TextField(
        "严格控制例外理由",
        blank=True,
        help_text="所在水功能区未达到水质目标时，城镇污水处理厂以外的排口须说明确需设置的理由",
    )
    description = models.TextField("设置理由及说明", blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    check_results = models.JSONField(
        "提交时检查结果", default=list, blank=True, help_text="[{name, title, outcome, message}]"
    )
    consultation_required = models.BooleanField("须征求水利部门意见", default=False)
    return_reason = models.TextField("退回理由", blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    accepted_on = models.DateField(
        "受理日期", null=True, blank=True, help_text="到达市生态环境局之日，开始计算办理时限"
    )
    due_on = models.DateField("办理期限", null=True, blank=True)
    time_limit_days = models.PositiveSmallIntegerField("法定办理时限（工作日）", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "入河排污口设置申请"
        verbose_name_plural = "入河排污口设置申请"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["county", "status"]),
        ]

    def __str__(self):
        return f"{self.number} {self.display_name}"

    @property
    def display_name(self):
        if self.outfall_name:
            return self.outfall_name
        if self.outfall_id:
            return self.outfall.name
        return f"{self.applicant.name}{Level2(self.type_level2).label}" if self.type_level2 else self.number

    @property
    def type_label(self):
        if self.type_level3:
            return Level3(self.type_level3).label
        return Level2(self.type_level2).label if self.type_level2 else self.get_type_code_display()

    @property
    def is_open(self):
        return self.status not in (*DECIDED, ApplicationStatus.WITHDRAWN)

    @property
    def counted(self):
        """True when the legal time limit runs (the city decides and the application has reached it)."""
        return self.is_open and self.due_on is not None and self.status == ApplicationStatus.UNDER_REVIEW

    def working_days_left(self, today=None):
        """Working days from today to the due date (negative: overdue by that many), or None."""
        if not self.counted:
            return None
        return working_days_between(today or timezone.localdate(), self.due_on)

    def is_overdue(self, today=None):
        return self.counted and (today or timezone.localdate()) > self.due_on

    @property
    def change_labels(self):
        from .choices import ChangeItem

        return [ChangeItem(v).label for v in self.change_items if v in ChangeItem.values]


class ApplicationPollutant(models.Model):
    """A main pollutant of the planned discharge, with its concentration (and load when known)."""

    application = models.ForeignKey(
        SetupApplication, verbose_name="申请", on_delete=models.CASCADE, related_name="pollutants"
    )
    parameter = models.CharField("污染物", max_length=32, help_text="如 化学需氧量、氨氮、总磷")
    concentration = models.FloatField(
        "排放浓度", validators=[MinValueValidator(0, "浓度不能为负数。")], help_text="设计排放浓度"
    )
    unit = models.CharField("单位", max_length=16, default="mg/L")
    annual_load_t = models.FloatField(
        "年排放量（吨）", null=True, blank=True, validators=[MinValueValidator(0, "排放量不能为负数。")]
    )

    objects = ApplicationChildQuerySet.as_manager()

    class Meta:
        verbose_name = "主要污染物"
        verbose_name_plural = "主要污染物"
        ordering = ["application", "id"]

    def __str__(self):
        return f"{self.parameter} {self.concentration:g} {self.unit}"


class ApplicationMaterial(models.Model):
    """One item of the application's materials checklist; its files are attachments (core.Attachment)."""

    application = models.ForeignKey(
        SetupApplication, verbose_name="申请", on_delete=models.CASCADE, related_name="materials"
    )
    item = models.CharField("材料", max_length=24, choices=MaterialItem.choices)
    required = models.BooleanField("必需", default=False)
    note = models.CharField("说明", max_length=200, blank=True)

    objects = ApplicationChildQuerySet.as_manager()

    class Meta:
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"
        ordering = ["application", "-required", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "item"], name="material_unique_per_application")
        ]

    def __str__(self):
        return self.get_item_display()


class Consultation(models.Model):
    """意见征询: the opinion of the river basin authority or the water administration, asked before deciding on an
    outfall that may affect flood control, water supply, dykes or the river's regime; its reply is attached."""

    application = models.ForeignKey(
        SetupApplication, verbose_name="申请", on_delete=models.CASCADE, related_name="consultations"
    )
    authority = models.CharField(
        "征求意见单位", max_length=128, help_text="流域管理机构或水行政主管部门，如 大同市水务局"
    )
    sent_on = models.DateField("发函日期")
    replied_on = models.DateField("回复日期", null=True, blank=True)
    opinion = models.CharField("意见", max_length=12, choices=Opinion.choices, blank=True)
    reply = models.TextField("回复意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = ApplicationChildQuerySet.as_manager()

    class Meta:
        verbose_name = "意见征询"
        verbose_name_plural = "意见征询"
        ordering = ["application", "sent_on", "id"]

    def __str__(self):
        return f"{self.authority} {self.sent_on:%Y-%m-%d}"

    @property
    def answered(self):
        return bool(self.replied_on and self.opinion and self.reply.strip())


class DecisionQuerySet(ApplicationChildQuerySet):
    def disclosed(self):
        """Decisions and registrations shown to the public (the portal): not withheld, with public fields only
        (Decision.public_record)."""
        return self.filter(public=True)


class Decision(models.Model):
    """The decision on an application: approve (批复文号, conditions), refuse (reasons) or register (备案编号).
    Public by default (信息公开) with its public fields only; a clerk may withhold one with a reason."""

    application = models.OneToOneField(
        SetupApplication, verbose_name="申请", on_delete=models.CASCADE, related_name="decision"
    )
    outcome = models.CharField("决定", max_length=12, choices=Outcome.choices)
    number = models.CharField(
        "文号", max_length=64, blank=True, help_text="批复文号、备案编号或不予批准决定书文号"
    )
    decided_on = models.DateField("决定日期")
    conditions = models.TextField("批复条件", blank=True)
    reasons = models.TextField("不予批准理由", blank=True)
    permit_number = models.CharField(
        "排污许可证编号", max_length=22, blank=True, validators=[validate_permit_number]
    )
    recorded = models.BooleanField("仅记录（国家审批）", default=False)
    issuing_authority = models.CharField("决定机关", max_length=128, blank=True)
    public = models.BooleanField("向社会公开", default=True)
    withheld_reason = models.TextField("不公开理由", blank=True)
    withheld_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定不公开的人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    withheld_at = models.DateTimeField("不公开时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = "审核决定"
        verbose_name_plural = "审核决定"
        ordering = ["-decided_on", "-id"]

    def __str__(self):
        return f"{self.get_outcome_display()} {self.number}".strip()

    def public_record(self):
        """The fields published with a decision (STANDARDS.md: name, applicant, type, coordinates, discharge
        and entry mode, volume, pollutants and concentrations), nothing else: no people, no internal notes."""
        application = self.application
        outfall = application.outfall
        return {
            "number": self.number,
            "outcome": self.outcome,
            "outcome_label": self.get_outcome_display(),
            "decided_on": self.decided_on.isoformat(),
            "issuing_authority": self.issuing_authority or Authority.CITY.label,
            "kind": application.get_kind_display(),
            "procedure": application.get_procedure_display(),
            "applicant": application.applicant.name,
            "outfall_name": outfall.name if outfall else application.display_name,
            "outfall_code": outfall.code if outfall else "",
            "type": application.type_label,
            "water_body": application.water_body.name,
            "lon": round(application.lon, 6),
            "lat": round(application.lat, 6),
            "discharge_mode": application.get_discharge_mode_display(),
            "entry_mode": application.get_entry_mode_display(),
            "daily_volume_m3": application.daily_volume_m3,
            "pollutants": [
                {"parameter": p.parameter, "concentration": p.concentration, "unit": p.unit}
                for p in application.pollutants.all()
            ],
            "conditions": self.conditions if self.outcome == Outcome.APPROVE else "",
        }


class ConditionQuerySet(ApplicationQuerySet):
    prefix = "decision__application__"


class DecisionCondition(models.Model):
    """One condition of an approval (批复条件), with the date by which it is to be met."""

    decision = models.ForeignKey(
        Decision, verbose_name="决定", on_delete=models.CASCADE, related_name="items"
    )
    text = models.CharField("条件", max_length=300)
    due_on = models.DateField("落实期限", null=True, blank=True)
    fulfilled_on = models.DateField("落实日期", null=True, blank=True)
    note = models.CharField("落实情况", max_length=300, blank=True)

    objects = ConditionQuerySet.as_manager()

    class Meta:
        verbose_name = "批复条件"
        verbose_name_plural = "批复条件"
        ordering = ["decision", "due_on", "id"]

    def __str__(self):
        return self.text


# Discharge permits ---------------------------------------------------------------------------------------------
class PermitQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = scope_of(user)
        if not scope.authenticated:
            return self.none()
        if scope.citywide:
            return self
        q = models.Q(outfalls__in=Outfall.objects.visible_to(user))
        if scope.county_ids:
            q |= models.Q(unit__county_id__in=scope.county_ids)
        if scope.unit_ids:
            q |= models.Q(unit_id__in=scope.unit_ids)
        return self.filter(pk__in=DischargePermit.objects.filter(q).values("pk"))

    def editable_by(self, user):
        return self if scope_of(user).can_decide_setup else self.none()

    def in_force(self, on=None):
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on, valid_until__gte=on)


class DischargePermit(models.Model):
    """排污许可证: its HJ 608 number, the unit and the period, the outfalls it covers with each one's permitted
    limits, self-monitoring duty and (for a shared outfall) the unit's share, and the disclosure duty."""

    number = models.CharField(
        "许可证编号",
        max_length=22,
        unique=True,
        validators=[validate_permit_number],
        help_text="HJ 608：统一社会信用代码＋3 位流水号＋1 位字母",
    )
    unit = models.ForeignKey(
        "registry.DischargeUnit", verbose_name="排污单位", on_delete=models.PROTECT, related_name="permits"
    )
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期至")
    issued_by = models.CharField("发证机关", max_length=128, blank=True)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    self_monitoring = models.TextField(
        "自行监测要求", blank=True, help_text="总体要求；各排口的监测项目与频次见下"
    )
    disclosure = models.TextField("信息公开要求", blank=True)
    outfalls = models.ManyToManyField(
        Outfall, through="PermitOutfall", verbose_name="许可的入河排污口", related_name="permits"
    )
    source = models.CharField("来源", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = PermitQuerySet.as_manager()

    class Meta:
        verbose_name = "排污许可证"
        verbose_name_plural = "排污许可证"
        ordering = ["number"]
        indexes = [models.Index(fields=["valid_until"])]

    def __str__(self):
        return self.number

    def in_force_on(self, day=None):
        day = day or timezone.localdate()
        return self.valid_from <= day <= self.valid_until


class PermitOutfall(models.Model):
    """An outfall a permit covers: its outlet code in the permit (DW001) and, for a shared outfall, the unit's
    share of responsibility (实施方案（七）：共用排污口 "在排污许可证中载明")."""

    permit = models.ForeignKey(
        DischargePermit, verbose_name="许可证", on_delete=models.CASCADE, related_name="covered"
    )
    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.PROTECT, related_name="permit_entries"
    )
    outlet_code = models.CharField(
        "排放口编号", max_length=16, blank=True, help_text="许可证中的编号，如 DW001"
    )
    share_percent = models.PositiveSmallIntegerField(
        "责任份额（%）",
        null=True,
        blank=True,
        validators=[MaxValueValidator(100, "责任份额应在 0–100 之间。")],
    )
    share_note = models.CharField("责任分担说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "许可排口"
        verbose_name_plural = "许可排口"
        ordering = ["permit", "outlet_code", "id"]
        constraints = [models.UniqueConstraint(fields=["permit", "outfall"], name="permit_outfall_unique")]

    def __str__(self):
        return f"{self.permit} · {self.outlet_code or self.outfall}"

    @property
    def states_share(self):
        return self.share_percent is not None or bool(self.share_note.strip())


class PermitLimit(models.Model):
    """A permitted limit of one parameter at one covered outfall."""

    entry = models.ForeignKey(
        PermitOutfall, verbose_name="许可排口", on_delete=models.CASCADE, related_name="limits"
    )
    parameter = models.CharField("污染物或项目", max_length=32)
    limit_value = models.FloatField("许可限值")
    lower_value = models.FloatField("下限", null=True, blank=True, help_text="如 pH 6–9 的 6")
    unit = models.CharField("单位", max_length=16, default="mg/L", blank=True)
    averaging = models.CharField(
        "平均时间", max_length=12, choices=Averaging.choices, default=Averaging.DAILY
    )
    standard = models.CharField("执行标准", max_length=100, blank=True, help_text="如 GB 18918-2002 一级A")

    class Meta:
        verbose_name = "许可限值"
        verbose_name_plural = "许可限值"
        ordering = ["entry", "id"]

    def __str__(self):
        return f"{self.parameter} ≤ {self.limit_value:g} {self.unit}"

    @property
    def range_text(self):
        if self.lower_value is not None:
            return f"{self.lower_value:g}–{self.limit_value:g}"
        return f"≤ {self.limit_value:g}"


class MonitoringDuty(models.Model):
    """The self-monitoring duty at one covered outfall: a parameter and how often."""

    entry = models.ForeignKey(
        PermitOutfall, verbose_name="许可排口", on_delete=models.CASCADE, related_name="monitoring"
    )
    parameter = models.CharField("监测项目", max_length=32)
    frequency = models.CharField("监测频次", max_length=32, help_text="如 自动监测、1次/日、1次/月")

    class Meta:
        verbose_name = "自行监测要求"
        verbose_name_plural = "自行监测要求"
        ordering = ["entry", "id"]

    def __str__(self):
        return f"{self.parameter} {self.frequency}"
