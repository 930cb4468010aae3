"""Reference data for setting up outfalls: water-function zones with their targets, and water works (flood works,
water intakes, dykes) near which the water authority is consulted. Shared by the setup review (permits) and
monitoring; kept with history like the waters and sections they refer to."""

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from outfalls.geo import shapes

from ..choices import TARGET_CLASSES, WATER_CLASS_ORDER, WaterClass, WaterWorksKind, ZoneKind, worse_than
from .ledger import ReferenceQuerySet, WaterBody

POLYGONAL = ("Polygon", "MultiPolygon")
WORKS_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


def _bounds(geometry):
    """(min_lon, min_lat, max_lon, max_lat) of a GeoJSON geometry, or Nones when there is none."""
    if not geometry:
        return None, None, None, None
    return shapes.shape_of(geometry).bounds


def _geometry_error(geometry, allowed, what):
    """A Chinese message when the GeoJSON cannot be read or is not of an allowed type, else None."""
    try:
        geom = shapes.shape_of(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return "几何无法读取，应为 GeoJSON。"
    if geom.is_empty:
        return "几何为空。"
    if geom.geom_type not in allowed:
        return f"几何类型为 {geom.geom_type}，{what}。"
    return None


class ZoneQuerySet(ReferenceQuerySet):
    def below_target(self):
        """Zones whose latest assessed class is worse than their target (as WaterFunctionZone.below_target)."""
        q = models.Q(pk__in=[])
        for i, target in enumerate(WATER_CLASS_ORDER):
            q |= models.Q(target_class=target, assessed_class__in=WATER_CLASS_ORDER[i + 1 :])
        return self.filter(q)


class WaterFunctionZone(models.Model):
    """水功能区 / 水环境功能区: a polygon (a lake, a reservoir, an area) or a stretch of a river between two
    chainages, with its GB 3838 target class and the latest assessed class and date. A zone whose assessed
    class is worse than its target has not met its water-quality target (实施方案（九）: new, changed or enlarged
    outfalls there are strictly controlled, except those of municipal treatment plants)."""

    name = models.CharField("名称", max_length=128)
    code = models.CharField("区划编码", max_length=32, blank=True)
    kind = models.CharField("类型", max_length=20, choices=ZoneKind.choices, default=ZoneKind.WATER_FUNCTION)
    water_body = models.ForeignKey(
        WaterBody,
        verbose_name="所在水体",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="zones",
    )
    start_km = models.FloatField(
        "起点沿程距离（公里）",
        null=True,
        blank=True,
        help_text="河段区划：自河源起算，与考核断面的沿程距离一致",
    )
    end_km = models.FloatField("终点沿程距离（公里）", null=True, blank=True)
    geometry = models.JSONField(
        "范围（GeoJSON）",
        null=True,
        blank=True,
        help_text="面状区划（湖库、区域）：Polygon 或 MultiPolygon，CGCS2000；河段区划留空，按沿程距离确定",
    )
    min_lon = models.FloatField("最小经度", null=True, blank=True, editable=False)
    min_lat = models.FloatField("最小纬度", null=True, blank=True, editable=False)
    max_lon = models.FloatField("最大经度", null=True, blank=True, editable=False)
    max_lat = models.FloatField("最大纬度", null=True, blank=True, editable=False)
    target_class = models.CharField("水质目标", max_length=8, choices=WaterClass.choices)
    assessed_class = models.CharField("最新评价水质", max_length=8, choices=WaterClass.choices, blank=True)
    assessed_on = models.DateField("评价日期", null=True, blank=True)
    approximate = models.BooleanField("范围为示意", default=False)
    source = models.CharField("来源", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = ZoneQuerySet.as_manager()

    class Meta:
        verbose_name = "水功能区"
        verbose_name_plural = "水功能区"
        ordering = ["water_body__name", "start_km", "name"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="zone_unique_code")
        ]
        indexes = [models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"])]

    def __str__(self):
        return self.name

    @property
    def below_target(self):
        """True when the latest assessment is worse than the target (未达到水质目标)."""
        return worse_than(self.assessed_class, self.target_class)

    @property
    def is_stretch(self):
        """A stretch by chainage (clean() allows either chainages or a polygon, never both)."""
        return self.start_km is not None and self.end_km is not None

    @property
    def extent_text(self):
        if self.is_stretch:
            water = self.water_body.name if self.water_body_id else ""
            return f"{water} 沿程 {self.start_km:g}–{self.end_km:g} 公里"
        return "面状范围"

    def clean(self):
        errors = {}
        if self.target_class and self.target_class not in TARGET_CLASSES:
            errors["target_class"] = "水质目标应为 Ⅰ–Ⅴ 类之一。"
        if self.assessed_class and not self.assessed_on:
            errors["assessed_on"] = "填写最新评价水质时须填写评价日期。"
        if self.assessed_on and not self.assessed_class:
            errors["assessed_class"] = "填写评价日期时须填写评价水质。"
        stretch = self.start_km is not None or self.end_km is not None
        if self.geometry:
            problem = _geometry_error(self.geometry, POLYGONAL, "面状水功能区须为面")
            if problem:
                errors["geometry"] = problem
            if stretch:
                errors["start_km"] = "面状区划不填沿程距离；河段区划不填范围。"
        elif stretch:
            if self.start_km is None or self.end_km is None:
                errors["end_km" if self.end_km is None else "start_km"] = (
                    "河段区划须同时填写起点和终点沿程距离。"
                )
            elif self.start_km < 0 or self.end_km < 0:
                errors["start_km"] = "沿程距离不能为负数。"
            elif self.end_km <= self.start_km:
                errors["end_km"] = "终点沿程距离须大于起点。"
            if self.water_body_id is None:
                errors["water_body"] = "河段区划须选择所在水体。"
        else:
            errors["geometry"] = "请填写面状范围，或选择所在水体并填写起点、终点沿程距离。"
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = _bounds(self.geometry)
        super().save(*args, **kwargs)


class WaterWorks(models.Model):
    """涉水工程: flood works, water intakes and dykes (points, lines or areas). Setting up an outfall near one
    needs the opinion of the river basin authority or the water administration (实施方案（九）)."""

    name = models.CharField("名称", max_length=128)
    kind = models.CharField("类型", max_length=16, choices=WaterWorksKind.choices)
    water_body = models.ForeignKey(
        WaterBody,
        verbose_name="所在水体",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="works",
    )
    geometry = models.JSONField("位置（GeoJSON）", help_text="点、线或面，CGCS2000")
    min_lon = models.FloatField("最小经度", default=0, editable=False)
    min_lat = models.FloatField("最小纬度", default=0, editable=False)
    max_lon = models.FloatField("最大经度", default=0, editable=False)
    max_lat = models.FloatField("最大纬度", default=0, editable=False)
    authority = models.CharField(
        "管理机构",
        max_length=128,
        blank=True,
        help_text="征求意见的流域管理机构或水行政主管部门，如 大同市水务局",
    )
    approximate = models.BooleanField("位置为示意", default=False)
    source = models.CharField("来源", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "涉水工程"
        verbose_name_plural = "涉水工程（防洪工程、取水口、堤防）"
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"])]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"

    def clean(self):
        if self.geometry is not None:
            problem = _geometry_error(self.geometry, WORKS_TYPES, "涉水工程须为点、线或面")
            if problem:
                raise ValidationError({"geometry": problem})

    def save(self, *args, **kwargs):
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = _bounds(self.geometry)
        super().save(*args, **kwargs)
