"""FilterSets of the campaign and suspected-point lists."""

import django_filters
from django import forms
from django.db.models import Q

from outfalls.core.filters import OrderingFilter
from outfalls.registry.filters import ScopedFilterSet

from .choices import CampaignStatus, PointOutcome, PointSource
from .models import Campaign, SuspectedPoint


class CampaignFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices, label="状态", empty_label="全部状态")
    ordering = OrderingFilter(
        fields=(
            ("name", "name"),
            ("county__code", "county"),
            ("deadline", "deadline"),
            ("created_at", "created"),
        ),
        field_labels={
            "name": "任务名称",
            "county__code": "县区",
            "deadline": "完成期限",
            "created_at": "创建时间",
        },
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Campaign
        fields = ["q", "county", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(lead_unit__icontains=value)
            | Q(team_names__icontains=value)
            | Q(water_bodies__name__icontains=value)
        ).distinct()


class PointFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="编号或说明")
    outcome = django_filters.ChoiceFilter(choices=PointOutcome.choices, label="结论", empty_label="全部结论")
    source = django_filters.ChoiceFilter(choices=PointSource.choices, label="来源", empty_label="全部来源")

    class Meta:
        model = SuspectedPoint
        fields = ["q", "outcome", "source"]

    def search(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(number__icontains=value) | Q(description__icontains=value))
            if value
            else queryset
        )
