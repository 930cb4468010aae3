"""The permits app as a provider of registry.limits (the one limits hook, read by the monitoring app): the limits
and self-monitoring duties of the discharge permits in force today, per covered outfall, in the monitoring
library's parameter codes and frequencies.

A permit stores what the permit text says (parameter names such as 化学需氧量 or NH3-N, frequencies such as
1次/月 or 自动监测); PARAMETER_CODES and frequency_code() map them. A limit is handed over as:

- RANGE when it has a lower value (pH 6–9);
- DAILY_MEAN when its averaging period is the day (日均值), MAX when instantaneous or hourly;
- not at all when it is a monthly or yearly mean (a sample cannot be compared with it; the permit's page still
  shows it), or when its parameter or frequency has no code in the library.
"""

import re

from django.db.models import Prefetch
from django.utils import timezone

from outfalls.registry import limits as registry_limits

from .choices import Averaging
from .models import DischargePermit, MonitoringDuty, PermitLimit, PermitOutfall

#: Parameter names a permit may use → the monitoring library's code (its aliases, docs/monitoring.md).
PARAMETER_CODES = {
    "COD": ("COD", "CODcr", "化学需氧量"),
    "BOD5": ("BOD5", "BOD", "五日生化需氧量", "生化需氧量"),
    "SS": ("SS", "悬浮物"),
    "NH3N": ("NH3N", "NH3-N", "氨氮", "氨氮（以N计）"),
    "TN": ("TN", "总氮", "总氮（以N计）"),
    "TP": ("TP", "总磷", "总磷（以P计）"),
    "CODMn": ("CODMn", "高锰酸盐指数"),
    "DO": ("DO", "溶解氧"),
    "pH": ("pH", "pH值"),
    "TEMP": ("TEMP", "水温"),
    "FLOW": ("FLOW", "流量", "污水流量"),
}


def _key(text):
    return re.sub(r"[\s()（）]", "", str(text)).casefold()


_BY_NAME = {_key(alias): code for code, aliases in PARAMETER_CODES.items() for alias in aliases}


def parameter_code(name):
    """The library's code for a parameter name as a permit writes it, or None."""
    return _BY_NAME.get(_key(name))


#: Frequencies as permits write them (1次/月, 每月一次, 自动监测 …) → registry.limits.Frequency.
_PERIODS = (
    ("半年", registry_limits.Frequency.HALF_YEARLY),
    ("季", registry_limits.Frequency.QUARTERLY),
    ("年", registry_limits.Frequency.YEARLY),
    ("月", registry_limits.Frequency.MONTHLY),
    ("周", registry_limits.Frequency.WEEKLY),
    ("日", registry_limits.Frequency.DAILY),
    ("天", registry_limits.Frequency.DAILY),
)


def frequency_code(text):
    """registry.limits.Frequency for a permit's frequency text, or None when it names no period."""
    text = str(text).strip()
    if "自动" in text or "在线" in text:
        return registry_limits.Frequency.ONLINE
    for word, code in _PERIODS:
        if word in text:
            return code
    return None


_KIND_BY_AVERAGING = {
    Averaging.INSTANT: registry_limits.LimitKind.MAX,
    Averaging.HOURLY: registry_limits.LimitKind.MAX,
    Averaging.DAILY: registry_limits.LimitKind.DAILY_MEAN,
}


def _entries(outfall_ids, prefetch):
    return (
        PermitOutfall.objects.filter(
            outfall_id__in=list(outfall_ids),
            permit__in=DischargePermit.objects.in_force(timezone.localdate()),
        )
        .select_related("permit")
        .prefetch_related(prefetch)
        .order_by("-permit__valid_until", "permit__number", "id")
    )


def _source(entry):
    outlet = f" {entry.outlet_code}" if entry.outlet_code else ""
    return f"排污许可证 {entry.permit.number}{outlet}"


def _limit(row, source):
    code = parameter_code(row.parameter)
    if code is None:
        return None
    if row.lower_value is not None:
        kind = registry_limits.LimitKind.RANGE
    else:
        kind = _KIND_BY_AVERAGING.get(row.averaging)
        if kind is None:
            return None
    return registry_limits.Limit(
        parameter=code,
        kind=kind,
        upper=row.limit_value,
        lower=row.lower_value,
        unit=row.unit or "mg/L",
        averaging=row.get_averaging_display(),
        source=source,
    )


def outfall_limits(outfall_ids):
    """{outfall id: [registry.limits.Limit]} from the permits in force today (the latest-ending permit first)."""
    found = {}
    for entry in _entries(outfall_ids, Prefetch("limits", queryset=PermitLimit.objects.order_by("id"))):
        source = _source(entry)
        for row in entry.limits.all():
            if (limit := _limit(row, source)) is not None:
                found.setdefault(entry.outfall_id, []).append(limit)
    return found


def outfall_monitoring_duties(outfall_ids):
    """{outfall id: [registry.limits.MonitoringDuty]} from the permits in force today."""
    found = {}
    for entry in _entries(
        outfall_ids, Prefetch("monitoring", queryset=MonitoringDuty.objects.order_by("id"))
    ):
        source = _source(entry)
        for row in entry.monitoring.all():
            code, frequency = parameter_code(row.parameter), frequency_code(row.frequency)
            if code and frequency:
                found.setdefault(entry.outfall_id, []).append(
                    registry_limits.MonitoringDuty(parameter=code, frequency=frequency, source=source)
                )
    return found
