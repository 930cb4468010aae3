"""Filters shared by every app's FilterSets, and the jurisdiction register's FilterSet."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models import Q

from .choices import JurisdictionLevel, LoginChannel, LoginOutcome
from .models import Jurisdiction, LoginEvent

# Every pick-list of a filter starts with one 全部 (FILTERS_EMPTY_CHOICE_LABEL, or the filter's own empty_label
# such as 全部县区). 未填写 (the value "null") is offered only by a filter on a field that may be empty
# (FILTERS_NULL_CHOICE_LABEL is None): ChoiceFilter(..., empty=True) or ModelChoiceFilter(null_label=EMPTY).
EMPTY = "未填写"

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


class ChoiceFilter(django_filters.ChoiceFilter):
    """A choice filter; with empty=True it also offers 未填写, which finds the rows whose field is empty
    (NULL, or a blank text: a level-2 type not yet given is stored as "")."""

    def __init__(self, *args, empty=False, **kwargs):
        if empty:
            kwargs["null_label"] = EMPTY
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if self.extra.get("null_label") is None or value != self.null_value:
            return super().filter(qs, value)
        empty = Q(**{f"{self.field_name}__isnull": True}) | Q(**{self.field_name: ""})
        return self.get_method(qs)(empty)


class OrderingFilter(django_filters.OrderingFilter):
    """Sorting: 排序, 默认 first, and Chinese labels for both directions ("编码（降序）", not
    django-filter's "编码 (descending)")."""

    descending_fmt = "%s（降序）"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "排序")
        kwargs.setdefault("empty_label", "默认")
        super().__init__(*args, **kwargs)


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
