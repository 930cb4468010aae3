"""Sections' assessed water quality: the GB 3838 class of each assessment section from its samples over a window
(the mean of each item, single-factor method: the worst item decides), compared with the section's target class.

Used by the random inspections (counties with a failing section get a higher rate) and by the downstream-impact
view (a failing section and its failing items).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Avg, Count
from django.utils import timezone

from outfalls.registry.choices import WaterBodyKind, WaterClass
from outfalls.registry.models import Section

from .limits import _Library, assess_class, class_limits, worse_than
from .models import Sample, SampleValue

WINDOW_DAYS = 365


@dataclass
class SectionAssessment:
    section: object
    target: str
    assessed: str  # a WaterClass value, or "" without samples
    per_item: dict = field(default_factory=dict)  # parameter code -> class
    means: dict = field(default_factory=dict)  # parameter code -> mean value
    samples: int = 0

    @property
    def fails(self):
        return bool(self.target and self.assessed and worse_than(self.assessed, self.target))

    @property
    def failing(self):
        """The items worse than the target class."""
        if not self.target:
            return []
        return sorted(code for code, grade in self.per_item.items() if worse_than(grade, self.target))

    @property
    def assessed_label(self):
        return WaterClass(self.assessed).label if self.assessed else "无监测数据"

    @property
    def target_label(self):
        return WaterClass(self.target).label if self.target else "未定"


def assess(sections=None, *, until=None, days=WINDOW_DAYS):
    """[SectionAssessment] for the sections (default all), from section samples in the `days` before `until`."""
    until = until or timezone.now()
    since = until - timedelta(days=days)
    sections = list(
        (sections if sections is not None else Section.objects.all())
        .select_related("water_body", "county")
        .defer("water_body__geometry", "county__boundary")
    )
    rows = (
        SampleValue.objects.filter(
            section_id__in=[s.pk for s in sections], sampled_at__gte=since, sampled_at__lt=until
        )
        .exclude(value_std=None)
        .values("section_id", "parameter__code")
        .annotate(mean=Avg("value_std"))
    )
    means = {}
    for row in rows:
        means.setdefault(row["section_id"], {})[row["parameter__code"]] = row["mean"]
    counts = dict(
        Sample.objects.filter(
            section_id__in=[s.pk for s in sections], sampled_at__gte=since, sampled_at__lt=until
        )
        .values("section_id")
        .annotate(n=Count("id"))
        .values_list("section_id", "n")
    )
    library = _Library()
    river, lake = class_limits(library=library), class_limits(lake=True, library=library)
    found = []
    for section in sections:
        values = means.get(section.pk, {})
        per_class = (
            lake if section.water_body.kind in (WaterBodyKind.LAKE, WaterBodyKind.RESERVOIR) else river
        )
        assessed, per_item = assess_class(values, per_class)
        found.append(
            SectionAssessment(
                section=section,
                target=section.target_class,
                assessed=assessed,
                per_item=per_item,
                means=values,
                samples=counts.get(section.pk, 0),
            )
        )
    return found


def poor_counties(*, until=None):
    """{county id: [section names]} of the counties with a section worse than its target."""
    poor = {}
    for item in assess(until=until):
        if item.fails and item.section.county_id:
            poor.setdefault(item.section.county_id, []).append(item.section.name)
    return poor
