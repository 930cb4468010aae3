"""Monitoring demo data for Datong, loaded by manage.py load_demo after the ledger, survey and remediation.

Everything here is simulated and says so (stations are flagged demo, samples carry the demo lab's name and the
note 演示数据): plausible values around each outfall's applicable limit, so the matrix, the charts and the notice
have something to show, not real measurements. Deterministic for a given month (a fixed seed; dates count back
from the first day of the current month) and idempotent (a second load adds nothing).

- rainfall: a city-wide daily series for the last 14 months (dry winters, summer rain);
- online stations (HJ 212) at the municipal plants and three industrial outfalls: 90 days of day values and the
  last 48 hours of hour values; one station stopped reporting two days ago (offline) and one has a gap;
- samples: quarterly supervisory samples at industrial, plant and rural-facility outfalls for two years, monthly
  self-monitoring at the municipal plants, monthly section samples (GB 3838 items) for a year; one industrial
  outfall exceeds NH3-N chronically, one rural facility reports TP below detection, one value is an estimate;
- a storm outfall sampled flowing on a dry day (the dry-weather scan opens its tracing case);
- then the exceedance engine and the dry-weather scan run over everything, the loads of last year and this year
  are computed, and one city-wide 双随机 draw dated today (seed ``demo-YYYYMM``) gets its results and is published.
"""

import random
import sys
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from outfalls.registry.choices import ACTIVE, LifecycleStatus
from outfalls.registry.classification import Level2, TypeCode
from outfalls.registry.models import Outfall, Section

from . import draws, dry_weather, exceedances, library, loads, partitions, services
from .choices import InspectionResult, SampleSource, StationKind, Weather
from .limits import limits_for, section_limits
from .models import DayValue, HourValue, Parameter, Rainfall, Sample, Station

SEED = 20231013
DEMO_LAB = "大同市生态环境监测中心（演示）"
DEMO_NOTE = "演示数据（模拟值，非真实监测结果）"
RAIN_SOURCE = "演示数据（模拟降雨）"
SAMPLED_TYPES = (Level2.INDUSTRIAL_MINING, Level2.MUNICIPAL_WWTP, Level2.PARK_WWTP, Level2.RURAL_FACILITY)
SAMPLED_ITEMS = {
    Level2.MUNICIPAL_WWTP: ("COD", "BOD5", "SS", "NH3N", "TN", "TP", "pH"),
    Level2.PARK_WWTP: ("COD", "NH3N", "TN", "TP", "pH"),
    Level2.INDUSTRIAL_MINING: ("COD", "SS", "NH3N", "pH"),
    Level2.RURAL_FACILITY: ("COD", "NH3N", "TP", "pH"),
}
SECTION_ITEMS = ("DO", "CODMn", "COD", "BOD5", "NH3N", "TP", "pH")
ONLINE_ITEMS = ("COD", "NH3N", "TP", "pH", "FLOW")
# Sections that fail their (demo) targets on some items, as 固定桥 and 利仁皂 did in 2017 (STANDARDS.md).
FAILING_SECTIONS = {
    "固定桥": {"NH3N": 1.6, "TP": 1.4},
    "利仁皂": {"NH3N": 1.5, "COD": 1.2},
    "张家场": {"TP": 1.3},
}


def _aware(day, hour=10, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _value_for(rng, limit, behaviour):
    """A value around the limit: compliant 0.2–0.8 of it; chronic 1.1–2.2 most of the time."""
    if limit is None:
        return None
    if limit.kind == "range":
        return round(rng.uniform(6.6, 8.2), 2)
    if limit.kind == "min":
        return round(limit.lower * rng.uniform(1.1, 1.6), 2)
    upper = limit.upper
    if behaviour == "chronic" and rng.random() < 0.75:
        return round(upper * rng.uniform(1.1, 2.2), 3)
    if behaviour == "occasional" and rng.random() < 0.15:
        return round(upper * rng.uniform(1.05, 1.5), 3)
    return round(upper * rng.uniform(0.2, 0.8), 3)


def _rainfall(rng, first, last):
    if Rainfall.objects.filter(county__isnull=True, date__gte=first, source=RAIN_SOURCE).exists():
        return 0
    existing = set(Rainfall.objects.filter(county__isnull=True).values_list("date", flat=True))
    rows, day = [], first
    while day <= last:
        if day not in existing:
            chance, low, high = {6: (0.35, 3, 30), 7: (0.4, 3, 40), 8: (0.35, 3, 30)}.get(
                day.month, (0.15, 1, 10) if day.month in (4, 5, 9, 10) else (0.05, 0.5, 3)
            )
            rain = round(rng.uniform(low, high), 1) if rng.random() < chance else 0.0
            rows.append(Rainfall(date=day, county=None, rain_mm=rain, source=RAIN_SOURCE))
        day += timedelta(days=1)
    Rainfall.objects.bulk_create(rows)
    return len(rows)


def _stations(outfalls):
    stations = []
    for index, outfall in enumerate(outfalls, 1):
        station, _ = Station.objects.get_or_create(
            code=f"DEMO-ST-{outfall.code}",
            defaults={
                "name": f"{outfall.name}在线监测站（演示）",
                "kind": StationKind.ONLINE,
                "outfall": outfall,
                "mn": f"DEMO{outfall.county_id:04d}{index:04d}0000000001"[:24],
                "interval_minutes": 10,
                "offline_after_minutes": 120,
                "demo": True,
                "notes": DEMO_NOTE,
            },
        )
        stations.append(station)
    return stations


def _online(rng, stations, parameters, now):
    """Day values for 90 days and hour values for the last 48 hours per station; the last station is offline
    (stopped two days ago) and the first has a six-hour gap yesterday."""
    today = timezone.localdate(now)
    limits = limits_for([s.outfall for s in stations])
    days, hours = [], []
    for number, station in enumerate(stations):
        outfall_limits = limits[station.outfall_id].limits
        offline = number == len(stations) - 1 and len(stations) > 1
        stop = now - timedelta(days=2) if offline else now
        volume = {Level2.MUNICIPAL_WWTP: 20000, Level2.PARK_WWTP: 5000}.get(station.outfall.type_level2, 600)
        for code in ONLINE_ITEMS:
            parameter = parameters[code]
            limit = outfall_limits.get(code)
            for back in range(90, 0, -1):
                day = today - timedelta(days=back)
                at = _aware(day, 0)
                if at >= stop:
                    continue
                if code == "FLOW":
                    cou = round(volume * rng.uniform(0.8, 1.15), 1)
                    days.append(
                        DayValue(
                            station=station,
                            outfall_id=station.outfall_id,
                            parameter=parameter,
                            at=at,
                            avg=round(cou / 24, 2),
                            cou=cou,
                            flag="N",
                        )
                    )
                else:
                    value = _value_for(rng, limit, "compliant")
                    if value is None:
                        continue
                    days.append(
                        DayValue(
                            station=station,
                            outfall_id=station.outfall_id,
                            parameter=parameter,
                            at=at,
                            avg=value,
                            min=round(value * 0.8, 3),
                            max=round(value * 1.2, 3),
                            flag="N",
                        )
                    )
            start = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) - timedelta(hours=48)
            for h in range(48):
                at = start + timedelta(hours=h)
                if at >= stop or (number == 0 and 30 <= h < 36):
                    continue
                if code == "FLOW":
                    avg = round(volume / 24 * rng.uniform(0.7, 1.3), 2)
                    hours.append(
                        HourValue(
                            station=station,
                            outfall_id=station.outfall_id,
                            parameter=parameter,
                            at=at,
                            avg=avg,
                            cou=avg,
                            flag="N",
                        )
                    )
                else:
                    value = _value_for(rng, limit, "compliant")
                    if value is not None:
                        hours.append(
                            HourValue(
                                station=station,
                                outfall_id=station.outfall_id,
                                parameter=parameter,
                                at=at,
                                avg=value,
                                flag="N",
                            )
                        )
        station.last_seen_at = stop - timedelta(minutes=rng.randint(1, 9))
        station.last_data_at = stop.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        station.save(update_fields=["last_seen_at", "last_data_at"])
    partitions.ensure_for(DayValue, [d.at for d in days])
    partitions.ensure_for(HourValue, [h.at for h in hours])
    DayValue.objects.bulk_create(days, batch_size=2000, ignore_conflicts=True)
    HourValue.objects.bulk_create(hours, batch_size=2000, ignore_conflicts=True)
    return len(days) + len(hours)


def _sample(data, written):
    sample, rows = services.prepare(data, user=None, check_rights=False)
    if Sample.objects.filter(key=sample.key).exists():
        return
    services.write(sample, rows)
    written.append(sample)


def _outfall_samples(rng, outfalls, parameters, anchor, written):
    limits = limits_for(outfalls)
    chronic = next(
        (o for o in outfalls if o.type_level2 == Level2.INDUSTRIAL_MINING and o.county.code == "140215"), None
    )
    below = next((o for o in outfalls if o.type_level2 == Level2.RURAL_FACILITY), None)
    for outfall in outfalls:
        items = SAMPLED_ITEMS[outfall.type_level2]
        behaviour = (
            "chronic" if outfall == chronic else ("occasional" if rng.random() < 0.25 else "compliant")
        )
        entry = limits[outfall.pk].limits
        for quarter in range(8, 0, -1):
            day = anchor - timedelta(days=91 * quarter - rng.randint(10, 60))
            values = []
            for code in items:
                value = _value_for(
                    rng, entry.get(code), behaviour if code in ("NH3N", "COD") else "compliant"
                )
                if value is None:
                    continue
                raw = value
                if outfall == below and code == "TP" and quarter % 2:
                    raw = "<0.01"
                elif outfall == chronic and code == "SS" and quarter == 1:
                    raw = f"约{value}"
                values.append(services.ValueInput(parameters[code], raw, parameters[code].unit))
            _sample(
                services.SampleInput(
                    source=SampleSource.SUPERVISORY,
                    sampled_at=_aware(day, rng.randint(9, 15), rng.choice((0, 15, 30, 45))),
                    outfall=outfall,
                    place="排污口采样点",
                    flow=round(rng.uniform(5, 60), 1),
                    flow_unit="m3/h",
                    weather=Weather.DRY if day.month in (11, 12, 1, 2, 3) else Weather.UNKNOWN,
                    lab=DEMO_LAB,
                    lab_sample_id=f"DEMO-{outfall.code}-Q{quarter}",
                    notes=DEMO_NOTE,
                    values=values,
                ),
                written,
            )
        if outfall.type_level2 == Level2.MUNICIPAL_WWTP:
            for month in range(12, 0, -1):
                day = anchor - timedelta(days=30 * month - 12)
                values = [
                    services.ValueInput(
                        parameters[c], _value_for(rng, entry.get(c), "compliant"), parameters[c].unit
                    )
                    for c in ("COD", "NH3N", "TP", "TN", "pH")
                    if entry.get(c) is not None
                ]
                _sample(
                    services.SampleInput(
                        source=SampleSource.SELF,
                        sampled_at=_aware(day, 9),
                        outfall=outfall,
                        place="总排口",
                        flow=round(rng.uniform(600, 1000), 0),
                        flow_unit="m3/h",
                        lab=f"{outfall.responsible_entity.name if outfall.responsible_entity_id else '运营单位'}化验室（演示）",
                        lab_sample_id=f"DEMO-SELF-{outfall.code}-{day:%Y%m}",
                        notes=DEMO_NOTE,
                        values=values,
                    ),
                    written,
                )


def _section_samples(rng, parameters, anchor, written):
    for section in Section.objects.select_related("water_body").exclude(target_class=""):
        limits = section_limits(section)
        worse = FAILING_SECTIONS.get(section.name, {})
        for month in range(12, 0, -1):
            day = anchor - timedelta(days=30 * month - 5)
            values = []
            for code in SECTION_ITEMS:
                limit = limits.get(code)
                if limit is None:
                    continue
                if code in worse:
                    value = round(limit.upper * worse[code] * rng.uniform(0.85, 1.2), 3)
                else:
                    value = _value_for(rng, limit, "compliant")
                    if limit.kind == "max":
                        value = round(limit.upper * rng.uniform(0.5, 0.95), 3)
                values.append(services.ValueInput(parameters[code], value, parameters[code].unit))
            _sample(
                services.SampleInput(
                    source=SampleSource.SUPERVISORY,
                    sampled_at=_aware(day, 10),
                    section=section,
                    place=f"{section.name}断面",
                    lab=DEMO_LAB,
                    lab_sample_id=f"DEMO-SEC-{section.pk}-{day:%Y%m}",
                    notes=DEMO_NOTE,
                    values=values,
                ),
                written,
            )


def _dry_weather_sample(parameters, anchor, written):
    """A storm outfall (verified, no tracing case yet) sampled flowing on a dry winter day."""
    storm = (
        Outfall.objects.filter(type_code=TypeCode.YH, status=LifecycleStatus.VERIFIED, county__code="140213")
        .exclude(samples__isnull=False)
        .order_by("code")
    )
    storm = next((o for o in storm if not hasattr(o, "tracing_case")), None)
    if storm is None:
        return None
    day = anchor - timedelta(days=20)
    _sample(
        services.SampleInput(
            source=SampleSource.SUPERVISORY,
            sampled_at=_aware(day, 8, 30),
            outfall=storm,
            place="雨水排口出口",
            flow=3.6,
            flow_unit="m3/h",
            weather=Weather.DRY,
            lab=DEMO_LAB,
            lab_sample_id=f"DEMO-DRY-{storm.code}",
            notes=f"{DEMO_NOTE}；巡查发现旱天有污水排出",
            values=[
                services.ValueInput(parameters["COD"], 186, "mg/L"),
                services.ValueInput(parameters["NH3N"], 21.5, "mg/L"),
                services.ValueInput(parameters["TP"], 2.4, "mg/L"),
            ],
        ),
        written,
    )
    return storm


def _draw(rng, today):
    """One city-wide random inspection dated today, its results recorded and published (one inspector each:
    the demo has one bureau account). None when the ledger has nothing to draw."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    bureau = get_user_model().objects.filter(username="bureau").first()
    if bureau is None:
        return None
    try:
        draw = draws.create_draw(
            user=bureau,
            name=f"{today.year}年入河排污口双随机抽查（演示）",
            period=f"{today.year}年",
            inspection_date=today,
            seed=f"demo-{today:%Y%m}",
            per_target=1,
        )
    except ValidationError:
        return None
    for item in draw.items.order_by("pk"):
        result = InspectionResult.EXCEEDED if rng.random() < 0.15 else InspectionResult.COMPLIANT
        draws.record_result(item, user=bureau, result=result, note=DEMO_NOTE)
    return draws.publish(draw, user=bureau)


def load_demo(stdout=None):
    out = stdout if stdout is not None else sys.stdout
    if Sample.objects.filter(lab=DEMO_LAB).exists():
        out.write("监测演示数据：已存在，未作改动。\n")
        return {}
    library.load_library()  # after a flush (a transactional test) post_migrate has not loaded it
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate(now)
    anchor = today.replace(day=1)
    parameters = {p.code: p for p in Parameter.objects.all()}
    written = []
    with transaction.atomic():
        rain = _rainfall(rng, anchor - timedelta(days=420), today)
        outfalls = list(
            Outfall.objects.filter(type_level2__in=SAMPLED_TYPES, status__in=ACTIVE)
            .select_related("county", "responsible_entity")
            .order_by("code")
        )
        online_outfalls = [o for o in outfalls if o.type_level2 == Level2.MUNICIPAL_WWTP]
        online_outfalls += [o for o in outfalls if o.type_level2 == Level2.INDUSTRIAL_MINING][:3]
        stations = _stations(online_outfalls)
        online = _online(rng, stations, parameters, now)
        _outfall_samples(rng, outfalls, parameters, anchor, written)
        _section_samples(rng, parameters, anchor, written)
        storm = _dry_weather_sample(parameters, anchor, written)
    summary = exceedances.evaluate()
    events = dry_weather.scan(user=None)
    computed = loads.compute(today.year - 1) + loads.compute(today.year)
    draw = _draw(rng, today)
    out.write(
        f"监测演示数据：降雨记录 {rain} 天，在线站点 {len(stations)} 个（在线数据 {online} 条），样品 {len(written)} 个；"
        f"{summary.text()} 旱天排水 {len(events)} 起{('（' + storm.name + '）') if storm and events else ''}；"
        f"负荷 {computed} 条；双随机抽查 {draw.items.count() if draw else 0} 个对象（已公开）。\n"
    )
    return {"samples": len(written), "stations": len(stations), "events": len(events)}
