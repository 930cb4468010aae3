"""The proposal list's FilterSet and the decision and run forms."""

import django_filters
from django import forms
from django.db.models import Q

from outfalls.core.filters import OrderingFilter
from outfalls.core.forms import BootstrapMixin
from outfalls.registry.choices import RectificationMeasure
from outfalls.registry.filters import ScopedFilterSet

from . import rules
from .choices import ProposalStatus
from .models import MeasureProposal

CURRENT = "current"


def rule_q(name):
    """Proposals whose hits include the rule (a text match on the stored JSON, the same on both databases)."""
    return Q(hits__icontains=f'"rule": "{name}"')


class ProposalFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="outfall__county__code", label="县区", choices=[])
    measure = django_filters.ChoiceFilter(choices=RectificationMeasure.choices, label="建议措施")
    # Static choices: the rules register at import. (Choices set per instance would be lost once the API
    # schema has built and cached the base filter's form field.)
    rule = django_filters.ChoiceFilter(
        choices=[(r.name, r.title) for r in rules.RULES.values()], method="filter_rule", label="命中规则"
    )
    status = django_filters.ChoiceFilter(
        choices=[(CURRENT, "当前有效（不含已失效）"), *ProposalStatus.choices],
        method="filter_status",
        label="状态",
    )
    ordering = OrderingFilter(
        fields=(
            ("created_at", "created_at"),
            ("outfall__code", "code"),
            ("outfall__county__code", "county"),
            ("measure", "measure"),
            ("status", "status"),
        ),
        field_labels={
            "created_at": "提出时间",
            "outfall__code": "排口编码",
            "outfall__county__code": "县区",
            "measure": "建议措施",
            "status": "状态",
        },
    )

    class Meta:
        model = MeasureProposal
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q(outfall__name__icontains=value) | Q(reason__icontains=value)
        if value.isascii():
            q |= Q(outfall__code__icontains=value)
        return queryset.filter(q)

    def filter_rule(self, queryset, name, value):
        return queryset.filter(rule_q(value)) if value else queryset

    def filter_status(self, queryset, name, value):
        if value == CURRENT:
            return queryset.exclude(status=ProposalStatus.SUPERSEDED)
        return queryset.filter(status=value) if value else queryset


class OverrideForm(BootstrapMixin, forms.Form):
    measure = forms.ChoiceField(
        label="改定措施",
        choices=[("", "请选择"), *RectificationMeasure.choices],
        error_messages={"required": "请选择改定的整治措施。"},
    )
    reason = forms.CharField(
        label="改定理由",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "改定整治措施须填写理由。"},
        help_text="说明为何不采纳规则建议，如 现场核实已接入管网、保护区范围已调整",
    )

    def __init__(self, *args, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        if proposal is not None:
            self.fields["measure"].choices = [
                ("", "请选择"),
                *[(v, label) for v, label in RectificationMeasure.choices if v != proposal.measure],
            ]


class RunForm(BootstrapMixin, forms.Form):
    county = forms.ChoiceField(label="范围", required=False)

    def __init__(self, *args, counties=(), citywide=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(c.code, c.name) for c in counties]
        self.fields["county"].choices = [("", "全市"), *choices] if citywide else choices
