"""FilterSets of the plan list (and its CSV export) and the retained list."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from outfalls.core.filters import EMPTY, OrderingFilter
from outfalls.registry.choices import RectificationMeasure
from outfalls.registry.filters import OutfallFilter, ScopedFilterSet
from outfalls.registry.models import DischargeUnit

from .choices import PlanStatus
from .models import Programme, RectificationPlan
from .supervision import DUE_SOON_DAYS, due_soon_q, overdue_q

DUE_CHOICES = [("overdue", "已逾期"), ("due_soon", f"{DUE_SOON_DAYS} 天内到期")]


class PlanFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="outfall__county__code", label="县区", choices=[])
    measure = django_filters.ChoiceFilter(choices=RectificationMeasure.choices, label="整治措施")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices, label="状态")
    programme = django_filters.ModelChoiceFilter(
        queryset=Programme.objects.all(), label="所属专项", empty_label="全部专项", null_label=EMPTY
    )
    due = django_filters.ChoiceFilter(choices=DUE_CHOICES, method="filter_due", label="期限")
    ordering = OrderingFilter(
        fields=(
            ("outfall__code", "code"),
            ("outfall__county__code", "county"),
            ("measure", "measure"),
            ("deadline", "deadline"),
            ("percent_done", "percent_done"),
            ("status", "status"),
            ("updated_at", "updated_at"),
        ),
        field_labels={
            "outfall__code": "排口编码",
            "outfall__county__code": "县区",
            "measure": "措施",
            "deadline": "整治期限",
            "percent_done": "进度",
            "status": "状态",
            "updated_at": "更新时间",
        },
    )

    class Meta:
        model = RectificationPlan
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        units = DischargeUnit.objects.filter(name__icontains=value).values("pk")
        q = (
            Q(outfall__name__icontains=value)
            | Q(responsible_org__icontains=value)
            | Q(responsible_unit_id__in=units)
            | Q(actions__icontains=value)
        )
        if value.isascii():
            q |= Q(outfall__code__icontains=value)
        return queryset.filter(q)

    def filter_due(self, queryset, name, value):
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(overdue_q(today))
        if value == "due_soon":
            return queryset.filter(due_soon_q(today))
        return queryset


class RetainedFilter(OutfallFilter):
    """The ledger's filter, without the lifecycle status (the retained list is the kept outfalls)."""

    status = None
