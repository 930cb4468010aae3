"""Forms and FilterSets of the 溯源, 借道排污, coverage and progress pages."""

import django_filters
from django import forms
from django.db.models import Q

from outfalls.core.filters import ChoiceFilter, OrderingFilter
from outfalls.core.forms import BootstrapMixin, MultipleFileField
from outfalls.registry.choices import LinkRole, ResponsibilityBasis, UnitKind
from outfalls.registry.filters import ScopedFilterSet
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody

from .choices import CaseStatus
from .models import TracingCase, TracingStep

# How a tracing case may be concluded (tracing.conclude_case), with the registry's labels.
CONCLUSION_BASES = [
    (basis.value, basis.label)
    for basis in (ResponsibilityBasis.TRACED, ResponsibilityBasis.GOVERNMENT_FALLBACK)
]


def _search_outfall(prefix, value):
    value = value.strip()
    units = DischargeUnit.objects.filter(name__icontains=value).values("pk")
    return (
        Q(**{f"{prefix}name__icontains": value})
        | Q(**{f"{prefix}code__icontains": value})
        | Q(**{f"{prefix}unit_links__unit_id__in": units})
    )


class CaseFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="outfall__county__code", label="县区", choices=[])
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, label="状态", empty_label="全部状态")
    water_body = django_filters.ModelChoiceFilter(
        field_name="outfall__water_body",
        queryset=WaterBody.objects.all(),
        label="河流",
        empty_label="全部河流",
    )
    basis = ChoiceFilter(choices=CONCLUSION_BASES, label="确定方式", empty=True)  # 未填写: not concluded
    ordering = OrderingFilter(
        fields=(
            ("outfall__code", "code"),
            ("outfall__name", "name"),
            ("outfall__county__code", "county"),
            ("outfall__water_body__name", "water_body"),
            ("status", "status"),
            ("opened_at", "opened"),
            ("concluded_at", "concluded"),
        ),
        widget=forms.HiddenInput,
    )

    class Meta:
        model = TracingCase
        fields = ["q", "county", "status", "water_body", "basis"]

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(
            outfall__in=Outfall.objects.filter(_search_outfall("", value)).values("pk")
        ) | queryset.filter(responsible_entity__name__icontains=value.strip())


class AwaitingFilter(ScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    water_body = django_filters.ModelChoiceFilter(
        queryset=WaterBody.objects.all(), label="河流", empty_label="全部河流"
    )
    ordering = OrderingFilter(
        fields=(
            ("code", "code"),
            ("name", "name"),
            ("county__code", "county"),
            ("water_body__name", "water_body"),
        ),
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Outfall
        fields = ["q", "county", "water_body"]

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(Q(name__icontains=value.strip()) | Q(code__icontains=value.strip()))


class BorrowedFilter(AwaitingFilter):
    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(pk__in=Outfall.objects.filter(_search_outfall("", value)).values("pk"))


class StepForm(BootstrapMixin, forms.ModelForm):
    files = MultipleFileField(
        label="照片或资料", required=False, help_text="可多选：jpg/png 照片，pdf/doc/xls 等资料"
    )

    class Meta:
        model = TracingStep
        fields = ["kind", "date", "findings", "staff"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "findings": forms.Textarea(attrs={"rows": 3}),
        }


LINK_ROLE_HELP = "共用须写责任分担说明；借道排污须写经由通道"


class LinkForm(BootstrapMixin, forms.Form):
    """Link an existing unit (picked) or a new one (name and kind typed here)."""

    unit = forms.ModelChoiceField(queryset=DischargeUnit.objects.none(), label="已有排污单位", required=False)
    new_name = forms.CharField(label="或新建单位：名称", max_length=128, required=False)
    new_kind = forms.ChoiceField(label="新建单位类型", choices=UnitKind.choices, initial=UnitKind.INDUSTRIAL)
    new_credit_code = forms.CharField(label="新建单位统一社会信用代码", max_length=18, required=False)
    role = forms.ChoiceField(label="与排口的关系", choices=LinkRole.choices, help_text=LINK_ROLE_HELP)
    via_channel = forms.CharField(label="经由通道", max_length=128, required=False)
    share_note = forms.CharField(label="责任分担说明", max_length=200, required=False)
    share_percent = forms.IntegerField(label="责任份额（%）", min_value=0, max_value=100, required=False)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units

    def clean(self):
        data = super().clean()
        if not data.get("unit") and not (data.get("new_name") or "").strip():
            self.add_error("unit", "请选择已有排污单位，或填写新建单位的名称。")
        if data.get("unit") and (data.get("new_name") or "").strip():
            self.add_error("new_name", "已选择已有单位时不要再填写新建单位名称。")
        return data


class ConcludeForm(BootstrapMixin, forms.Form):
    basis = forms.ChoiceField(label="确定方式", choices=CONCLUSION_BASES)
    entity = forms.ModelChoiceField(
        queryset=DischargeUnit.objects.none(),
        label="责任主体",
        required=False,
        help_text="溯源确定：从已关联单位中选择；政府兜底：留空为本县区人民政府（经开区管委会），或选择其指定单位",
    )
    note = forms.CharField(
        label="结论说明",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="政府兜底时必填：写明无法溯源的原因",
    )

    def __init__(self, *args, entities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if entities is not None:
            self.fields["entity"].queryset = entities


class ReopenForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label="重新开启原因", max_length=300)
