"""Which limit applies to an outfall's parameter, and why.

Per parameter, the first of:

1. the permit's limit (registry.limits.permit_limits: the permits app, or any registered provider);
2. the standard the bureau assigned to the outfall (OutfallStandard);
3. the standard the first matching StandardRule gives for the outfall's type and receiving water's target
   class (the water body's own target, else the strictest target of its sections).

Sections are judged against GB 3838 at their target class (section_limits) and assessed by the single-factor
method: the worst parameter decides the class (assess_class).
"""

from dataclasses import dataclass, field

from outfalls.registry import limits as registry_limits
from outfalls.registry.choices import WaterBodyKind, WaterClass
from outfalls.registry.models import Outfall, Section

from .choices import LimitCondition, LimitKind, LimitSource, StandardKind
from .models import OutfallStandard, StandardLimit, StandardRule

SURFACE_STANDARD = "GB 3838-2002"
CLASS_ORDER = [WaterClass.I, WaterClass.II, WaterClass.III, WaterClass.IV, WaterClass.V]
COLD_CELSIUS = 12.0  # GB 18918: the bracketed NH3-N values apply at water temperatures ≤ 12 °C


@dataclass(frozen=True)
class Applicable:
    """One parameter's limit for one outfall (or section), with where it comes from and why."""

    parameter: str
    kind: str
    lower: float | None
    upper: float | None
    unit: str
    source: str  # LimitSource
    source_text: str  # "GB 18918-2002 一级A标准" or the permit's own text
    reason: str
    cold_upper: float | None = None  # used when the sample's water temperature is ≤ 12 °C
    uncertain: bool = False

    def upper_at(self, temperature):
        if self.cold_upper is not None and temperature is not None and temperature <= COLD_CELSIUS:
            return self.cold_upper
        return self.upper

    @property
    def text(self):
        if self.kind == LimitKind.RANGE:
            return f"{self.lower:g}–{self.upper:g}"
        if self.kind == LimitKind.MIN:
            return f"≥{self.lower:g} {self.unit}"
        cold = f"（水温≤12℃时 {self.cold_upper:g}）" if self.cold_upper is not None else ""
        return f"≤{self.upper:g} {self.unit}{cold}"


@dataclass
class OutfallLimits:
    outfall_id: int
    standard: object = None  # the Standard applied where no permit limit exists
    grade: str = ""
    standard_source: str = ""  # LimitSource.ASSIGNED / RULE, or "" when none fits
    reason: str = ""  # why that standard applies (or why none does)
    uncertain: bool = False
    limits: dict = field(default_factory=dict)  # parameter code -> Applicable

    @property
    def standard_text(self):
        if self.standard is None:
            return ""
        return f"{self.standard.code} {self.standard.grade_label(self.grade)}"

    @property
    def permit_parameters(self):
        return [code for code, limit in self.limits.items() if limit.source == LimitSource.PERMIT]


class _Library:
    """The library's limits and rules, read once per call of limits_for / section_limits."""

    def __init__(self):
        self.limits = {}
        for row in StandardLimit.objects.select_related("standard", "parameter"):
            self.limits.setdefault((row.standard_id, row.grade), []).append(row)
        self.rules = list(StandardRule.objects.select_related("standard").order_by("order"))

    def standard_limits(self, standard, grade, *, source, reason, lake=False):
        rows = self.limits.get((standard.pk, grade), [])
        by_parameter = {}
        for row in rows:
            by_parameter.setdefault(row.parameter.code, {})[row.condition] = row
        text = f"{standard.code} {standard.grade_label(grade)}"
        result = {}
        for code, variants in by_parameter.items():
            base = variants.get(LimitCondition.LAKE) if lake else None
            base = base or variants.get(LimitCondition.ALWAYS)
            if base is None:
                continue  # a lake-only item (TN) at a river
            cold = variants.get(LimitCondition.COLD)
            result[code] = Applicable(
                parameter=code,
                kind=base.kind,
                lower=base.lower,
                upper=base.upper,
                unit=base.unit,
                source=source,
                source_text=text,
                reason=reason,
                cold_upper=cold.upper if cold is not None else None,
                uncertain=base.uncertain or standard.uncertain,
            )
        return result

    def rule_for(self, type_code, type_level2, water_class):
        for rule in self.rules:
            if rule.matches(type_code, type_level2, water_class):
                return rule
        return None


def water_classes(water_body_ids):
    """{water body id: its target class, else the strictest target among its sections, else ""}."""
    from outfalls.registry.models import WaterBody

    targets = dict(WaterBody.objects.filter(pk__in=water_body_ids).values_list("pk", "target_class"))
    strictest = {}
    for water_id, target in (
        Section.objects.filter(water_body_id__in=water_body_ids)
        .exclude(target_class="")
        .values_list("water_body_id", "target_class")
    ):
        if target in CLASS_ORDER and (
            water_id not in strictest or CLASS_ORDER.index(target) < CLASS_ORDER.index(strictest[water_id])
        ):
            strictest[water_id] = target
    return {wid: targets.get(wid) or strictest.get(wid, "") for wid in water_body_ids}


def _permit_limit(limit):
    return Applicable(
        parameter=limit.parameter,
        kind=limit.kind,
        lower=limit.lower,
        upper=limit.upper,
        unit=limit.unit,
        source=LimitSource.PERMIT,
        source_text=limit.source or "排污许可",
        reason=f"排污许可载明的限值{('（' + limit.averaging + '）') if limit.averaging else ''}",
    )


def limits_for(outfalls):
    """{outfall id: OutfallLimits} for outfalls (Outfall rows or ids)."""
    rows = [o for o in outfalls if isinstance(o, Outfall)]
    ids = {o if isinstance(o, int) else o.pk for o in outfalls}
    if len(rows) != len(ids):
        rows = list(
            Outfall.objects.filter(pk__in=ids).only("id", "type_code", "type_level2", "water_body_id")
        )
    if not rows:
        return {}
    library = _Library()
    permits = registry_limits.permit_limits([o.pk for o in rows])
    assigned = {
        a.outfall_id: a for a in OutfallStandard.objects.filter(outfall_id__in=ids).select_related("standard")
    }
    classes = water_classes({o.water_body_id for o in rows})
    result = {}
    for outfall in rows:
        entry = OutfallLimits(outfall_id=outfall.pk)
        assignment = assigned.get(outfall.pk)
        water_class = classes.get(outfall.water_body_id, "")
        if assignment is not None:
            entry.standard, entry.grade = assignment.standard, assignment.grade
            entry.standard_source, entry.reason = (
                LimitSource.ASSIGNED,
                f"市生态环境局指定：{assignment.reason}",
            )
        else:
            rule = library.rule_for(outfall.type_code, outfall.type_level2, water_class)
            if rule is not None:
                entry.standard, entry.grade = rule.standard, rule.grade
                entry.standard_source, entry.reason = LimitSource.RULE, rule.reason
                entry.uncertain = rule.uncertain
            else:
                entry.reason = (
                    "该类型排口没有适用的排放标准规则（可由排污许可证载明，或由市生态环境局指定执行标准）"
                )
        if entry.standard is not None:
            entry.limits = library.standard_limits(
                entry.standard, entry.grade, source=entry.standard_source, reason=entry.reason
            )
            entry.uncertain = entry.uncertain or entry.standard.uncertain
        for code, limit in permits.get(outfall.pk, {}).items():
            entry.limits[code] = _permit_limit(limit)
        result[outfall.pk] = entry
    return result


def surface_standard():
    from .models import Standard

    return Standard.objects.filter(kind=StandardKind.SURFACE_WATER, code=SURFACE_STANDARD).first()


def section_limits(section, *, water_class=None, library=None):
    """{parameter code: Applicable} of GB 3838 at the section's target class (or the class given)."""
    standard = surface_standard()
    grade = water_class or section.target_class
    if standard is None or grade not in CLASS_ORDER:
        return {}
    library = library or _Library()
    lake = section.water_body.kind in (WaterBodyKind.LAKE, WaterBodyKind.RESERVOIR)
    reason = f"断面水质目标 {WaterClass(grade).label}，按 {standard.code} 评价"
    return library.standard_limits(standard, grade, source=LimitSource.RULE, reason=reason, lake=lake)


def class_limits(*, lake=False, library=None):
    """{class: {parameter code: Applicable}} of GB 3838 for every class I–V."""
    standard = surface_standard()
    if standard is None:
        return {}
    library = library or _Library()
    return {
        grade: library.standard_limits(standard, grade, source=LimitSource.RULE, reason="", lake=lake)
        for grade in CLASS_ORDER
    }


def meets(limit, value):
    if value is None:
        return True
    if limit.kind == LimitKind.MIN:
        return value >= limit.lower
    if limit.kind == LimitKind.RANGE:
        return limit.lower <= value <= limit.upper
    return value <= limit.upper


def assess_class(means, per_class):
    """The GB 3838 class of a section from its parameters' mean values ({code: value}) by the single-factor
    method: each parameter's class is the best class whose limit it meets; the section's is the worst of them.
    Returns (class, {code: class}); pH is a condition, not a class. No values: ("", {})."""
    classes = {}
    for code, value in means.items():
        if value is None or code == "pH":
            continue
        for grade in CLASS_ORDER:
            limit = per_class.get(grade, {}).get(code)
            if limit is None:
                break
            if meets(limit, value):
                classes[code] = grade
                break
        else:
            if any(code in per_class.get(g, {}) for g in CLASS_ORDER):
                classes[code] = WaterClass.WORSE_V
    if not classes:
        return "", {}
    order = [*CLASS_ORDER, WaterClass.WORSE_V]
    worst = max(classes.values(), key=order.index)
    return worst, classes


def worse_than(assessed, target):
    order = [*CLASS_ORDER, WaterClass.WORSE_V]
    return assessed in order and target in order and order.index(assessed) > order.index(target)
