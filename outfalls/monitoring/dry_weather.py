"""Dry-weather flow at storm outfalls (YH) opens a tracing case (实施方案（十）“开展城镇雨洪排口旱天污水直排的溯源治理”).

Evidence comes through registry.dry_weather from every app: field checks (survey: flowing in dry weather),
samples (this app: a sample with flow taken on a dry day) and online flow (this app: a day's discharged volume
over MONITORING_DRY_FLOW_M3_PER_DAY on a dry day). ``scan`` records each new piece of evidence once
(DryWeatherEvent, keyed by the evidence) and asks registry.dry_weather.request_tracing to open the outfall's
tracing case (or add the evidence to it) with all the new evidence.

A dry day: the day and the MONITORING_DRY_DAYS_BEFORE days before it each had less than MONITORING_DRY_RAIN_MM
of rain in the outfall's county (or, without a county record, the city's). A day without rainfall records is not
called dry; a sample says its own weather when the person recorded it.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from outfalls.registry import dry_weather as registry_dry_weather
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall

from .choices import DryWeatherSource, Weather
from .models import DayValue, DryWeatherEvent, Parameter, Rainfall, Sample
from .units import format_value


def dry_days(county_ids, first, last):
    """{(county id, date)} of the dry days in [first, last] for these counties."""
    before = int(settings.MONITORING_DRY_DAYS_BEFORE)
    limit = float(settings.MONITORING_DRY_RAIN_MM)
    rows = Rainfall.objects.filter(date__gte=first - timedelta(days=before), date__lte=last).filter(
        Q(county_id__in=county_ids) | Q(county__isnull=True)
    )
    city, county = {}, {}
    for row in rows.values_list("county_id", "date", "rain_mm"):
        (city if row[0] is None else county)[row[1] if row[0] is None else (row[0], row[1])] = row[2]
    dry = set()
    day = first
    while day <= last:
        for county_id in county_ids:
            rains = []
            for offset in range(before + 1):
                d = day - timedelta(days=offset)
                rain = county.get((county_id, d), city.get(d))
                rains.append(rain)
            if all(r is not None and r < limit for r in rains):
                dry.add((county_id, day))
        day += timedelta(days=1)
    return dry


def _flow_text(m3h):
    return f"{format_value(m3h, 3)} m³/h"


def observations(outfall_ids, since=None):
    """This app's evidence (registry.dry_weather provider): samples and online flow at storm outfalls."""
    outfalls = {
        o.pk: o
        for o in Outfall.objects.filter(pk__in=outfall_ids, type_code=TypeCode.YH).only(
            "id", "county_id", "name"
        )
    }
    if not outfalls:
        return []
    found = []
    samples = Sample.objects.filter(outfall_id__in=outfalls, flow_m3h__gt=0).exclude(weather=Weather.WET)
    if since is not None:
        samples = samples.filter(sampled_at__gte=since)
    samples = list(samples.only("id", "outfall_id", "sampled_at", "weather", "flow_m3h", "place"))
    online = DayValue.objects.none()
    flow = Parameter.objects.filter(code="FLOW").first()
    if flow is not None:
        online = DayValue.objects.filter(
            outfall_id__in=outfalls, parameter=flow, cou__gt=float(settings.MONITORING_DRY_FLOW_M3_PER_DAY)
        )
        if since is not None:
            online = online.filter(at__gte=since)
    online = list(online.only("id", "outfall_id", "at", "cou", "avg"))
    days = [timezone.localdate(s.sampled_at) for s in samples if s.weather != Weather.DRY]
    days += [timezone.localdate(v.at) for v in online]
    dry = dry_days({o.county_id for o in outfalls.values()}, min(days), max(days)) if days else set()
    for s in samples:
        county = outfalls[s.outfall_id].county_id
        day = timezone.localdate(s.sampled_at)
        if s.weather == Weather.DRY:
            why = "采样时记录为旱天"
        elif (county, day) in dry:
            why = "当日及前期无有效降雨"
        else:
            continue
        found.append(
            registry_dry_weather.Observation(
                outfall_id=s.outfall_id,
                observed_at=s.sampled_at,
                source=DryWeatherSource.SAMPLE,
                key=f"sample:{s.pk}",
                evidence=f"{timezone.localtime(s.sampled_at):%Y-%m-%d %H:%M} 采样（{why}）实测流量 {_flow_text(s.flow_m3h)}"
                + (f"，地点：{s.place}" if s.place else ""),
            )
        )
    for v in online:
        county = outfalls[v.outfall_id].county_id
        day = timezone.localdate(v.at)
        if (county, day) not in dry:
            continue
        found.append(
            registry_dry_weather.Observation(
                outfall_id=v.outfall_id,
                observed_at=v.at,
                source=DryWeatherSource.ONLINE,
                key=f"online:{v.pk}:{day:%Y%m%d}",
                evidence=f"{day:%Y-%m-%d}（旱天）在线监测日排水量 {format_value(v.cou)} m³",
            )
        )
    return found


def scan(outfall_ids=None, *, since=None, user=None):
    """Record new dry-weather evidence at storm outfalls and request tracing for them. Returns the new events."""
    storms = Outfall.objects.filter(type_code=TypeCode.YH)
    if outfall_ids is not None:
        storms = storms.filter(pk__in=list(outfall_ids))
    ids = list(storms.values_list("pk", flat=True))
    if not ids:
        return []
    seen = set(DryWeatherEvent.objects.filter(outfall_id__in=ids).values_list("key", flat=True))
    new = [o for o in registry_dry_weather.observations(ids, since) if o.key not in seen]
    events = DryWeatherEvent.objects.bulk_create(
        [
            DryWeatherEvent(
                key=o.key[:120],
                outfall_id=o.outfall_id,
                source=o.source,
                observed_at=o.observed_at,
                evidence=o.evidence,
            )
            for o in new
        ]
    )
    by_outfall = {}
    for event in events:
        by_outfall.setdefault(event.outfall_id, []).append(event)
    for outfall in Outfall.objects.filter(pk__in=by_outfall):
        items = by_outfall[outfall.pk]
        evidence = "；".join(f"{DryWeatherSource(e.source).label}：{e.evidence}" for e in items)
        result = registry_dry_weather.request_tracing(
            outfall,
            user=user,
            reason="城镇雨洪排口旱天排水，按实施方案（十）开展旱天污水直排溯源",
            evidence=evidence,
        )
        if result is None:
            continue
        DryWeatherEvent.objects.filter(pk__in=[e.pk for e in items]).update(
            tracing_requested=True, tracing_result=result.text[:200], tracing_url=result.url[:200]
        )
        for e in items:
            e.tracing_requested, e.tracing_result, e.tracing_url = True, result.text[:200], result.url[:200]
    return events
