"""The exceedance engine: every sample value and online period value against its limit, chronic exceedances
(N of the last M), values whose detection limit is above the limit, and missing required samples.

    evaluate(outfall_ids=None)            # all outfalls (or some), every grain; returns a Summary

Each finding has its reason in Chinese and keeps the limit it was judged by (value, kind, unit, source).
Evaluation is idempotent: a finding's ``key`` names what it is about (the value, the episode, the period), so a
second run finds the same rows, updates them, and removes the findings of the evaluated outfalls that no longer
hold (a corrected value, a new permit limit).

Rules
- A value is compared with the limit of its outfall and parameter (monitoring/limits.py): MAX and DAILY_MEAN
  ``value > upper``; MIN ``value < lower``; RANGE outside [lower, upper]. The multiple is (value − limit)/limit
  (for MIN, (limit − value)/limit); a pH outside its range has no multiple (the reason gives the value).
- Samples are judged one by one (a grab sample against a daily-mean limit, as supervisory monitoring does;
  the reason says so); online hour values against MAX limits and day values against MAX and DAILY_MEAN limits.
  Online values flagged anything but N (normal) are not judged.
- GB 18918's NH3-N values for water at ≤ 12 °C apply when the sample's (or the period's) water temperature is
  known and ≤ 12 °C.
- Below the limit of detection: compliant when the detection limit is at or below the limit; when it is above,
  the value cannot be judged (a finding of its own, UNJUDGED). A non-detect with no limit given is compliant.
  For a MIN limit (dissolved oxygen) a non-detect at or below the limit is an exceedance.
- Estimated values are judged like the others; the reason says they are estimates.
- Chronic: in a series (one outfall, parameter and grain) ordered by time, at least MONITORING_CHRONIC_N of the
  last MONITORING_CHRONIC_M judged values exceed. One finding per episode (from the value where the rule starts
  to hold to the last value where it still holds).
- Missing: a self-monitoring duty (registry.limits.monitoring_duties) asks for samples of a parameter per
  period; a complete period within the last MONITORING_DUTY_MONTHS months with no self-monitoring sample (for
  the online duty: a day with fewer than MONITORING_ONLINE_MIN_HOURS hour values) is a finding.
"""

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from outfalls.registry import limits as registry_limits
from outfalls.registry.models import Outfall

from .choices import DutyFrequency, FindingKind, Grain, LimitKind, Qualifier, SampleSource
from .limits import limits_for
from .models import DayValue, Finding, HourValue, Parameter, SampleValue
from .units import format_value

BATCH_OUTFALLS = 200
ONLINE_JUDGED_FLAGS = ("", "N")


def chronic_rule():
    return int(settings.MONITORING_CHRONIC_N), int(settings.MONITORING_CHRONIC_M)


@dataclass
class Summary:
    outfalls: int = 0
    values: int = 0
    found: dict = field(default_factory=dict)  # kind -> count
    removed: int = 0

    def add(self, kind):
        self.found[kind] = self.found.get(kind, 0) + 1

    def text(self):
        parts = [f"{FindingKind(k).label} {n} 项" for k, n in sorted(self.found.items())]
        found = "，".join(parts) if parts else "未发现超标或缺测"
        return f"已判定排口 {self.outfalls} 个、监测值 {self.values} 个：{found}。"


def multiple_of(kind, value, limit):
    if value is None or limit in (None, 0):
        return None
    if kind == LimitKind.MIN:
        return (limit - value) / limit
    return (value - limit) / limit


def _fmt(value):
    return format_value(value)


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if isinstance(dt, datetime) else str(dt)


GRAIN_WORDS = {Grain.SAMPLE: "样品", Grain.HOUR: "小时均值", Grain.DAY: "日均值"}


def judge_series(ids, times, values, qualifiers, dls, temps, limit):
    """Judge one series (arrays of equal length) against one Applicable limit.

    Returns (status array: 1 exceeded, 0 compliant, -1 unjudged; upper array used per value)."""
    n = len(ids)
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    dl = np.array([np.nan if x is None else x for x in dls], dtype=float)
    below = np.array([q == Qualifier.BELOW_LOD for q in qualifiers], dtype=bool)
    if limit.cold_upper is not None:
        t = np.array([np.nan if x is None else x for x in temps], dtype=float)
        upper = np.where(t <= 12.0, limit.cold_upper, limit.upper)
    else:
        upper = np.full(n, np.nan if limit.upper is None else limit.upper)
    lower = np.nan if limit.lower is None else limit.lower
    status = np.zeros(n, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        if limit.kind == LimitKind.MIN:
            status[v < lower] = 1
            status[below & (dl <= lower)] = 1
            status[below & ~(dl <= lower)] = -1
        elif limit.kind == LimitKind.RANGE:
            status[(v < lower) | (v > upper)] = 1
            status[below] = -1
        else:
            status[v > upper] = 1
            status[below & (dl > upper)] = -1
    status[np.isnan(v) & ~below] = -2  # no value at all: skipped (not a judgement)
    return status, upper


def chronic_episodes(status, n_required, m_window):
    """[(start index, end index)] of the runs where at least n of the last m judged values exceed."""
    judged = np.flatnonzero(status >= 0)
    if len(judged) < n_required:
        return []
    exceeded = (status[judged] == 1).astype(np.int32)
    window = np.convolve(exceeded, np.ones(m_window, dtype=np.int32))[: len(exceeded)]
    holds = window >= n_required
    episodes, start = [], None
    for position, flag in enumerate(holds):
        if flag and start is None:
            start = position
        elif not flag and start is not None:
            episodes.append((judged[start], judged[position - 1]))
            start = None
    if start is not None:
        episodes.append((judged[start], judged[len(holds) - 1]))
    return episodes


class _Evaluator:
    def __init__(self, outfall_ids, *, now=None):
        self.now = now or timezone.now()
        self.outfall_ids = outfall_ids
        self.parameters = {p.pk: p for p in Parameter.objects.all()}
        self.by_code = {p.code: p for p in self.parameters.values()}
        self.temperature = self.by_code.get("TEMP")
        self.n, self.m = chronic_rule()
        self.summary = Summary()

    # Building findings --------------------------------------------------------------------------------------
    def _single(self, outfall_id, parameter, grain, value_id, at, value, limit, upper, status, qualifier, dl):
        kind = FindingKind.EXCEEDANCE if status == 1 else FindingKind.UNJUDGED
        shown = f"<{_fmt(dl)}" if qualifier == Qualifier.BELOW_LOD else _fmt(value)
        unit = limit.unit
        what = f"{_local(at)} {GRAIN_WORDS.get(grain, '')} {parameter.name} {shown} {unit}"
        limit_text = (
            limit.text
            if limit.kind != LimitKind.MAX and limit.kind != LimitKind.DAILY_MEAN
            else (
                f"≤{upper:g} {unit}"
                + ("（水温≤12℃）" if limit.cold_upper is not None and upper == limit.cold_upper else "")
            )
        )
        multiple = None
        if kind == FindingKind.UNJUDGED:
            reason = (
                f"{what}：检出限 {_fmt(dl)} 高于限值 {limit_text}，无法判定是否达标（{limit.source_text}）。"
            )
        elif limit.kind == LimitKind.RANGE:
            reason = f"{what}，超出 {limit.source_text} 规定的范围 {limit_text}。"
        else:
            bound = limit.lower if limit.kind == LimitKind.MIN else float(upper)
            measured = dl if qualifier == Qualifier.BELOW_LOD else value
            multiple = multiple_of(limit.kind, measured, bound)
            times = f"，超标 {multiple:.2f} 倍" if multiple is not None else ""
            reason = f"{what}，{'低于' if limit.kind == LimitKind.MIN else '超过'} {limit.source_text} 限值 {limit_text}{times}。"
        if grain == Grain.SAMPLE and limit.kind == LimitKind.DAILY_MEAN:
            reason += "（瞬时样品按日均值限值评价）"
        if qualifier == Qualifier.ESTIMATED:
            reason += "（监测值为估算值）"
        if limit.uncertain:
            reason += "（所用标准限值待核实）"
        return Finding(
            key=f"{kind}:{grain}:{value_id}",
            kind=kind,
            outfall_id=outfall_id,
            parameter=parameter,
            grain=grain,
            value_id=value_id,
            at=at,
            value=value if qualifier != Qualifier.BELOW_LOD else None,
            limit_kind=limit.kind,
            limit_lower=limit.lower,
            limit_upper=None if limit.kind == LimitKind.MIN else float(upper),
            unit=unit,
            multiple=multiple,
            limit_source=f"{limit.source_text}"[:200],
            reason=reason,
        )

    def _chronic(self, outfall_id, parameter, grain, ids, times, status, start, end, limit):
        judged = [i for i in range(start - self.m + 1 if start >= self.m else 0, end + 1) if status[i] >= 0]
        exceeded = int(sum(1 for i in judged if status[i] == 1))
        dates = "、".join(_local(times[i])[:10] for i in range(start, end + 1) if status[i] == 1)
        reason = (
            f"{parameter.name}{GRAIN_WORDS.get(grain, '')}持续超标：自 {_local(times[start])} 起，"
            f"最近 {self.m} 次监测中有 {self.n} 次及以上超过 {limit.source_text} 限值 {limit.text}"
            f"（该时段超标 {exceeded} 次：{dates[:300]}）。"
        )
        return Finding(
            key=f"{FindingKind.CHRONIC}:{grain}:{outfall_id}:{parameter.pk}:{ids[start]}",
            kind=FindingKind.CHRONIC,
            outfall_id=outfall_id,
            parameter=parameter,
            grain=grain,
            value_id=ids[start],
            at=times[start],
            period_end=times[end],
            limit_kind=limit.kind,
            limit_lower=limit.lower,
            limit_upper=limit.upper,
            unit=limit.unit,
            limit_source=limit.source_text[:200],
            reason=reason,
        )

    # Series ----------------------------------------------------------------------------------------------------
    def _series(self, outfall_id, parameter, grain, rows, limit, found):
        """rows: [(id, time, value, qualifier, dl, temperature)] in time order."""
        ids = [r[0] for r in rows]
        times = [r[1] for r in rows]
        status, upper = judge_series(
            ids,
            times,
            [r[2] for r in rows],
            [r[3] for r in rows],
            [r[4] for r in rows],
            [r[5] for r in rows],
            limit,
        )
        self.summary.values += len(rows)
        for i in np.flatnonzero((status == 1) | (status == -1)):
            finding = self._single(
                outfall_id,
                parameter,
                grain,
                ids[i],
                times[i],
                rows[i][2],
                limit,
                upper[i],
                int(status[i]),
                rows[i][3],
                rows[i][4],
            )
            found.append(finding)
        for start, end in chronic_episodes(status, self.n, self.m):
            found.append(self._chronic(outfall_id, parameter, grain, ids, times, status, start, end, limit))

    def _samples(self, ids, limits, found):
        wanted = {self.by_code[c].pk for entry in limits.values() for c in entry.limits if c in self.by_code}
        rows = (
            SampleValue.objects.filter(outfall_id__in=ids, parameter_id__in=wanted)
            .order_by("outfall_id", "parameter_id", "sampled_at", "id")
            .values_list(
                "id",
                "outfall_id",
                "parameter_id",
                "sampled_at",
                "value_std",
                "qualifier",
                "detection_limit_std",
                "sample_id",
            )
        )
        rows = list(rows)
        temps = {}
        if self.temperature is not None and rows:
            if any(lim.cold_upper is not None for entry in limits.values() for lim in entry.limits.values()):
                temps = dict(
                    SampleValue.objects.filter(outfall_id__in=ids, parameter=self.temperature).values_list(
                        "sample_id", "value_std"
                    )
                )
        self._grouped(rows, limits, Grain.SAMPLE, found, lambda r: temps.get(r[7]))

    def _online(self, model, grain, ids, limits, found, kinds):
        wanted = {
            self.by_code[c].pk
            for entry in limits.values()
            for c, lim in entry.limits.items()
            if c in self.by_code and lim.kind in kinds
        }
        if not wanted:
            return
        rows = list(
            model.objects.filter(outfall_id__in=ids, parameter_id__in=wanted, flag__in=ONLINE_JUDGED_FLAGS)
            .order_by("outfall_id", "parameter_id", "at", "id")
            .values_list("id", "outfall_id", "parameter_id", "at", "avg")
        )
        temps = {}
        if self.temperature is not None and rows:
            temps = {
                (o, at): v
                for o, at, v in model.objects.filter(
                    outfall_id__in=ids, parameter=self.temperature
                ).values_list("outfall_id", "at", "avg")
            }
        rows = [(i, o, p, at, v, "", None, None) for i, o, p, at, v in rows]
        self._grouped(rows, limits, grain, found, lambda r: temps.get((r[1], r[3])), kinds=kinds)

    def _grouped(self, rows, limits, grain, found, temperature_of, kinds=None):
        start = 0
        while start < len(rows):
            outfall_id, parameter_id = rows[start][1], rows[start][2]
            end = start
            while end < len(rows) and rows[end][1] == outfall_id and rows[end][2] == parameter_id:
                end += 1
            parameter = self.parameters[parameter_id]
            limit = limits[outfall_id].limits.get(parameter.code)
            if limit is not None and (kinds is None or limit.kind in kinds):
                series = [(r[0], r[3], r[4], r[5], r[6], temperature_of(r)) for r in rows[start:end]]
                self._series(outfall_id, parameter, grain, series, limit, found)
            start = end

    # Missing samples -------------------------------------------------------------------------------------------
    def _missing(self, ids, found):
        """Periods of a monitoring duty with no self-monitoring sample (or too few hourly values, for online
        duties). Two reads per batch, whatever the number of duties and periods: the hourly values counted per
        outfall, parameter and local day in SQL, and the self-monitoring sample times, looked up here."""
        duties = registry_limits.monitoring_duties(ids)
        wanted = [
            (outfall_id, duty, self.by_code[duty.parameter])
            for outfall_id, items in duties.items()
            for duty in items
            if duty.parameter in self.by_code
        ]
        if not wanted:
            return
        months = int(settings.MONITORING_DUTY_MONTHS)
        since = self.now - timedelta(days=31 * months)
        online = [(o, p) for o, duty, p in wanted if duty.frequency == DutyFrequency.ONLINE]
        sampled = [(o, p) for o, duty, p in wanted if duty.frequency != DutyFrequency.ONLINE]
        hours = self._hours_per_day(online, since)
        times = self._sample_times(sampled, since)
        minimum = int(settings.MONITORING_ONLINE_MIN_HOURS)
        for outfall_id, duty, parameter in wanted:
            for start, end, label in complete_periods(duty.frequency, since, self.now):
                if duty.frequency == DutyFrequency.ONLINE:
                    count = hours.get((outfall_id, parameter.pk, start.date()), 0)
                    if count >= minimum:
                        continue
                    detail = f"只有 {count} 个小时值（应不少于 {minimum} 个）"
                else:
                    at = times.get((outfall_id, parameter.pk), ())
                    i = bisect.bisect_left(at, start)
                    if i < len(at) and at[i] < end:
                        continue
                    detail = "没有自行监测样品"
                frequency = DutyFrequency(duty.frequency).label
                found.append(
                    Finding(
                        key=f"{FindingKind.MISSING}:{outfall_id}:{parameter.pk}:{duty.frequency}:{start:%Y%m%d}",
                        kind=FindingKind.MISSING,
                        outfall_id=outfall_id,
                        parameter=parameter,
                        grain=Grain.HOUR if duty.frequency == DutyFrequency.ONLINE else Grain.SAMPLE,
                        at=start,
                        period_end=end,
                        limit_source=duty.source[:200],
                        reason=f"应{frequency}自行监测{parameter.name}（{duty.source or '自行监测要求'}），{label}{detail}。",
                    )
                )

    def _hours_per_day(self, pairs, since):
        """{(outfall id, parameter id, local date): hourly values} since `since`, for the (outfall, parameter)
        pairs given (an online duty's day is a local calendar day: complete_periods)."""
        if not pairs:
            return {}
        rows = (
            HourValue.objects.filter(
                outfall_id__in={o for o, _ in pairs},
                parameter_id__in={p.pk for _, p in pairs},
                at__gte=since,
                at__lt=self.now,
            )
            .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
            .order_by()
            .values_list("outfall_id", "parameter_id", "day")
            .annotate(n=Count("*"))
        )
        return {(o, p, day): n for o, p, day, n in rows}

    def _sample_times(self, pairs, since):
        """{(outfall id, parameter id): sorted times of self-monitoring (and online) samples} since `since`."""
        if not pairs:
            return {}
        times = {}
        rows = (
            SampleValue.objects.filter(
                outfall_id__in={o for o, _ in pairs},
                parameter_id__in={p.pk for _, p in pairs},
                sampled_at__gte=since,
                sampled_at__lt=self.now,
                sample__source__in=(SampleSource.SELF, SampleSource.ONLINE),
            )
            .order_by()
            .values_list("outfall_id", "parameter_id", "sampled_at")
        )
        for o, p, at in rows:
            times.setdefault((o, p), []).append(at)
        for at in times.values():
            at.sort()
        return times

    # Running ----------------------------------------------------------------------------------------------------
    def run(self):
        ids_query = Outfall.objects.order_by("pk").values_list("pk", flat=True)
        if self.outfall_ids is not None:
            ids_query = ids_query.filter(pk__in=list(self.outfall_ids))
        all_ids = list(ids_query)
        for offset in range(0, len(all_ids), BATCH_OUTFALLS):
            batch = all_ids[offset : offset + BATCH_OUTFALLS]
            limits = limits_for(batch)
            found = []
            self._samples(batch, limits, found)
            self._online(
                HourValue,
                Grain.HOUR,
                batch,
                limits,
                found,
                kinds=(LimitKind.MAX, LimitKind.RANGE, LimitKind.MIN),
            )
            self._online(DayValue, Grain.DAY, batch, limits, found, kinds=tuple(LimitKind.values))
            self._missing(batch, found)
            self._write(batch, found)
            self.summary.outfalls += len(batch)
        return self.summary

    @transaction.atomic
    def _write(self, batch, found):
        keys = {f.key for f in found}
        existing = Finding.objects.filter(outfall_id__in=batch).values_list("key", "pk")
        gone = [pk for key, pk in existing if key not in keys]
        for i in range(0, len(gone), 900):
            self.summary.removed += Finding.objects.filter(pk__in=gone[i : i + 900]).delete()[0]
        if found:
            Finding.objects.bulk_create(
                found,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=UPDATE_FIELDS,
            )
        for finding in found:
            self.summary.add(finding.kind)


UPDATE_FIELDS = [
    "kind",
    "parameter",
    "grain",
    "value_id",
    "at",
    "period_end",
    "value",
    "limit_kind",
    "limit_lower",
    "limit_upper",
    "unit",
    "multiple",
    "limit_source",
    "reason",
    "evaluated_at",
]


def evaluate(outfall_ids=None, *, now=None):
    """Evaluate the outfalls (ids; None: all). Returns a Summary."""
    return _Evaluator(outfall_ids, now=now).run()


# Periods ----------------------------------------------------------------------------------------------------
def _month_start(dt):
    return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _add_months(dt, months):
    month = dt.month - 1 + months
    return dt.replace(year=dt.year + month // 12, month=month % 12 + 1)


def complete_periods(frequency, since, until):
    """[(start, end, Chinese label)] of the complete periods of a frequency between since and until (local)."""
    since, until = timezone.localtime(since), timezone.localtime(until)
    periods = []
    if frequency in (DutyFrequency.DAILY, DutyFrequency.ONLINE):
        day = since.replace(hour=0, minute=0, second=0, microsecond=0)
        if day < since:
            day += timedelta(days=1)
        while day + timedelta(days=1) <= until:
            periods.append((day, day + timedelta(days=1), f"{day:%Y年%m月%d日}"))
            day += timedelta(days=1)
        return periods
    if frequency == DutyFrequency.WEEKLY:
        day = since.replace(hour=0, minute=0, second=0, microsecond=0)
        day += timedelta(days=(7 - day.weekday()) % 7)
        while day + timedelta(days=7) <= until:
            periods.append((day, day + timedelta(days=7), f"{day:%Y年%m月%d日}起的一周"))
            day += timedelta(days=7)
        return periods
    step = {
        DutyFrequency.MONTHLY: 1,
        DutyFrequency.QUARTERLY: 3,
        DutyFrequency.HALF_YEARLY: 6,
        DutyFrequency.YEARLY: 12,
    }[frequency]
    start = _month_start(since)
    if start < since:
        start = _add_months(start, 1)
    while (start.month - 1) % step:
        start = _add_months(start, 1)
    while _add_months(start, step) <= until:
        end = _add_months(start, step)
        if step == 1:
            label = f"{start:%Y年%m月}"
        elif step == 3:
            label = f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
        elif step == 6:
            label = f"{start.year}年{'上' if start.month == 1 else '下'}半年"
        else:
            label = f"{start.year}年"
        periods.append((start, end, label))
        start = end
    return periods
