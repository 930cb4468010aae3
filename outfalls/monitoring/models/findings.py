"""What the exceedance engine finds (monitoring/exceedances.py), and dry-weather flow at storm outfalls."""

from django.db import models

from outfalls.registry.models import Outfall

from ..choices import DryWeatherSource, FindingKind, Grain, LimitKind
from .scoping import OutfallScopedQuerySet
from .standards import Parameter


class Finding(models.Model):
    """One finding with its reason: a value over its limit (with the multiple), a chronic exceedance (N of the
    last M), a missing required sample, or a value below a detection limit that is above the limit.

    ``key`` makes evaluation idempotent: evaluating the same values again finds the same rows. The limit used
    is kept as it was (value, kind, unit, where it came from), so a later change of the library or a permit does
    not rewrite what was found."""

    key = models.CharField("识别键", max_length=120, unique=True)
    kind = models.CharField("类型", max_length=12, choices=FindingKind.choices)
    outfall = models.ForeignKey(
        Outfall,
        verbose_name="入河排污口",
        on_delete=models.CASCADE,
        related_name="monitoring_findings",
        db_index=False,  # the (outfall, parameter, at) index serves it
    )
    parameter = models.ForeignKey(Parameter, verbose_name="项目", on_delete=models.PROTECT, related_name="+")
    grain = models.CharField("数据类型", max_length=8, choices=Grain.choices)
    value_id = models.BigIntegerField("监测值编号", null=True, blank=True)
    at = models.DateTimeField("时间", help_text="样品采样时间或时段开始")
    period_end = models.DateTimeField("时段结束", null=True, blank=True)
    value = models.FloatField("监测值", null=True, blank=True)
    limit_kind = models.CharField("限值类型", max_length=16, choices=LimitKind.choices, blank=True)
    limit_lower = models.FloatField("限值下限", null=True, blank=True)
    limit_upper = models.FloatField("限值上限", null=True, blank=True)
    unit = models.CharField("单位", max_length=16, blank=True)
    multiple = models.FloatField("超标倍数", null=True, blank=True, help_text="(监测值−限值)/限值")
    limit_source = models.CharField("限值来源", max_length=200, blank=True)
    reason = models.TextField("依据")
    evaluated_at = models.DateTimeField("判定时间", auto_now=True)

    objects = OutfallScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "超标与缺测"
        verbose_name_plural = "超标与缺测"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["outfall", "parameter", "at"]),
            models.Index(fields=["kind", "at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.outfall_id} {self.parameter_id} {self.at:%Y-%m-%d}"

    @property
    def limit_text(self):
        if self.limit_kind == LimitKind.RANGE:
            return f"{self.limit_lower:g}–{self.limit_upper:g}"
        if self.limit_kind == LimitKind.MIN:
            return f"≥{self.limit_lower:g}"
        return "" if self.limit_upper is None else f"≤{self.limit_upper:g}"


class DryWeatherEvent(models.Model):
    """Flow seen at a storm outfall (YH) in dry weather, with its evidence, and the tracing it asked for."""

    key = models.CharField("识别键", max_length=120, unique=True)
    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="dry_weather_events"
    )
    source = models.CharField("证据来源", max_length=16, choices=DryWeatherSource.choices)
    observed_at = models.DateTimeField("发现时间")
    evidence = models.TextField("证据")
    tracing_requested = models.BooleanField("已请求溯源", default=False)
    tracing_result = models.CharField("溯源处理", max_length=200, blank=True)
    tracing_url = models.CharField("溯源案件地址", max_length=200, blank=True)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = OutfallScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "旱天排水"
        verbose_name_plural = "旱天排水"
        ordering = ["-observed_at", "-id"]

    def __str__(self):
        return f"{self.outfall} {self.observed_at:%Y-%m-%d}"
