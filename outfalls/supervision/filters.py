"""FilterSets of the enforcement registers: each serves its list page, its export and its API list."""

import django_filters
from django.db.models import Q

from outfalls.core.filters import OrderingFilter
from outfalls.registry.filters import ScopedFilterSet
from outfalls.registry.models import WaterBody

from .choices import CaseKind, CaseSource, CaseStatus, EntityReportStatus
from .models import EnforcementCase, EntityReport, Patrol


class CaseFilter(ScopedFilterSet):
    q = django_filters.CharFilter(
        method="search", label="搜索", help_text="案件编号、案情、排口编码或单位名称"
    )
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    kind = django_filters.ChoiceFilter(choices=CaseKind.choices, label="案件类型")
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, label="状态")
    source = django_filters.ChoiceFilter(choices=CaseSource.choices, label="来源")
    ordering = OrderingFilter(
        fields=(("number", "number"), ("opened_on", "opened_on"), ("status", "status")),
        field_labels={"number": "案件编号", "opened_on": "立案日期", "status": "状态"},
    )

    class Meta:
        model = EnforcementCase
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        through_outfalls = EnforcementCase.outfalls.through.objects.filter(
            Q(outfall__code__icontains=value) | Q(outfall__name__icontains=value)
        ).values("enforcementcase_id")
        through_units = EnforcementCase.units.through.objects.filter(
            dischargeunit__name__icontains=value
        ).values("enforcementcase_id")
        return queryset.filter(
            Q(number__icontains=value)
            | Q(summary__icontains=value)
            | Q(pk__in=through_outfalls)
            | Q(pk__in=through_units)
        )


class EntityReportFilter(ScopedFilterSet):
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    status = django_filters.ChoiceFilter(choices=EntityReportStatus.choices, label="状态")

    class Meta:
        model = EntityReport
        fields = []


class PatrolFilter(ScopedFilterSet):
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.defer("geometry"), label="河流", empty_label="全部河流"
    )
    date_from = django_filters.DateFilter(field_name="patrolled_on", lookup_expr="gte", label="日期自")
    date_to = django_filters.DateFilter(field_name="patrolled_on", lookup_expr="lte", label="至")

    class Meta:
        model = Patrol
        fields = []
