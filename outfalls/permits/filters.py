"""FilterSets of the setup review and the permits: each serves its list page, export and API list."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from outfalls.core.filters import OrderingFilter, YesNoFilter
from outfalls.registry.classification import Level2
from outfalls.registry.filters import ScopedFilterSet
from outfalls.registry.models import WaterBody

from .choices import ApplicationKind, ApplicationStatus, Authority, Outcome, Procedure
from .models import Decision, DischargePermit, SetupApplication


class ApplicationFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    kind = django_filters.ChoiceFilter(choices=ApplicationKind.choices, label="申请类型")
    procedure = django_filters.ChoiceFilter(choices=Procedure.choices, label="程序")
    authority = django_filters.ChoiceFilter(choices=Authority.choices, label="审批权限")
    status = django_filters.ChoiceFilter(choices=ApplicationStatus.choices, label="状态")
    type_level2 = django_filters.ChoiceFilter(choices=Level2.choices, label="排口类型")
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.defer("geometry"),
        label="受纳水体",
        empty_label="全部水体",
        null_label=None,
    )
    overdue = YesNoFilter(method="filter_overdue", label="已超办理期限")
    consultation_required = YesNoFilter(label="须征求意见")
    ordering = OrderingFilter(
        fields=(
            ("number", "number"),
            ("created_at", "created_at"),
            ("due_on", "due_on"),
            ("status", "status"),
        ),
        field_labels={"number": "编号", "created_at": "填报时间", "due_on": "办理期限", "status": "状态"},
        label="排序",
    )

    class Meta:
        model = SetupApplication
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(outfall_name__icontains=value)
            | Q(applicant__name__icontains=value)
            | Q(outfall__code__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = Q(status=ApplicationStatus.UNDER_REVIEW, due_on__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)


class DecisionFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="application__county__code", label="县区", choices=[])
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label="决定")
    public = YesNoFilter(label="向社会公开")
    decided_from = django_filters.DateFilter(field_name="decided_on", lookup_expr="gte", label="决定日期自")
    decided_to = django_filters.DateFilter(field_name="decided_on", lookup_expr="lte", label="决定日期至")

    class Meta:
        model = Decision
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(application__number__icontains=value)
            | Q(application__applicant__name__icontains=value)
        )


class PermitFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="unit__county__code", label="县区", choices=[])
    in_force = YesNoFilter(method="filter_in_force", label="在有效期内")

    class Meta:
        model = DischargePermit
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(unit__name__icontains=value))

    def filter_in_force(self, queryset, name, value):
        if value is None:
            return queryset
        today = timezone.localdate()
        current = Q(valid_from__lte=today, valid_until__gte=today)
        return queryset.filter(current) if value else queryset.exclude(current)
