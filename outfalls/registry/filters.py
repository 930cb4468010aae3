"""FilterSets shared by the list pages and the API (one definition each)."""

import django_filters
from django.db.models import Q

from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
from outfalls.core.filters import ChoiceFilter, OrderingFilter, YesNoFilter
from outfalls.core.forms import NarrowedSelect, narrow
from outfalls.core.models import Jurisdiction

from . import search
from .choices import (
    FindingKind,
    FindingSeverity,
    LifecycleStatus,
    RectificationStatus,
    SectionLevel,
    UnitKind,
    WaterBodyKind,
    WaterClass,
    ZoneKind,
)
from .classification import LEVEL2_PARENTS, Level2, TypeCode
from .models import (
    DischargeUnit,
    Outfall,
    Section,
    SpatialFinding,
    WaterBody,
    WaterFunctionZone,
)


class ScopedFilterSet(django_filters.FilterSet):
    """Choices for jurisdictions come from what the requesting user can see (set on each form instance).

    The town list holds every town the user sees and narrows in the browser as a county is chosen
    (core.forms.NarrowedSelect); a town outside the chosen county simply finds no rows.

    The places are read only when something needs them: a page rendering its pick-lists, or a county or
    town given in the request (checked against them). An API request without one reads none: a province has
    about a thousand counties and towns, and reading them was half of an API list request's time."""

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            wanted = [name for name in ("county", "town") if name in form.fields]
            if wanted:
                self._set_place_choices(form, wanted)
        return self._form

    def _set_place_choices(self, form, wanted):
        user = getattr(self.request, "user", None)
        levels = [*COUNTY_LEVELS, JurisdictionLevel.TOWN] if "town" in wanted else list(COUNTY_LEVELS)
        read = []

        def places():
            """(code, name, level, county code) of every county and town the user sees, read once."""
            if not read:
                read.append(
                    list(
                        Jurisdiction.objects.visible_to(user)
                        .filter(level__in=levels)
                        .order_by(*Jurisdiction._meta.ordering)
                        .values_list("code", "name", "level", "county__code")
                    )
                )
            return read[0]

        if "county" in wanted:
            field = form.fields["county"]
            field.empty_label = "全部县区"
            field.choices = lambda: [
                (code, name) for code, name, level, _ in places() if level in COUNTY_LEVELS
            ]
        if "town" in wanted:
            field = form.fields["town"]
            field.empty_label = "全部乡镇"

            def parents():
                return {
                    code: {"county": county}
                    for code, _, level, county in places()
                    if level == JurisdictionLevel.TOWN and county
                }

            narrow(field, ("county",), parents)
            field.choices = lambda: [
                (code, name) for code, name, level, _ in places() if level == JurisdictionLevel.TOWN
            ]


OUTFALL_ORDERING = (
    ("code", "code"),
    ("name", "name"),
    ("county__code", "county"),
    ("water_body__name", "water_body"),
    ("type_code", "type_code"),
    ("status", "status"),
    ("rectification_status", "rectification_status"),
    ("updated_at", "updated_at"),
)
# Keyed by field name, as OrderingFilter looks labels up.
OUTFALL_ORDERING_LABELS = {
    "code": "编码",
    "name": "名称",
    "county__code": "县区",
    "water_body__name": "受纳水体",
    "type_code": "分类",
    "status": "状态",
    "rectification_status": "整治进展",
    "updated_at": "更新时间",
    "history_date": "更新时间",
}


def _outfall_ordering(fields):
    return OrderingFilter(fields=fields, field_labels=OUTFALL_ORDERING_LABELS)


class OutfallFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    town = ChoiceFilter(field_name="town__code", label="乡镇（街道）", choices=[], empty=True)
    # No "null" choice: every outfall has a receiving water (and the API documents an id).
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.all(), label="受纳水体", empty_label="全部水体", null_label=None
    )
    type_code = django_filters.ChoiceFilter(choices=TypeCode.choices, label="一级分类")
    # Narrows as the level-1 type is chosen; 未填写: not classified to level 2 yet.
    type_level2 = ChoiceFilter(
        choices=Level2.choices,
        label="二级分类",
        empty=True,
        widget=NarrowedSelect(("type_code",), LEVEL2_PARENTS),
    )
    status = django_filters.ChoiceFilter(choices=LifecycleStatus.choices, label="生命周期状态")
    rectification_status = django_filters.ChoiceFilter(choices=RectificationStatus.choices, label="整治进展")
    registered = YesNoFilter(label="登记建档")
    disclosed = YesNoFilter(label="向社会公开")
    ordering = _outfall_ordering(OUTFALL_ORDERING)

    class Meta:
        model = Outfall
        fields = []

    def filter_queryset(self, queryset):
        # The search last: the searched queryset keeps the rows before it, for an estimated count.
        data = self.form.cleaned_data
        for name in sorted(data, key=lambda name: name == "q"):
            queryset = self.filters[name].filter(queryset, data[name])
        return queryset

    def search(self, queryset, name, value):
        if hasattr(queryset, "search"):  # OutfallQuerySet: the indexed path (registry/search.py)
            return queryset.search(value)
        value = value.strip()
        return queryset.filter(search.plain_q(value)) if value else queryset


class OutfallAsOfFilter(OutfallFilter):
    """The ledger filter on the ledger as of a past date (historical rows from history.outfalls_as_of).

    The same fields and values; history keeps no updated_at, so 更新时间 sorts by the version's date.
    """

    ordering = _outfall_ordering(
        tuple(
            ("history_date" if field == "updated_at" else field, param) for field, param in OUTFALL_ORDERING
        )
    )

    def search(self, queryset, name, value):
        # Historical rows have no search text: the plain path (registry/search.py).
        value = value.strip()
        return queryset.filter(search.plain_q(value)) if value else queryset


class DischargeUnitFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices, label="单位类型")
    has_permit = YesNoFilter(method="filter_has_permit", label="有排污许可证")
    ordering = OrderingFilter(
        fields=(("name", "name"), ("county__code", "county"), ("kind", "kind")),
        field_labels={"name": "名称", "county__code": "县区", "kind": "类型"},
    )

    class Meta:
        model = DischargeUnit
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(credit_code__icontains=value) | Q(permit_number__icontains=value)
        )

    def filter_has_permit(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(permit_number="") if value else queryset.filter(permit_number="")


class WaterBodyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    kind = django_filters.ChoiceFilter(choices=WaterBodyKind.choices, label="类型")
    basin = django_filters.CharFilter(lookup_expr="icontains", label="流域")

    class Meta:
        model = WaterBody
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset


class SectionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="搜索")
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.all(), label="所在水体", null_label=None
    )
    level = django_filters.ChoiceFilter(choices=SectionLevel.choices, label="级别")

    class Meta:
        model = Section
        fields = []


class ZoneFilter(django_filters.FilterSet):
    """Water-function zones (the list page and /api/v1/water-zones/)."""

    q = django_filters.CharFilter(method="search", label="搜索")
    kind = django_filters.ChoiceFilter(choices=ZoneKind.choices, label="类型")
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.defer("geometry"),
        label="所在水体",
        empty_label="全部水体",
        null_label=None,
    )
    target_class = django_filters.ChoiceFilter(choices=WaterClass.choices, label="水质目标")
    below_target = YesNoFilter(method="filter_below_target", label="未达到水质目标")

    class Meta:
        model = WaterFunctionZone
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset

    def filter_below_target(self, queryset, name, value):
        if value is None:
            return queryset
        below = WaterFunctionZone.objects.below_target().values("pk")
        return queryset.filter(pk__in=below) if value else queryset.exclude(pk__in=below)


class FindingFilter(ScopedFilterSet):
    """The spatial checks' findings (registry/checks.py): by kind, severity, the outfall's county and water."""

    q = django_filters.CharFilter(method="search", label="搜索")
    kind = django_filters.ChoiceFilter(choices=FindingKind.choices, label="类别")
    severity = django_filters.ChoiceFilter(choices=FindingSeverity.choices, label="级别")
    county = django_filters.ChoiceFilter(field_name="outfall__county__code", label="县区", choices=[])
    water_body = django_filters.ModelChoiceFilter(
        field_name="outfall__water_body",
        queryset=WaterBody.objects.defer("geometry"),
        label="受纳水体",
        empty_label="全部水体",
    )

    class Meta:
        model = SpatialFinding
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q(message__icontains=value) | Q(outfall__name__icontains=value)
        if value.isascii():
            q |= Q(outfall__code__icontains=value) | Q(outfall__national_code__icontains=value)
        return queryset.filter(q)
