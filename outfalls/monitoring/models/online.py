"""Online (HJ 212-2017) values, one table per grain: minute (CN 2051), hour (CN 2061) and day (CN 2031) data,
and the count of packets the listener refused."""

from django.db import models

from outfalls.registry.models import Outfall, Section

from ..choices import RejectReason
from .scoping import PointScopedQuerySet
from .standards import Parameter


class OnlineValue(models.Model):
    """A period's statistics of one parameter at one station, as the station reported them.

    ``at`` is the period's start (the packet's DataTime); flag is HJ 212's data flag (N normal, F stopped,
    M maintenance, S set by hand, D fault, C calibration, T over the instrument's range, B communication)."""

    # Foreign keys without their own index: the unique (station, parameter, at) and the composite indexes serve
    # every lookup.
    station = models.ForeignKey(
        "monitoring.Station", verbose_name="站点", on_delete=models.CASCADE, related_name="+", db_index=False
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
    at = models.DateTimeField("时段开始")
    avg = models.FloatField("均值", null=True, blank=True)
    min = models.FloatField("最小值", null=True, blank=True)
    max = models.FloatField("最大值", null=True, blank=True)
    cou = models.FloatField("累计值", null=True, blank=True, help_text="流量为时段排放量（m³）")
    flag = models.CharField("数据标记", max_length=2, blank=True)

    objects = PointScopedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.station_id} {self.parameter_id} {self.at:%Y-%m-%d %H:%M} {self.avg}"


def _online_meta(name, verbose):
    return type(
        "Meta",
        (),
        {
            "verbose_name": verbose,
            "verbose_name_plural": verbose,
            "ordering": ["at", "id"],
            "constraints": [
                models.UniqueConstraint(
                    fields=["station", "parameter", "at"], name=f"{name}_unique_station_param_at"
                )
            ],
            "indexes": [
                models.Index(fields=["outfall", "parameter", "at"], name=f"{name}_outfall_param_at"),
                models.Index(fields=["section", "parameter", "at"], name=f"{name}_section_param_at"),
            ],
        },
    )


class MinuteValue(OnlineValue):
    Meta = _online_meta("minutevalue", "在线分钟数据")


class HourValue(OnlineValue):
    Meta = _online_meta("hourvalue", "在线小时数据")


class DayValue(OnlineValue):
    Meta = _online_meta("dayvalue", "在线日数据")


GRAIN_MODELS = {"minute": MinuteValue, "hour": HourValue, "day": DayValue}


class RejectedPackets(models.Model):
    """Packets the HJ 212 listener refused, counted per day, reason and MN (never stored as data)."""

    day = models.DateField("日期")
    reason = models.CharField("原因", max_length=16, choices=RejectReason.choices)
    mn = models.CharField("设备编码（MN）", max_length=64, blank=True)
    peer = models.CharField("来源地址", max_length=64, blank=True)
    count = models.PositiveIntegerField("次数", default=0)
    last_at = models.DateTimeField("最近一次")
    last_packet = models.CharField("最近一次报文（截断）", max_length=300, blank=True)

    class Meta:
        verbose_name = "拒收报文"
        verbose_name_plural = "拒收报文"
        ordering = ["-day", "reason", "mn"]
        constraints = [
            models.UniqueConstraint(fields=["day", "reason", "mn"], name="rejected_unique_day_reason_mn")
        ]

    def __str__(self):
        return f"{self.day} {self.get_reason_display()} {self.mn} ×{self.count}"
