"""FilterSets shared by the monitoring pages and the API (one definition each)."""

import django_filters
from django.db.models import Q

from outfalls.core.filters import OrderingFilter
from outfalls.registry.classification import Level2
from outfalls.registry.filters import ScopedFilterSet
from outfalls.registry.models import Outfall, Section, WaterBody

from .choices import DrawStatus, FindingKind, SampleSource, StationKind
from .models import Draw, Finding, Parameter, Sample, Station


class _Places(ScopedFilterSet):
    """county: the outfall's county (a 6-digit code among those the user sees)."""

    county = django_filters.ChoiceFilter(field_name="outfall__county__code", label="县区", choices=[])


class SampleFilter(_Places):
    outfall = django_filters.CharFilter(field_name="outfall__code", label="排污口编码")
    section = django_filters.ModelChoiceFilter(
        queryset=Section.objects.select_related("water_body").defer("water_body__geometry"),
        label="考核断面",
        empty_label="全部断面",
        null_label=None,
    )
    source = django_filters.ChoiceFilter(choices=SampleSource.choices, label="来源")
    date_from = django_filters.DateFilter(
        field_name="sampled_at", lookup_expr="date__gte", label="采样日期自"
    )
    date_to = django_filters.DateFilter(field_name="sampled_at", lookup_expr="date__lte", label="至")
    ordering = OrderingFilter(
        fields=(("sampled_at", "sampled_at"), ("outfall__code", "outfall")),
        field_labels={"sampled_at": "采样时间", "outfall__code": "排污口编码"},
        label="排序",
    )

    class Meta:
        model = Sample
        fields = []


class FindingFilter(_Places):
    outfall = django_filters.CharFilter(field_name="outfall__code", label="排污口编码")
    parameter = django_filters.ModelChoiceFilter(
        queryset=Parameter.objects.all(), to_field_name="code", label="项目", field_name="parameter"
    )
    kind = django_filters.ChoiceFilter(choices=FindingKind.choices, label="类型")
    type_level2 = django_filters.ChoiceFilter(
        field_name="outfall__type_level2", choices=Level2.choices, label="排口类型"
    )
    date_from = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label="日期自")
    date_to = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label="至")
    ordering = OrderingFilter(
        fields=(("at", "at"), ("multiple", "multiple"), ("outfall__code", "outfall")),
        field_labels={"at": "时间", "multiple": "超标倍数", "outfall__code": "排污口编码"},
        label="排序",
    )

    class Meta:
        model = Finding
        fields = []


class StationFilter(_Places):
    kind = django_filters.ChoiceFilter(choices=StationKind.choices, label="类型")
    q = django_filters.CharFilter(method="search", label="搜索")

    class Meta:
        model = Station
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(mn__icontains=value))


class MatrixFilter(ScopedFilterSet):
    """The matrix's outfalls: county, type, river and a search."""

    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    type_level2 = django_filters.ChoiceFilter(choices=Level2.choices, label="排口类型")
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.all(), label="受纳水体", empty_label="全部水体", null_label=None
    )
    q = django_filters.CharFilter(method="search", label="排口名称或编码")

    class Meta:
        model = Outfall
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset


class DrawFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DrawStatus.choices, label="状态")
    date_from = django_filters.DateFilter(field_name="inspection_date", lookup_expr="gte", label="检查日期自")
    date_to = django_filters.DateFilter(field_name="inspection_date", lookup_expr="lte", label="至")

    class Meta:
        model = Draw
        fields = []
