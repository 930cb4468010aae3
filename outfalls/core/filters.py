import django_filters
from django.db.models import Q

from .choices import JurisdictionLevel
from .models import Jurisdiction


class JurisdictionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="搜索")
    level = django_filters.ChoiceFilter(choices=JurisdictionLevel.choices, label="层级")
    county = django_filters.CharFilter(field_name="county__code", label="所属县区代码")
    parent = django_filters.CharFilter(field_name="parent__code", label="上级代码")

    class Meta:
        model = Jurisdiction
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__startswith=value)) if value else queryset
