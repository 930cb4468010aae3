"""Pollutant loads (负荷, 实施方案（十五）“严格控制入河排污总量”): per outfall, along the rivers per section interval,
and the downstream-impact view (the outfalls upstream of a failing section, ranked by their load).

**Per outfall and year** (``compute``, stored as OutfallLoad): load = concentration × daily volume.

- concentration (mg/L = g/m³): the mean of the online day means when there are at least ONLINE_DAYS of them,
  else the mean of the year's samples (a non-detect counts as half its detection limit), else the typical
  effluent concentration of the outfall's type (data/standards.json "estimates": an estimate);
- daily volume (m³/d): the mean of the online day volumes (FLOW's Cou) when there are ONLINE_DAYS of them, else
  the mean flow measured with the samples × 24, else the ledger's 日排放量, else the typical volume of the type
  (an estimate). Storm outfalls have no typical volume: without measurements they carry no load;
- kg/d = mg/L × m³/d / 1000; kg/a = kg/d × 365. A load with an estimated part is marked as an estimate and its
  basis says which part.

**Along a river** (``river_profile``): every outfall is placed on its river by linear referencing (geo/linref.py,
as the section intervals are) and its load added to the interval between the sections around it; a tributary's
whole load enters its parent river where it joins (its last point placed on the parent), in that interval. Each
interval ends at a section, shown with its target and assessed class (assessment.py).

**Downstream impact** (``downstream_impact``): for a section, the outfalls within a distance upstream along the
water (its own river, and tributaries joining within the distance, the distance running down the tributary to
the confluence and on to the section), ranked by their load of a parameter.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Avg, Case, Count, F, FloatField, When
from django.utils import timezone

from outfalls.geo import shapes
from outfalls.geo.linref import RiverLine
from outfalls.registry.choices import FINISHED
from outfalls.registry.classification import Level2
from outfalls.registry.models import Outfall, Section, WaterBody

from .choices import Qualifier
from .library import estimates
from .models import DayValue, OutfallLoad, Parameter, Sample, SampleValue
from .units import format_value

ONLINE_DAYS = 30
DAYS_PER_YEAR = 365


def _year_bounds(year):
    zone = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def load_parameters():
    return list(Parameter.objects.filter(load_counted=True))


@dataclass
class _Inputs:
    concentrations: dict = field(default_factory=dict)  # (outfall, parameter) -> (mean, n, source)
    volumes: dict = field(default_factory=dict)  # outfall -> (m3/d, source)
    samples: dict = field(default_factory=dict)  # (outfall, parameter) -> n


def _inputs(ids, parameters, start, end):
    found = _Inputs()
    flow = Parameter.objects.filter(code="FLOW").first()
    half_below = Case(
        When(qualifier=Qualifier.BELOW_LOD, then=F("detection_limit_std") / 2.0),
        default=F("value_std"),
        output_field=FloatField(),
    )
    rows = (
        SampleValue.objects.filter(
            outfall_id__in=ids, parameter__in=parameters, sampled_at__gte=start, sampled_at__lt=end
        )
        .values("outfall_id", "parameter_id")
        .annotate(mean=Avg(half_below), n=Count("id"))
    )
    for row in rows:
        if row["mean"] is not None:
            key = (row["outfall_id"], row["parameter_id"])
            found.concentrations[key] = (row["mean"], row["n"], "samples")
            found.samples[key] = row["n"]
    online = (
        DayValue.objects.filter(
            outfall_id__in=ids, parameter__in=parameters, at__gte=start, at__lt=end, flag__in=("", "N")
        )
        .exclude(avg=None)
        .values("outfall_id", "parameter_id")
        .annotate(mean=Avg("avg"), n=Count("id"))
    )
    for row in online:
        if row["n"] >= ONLINE_DAYS:
            found.concentrations[(row["outfall_id"], row["parameter_id"])] = (row["mean"], row["n"], "online")
    for row in (
        Sample.objects.filter(
            outfall_id__in=ids, sampled_at__gte=start, sampled_at__lt=end, flow_m3h__isnull=False
        )
        .values("outfall_id")
        .annotate(mean=Avg("flow_m3h"), n=Count("id"))
    ):
        found.volumes[row["outfall_id"]] = (row["mean"] * 24, f"采样实测流量均值（{row['n']} 次）")
    if flow is not None:
        for row in (
            DayValue.objects.filter(outfall_id__in=ids, parameter=flow, at__gte=start, at__lt=end)
            .exclude(cou=None)
            .values("outfall_id")
            .annotate(mean=Avg("cou"), n=Count("id"))
        ):
            if row["n"] >= ONLINE_DAYS:
                found.volumes[row["outfall_id"]] = (row["mean"], f"在线监测日排水量均值（{row['n']} 天）")
    return found


def compute(year=None, outfall_ids=None):
    """Compute and store the loads of a year (default: the last twelve months' calendar year, i.e. this one) for
    every discharging outfall (or those given). Returns the number of rows written."""
    year = year or timezone.localdate().year
    start, end = _year_bounds(year)
    parameters = load_parameters()
    by_pk = {p.pk: p for p in parameters}
    typical = estimates()
    outfalls = Outfall.objects.exclude(status__in=FINISHED).only("id", "type_level2", "daily_volume_m3")
    if outfall_ids is not None:
        outfalls = outfalls.filter(pk__in=list(outfall_ids))
    outfalls = list(outfalls)
    rows = []
    for offset in range(0, len(outfalls), 2000):
        batch = outfalls[offset : offset + 2000]
        inputs = _inputs([o.pk for o in batch], parameters, start, end)
        for outfall in batch:
            type_label = Level2(outfall.type_level2).label if outfall.type_level2 else "类型未定"
            volume = inputs.volumes.get(outfall.pk)
            volume_estimated = False
            if volume is None and outfall.daily_volume_m3:
                volume = (outfall.daily_volume_m3, "台账日排放量")
            if volume is None and outfall.type_level2 in typical.get("volumes", {}):
                volume = (
                    float(typical["volumes"][outfall.type_level2]),
                    f"按类型估算（{type_label}典型水量）",
                )
                volume_estimated = True
            if volume is None:
                continue
            for parameter in parameters:
                concentration = inputs.concentrations.get((outfall.pk, parameter.pk))
                concentration_estimated = False
                if concentration is None:
                    value = typical.get("concentrations", {}).get(outfall.type_level2, {}).get(parameter.code)
                    if value is None:
                        continue
                    concentration = (float(value), 0, "typical")
                    concentration_estimated = True
                mean, n, source = concentration
                how = {
                    "samples": f"{year}年样品 {n} 个均值（未检出按检出限一半计）",
                    "online": f"{year}年在线日均值 {n} 天均值",
                    "typical": f"按类型估算（{type_label}典型浓度 {mean:g} mg/L）",
                }[source]
                kg_per_day = mean * volume[0] / 1000.0
                rows.append(
                    OutfallLoad(
                        outfall_id=outfall.pk,
                        parameter=by_pk[parameter.pk],
                        year=year,
                        flow_m3_per_day=round(volume[0], 3),
                        concentration=round(mean, 5),
                        kg_per_day=kg_per_day,
                        kg_per_year=kg_per_day * DAYS_PER_YEAR,
                        estimated=volume_estimated or concentration_estimated,
                        basis=f"浓度：{how}；水量：{volume[1]} {format_value(volume[0])} m³/d"[:300],
                        samples=inputs.samples.get((outfall.pk, parameter.pk), 0),
                    )
                )
    stale = OutfallLoad.objects.filter(year=year)
    if outfall_ids is not None:
        stale = stale.filter(outfall_id__in=[o.pk for o in outfalls])
    stale.delete()
    OutfallLoad.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# Along the rivers --------------------------------------------------------------------------------------------
def river_lines(waters=None):
    """{water body id: (WaterBody, RiverLine with its sections)} for the water bodies with a line."""
    waters = list(waters if waters is not None else WaterBody.objects.exclude(geometry=None))
    sections = {}
    for s in Section.objects.filter(water_body__in=waters).order_by("chainage_km"):
        sections.setdefault(s.water_body_id, []).append((s.pk, s.name, s.lon, s.lat))
    lines = {}
    for water in waters:
        if not water.geometry:
            continue
        try:
            lines[water.pk] = (water, RiverLine(shapes.shape_of(water.geometry), sections.get(water.pk, [])))
        except ValueError:
            continue
    return lines


def confluences(lines):
    """{tributary id: (parent id, chainage km on the parent where it joins)}: the tributary's last point
    (rivers are drawn downstream) placed on its parent river."""
    found = {}
    for water_id, (water, _line) in lines.items():
        if water.parent_id is None or water.parent_id not in lines:
            continue
        end = shapes.shape_of(water.geometry)
        coords = list(end.coords) if end.geom_type == "LineString" else list(end.geoms[-1].coords)
        lon, lat = coords[-1][:2]
        found[water_id] = (water.parent_id, lines[water.parent_id][1].chainage(lon, lat))
    return found


def outfall_positions(lines, outfalls):
    """{outfall id: chainage km on its own river} (vectorised per river)."""
    by_water = {}
    for pk, water_id, lon, lat in outfalls:
        by_water.setdefault(water_id, []).append((pk, lon, lat))
    positions = {}
    for water_id, rows in by_water.items():
        if water_id not in lines:
            continue
        chainages, _ = lines[water_id][1].locate_many([r[1] for r in rows], [r[2] for r in rows])
        positions.update({r[0]: float(km) for r, km in zip(rows, chainages, strict=True)})
    return positions


def _loads(year, parameter, outfall_ids=None, *, waters=None):
    """{outfall id: (kg/d, estimated)}; waters: read the loads of the outfalls on those water bodies (one join
    instead of thousands of ids in the statement) and keep those of outfall_ids."""
    rows = OutfallLoad.objects.filter(year=year, parameter=parameter)
    if waters is not None:
        rows = rows.filter(outfall__water_body_id__in=waters)
    elif outfall_ids is not None:
        rows = rows.filter(outfall_id__in=outfall_ids)
    found = {
        o: (kg, est) for o, kg, est in rows.order_by().values_list("outfall_id", "kg_per_day", "estimated")
    }
    if waters is not None and outfall_ids is not None:
        wanted = set(outfall_ids)
        found = {o: value for o, value in found.items() if o in wanted}
    return found


@dataclass
class Interval:
    water: object
    upstream: str  # the section above (or 河源)
    downstream: object  # the Section below, or None (to the river's end)
    from_km: float
    to_km: float
    outfalls: int = 0
    direct_kg: float = 0.0
    estimated_kg: float = 0.0
    tributary_kg: float = 0.0
    tributaries: list = field(default_factory=list)
    cumulative_kg: float = 0.0
    assessment: object = None

    @property
    def total_kg(self):
        return self.direct_kg + self.tributary_kg


def river_profile(year, parameter, *, outfalls):
    """{water body id: [Interval]} for the outfalls given (a queryset in the user's scope)."""
    from .assessment import assess

    lines = river_lines()
    joins = confluences(lines)
    rows = list(
        outfalls.exclude(status__in=FINISHED).order_by().values_list("pk", "water_body_id", "lon", "lat")
    )
    positions = outfall_positions(lines, rows)
    loads = _loads(year, parameter, [r[0] for r in rows])
    assessments = {a.section.pk: a for a in assess()}
    profiles = {}
    # Tributaries first (those without tributaries of their own first), so their totals are known for the parent.
    order = sorted(lines, key=lambda w: -_depth(w, joins))
    totals = {}
    for water_id in order:
        water, line = lines[water_id]
        marks = line.sections
        bounds = [0.0, *[m.chainage_km for m in marks], line.length_km]
        intervals = []
        for i in range(len(bounds) - 1):
            downstream = marks[i] if i < len(marks) else None
            intervals.append(
                Interval(
                    water=water,
                    upstream=marks[i - 1].name if i > 0 else "河源",
                    downstream=downstream,
                    from_km=bounds[i],
                    to_km=bounds[i + 1],
                    assessment=assessments.get(downstream.key) if downstream else None,
                )
            )

        def interval_at(km, intervals=intervals, bounds=bounds):
            for i, interval in enumerate(intervals):
                if km <= bounds[i + 1] or i == len(intervals) - 1:
                    return interval
            return intervals[-1]

        for pk, water_body_id, _, _ in rows:
            if water_body_id != water_id or pk not in positions:
                continue
            kg, estimated = loads.get(pk, (0.0, False))
            target = interval_at(positions[pk])
            target.outfalls += 1
            target.direct_kg += kg
            if estimated:
                target.estimated_kg += kg
        for tributary, (parent, km) in joins.items():
            if parent == water_id and tributary in totals:
                target = interval_at(km)
                target.tributary_kg += totals[tributary]
                target.tributaries.append(lines[tributary][0].name)
        running = 0.0
        for interval in intervals:
            running += interval.total_kg
            interval.cumulative_kg = running
        totals[water_id] = running
        profiles[water_id] = intervals
    return profiles


def _depth(water_id, joins):
    depth, seen = 0, set()
    while water_id in joins and water_id not in seen:
        seen.add(water_id)
        water_id = joins[water_id][0]
        depth += 1
    return depth


# Downstream impact -------------------------------------------------------------------------------------------
@dataclass
class Upstream:
    outfall_id: int
    water_id: int
    distance_km: float
    kg_per_day: float | None
    estimated: bool


def upstream_reach(lines, joins, water_id, end_km, within_km):
    """[(water id, from km, to km, distance at to km)]: the stretches within `within_km` upstream of the point at
    end_km on water_id, along the river and up its tributaries (recursively)."""
    stretches = [(water_id, max(end_km - within_km, 0.0), end_km, 0.0)]
    queue = [(water_id, end_km, 0.0)]
    while queue:
        current, at_km, used = queue.pop()
        for tributary, (parent, join_km) in joins.items():
            if parent != current or join_km > at_km:
                continue
            to_join = used + (at_km - join_km)
            if to_join > within_km:
                continue
            length = lines[tributary][1].length_km
            left = within_km - to_join
            stretches.append((tributary, max(length - left, 0.0), length, to_join))
            queue.append((tributary, length, to_join))
    return stretches


def downstream_impact(
    section, parameter, *, within_km, year, outfalls, lines=None, joins=None, positions=None
):
    """[Upstream] ranked by load (largest first; outfalls without a load last), for the outfalls given (a
    queryset in the user's scope) within `within_km` upstream of the section."""
    lines = lines if lines is not None else river_lines()
    joins = joins if joins is not None else confluences(lines)
    if section.water_body_id not in lines:
        return []
    section_km = lines[section.water_body_id][1].chainage(section.lon, section.lat)
    reach = upstream_reach(lines, joins, section.water_body_id, section_km, within_km)
    waters = {w for w, _, _, _ in reach}
    rows = list(
        outfalls.exclude(status__in=FINISHED)
        .filter(water_body_id__in=waters)
        .order_by()  # no sort: an index on the water body, not a scan in code order
        .values_list("pk", "water_body_id", "lon", "lat")
    )
    positions = positions if positions is not None else outfall_positions(lines, rows)
    found = []
    for pk, water_id, _, _ in rows:
        km = positions.get(pk)
        if km is None:
            continue
        for stretch_water, low, high, distance_at_high in reach:
            if stretch_water == water_id and low <= km <= high:
                found.append(Upstream(pk, water_id, distance_at_high + (high - km), None, False))
                break
    loads = _loads(year, parameter, [u.outfall_id for u in found], waters=waters)
    for item in found:
        if item.outfall_id in loads:
            item.kg_per_day, item.estimated = loads[item.outfall_id]
    found.sort(key=lambda u: (u.kg_per_day is None, -(u.kg_per_day or 0.0), u.distance_km))
    return found


def failing_sections(*, until=None):
    """[SectionAssessment] of the sections worse than their target, worst first."""
    from .assessment import assess

    failing = [a for a in assess(until=until) if a.fails]
    return sorted(failing, key=lambda a: (a.section.water_body.name, a.section.chainage_km))
