"""Filters shared by every app's FilterSets, and the jurisdiction register's FilterSet."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models import Q

from .choices import JurisdictionLevel, LoginChannel, LoginOutcome
from .models import Jurisdiction, LoginEvent

TRUE_WORDS = ("true", "1", "是")
FALSE_WORDS = ("false", "0", "否")


class YesNoField(forms.NullBooleanField):
    """Yes, no or any: "true"/"false" (also 1/0 and 是/否, the values the GIS attributes show); empty is any.

    Django's NullBooleanField reads every other value as "any", so ``registered=xyz`` filtered nothing and
    returned every row; here it is a form error (a 400 in the APIs, the field's message on a page).
    """

    widget = forms.Select(choices=[("", "全部"), ("true", "是"), ("false", "否")])

    def to_python(self, value):
        if value in (True, False, None, ""):
            return None if value == "" else value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        shown = str(value)[:20]
        raise ValidationError(f"应为 true（是）或 false（否），收到“{shown}”。", code="invalid")

    def validate(self, value):
        pass


class YesNoFilter(django_filters.BooleanFilter):
    """A yes/no/any filter that refuses any other value (YesNoField)."""

    field_class = YesNoField


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
