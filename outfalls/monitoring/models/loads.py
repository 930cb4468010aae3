"""Pollutant loads per outfall and year (monitoring/loads.py computes them): flow × concentration, or an estimate
from the outfall's type and volume where values are missing, marked as such."""

from django.db import models

from outfalls.registry.models import Outfall

from .scoping import OutfallScopedQuerySet
from .standards import Parameter


class OutfallLoad(models.Model):
    outfall = models.ForeignKey(
        Outfall, verbose_name="入河排污口", on_delete=models.CASCADE, related_name="loads"
    )
    parameter = models.ForeignKey(Parameter, verbose_name="项目", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    flow_m3_per_day = models.FloatField("日均水量（m³/d）", null=True, blank=True)
    concentration = models.FloatField("平均浓度（mg/L）", null=True, blank=True)
    kg_per_day = models.FloatField("日负荷（kg/d）")
    kg_per_year = models.FloatField("年负荷（kg/a）")
    estimated = models.BooleanField("估算", default=False)
    basis = models.CharField("计算依据", max_length=300)
    samples = models.PositiveIntegerField("样品数", default=0)
    computed_at = models.DateTimeField("计算时间", auto_now=True)

    objects = OutfallScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "排口污染物负荷"
        verbose_name_plural = "排口污染物负荷"
        ordering = ["outfall", "parameter__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["outfall", "parameter", "year"], name="load_unique_outfall_param_year"
            )
        ]
        indexes = [models.Index(fields=["year", "parameter", "kg_per_day"])]

    def __str__(self):
        return f"{self.outfall_id} {self.parameter_id} {self.year}: {self.kg_per_day:.2f} kg/d"
