"""The statutory reports' filters (the API's list of reports)."""

import django_filters

from outfalls.core.filters import OrderingFilter
from outfalls.core.models import Department
from outfalls.registry.filters import ScopedFilterSet

from .choices import ReportKind, SubmissionStatus
from .models import StatutoryReport


class StatutoryReportFilter(ScopedFilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices, label="报告")
    status = django_filters.ChoiceFilter(choices=SubmissionStatus.choices, label="状态")
    county = django_filters.ChoiceFilter(field_name="county__code", label="县区", choices=[])
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label="部门", help_text="部门 id"
    )
    ordering = OrderingFilter(
        fields=(("as_of", "as_of"), ("submitted_at", "submitted_at"), ("updated_at", "updated_at")),
        field_labels={"as_of": "数据截至", "submitted_at": "报送时间", "updated_at": "更新时间"},
    )

    class Meta:
        model = StatutoryReport
        fields = []
