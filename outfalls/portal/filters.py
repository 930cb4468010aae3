"""The public list's search and filters (on public fields only, registry/disclosure.py), and the handlers'
filters of citizen reports (the API's list)."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.filters import OrderingFilter, YesNoFilter
from outfalls.core.models import Department, Jurisdiction
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.classification import TypeCode
from outfalls.registry.filters import ScopedFilterSet
from outfalls.registry.models import WaterBody

from .choices import OPEN_STATUSES, ReportCategory, ReportStatus
from .models import Report


def _counties(request=None):
    return Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).order_by("code").values_list("code", "name")


def _waters(request=None):
    return [(str(pk), name) for pk, name in WaterBody.objects.order_by("name").values_list("pk", "name")]


class PublicOutfallFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="搜索名称、编码或水体")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=_counties)
    water_body = django_filters.ChoiceFilter(field_name="water_body_id", label="受纳水体", choices=_waters)
    type_code = django_filters.ChoiceFilter(
        choices=[c for c in TypeCode.choices if c[0] != TypeCode.UNDETERMINED], label="排污口类型"
    )
    status = django_filters.ChoiceFilter(choices=LifecycleStatus.choices, label="状态")

    def search(self, queryset, name, value):
        value = value.strip()[:50]
        if not value:
            return queryset
        q = Q(name__icontains=value) | Q(water_body__name__icontains=value)
        if value.isascii():
            q |= Q(code__icontains=value) | Q(national_code__icontains=value)
        return queryset.filter(q)


class ReportFilter(ScopedFilterSet):
    """The handlers' reports (the to-do list's status choice and more): the API list of citizen reports."""

    OPEN = "open"

    q = django_filters.CharFilter(method="search", label="搜索", help_text="查询码、情况描述、地址或承办人")
    status = django_filters.ChoiceFilter(
        method="by_status",
        label="状态",
        choices=[(OPEN, "待办（未答复）"), *ReportStatus.choices],
        help_text="open：待办（已受理、已分派、正在处理）",
    )
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label="责任部门", help_text="部门 id"
    )
    category = django_filters.ChoiceFilter(choices=ReportCategory.choices, label="举报类别")
    overdue = YesNoFilter(method="by_overdue", label="逾期", help_text="未办结且已过办理期限")
    created_from = django_filters.DateFilter(
        field_name="created_at__date", lookup_expr="gte", label="举报日期自"
    )
    created_to = django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte", label="至")
    ordering = OrderingFilter(
        fields=(("deadline", "deadline"), ("created_at", "created_at"), ("status", "status")),
        field_labels={"deadline": "办理期限", "created_at": "举报时间", "status": "状态"},
    )

    class Meta:
        model = Report
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()[:50]
        if not value:
            return queryset
        return queryset.filter(
            Q(tracking_code__icontains=value)
            | Q(description__icontains=value)
            | Q(address__icontains=value)
            | Q(assignee__icontains=value)
        )

    def by_status(self, queryset, name, value):
        if value == self.OPEN:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)

    def by_overdue(self, queryset, name, value):
        late = Q(status__in=OPEN_STATUSES, deadline__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)
