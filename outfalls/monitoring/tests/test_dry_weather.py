"""Dry-weather flow at a storm outfall (YH), from a sample, online flow or a field check, opens the outfall's
tracing case (the survey app's, through registry.dry_weather) with the evidence, once per piece of evidence."""

import uuid
from datetime import date, timedelta

from django.utils import timezone

from outfalls.monitoring import dry_weather
from outfalls.monitoring.models import DayValue, DryWeatherEvent, Rainfall, Station
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.classification import Level2
from outfalls.survey.choices import CaseStatus
from outfalls.survey.models import Campaign, FieldCheck, SuspectedPoint, TracingCase

from .helpers import at, new_outfall, parameter, record


def rain(day, mm, days=3):
    for offset in range(days):
        Rainfall.objects.update_or_create(
            date=day - timedelta(days=offset), county=None, defaults={"rain_mm": mm}
        )


def steps(outfall):
    return list(
        TracingCase.objects.get(outfall=outfall).steps.order_by("id").values_list("findings", flat=True)
    )


def test_a_dry_day_sample_with_flow_opens_a_tracing_case_once(db):
    storm = new_outfall(Level2.URBAN_STORM)
    rain(date(2024, 11, 20), 0.0)
    record(storm, "2024-11-20 08:00", {"COD": 150}, flow=2, flow_unit="m3/h", follow_up=False)
    events = dry_weather.scan([storm.pk])
    assert [e.source for e in events] == ["sample"]
    case = TracingCase.objects.get(outfall=storm)
    assert case.status == CaseStatus.OPEN and events[0].tracing_result == "已立案溯源"
    assert events[0].tracing_url == f"/survey/cases/{case.pk}/"
    assert "当日及前期无有效降雨" in steps(storm)[0] and "2 m³/h" in steps(storm)[0]
    assert dry_weather.scan([storm.pk]) == [] and len(steps(storm)) == 1


def test_rain_the_day_before_makes_it_wet_and_unknown_weather_is_not_dry(db):
    storm = new_outfall(Level2.URBAN_STORM)
    rain(date(2024, 7, 10), 0.0)
    rain(date(2024, 7, 9), 12.0, days=1)
    record(storm, "2024-07-10 08:00", {"COD": 150}, flow=2, flow_unit="m3/h", follow_up=False)
    record(storm, "2019-07-10 08:00", {"COD": 150}, flow=2, flow_unit="m3/h", follow_up=False)  # no records
    assert dry_weather.scan([storm.pk]) == []
    record(storm, "2024-07-10 09:00", {"COD": 150}, flow=2, flow_unit="m3/h", weather="dry", follow_up=False)
    assert [e.evidence.split("（")[1][:8] for e in dry_weather.scan([storm.pk])] == ["采样时记录为旱天"]


def test_online_flow_on_a_dry_day_and_a_concluded_case_reopens(db, demo_user):
    storm = new_outfall(Level2.URBAN_STORM, status=LifecycleStatus.KEPT)
    station = Station.objects.create(code="TEST-YH", name="雨水口流量计", outfall=storm)
    day = date(2024, 12, 2)
    rain(day, 0.5)
    DayValue.objects.create(
        station=station,
        outfall=storm,
        parameter=parameter("FLOW"),
        at=at("2024-12-02 00:00"),
        avg=1.2,
        cou=28.8,
        flag="N",
    )
    DayValue.objects.create(
        station=station,
        outfall=storm,
        parameter=parameter("FLOW"),
        at=at("2024-12-01 00:00"),
        avg=0.1,
        cou=2.4,
        flag="N",
    )
    [event] = dry_weather.scan([storm.pk])
    assert event.source == "online" and "日排水量 28.8 m³" in event.evidence
    case = TracingCase.objects.get(outfall=storm)
    assert storm.status == LifecycleStatus.KEPT  # a case moves no status until it is concluded
    case.status = CaseStatus.CONCLUDED
    case.save()
    rain(day + timedelta(days=1), 0.0, days=1)
    DayValue.objects.create(
        station=station,
        outfall=storm,
        parameter=parameter("FLOW"),
        at=at("2024-12-03 00:00"),
        avg=1.0,
        cou=24,
        flag="N",
    )
    [again] = dry_weather.scan([storm.pk])
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and again.tracing_result == "已重新开启溯源案件"
    assert len(steps(storm)) == 2


def test_a_field_check_is_evidence_too(db, demo_user):
    storm = new_outfall(Level2.URBAN_STORM)
    campaign = Campaign.objects.filter(county=storm.county).first()
    point = SuspectedPoint.objects.create(
        campaign=campaign, number="DRY-1", lon=storm.lon, lat=storm.lat, outfall=storm, outcome="duplicate"
    )
    FieldCheck.objects.create(
        point=point,
        client_uuid=uuid.uuid4(),
        checked_at=timezone.now() - timedelta(days=2),
        lon=storm.lon,
        lat=storm.lat,
        flow="flowing",
        dry_weather=True,
        colour="grey",
        odour="strong",
        staff=["王建国", "李娜"],
        outcome="duplicate",
    )
    FieldCheck.objects.create(
        point=point,
        client_uuid=uuid.uuid4(),
        checked_at=timezone.now() - timedelta(days=1),
        lon=storm.lon,
        lat=storm.lat,
        flow="flowing",
        dry_weather=False,
        staff=["王建国", "李娜"],
        outcome="duplicate",
    )
    [event] = dry_weather.scan([storm.pk])
    assert event.source == "field_check" and "疑似点 DRY-1" in event.evidence and "明显异味" in event.evidence
    assert "王建国、李娜" in steps(storm)[0]


def test_a_sewage_outfall_is_not_a_storm_outfall(db):
    plant = new_outfall(Level2.MUNICIPAL_WWTP)
    record(plant, "2024-11-20 08:00", {"COD": 20}, flow=200, flow_unit="m3/h", weather="dry", follow_up=False)
    assert dry_weather.scan([plant.pk]) == [] and not DryWeatherEvent.objects.filter(outfall=plant).exists()


def test_the_demo_storm_outfall_has_its_case(db):
    event = DryWeatherEvent.objects.filter(outfall__notes__isnull=False).first()
    assert event is not None and event.tracing_requested
    assert TracingCase.objects.filter(outfall=event.outfall, status=CaseStatus.OPEN).exists()
