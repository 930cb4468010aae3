"""Helpers shared by the monitoring tests: fresh outfalls of a given type (no samples, no findings), and samples
recorded through the service."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from outfalls.monitoring import services
from outfalls.monitoring.choices import SampleSource
from outfalls.monitoring.models import Parameter
from outfalls.registry.choices import LifecycleStatus, RectificationStatus
from outfalls.registry.classification import LEVEL2_CODE
from outfalls.registry.models import Outfall, WaterBody


def new_outfall(type_level2, *, county="140213", water_target=None, **fields):
    """A new outfall copied from a demo outfall of the county (its place and river), of the given level-2 type.
    water_target: give the receiving water that target class (a fresh water body, so other tests see no change)."""
    base = Outfall.objects.filter(county__code=county).order_by("pk").first()
    outfall = Outfall.objects.get(pk=base.pk)
    outfall.pk = outfall.id = None
    outfall.code, outfall.national_code, outfall.source_key = "", None, None
    outfall.status = LifecycleStatus.VERIFIED
    outfall.rectification_measure = ""
    outfall.rectification_status = RectificationStatus.NOT_STARTED
    outfall.merged_into = None
    outfall.type_level2 = type_level2
    outfall.type_level3 = ""
    outfall.type_code = LEVEL2_CODE[type_level2]
    outfall.responsible_entity = None
    outfall.name_auto, outfall.name = False, f"测试排口 {type_level2}"
    if water_target is not None:
        river = outfall.water_body
        outfall.water_body = WaterBody.objects.create(
            name=f"测试河流 {water_target}",
            code=f"TEST-{water_target}-{Outfall.objects.count()}",
            basin=river.basin,
            target_class=water_target,
            geometry=river.geometry,
        )
    for name, value in fields.items():
        setattr(outfall, name, value)
    outfall.save()
    return outfall


def parameter(code):
    return Parameter.objects.get(code=code)


def at(text):
    return timezone.make_aware(datetime.fromisoformat(text))


def bureau():
    return get_user_model().objects.get(username="bureau")


def record(outfall, when, values, *, source=SampleSource.SUPERVISORY, user=None, follow_up=True, **fields):
    """values: {parameter code: raw value or (raw, unit)}."""
    items = []
    for code, raw in values.items():
        raw, unit = raw if isinstance(raw, tuple) else (raw, "")
        items.append(services.ValueInput(parameter(code), raw, unit))
    data = services.SampleInput(
        source=source,
        sampled_at=at(when) if isinstance(when, str) else when,
        outfall=outfall,
        values=items,
        **fields,
    )
    return services.save_sample(data, user=user or bureau(), follow_up=follow_up)
