"""The permits app provides the one limits hook (registry/limits.py, read by the monitoring app): the limits and
self-monitoring duties of the permits in force today, in the monitoring library's codes and frequencies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outfalls.permits import limits as permit_limits
from outfalls.permits.permit_services import save_permit
from outfalls.registry import limits as registry_limits
from outfalls.registry.models import DischargeUnit, Outfall

pytestmark = pytest.mark.django_db


def free_unit_and_outfalls(count):
    unit = (
        DischargeUnit.objects.filter(credit_code__isnull=False, permits__isnull=True)
        .exclude(credit_code="")
        .order_by("credit_code")
        .first()
    )
    outfalls = list(Outfall.objects.filter(permit_entries__isnull=True).order_by("code")[:count])
    assert unit is not None and len(outfalls) == count
    return unit, outfalls


def permit(unit, entries, number, *, valid_until_days=365):
    today = timezone.localdate()
    fields = {
        "number": f"{unit.credit_code}{number}",
        "unit": unit,
        "valid_from": today - timedelta(days=400),
        "valid_until": today + timedelta(days=valid_until_days),
    }
    return save_permit(fields, entries, user=None)


def limit(parameter, value, averaging="daily", lower=None, unit="mg/L"):
    return {
        "parameter": parameter,
        "limit_value": value,
        "lower_value": lower,
        "unit": unit,
        "averaging": averaging,
    }


def test_limits_and_duties_of_a_permit_in_force_reach_the_hook_in_library_codes():
    unit, (a, b, expired_one) = free_unit_and_outfalls(3)
    permit(
        unit,
        [
            {
                "outfall": a,
                "outlet_code": "DW001",
                "limits": [
                    limit("化学需氧量", 50),
                    limit("氨氮（以N计）", 5, averaging="hourly"),
                    limit("pH值", 9, lower=6, unit="无量纲"),
                    limit("总磷", 0.5, averaging="instant"),
                    limit("总氮", 120, averaging="annual", unit="t/a"),  # a yearly amount: not per sample
                    limit("石油类", 1),  # no code in the monitoring library
                ],
                "monitoring": [
                    {"parameter": "CODcr", "frequency": "自动监测"},
                    {"parameter": "总磷", "frequency": "1次/季度"},
                    {"parameter": "pH", "frequency": "1次/半年"},
                    {"parameter": "石油类", "frequency": "1次/月"},
                    {"parameter": "氨氮", "frequency": "按需"},
                ],
            },
            {"outfall": b, "outlet_code": "", "limits": [limit("NH3-N", 8)], "monitoring": []},
        ],
        "101P",
    )
    permit(
        unit,
        [
            {
                "outfall": expired_one,
                "limits": [limit("化学需氧量", 60)],
                "monitoring": [{"parameter": "COD", "frequency": "1次/月"}],
            }
        ],
        "102P",
        valid_until_days=-1,
    )

    found = registry_limits.permit_limits([a.pk, b.pk, expired_one.pk])
    source = f"排污许可证 {unit.credit_code}101P DW001"
    assert set(found) == {a.pk, b.pk}  # the expired permit gives nothing
    assert found[a.pk] == {
        "COD": registry_limits.Limit("COD", "daily_mean", 50, None, "mg/L", "日均值", source),
        "NH3N": registry_limits.Limit("NH3N", "max", 5, None, "mg/L", "小时均值", source),
        "pH": registry_limits.Limit("pH", "range", 9, 6, "无量纲", "日均值", source),
        "TP": registry_limits.Limit("TP", "max", 0.5, None, "mg/L", "瞬时值", source),
    }
    assert found[b.pk]["NH3N"].source == f"排污许可证 {unit.credit_code}101P"

    duties = registry_limits.monitoring_duties([a.pk, b.pk, expired_one.pk])
    assert duties == {
        a.pk: [
            registry_limits.MonitoringDuty("COD", "online", source),
            registry_limits.MonitoringDuty("TP", "quarterly", source),
            registry_limits.MonitoringDuty("pH", "half_yearly", source),
        ]
    }


def test_a_later_permit_wins_for_an_outfall_two_permits_cover():
    unit, (outfall,) = free_unit_and_outfalls(1)
    permit(unit, [{"outfall": outfall, "limits": [limit("化学需氧量", 100)]}], "201P", valid_until_days=30)
    permit(unit, [{"outfall": outfall, "limits": [limit("化学需氧量", 50)]}], "202P", valid_until_days=900)
    assert registry_limits.permit_limits([outfall.pk])[outfall.pk]["COD"].upper == 50


def test_the_hook_reads_in_a_fixed_number_of_queries(django_assert_num_queries):
    ids = list(Outfall.objects.filter(permit_entries__isnull=False).values_list("pk", flat=True)[:40])
    assert len(ids) >= 10  # the demo's permits
    with django_assert_num_queries(2):
        assert registry_limits.permit_limits(ids)
    with django_assert_num_queries(2):
        assert registry_limits.monitoring_duties(ids)
    assert registry_limits.permit_limits([]) == {}


@pytest.mark.parametrize(
    "text,code",
    [("COD", "COD"), ("codcr", "COD"), ("五日生化需氧量", "BOD5"), ("氨氮 (NH3-N)", None), ("NH3-N", "NH3N"),
     ("PH值", "pH"), ("高锰酸盐指数", "CODMn"), ("溶解氧", "DO"), ("流量", "FLOW"), ("石油类", None)],
)  # fmt: skip
def test_parameter_names_map_to_library_codes(text, code):
    assert permit_limits.parameter_code(text) == code


@pytest.mark.parametrize(
    "text,frequency",
    [("自动监测", "online"), ("在线监测", "online"), ("1次/日", "daily"), ("每周一次", "weekly"),
     ("1次/月", "monthly"), ("1次/季度", "quarterly"), ("1次/半年", "half_yearly"), ("1次/年", "yearly"),
     ("按需", None)],
)  # fmt: skip
def test_frequency_texts_map_to_the_hook_frequencies(text, frequency):
    assert permit_limits.frequency_code(text) == frequency
