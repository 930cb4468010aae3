"""Monitoring workflow steps: record a sample (form, API, lab import), assign an outfall's standard, stations.

Each checks the user's rights and the data, writes inside transaction.atomic, and is what the views, the API,
the import, the demo loader and the tests call.

A sample is identified by its lab and lab sample number when it has one, else by its place (outfall or
section), source and sampling time: recording the same sample again with the same values changes nothing
(``created`` is False); the same identity with other values is refused, naming what differs: nothing a
person entered is silently overwritten.
"""

from dataclasses import dataclass, field
from datetime import UTC

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from outfalls.core.choices import Role
from outfalls.core.scopes import scope_of
from outfalls.registry.models import Outfall

from . import partitions, units, values
from .choices import Dimension, Qualifier, SampleSource, Weather
from .models import OutfallStandard, Sample, SampleValue, Standard

# Sources a form, the API or an import may record (online data come from the HJ 212 listener).
MANUAL_SOURCES = (SampleSource.SUPERVISORY, SampleSource.SELF, SampleSource.CITIZEN, SampleSource.RANDOM)


@dataclass
class ValueInput:
    parameter: object  # Parameter
    raw: object  # as typed or read: "12.3", "<0.05", 0.5, "ND"
    unit: str = ""
    detection_limit: object = None  # a separate detection limit (for "ND" without one)
    where: str = ""  # how an import names the cell, for messages ("第 3 行“氨氮(mg/L)”")


@dataclass
class SampleInput:
    source: str
    sampled_at: object  # aware datetime
    outfall: object = None
    section: object = None
    station: object = None
    place: str = ""
    lon: float | None = None
    lat: float | None = None
    flow: float | None = None
    flow_unit: str = ""
    weather: str = Weather.UNKNOWN
    lab: str = ""
    lab_sample_id: str = ""
    notes: str = ""
    draw_item: object = None
    values: list = field(default_factory=list)  # [ValueInput]


def allowed_sources(user):
    """The sources a user may record: responsible entities their own self-monitoring; other editors any
    manual source."""
    scope = scope_of(user)
    if not scope.can_edit_anything:
        return ()
    if scope.roles <= {Role.ENTITY, Role.RIVER_CHIEF, Role.AUDITOR}:
        return (SampleSource.SELF,)
    return MANUAL_SOURCES


def can_record(user):
    return bool(allowed_sources(user))


def check_place(data, user):
    """The outfall (editable by the user) or section (city editors) the sample belongs to."""
    if (data.outfall is None) == (data.section is None):
        raise ValidationError({"outfall": "请选择入河排污口或考核断面（二选一）。"})
    if data.outfall is not None:
        if not Outfall.objects.editable_by(user).filter(pk=data.outfall.pk).exists():
            raise PermissionDenied(f"排口“{data.outfall}”不在您可录入监测数据的范围内。")
    elif not scope_of(user).can_edit_citywide:
        raise PermissionDenied("断面水质数据由市生态环境局录入。")


def sample_key(data):
    if (data.lab_sample_id or "").strip():
        return f"lab:{(data.lab or '').strip()}:{data.lab_sample_id.strip()}"[:200]
    where = f"o{data.outfall.pk}" if data.outfall is not None else f"s{data.section.pk}"
    return f"at:{where}:{data.source}:{data.sampled_at.astimezone(UTC).isoformat()}"


def _read_value(item, errors):
    parameter = item.parameter
    where = item.where or f"“{parameter.name}”"
    prefix = f"{item.where}：" if item.where else ""
    try:
        reading = values.parse(item.raw)
    except values.ReadingError as error:
        errors.append(f"{where}：{error}")
        return None
    if reading is None:
        return None
    detection = reading.detection_limit
    if (
        reading.qualifier == Qualifier.BELOW_LOD
        and detection is None
        and item.detection_limit not in (None, "")
    ):
        try:
            extra = values.parse(item.detection_limit)
        except values.ReadingError as error:
            errors.append(f"{where}的检出限：{error}")
            return None
        detection = extra.value if extra is not None else None
    try:
        factor = units.factor(item.unit, parameter.dimension, parameter.name)
    except units.UnitError as error:
        errors.append(f"{prefix}{error}")
        return None
    value_std = reading.value * factor if reading.value is not None else None
    detection_std = detection * factor if detection is not None else None
    problem = units.check_range(
        value_std if value_std is not None else detection_std, parameter.dimension, parameter.name
    )
    if problem:
        errors.append(f"{prefix}{problem}")
        return None
    return SampleValue(
        parameter=parameter,
        value=reading.value,
        unit=(item.unit or parameter.unit)[:16],
        value_std=value_std,
        qualifier=reading.qualifier,
        detection_limit=detection,
        detection_limit_std=detection_std,
    )


def prepare(data, *, user, check_rights=True):
    """(Sample, [SampleValue]) checked and not saved; ValidationError naming the field or cell at fault."""
    if check_rights:
        if data.source not in allowed_sources(user):
            label = SampleSource(data.source).label if data.source in SampleSource.values else data.source
            raise PermissionDenied(f"您的角色不能录入“{label}”数据。")
        check_place(data, user)
    errors = {}
    if data.sampled_at is None:
        errors["sampled_at"] = "请填写采样时间。"
    flow_m3h = None
    if data.flow is not None:
        try:
            flow_m3h = units.to_standard(data.flow, data.flow_unit, Dimension.FLOW, "流量")
        except units.UnitError as error:
            errors["flow_unit"] = str(error)
        else:
            problem = units.check_range(flow_m3h, Dimension.FLOW, "流量")
            if problem:
                errors["flow"] = problem
    value_errors, rows, seen = [], [], set()
    for item in data.values:
        if item.parameter.pk in seen:
            value_errors.append(f"“{item.parameter.name}”重复填写。")
            continue
        row = _read_value(item, value_errors)
        if row is not None:
            seen.add(item.parameter.pk)
            rows.append(row)
    if value_errors:
        errors["values"] = value_errors
    elif not rows:
        errors["values"] = "至少填写一个监测项目的数值。"
    if errors:
        raise ValidationError(errors)
    sample = Sample(
        outfall=data.outfall,
        section=data.section,
        station=data.station,
        source=data.source,
        sampled_at=data.sampled_at,
        place=(data.place or "")[:200],
        lon=data.lon,
        lat=data.lat,
        flow=data.flow,
        flow_unit=(data.flow_unit or "")[:8],
        flow_m3h=flow_m3h,
        weather=data.weather or Weather.UNKNOWN,
        lab=(data.lab or "")[:100],
        lab_sample_id=(data.lab_sample_id or "")[:64],
        notes=data.notes or "",
        draw_item=data.draw_item,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    sample.key = sample_key(data)
    try:
        sample.full_clean(
            exclude=["outfall", "section", "station", "draw_item", "key", "created_by", "imported_in"]
        )
    except ValidationError as error:
        raise ValidationError(error.message_dict) from error
    return sample, rows


def signature(sample, rows):
    head = (sample.outfall_id, sample.section_id, sample.source, sample.sampled_at)

    def number(x):
        return None if x is None else round(x, 9)

    body = sorted(
        (r.parameter_id, number(r.value_std), r.qualifier or "", number(r.detection_limit_std)) for r in rows
    )
    return head, body


def difference(old, old_rows, new, new_rows):
    (old_head, old_body), (new_head, new_body) = signature(old, old_rows), signature(new, new_rows)
    if old_head != new_head:
        return "排口、来源或采样时间不同"
    names = {r.parameter_id: r.parameter.name for r in [*old_rows, *new_rows]}
    changed = sorted({a[0] for a in set(old_body) ^ set(new_body)})
    return "监测值不同：" + "、".join(names.get(p, str(p)) for p in changed)


def existing_sample(key):
    sample = Sample.objects.filter(key=key).first()
    if sample is None:
        return None, []
    return sample, list(SampleValue.objects.filter(sample=sample).select_related("parameter"))


def write(sample, rows, *, imported_in=None):
    """Insert a prepared sample and its values (the caller holds the transaction)."""
    sample.imported_in = imported_in
    sample.save()
    for row in rows:
        row.sample = sample
        row.outfall_id = sample.outfall_id
        row.section_id = sample.section_id
        row.sampled_at = sample.sampled_at
    partitions.ensure_for(SampleValue, [sample.sampled_at])
    SampleValue.objects.bulk_create(rows)
    return sample


def after_save(outfall_ids):
    """What follows new samples: the exceedances of those outfalls, and dry-weather flow at storm outfalls."""
    from . import dry_weather, exceedances

    ids = sorted({i for i in outfall_ids if i is not None})
    if ids:
        exceedances.evaluate(ids)
        dry_weather.scan(ids)


def save_sample(data, *, user, follow_up=True):
    """Record one sample. Returns (sample, created). The same sample again (same key, same values): (existing,
    False); the same key with other values: ValidationError."""
    sample, rows = prepare(data, user=user)
    with transaction.atomic():
        old, old_rows = existing_sample(sample.key)
        if old is not None:
            if signature(old, old_rows) != signature(sample, rows):
                raise ValidationError(
                    {
                        "lab_sample_id": f"样品“{old.lab_sample_id or sample.key}”已录入，且{difference(old, old_rows, sample, rows)}；如需更正请联系市生态环境局。"
                    }
                )
            return old, False
        write(sample, rows)
    if follow_up:
        after_save([sample.outfall_id])
    return sample, True


# Standards and stations ---------------------------------------------------------------------------------------
@transaction.atomic
def assign_standard(outfall, *, user, standard, grade, reason):
    """The bureau sets the standard an outfall is judged by (over the type rule; permit limits still win)."""
    if not scope_of(user).can_edit_citywide:
        raise PermissionDenied("只有市生态环境局可以指定排口的执行标准。")
    if not Outfall.objects.visible_to(user).filter(pk=outfall.pk).exists():
        raise PermissionDenied("该排口不在您的范围内。")
    errors = {}
    if not isinstance(standard, Standard):
        errors["standard"] = "请选择标准。"
    elif grade not in [code for code, _ in standard.grades]:
        errors["grade"] = (
            f"“{grade}”不是 {standard.code} 的级别（可选：{'、'.join(c for c, _ in standard.grades)}）。"
        )
    if not (reason or "").strip():
        errors["reason"] = "请写明指定的依据（如环评批复、设置审核意见）。"
    if errors:
        raise ValidationError(errors)
    assignment, _ = OutfallStandard.objects.update_or_create(
        outfall=outfall,
        defaults={"standard": standard, "grade": grade, "reason": reason.strip()[:300], "set_by": user},
    )
    after_save([outfall.pk])
    return assignment


@transaction.atomic
def clear_standard(outfall, *, user):
    if not scope_of(user).can_edit_citywide:
        raise PermissionDenied("只有市生态环境局可以指定排口的执行标准。")
    OutfallStandard.objects.filter(outfall=outfall).delete()
    after_save([outfall.pk])


@transaction.atomic
def save_station(station, *, user):
    """Create or change a station: at an outfall the user may edit, or (city editors) at a section."""
    if station.outfall_id is not None:
        if not Outfall.objects.editable_by(user).filter(pk=station.outfall_id).exists():
            raise PermissionDenied("该排口不在您可编辑的范围内。")
    elif not scope_of(user).can_edit_citywide:
        raise PermissionDenied("断面监测站点由市生态环境局维护。")
    if station.mn is not None:
        station.mn = station.mn.strip() or None
    station.full_clean()
    station.save()
    return station
