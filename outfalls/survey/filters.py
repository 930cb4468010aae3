"""FilterSets of the campaign, suspected-point and field-check lists (the pages and the API)."""

import django_filters
from django import forms
from django.db.models import Q

from outfalls.core.filters import OrderingFilter, YesNoFilter
from outfalls.registry.filters import ScopedFilterSet

from .choices import CampaignStatus, FlowState, PointOutcome, PointSource
from .models import Campaign, FieldCheck, SuspectedPoint


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


def visible_campaigns(request):
    """The campaigns the requesting user sees (a filter's pick-list; none without a request)."""
    user = getattr(request, "user", None)
    return Campaign.objects.visible_to(user) if user is not None else Campaign.objects.none()


class PointListFilter(ScopedFilterSet, PointFilter):
    """The campaign page's point filters, plus the campaign and county (the API lists points of every campaign)."""

    campaign = django_filters.ModelChoiceFilter(queryset=visible_campaigns, label="排查任务")
    county = django_filters.ChoiceFilter(field_name="campaign__county__code", label="县区", choices=[])

    class Meta:
        model = SuspectedPoint
        fields = ["q", "campaign", "county", "outcome", "source"]


class FieldCheckFilter(ScopedFilterSet):
    campaign = django_filters.ModelChoiceFilter(
        field_name="point__campaign", queryset=visible_campaigns, label="排查任务"
    )
    county = django_filters.ChoiceFilter(field_name="point__campaign__county__code", label="县区", choices=[])
    point = django_filters.NumberFilter(field_name="point_id", label="疑似点 id")
    outcome = django_filters.ChoiceFilter(choices=PointOutcome.choices, label="核查结论")
    flow = django_filters.ChoiceFilter(choices=FlowState.choices, label="排水特征")
    dry_weather = YesNoFilter(label="旱天")
    date_from = django_filters.DateFilter(
        field_name="checked_at__date", lookup_expr="gte", label="核查日期自"
    )
    date_to = django_filters.DateFilter(field_name="checked_at__date", lookup_expr="lte", label="至")

    class Meta:
        model = FieldCheck
        fields = ["campaign", "county", "point", "outcome", "flow", "dry_weather", "date_from", "date_to"]
