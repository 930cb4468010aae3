"""The time series of one outfall's parameters for the chart (the outfall's monitoring page): samples and online
day values, each parameter with the limit that applies drawn on it."""

from django.utils import timezone

from .choices import LimitKind, Qualifier
from .limits import limits_for
from .models import DayValue, Parameter, SampleValue


def _ms(dt):
    return int(dt.timestamp() * 1000)


def outfall_series(outfall, start, end):
    """{"parameters": [...]} for the chart script: per parameter its points, online day means and limit."""
    limits = limits_for([outfall]).get(outfall.pk)
    values = (
        SampleValue.objects.filter(outfall_id=outfall.pk, sampled_at__gte=start, sampled_at__lt=end)
        .order_by("parameter_id", "sampled_at")
        .values_list(
            "parameter_id", "sampled_at", "value_std", "qualifier", "detection_limit_std", "sample_id"
        )
    )
    days = (
        DayValue.objects.filter(outfall_id=outfall.pk, at__gte=start, at__lt=end)
        .order_by("parameter_id", "at")
        .values_list("parameter_id", "at", "avg", "flag")
    )
    points, online = {}, {}
    for parameter_id, at, value, qualifier, dl, sample_id in values:
        below = qualifier == Qualifier.BELOW_LOD
        shown = dl if below else value
        if shown is None:
            continue
        points.setdefault(parameter_id, []).append(
            [_ms(at), shown, "below_lod" if below else (qualifier or ""), sample_id]
        )
    for parameter_id, at, avg, flag in days:
        if avg is not None:
            online.setdefault(parameter_id, []).append([_ms(at), avg, flag])
    result = []
    for parameter in Parameter.objects.filter(pk__in={*points, *online}):
        limit = limits.limits.get(parameter.code) if limits else None
        entry = {
            "code": parameter.code,
            "name": parameter.name,
            "unit": parameter.unit,
            "points": points.get(parameter.pk, []),
            "online": online.get(parameter.pk, []),
            "limit": None,
        }
        if limit is not None:
            entry["limit"] = {
                "kind": limit.kind,
                "lower": limit.lower,
                "upper": limit.upper,
                "cold_upper": limit.cold_upper,
                "label": f"{limit.source_text} {limit.text}",
                "is_range": limit.kind == LimitKind.RANGE,
            }
        result.append(entry)
    return {
        "parameters": result,
        "start": _ms(start),
        "end": _ms(end),
        "timezone": timezone.get_current_timezone_name(),
    }
