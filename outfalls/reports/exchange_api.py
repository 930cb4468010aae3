"""REST API of the exchange (reports/exchange.py): GET /api/v1/exchange/ is the structure (sections and data
elements with their status), GET /api/v1/exchange/{section}/ that section's records in the caller's scope, paged,
each an object keyed by the data elements' identifiers (the same values as the exchange file)."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from outfalls.core.models import Jurisdiction
from outfalls.core.rest import FRAMEWORK_PARAMS

from . import exchange


class ExchangeFilter(django_filters.FilterSet):
    """The records' filters: a county (its code) and the monitoring section's period."""

    county = django_filters.CharFilter(method="keep", help_text="县区区划代码（6 位），如 140213")
    since = django_filters.DateFilter(method="keep", help_text="监测数据自（YYYY-MM-DD；默认为一年前）")
    until = django_filters.DateFilter(method="keep", help_text="监测数据至（YYYY-MM-DD；默认为今天）")

    def keep(self, queryset, name, value):
        return queryset  # read by the view: the section's rows depend on all three


class ExchangeFieldSerializer(serializers.Serializer):
    element = serializers.CharField(help_text="数据元标识符（记录中的键）")
    name = serializers.CharField(help_text="名称（交换文件的列名）")
    status = serializers.ChoiceField(choices=exchange.STATUS_CHOICES, help_text="核实状态")
    status_label = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=exchange.KIND_CHOICES,
        help_text="取值类型：text、number、date（YYYY-MM-DD）、moment（YYYY-MM-DD HH:MM，北京时间）",
    )
    note = serializers.CharField()


class ExchangeSectionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="部分的标识（记录地址 /api/v1/exchange/{key}/）")
    name = serializers.CharField()
    note = serializers.CharField()
    fields = ExchangeFieldSerializer(many=True)


@extend_schema_serializer(many=False)  # the structure is one object, though GET /exchange/ is the list route
class ExchangeStructureSerializer(serializers.Serializer):
    title = serializers.CharField()
    version = serializers.CharField()
    basis = serializers.CharField(help_text="结构的依据，以及哪些尚未核实")
    sections = ExchangeSectionSerializer(many=True)


RecordsSerializer = inline_serializer(
    "PaginatedExchangeRecords",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializers.ListField(
            child=serializers.DictField(allow_null=True),
            help_text="每条记录以数据元标识符为键；值为文本、数字或空",
        ),
    },
)


class ExchangeViewSet(viewsets.GenericViewSet):
    """The exchange structure and, per section, the records in the caller's scope."""

    lookup_field = "section"
    lookup_value_regex = "[a-z_]+"
    filterset_class = ExchangeFilter
    queryset = Jurisdiction.objects.none()  # the rows are each section's own (exchange.section_rows)

    def filter_queryset(self, queryset):
        if self.action != "retrieve":
            return queryset
        return super().filter_queryset(queryset)  # the strict parameter check, and the values' validation

    @extend_schema(
        responses=ExchangeStructureSerializer,
        filters=False,
        summary="交换结构：各部分及其数据元（含待核实项）",
    )
    def list(self, request):
        unknown = sorted(set(request.query_params) - set(FRAMEWORK_PARAMS))
        if unknown:
            raise serializers.ValidationError({name[:30]: ["不支持的查询参数。"] for name in unknown[:5]})
        shape = exchange.structure()
        return Response(
            {
                "title": shape.title,
                "version": shape.version,
                "basis": shape.basis,
                "sections": [
                    {
                        "key": s.key,
                        "name": s.name,
                        "note": s.note,
                        "fields": [
                            {
                                "element": f.element,
                                "name": f.name,
                                "status": f.status,
                                "status_label": f.status_label,
                                "kind": f.kind,
                                "note": f.note,
                            }
                            for f in s.fields
                        ],
                    }
                    for s in shape.sections
                ],
            }
        )

    @extend_schema(
        responses=RecordsSerializer,
        summary="某一部分的交换记录（分页）",
        parameters=[
            OpenApiParameter(
                "section",
                str,
                OpenApiParameter.PATH,
                enum=[*exchange.SECTIONS],
                description="outfall（排污口）、decision（设置审批）、rectification（整治）、monitoring（监测）",
            )
        ],
    )
    def retrieve(self, request, section=None):
        part = exchange.structure().section(section)
        if part is None:
            raise Http404("没有这一部分。")
        filterset = self.filterset_class(request.query_params, queryset=self.queryset)
        self.filter_queryset(self.queryset)
        data = filterset.form.cleaned_data if filterset.is_valid() else {}
        county = None
        if data.get("county"):
            county = exchange.counties_for(request.user).filter(code=data["county"]).first()
            if county is None:
                raise Http404("没有这个县区，或不在您的范围内。")
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["结束日期不能早于开始日期。"]})
        period = exchange.Period.of(since, until)
        if (period.until - period.since).days > exchange.MAX_PERIOD_DAYS:
            raise serializers.ValidationError(
                {"since": [f"监测数据一次最多 {exchange.MAX_PERIOD_DAYS} 天，请缩短期间。"]}
            )
        rows = exchange.section_rows(part, user=request.user, county=county, period=period)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([exchange.json_record(exchange.record(part, obj)) for obj in page])
