"""The exceedance engine: each limit kind, the multiple, below-detection values, the chronic rule (N of the last
M), missing required samples, online values, and a second evaluation finding the same rows."""

from datetime import timedelta

import numpy as np
import pytest
from django.test import override_settings
from django.utils import timezone

from outfalls.monitoring import exceedances
from outfalls.monitoring.choices import FindingKind, Grain, SampleSource
from outfalls.monitoring.models import DayValue, Finding, HourValue, SampleValue, Station
from outfalls.registry import limits as registry_limits
from outfalls.registry.classification import Level2

from .helpers import at, new_outfall, parameter, record
from .test_limits import PermitProvider


def findings(outfall, kind=None):
    rows = Finding.objects.filter(outfall=outfall).order_by("at")
    return list(rows.filter(kind=kind) if kind else rows)


def test_a_value_over_a_daily_mean_limit_with_its_multiple(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-05-10 10:00", {"COD": 75, "NH3N": 4.9, "pH": 7.2})
    [found] = findings(outfall)
    assert (found.kind, found.parameter.code, found.value, found.limit_upper) == ("exceedance", "COD", 75, 50)
    assert found.multiple == pytest.approx(0.5)
    assert "超过 GB 18918-2002 一级A标准 限值 ≤50 mg/L，超标 0.50 倍" in found.reason
    assert "瞬时样品按日均值限值评价" in found.reason and found.limit_source == "GB 18918-2002 一级A标准"


def test_a_range_limit(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-05-10 10:00", {"pH": 9.4})
    record(outfall, "2025-05-11 10:00", {"pH": 5.5})
    record(outfall, "2025-05-12 10:00", {"pH": 6.0})
    rows = findings(outfall)
    assert [r.value for r in rows] == [9.4, 5.5]
    assert all(r.multiple is None and "超出" in r.reason and "6–9" in r.reason for r in rows)


def test_a_maximum_limit_and_a_converted_unit(db):
    outfall = new_outfall(Level2.INDUSTRIAL_MINING, water_target="III")
    record(outfall, "2025-05-10 10:00", {"NH3N": ("16000", "μg/L")})
    [found] = findings(outfall)
    assert (found.value, found.limit_kind, found.limit_upper) == (16, "max", 15)
    assert found.multiple == pytest.approx(1 / 15)


def test_the_cold_limit_applies_when_the_water_is_cold(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-01-10 10:00", {"NH3N": 7, "TEMP": 8})  # ≤ 12 °C: 8 mg/L
    record(outfall, "2025-06-10 10:00", {"NH3N": 7, "TEMP": 22})  # 5 mg/L
    [found] = findings(outfall)
    assert found.at.month == 6 and found.limit_upper == 5


def test_a_minimum_limit_through_a_permit(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    minimum = registry_limits.Limit(parameter="DO", kind="min", lower=5, unit="mg/L", source="设置审核意见")
    with registry_limits.registered(PermitProvider({outfall.pk: [minimum]})):
        record(outfall, "2025-05-10 10:00", {"DO": 4})
        record(outfall, "2025-05-11 10:00", {"DO": "<2"})  # not detected: surely below 5
        record(outfall, "2025-05-12 10:00", {"DO": 6})
        rows = findings(outfall)
    assert [(r.kind, r.value) for r in rows] == [("exceedance", 4), ("exceedance", None)]
    assert rows[0].multiple == pytest.approx(0.2) and "低于 设置审核意见 限值 ≥5 mg/L" in rows[0].reason


def test_below_detection_is_compliant_or_cannot_be_judged(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-05-10 10:00", {"TP": "<0.05"})  # detection limit below 0.5: compliant
    record(outfall, "2025-05-11 10:00", {"TP": "0.8L"})  # detection limit 0.8 above 0.5: unknown
    record(outfall, "2025-05-12 10:00", {"TP": "未检出"})  # no limit given: compliant
    [found] = findings(outfall)
    assert found.kind == FindingKind.UNJUDGED and found.value is None
    assert "检出限 0.8 高于限值" in found.reason


def test_an_estimate_is_judged_and_says_so(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-05-10 10:00", {"COD": "约60"})
    [found] = findings(outfall)
    assert found.value == 60 and "估算值" in found.reason


@override_settings(MONITORING_CHRONIC_N=3, MONITORING_CHRONIC_M=5)
def test_the_chronic_rule_n_of_the_last_m(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    # COD over 50 on days 1, 3, 5, 6: the rule holds on day 5 (3 of the last 5), 6 and 7 (days 3–7 hold three),
    # not on day 8; again on day 14 (days 12, 13, 14).
    series = [60, 40, 70, 45, 80, 90, 30, 30, 30, 30, 30, 55, 55, 55]
    for day, value in enumerate(series, 1):
        record(outfall, f"2025-03-{day:02d} 10:00", {"COD": value}, follow_up=False)
    exceedances.evaluate([outfall.pk])
    assert len(findings(outfall, FindingKind.EXCEEDANCE)) == 7
    chronic = findings(outfall, FindingKind.CHRONIC)
    assert [(c.at.day, c.period_end.day) for c in chronic] == [(5, 7), (14, 14)]
    assert "最近 5 次监测中有 3 次及以上" in chronic[0].reason


def test_the_chronic_rule_counts_judged_values_only():
    # N=3 of M=4. Index 7 cannot be judged (-1) and is skipped: the judged values end 0,1,1,1 at index 8.
    status = np.array([1, 0, 1, 0, 0, 1, 1, -1, 1])
    assert exceedances.chronic_episodes(status, 3, 4) == [(8, 8)]
    # Three exceedances in a row hold from the third on, to the last value that keeps three of four.
    assert exceedances.chronic_episodes(np.array([1, 1, 1, 0, 1, 0, 0]), 3, 4) == [(2, 4)]
    assert exceedances.chronic_episodes(np.array([1, 1]), 3, 4) == []


def test_evaluation_is_idempotent_and_drops_what_no_longer_holds(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    record(outfall, "2025-05-10 10:00", {"COD": 75})
    before = [(f.pk, f.key) for f in findings(outfall)]
    summary = exceedances.evaluate([outfall.pk])
    assert [(f.pk, f.key) for f in findings(outfall)] == before
    assert summary.found == {"exceedance": 1} and summary.removed == 0
    SampleValue.objects.filter(outfall=outfall).update(value_std=40)  # corrected
    assert exceedances.evaluate([outfall.pk]).removed == 1
    assert findings(outfall) == []


def test_missing_required_samples_come_from_the_duty(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    duty = registry_limits.MonitoringDuty(parameter="COD", frequency="monthly", source="排污许可证 TEST001P")
    now = timezone.now()
    last_month = (timezone.localtime(now).replace(day=1) - timedelta(days=1)).replace(day=15, hour=9)
    with registry_limits.registered(PermitProvider({}, {outfall.pk: [duty]})):
        record(outfall, last_month, {"COD": 20}, source=SampleSource.SELF)
        record(outfall, last_month - timedelta(days=31), {"COD": 20}, source=SampleSource.SUPERVISORY)
        exceedances.evaluate([outfall.pk], now=now)
    missing = findings(outfall, FindingKind.MISSING)
    assert len(missing) == 11  # twelve complete months, one with a self-monitoring sample
    assert all("应每月自行监测化学需氧量" in m.reason and "没有自行监测样品" in m.reason for m in missing)
    assert timezone.localtime(last_month).strftime("%Y年%m月") not in " ".join(m.reason for m in missing)


def test_complete_periods():
    start, end = exceedances.complete_periods("quarterly", at_("2024-02-10"), at_("2025-01-05"))[0][:2]
    assert (start.month, end.month) == (4, 7)
    labels = [p[2] for p in exceedances.complete_periods("half_yearly", at_("2023-12-01"), at_("2025-01-05"))]
    assert labels == ["2024年上半年", "2024年下半年"]
    assert len(exceedances.complete_periods("daily", at_("2025-01-01"), at_("2025-01-08"))) == 7


def at_(text):
    return at(f"{text} 00:00")


def test_online_values_hour_and_day(db):
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    station = Station.objects.create(code="TEST-ONLINE", name="测试站", outfall=outfall, mn="TESTMN0001")
    cod = parameter("COD")
    day = timezone.make_aware(timezone.datetime(2025, 5, 1))
    DayValue.objects.create(station=station, outfall=outfall, parameter=cod, at=day, avg=60, flag="N")
    DayValue.objects.create(
        station=station, outfall=outfall, parameter=cod, at=day + timedelta(days=1), avg=70, flag="M"
    )
    HourValue.objects.create(
        station=station, outfall=outfall, parameter=parameter("pH"), at=day, avg=10, flag="N"
    )
    exceedances.evaluate([outfall.pk])
    rows = findings(outfall)
    assert {(f.grain, f.parameter.code, f.value) for f in rows} == {
        (Grain.DAY, "COD", 60),
        (Grain.HOUR, "pH", 10),
    }
    assert "日均值" in next(f for f in rows if f.grain == Grain.DAY).reason


def test_an_online_duty_counts_hourly_values_per_local_day(db):
    """An online duty's day is the local calendar day: an hour at 00:30 Beijing time (16:30 UTC the day
    before) counts for its local day. A day with fewer than MONITORING_ONLINE_MIN_HOURS values is missing."""
    outfall = new_outfall(Level2.MUNICIPAL_WWTP)
    station = Station.objects.create(code="TEST-DUTY", name="测试站", outfall=outfall, mn="TESTMN0002")
    cod = parameter("COD")
    duty = registry_limits.MonitoringDuty(parameter="COD", frequency="online", source="排污许可证 TEST002P")
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    full, thin = today - timedelta(days=2), today - timedelta(days=3)
    # Exactly the minimum on the full day, from 00:30 local: grouped by UTC date, eight of them would fall on
    # the day before and the day would read as missing.
    hours = [full + timedelta(hours=h, minutes=30) for h in range(20)]
    hours += [thin + timedelta(hours=h, minutes=30) for h in range(5)]
    HourValue.objects.bulk_create(
        HourValue(station=station, outfall=outfall, parameter=cod, at=h, avg=20, flag="N") for h in hours
    )
    with (
        override_settings(MONITORING_DUTY_MONTHS=1),
        registry_limits.registered(PermitProvider({}, {outfall.pk: [duty]})),
    ):
        exceedances.evaluate([outfall.pk])
    missing = {timezone.localtime(f.at).date(): f.reason for f in findings(outfall, FindingKind.MISSING)}
    assert full.date() not in missing
    assert "只有 5 个小时值" in missing[thin.date()]
    assert "只有 0 个小时值" in missing[(today - timedelta(days=1)).date()]
    assert len(missing) >= 28  # every other complete day of the month has no value
