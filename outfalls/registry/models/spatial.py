"""Special protection areas and the findings of the spatial checks (registry/checks.py)."""

from django.db import models
from simple_history.models import HistoricalRecords

from ..choices import FindingKind, FindingSeverity, ProtectedAreaKind
from .ledger import Outfall, ReferenceQuerySet


class BoundedArea(models.Model):
    """A named polygon layer stored as GeoJSON (CGCS2000) with its bounding box."""

    name = models.CharField("名称", max_length=128)
    geometry = models.JSONField("范围（GeoJSON）", help_text="Polygon 或 MultiPolygon，CGCS2000")
    source = models.CharField("来源", max_length=200, blank=True)
    approximate = models.BooleanField("范围为示意", default=False)
    # The bounding box, kept so spatial checks and map queries can skip far polygons without parsing them.
    min_lon = models.FloatField("最小经度", default=0)
    min_lat = models.FloatField("最小纬度", default=0)
    max_lon = models.FloatField("最大经度", default=0)
    max_lat = models.FloatField("最大纬度", default=0)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        from shapely.geometry import shape

        self.min_lon, self.min_lat, self.max_lon, self.max_lat = shape(self.geometry).bounds
        super().save(*args, **kwargs)


class ProtectedArea(BoundedArea):
    """特殊保护区域: drinking-water source protection zones, spring areas, nature reserves, red lines."""

    kind = models.CharField("类型", max_length=24, choices=ProtectedAreaKind.choices)
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "特殊保护区域"
        verbose_name_plural = "特殊保护区域"
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"])]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"


class SewerCoverageArea(BoundedArea):
    """污水管网覆盖范围: domestic sewage inside one is to go into the network (清理合并)."""

    county = models.ForeignKey(
        "core.Jurisdiction",
        verbose_name="所在县区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "污水管网覆盖范围"
        verbose_name_plural = "污水管网覆盖范围"
        ordering = ["name"]
        indexes = [models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"])]

    def __str__(self):
        return self.name


class SpatialFindingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(outfall__in=Outfall.objects.visible_to(user))


class SpatialFinding(models.Model):
    """One result of the spatial checks (registry/checks.py) for one outfall; recomputed on every check."""

    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="findings"
    )
    kind = models.CharField("类别", max_length=24, choices=FindingKind.choices)
    severity = models.CharField("级别", max_length=8, choices=FindingSeverity.choices)
    message = models.CharField("说明", max_length=300)
    data = models.JSONField("数据", default=dict, blank=True)
    protected_area = models.ForeignKey(
        ProtectedArea, verbose_name="特殊保护区域", null=True, blank=True, on_delete=models.CASCADE
    )
    other_outfall = models.ForeignKey(
        Outfall, verbose_name="相关排口", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # When the check last wrote this finding: found it, or found it changed. A re-check that finds the same
    # leaves the row (and this time) alone (checks.write compares `digest`).
    checked_at = models.DateTimeField("更新时间", auto_now=True)
    # Section interval only: the 断面区间 this check wrote into the ledger ("" when it wrote none), so the
    # next check knows the ledger's value is its own and may replace it (docs/spatial-checks.md).
    filled = models.CharField("已自动填入的断面区间", max_length=100, blank=True, default="")
    # A 64-bit fingerprint of what the check computed for this finding (checks.py); None when unknown.
    digest = models.BigIntegerField("内容指纹", null=True, blank=True, editable=False)

    objects = SpatialFindingQuerySet.as_manager()

    class Meta:
        verbose_name = "空间检查结果"
        verbose_name_plural = "空间检查结果"
        ordering = ["outfall", "kind"]
        indexes = [models.Index(fields=["kind", "severity"])]

    def __str__(self):
        return self.message
