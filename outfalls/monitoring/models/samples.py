"""Stations, samples and their values, sample imports, and rainfall (which says what a dry day is).

Values live in one table per grain: ``SampleValue`` (lab and field samples) here, ``MinuteValue``,
``HourValue`` and ``DayValue`` (HJ 212 online data) in online.py. On PostgreSQL each is partitioned by month
(migration 0002); nothing references their rows by foreign key (a partitioned table's key includes the time),
so findings keep the value's id and time as plain columns.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from outfalls.registry.models import Outfall, Section
from outfalls.registry.models.ledger import LAT_VALIDATORS, LON_VALIDATORS, ReferenceQuerySet

from ..choices import ImportStatus, Qualifier, SampleSource, StationKind, Weather
from ..units import format_value
from .scoping import PointScopedQuerySet
from .standards import Parameter


class Station(models.Model):
    """A monitoring point at an outfall or an assessment section: a manual sampling point or an online station
    that reports over HJ 212 with its MN (设备唯一标识)."""

    code = models.CharField("站点编码", max_length=32, unique=True)
    name = models.CharField("站点名称", max_length=100)
    kind = models.CharField("类型", max_length=8, choices=StationKind.choices, default=StationKind.ONLINE)
    outfall = models.ForeignKey(
        Outfall,
        verbose_name="入河排污口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stations",
    )
    section = models.ForeignKey(
        Section,
        verbose_name="考核断面",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stations",
    )
    mn = models.CharField(
        "设备编码（MN）",
        max_length=24,
        null=True,
        blank=True,
        unique=True,
        help_text="HJ 212-2017 数据采集传输仪的唯一标识（最长 24 位）",
    )
    password = models.CharField("访问密码（PW）", max_length=6, blank=True, help_text="留空则不校验")
    interval_minutes = models.PositiveSmallIntegerField(
        "分钟数据间隔", default=10, validators=[MinValueValidator(1)], help_text="用于判断分钟数据缺失"
    )
    offline_after_minutes = models.PositiveIntegerField(
        "离线判定（分钟）",
        default=120,
        validators=[MinValueValidator(5)],
        help_text="超过该时间未收到报文即为离线",
    )
    active = models.BooleanField("在用", default=True)
    demo = models.BooleanField("演示数据", default=False)
    last_seen_at = models.DateTimeField("最近报文时间", null=True, blank=True)
    last_data_at = models.DateTimeField("最近数据时间", null=True, blank=True)
    latest = models.JSONField("最近实时值", default=dict, blank=True)
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = PointScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "监测站点"
        verbose_name_plural = "监测站点"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outfall__isnull=False) | models.Q(section__isnull=False),
                name="station_at_outfall_or_section",
            )
        ]

    def __str__(self):
        return self.name


class SampleImport(models.Model):
    """One uploaded lab file (CSV or xlsx); a second upload of the same content changes nothing."""

    file = models.FileField("原始文件", upload_to="monitoring/imports/%Y/%m/", max_length=300)
    filename = models.CharField("文件名", max_length=200)
    digest = models.CharField("文件摘要（SHA-256）", max_length=64, db_index=True)
    status = models.CharField(
        "状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    source = models.CharField("样品来源", max_length=16, choices=SampleSource.choices)
    lab = models.CharField("检测单位", max_length=100, blank=True)
    samples_created = models.PositiveIntegerField("新增样品", default=0)
    values_created = models.PositiveIntegerField("新增监测值", default=0)
    samples_unchanged = models.PositiveIntegerField("已存在的样品", default=0)
    errors = models.JSONField("错误", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "检测数据导入"
        verbose_name_plural = "检测数据导入"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.filename


class Sample(models.Model):
    """One sampling: when, where, by whom (source), the flow at the time and the weather; its values are
    SampleValue rows (one per parameter)."""

    outfall = models.ForeignKey(
        Outfall,
        verbose_name="入河排污口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="samples",
    )
    section = models.ForeignKey(
        Section,
        verbose_name="考核断面",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="samples",
    )
    station = models.ForeignKey(
        Station, verbose_name="站点", null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    source = models.CharField("来源", max_length=16, choices=SampleSource.choices)
    sampled_at = models.DateTimeField("采样时间")
    place = models.CharField("采样地点", max_length=200, blank=True)
    lon = models.FloatField("经度", null=True, blank=True, validators=LON_VALIDATORS)
    lat = models.FloatField("纬度", null=True, blank=True, validators=LAT_VALIDATORS)
    flow = models.FloatField(
        "流量", null=True, blank=True, validators=[MinValueValidator(0, "流量不能为负数。")]
    )
    flow_unit = models.CharField("流量单位", max_length=8, blank=True)
    flow_m3h = models.FloatField("流量（m³/h）", null=True, blank=True)
    weather = models.CharField(
        "天气", max_length=8, choices=Weather.choices, blank=True, default=Weather.UNKNOWN
    )
    lab = models.CharField("检测单位", max_length=100, blank=True)
    lab_sample_id = models.CharField("样品编号", max_length=64, blank=True)
    key = models.CharField("识别键", max_length=200, unique=True, editable=False)
    imported_in = models.ForeignKey(
        SampleImport,
        verbose_name="导入批次",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="samples",
    )
    draw_item = models.ForeignKey(
        "monitoring.DrawItem",
        verbose_name="双随机抽查",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="samples",
    )
    notes = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = PointScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "样品"
        verbose_name_plural = "样品"
        ordering = ["-sampled_at", "-id"]
        indexes = [
            models.Index(fields=["outfall", "sampled_at"]),
            models.Index(fields=["section", "sampled_at"]),
            models.Index(fields=["sampled_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outfall__isnull=False) | models.Q(section__isnull=False),
                name="sample_at_outfall_or_section",
            )
        ]

    def __str__(self):
        where = self.outfall or self.section
        return f"{where} {self.sampled_at:%Y-%m-%d %H:%M}"


class SampleValue(models.Model):
    """One parameter's value in one sample, as given (value, unit) and in the parameter's unit (value_std).

    Below the limit of detection: qualifier BELOW_LOD, value None, detection_limit(_std) the limit."""

    # Foreign keys without their own index: the composite indexes below serve every lookup (10 million rows).
    sample = models.ForeignKey(
        Sample, verbose_name="样品", on_delete=models.CASCADE, related_name="values", db_index=False
    )
    outfall = models.ForeignKey(
        Outfall,
        verbose_name="入河排污口",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
    )
    section = models.ForeignKey(
        Section,
        verbose_name="考核断面",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
    )
    parameter = models.ForeignKey(
        Parameter, verbose_name="项目", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    sampled_at = models.DateTimeField("采样时间")
    value = models.FloatField("原始值", null=True, blank=True)
    unit = models.CharField("原始单位", max_length=16, blank=True)
    value_std = models.FloatField("标准单位值", null=True, blank=True)
    qualifier = models.CharField("标识", max_length=12, choices=Qualifier.choices, blank=True, default="")
    detection_limit = models.FloatField("检出限", null=True, blank=True)
    detection_limit_std = models.FloatField("检出限（标准单位）", null=True, blank=True)

    objects = PointScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "监测值"
        verbose_name_plural = "监测值"
        ordering = ["sampled_at", "id"]
        indexes = [
            models.Index(fields=["outfall", "parameter", "sampled_at"], name="sv_outfall_param_time"),
            models.Index(fields=["section", "parameter", "sampled_at"], name="sv_section_param_time"),
            models.Index(fields=["sample"], name="sv_sample"),
        ]

    def __str__(self):
        return f"{self.parameter_id} {self.shown}"

    @property
    def shown(self):
        """The value as a report writes it: "12.3", "<0.05" (below detection), "约 12" (estimated)."""
        if self.qualifier == Qualifier.BELOW_LOD:
            return f"<{self.detection_limit_std:g}" if self.detection_limit_std is not None else "未检出"
        if self.value_std is None:
            return "—"
        text = format_value(self.value_std)
        return f"约 {text}" if self.qualifier == Qualifier.ESTIMATED else text


class Rainfall(models.Model):
    """A day's rainfall in a county (or the whole city, county empty): what makes a day dry or wet."""

    date = models.DateField("日期")
    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="县区",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    rain_mm = models.FloatField("降雨量（毫米）", validators=[MinValueValidator(0)])
    source = models.CharField("来源", max_length=100, blank=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "降雨记录"
        verbose_name_plural = "降雨记录"
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["date", "county"], name="rainfall_unique_day_county"),
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(county=None), name="rainfall_unique_day_city"
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.rain_mm} mm"
