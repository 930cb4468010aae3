"""The public list's search and filters: on public fields only (registry/disclosure.py)."""

import django_filters
from django.db.models import Q

from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.models import Jurisdiction
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import WaterBody


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
