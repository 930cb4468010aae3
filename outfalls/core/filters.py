import django_filters
from django.core.validators import validate_ipv46_address
from django.db.models import Q

from .choices import JurisdictionLevel, LoginChannel, LoginOutcome
from .models import Jurisdiction, LoginEvent


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


class LoginEventFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(field_name="username", lookup_expr="icontains", label="用户名")
    outcome = django_filters.ChoiceFilter(choices=LoginOutcome.choices, label="结果")
    channel = django_filters.ChoiceFilter(choices=LoginChannel.choices, label="登录方式")
    ip_address = django_filters.CharFilter(
        field_name="ip_address",
        label="来源地址",
        validators=[validate_ipv46_address],
    )

    class Meta:
        model = LoginEvent
        fields = []
