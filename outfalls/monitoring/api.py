"""REST API of the monitoring app (docs/api.md, docs/monitoring.md): parameters, standards, applicable limits per
outfall, stations (read and write), samples (read, and write: a lab system posts its results with a token),
findings (exceedances, chronic exceedances, missing samples).

Writes go through the same services as the pages. Text and number fields are strict: a value of another JSON
type than the schema says is a 400 (the contract test sends such values)."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.response import Response

from outfalls.core.api import ScopedReadOnlyViewSet
from outfalls.core.models import Jurisdiction
from outfalls.registry.models import Outfall, Section

from . import draws, services
from .choices import Grain, InspectionClass, InspectionResult, LimitKind, StationKind, Weather
from .filters import DrawFilter, FindingFilter, MatrixFilter, SampleFilter, StationFilter
from .limits import limits_for
from .models import Draw, DrawItem, Finding, Parameter, Sample, SampleValue, Standard, Station

EARLIEST_SAMPLE = datetime(1990, 1, 1)


# Strict fields ---------------------------------------------------------------------------------------------
class StrictCharField(serializers.CharField):
    """A string and nothing else (DRF's CharField turns numbers into text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number (or a numeric form value), never a boolean."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "maxLength": 32}]})
class ReadingField(serializers.Field):
    """A value as a lab writes it: a number, or text such as "12.3", "<0.05", "0.05L", "未检出", "约12"."""

    default_error_messages = {"invalid": "应为数值或文字（如 12.3、<0.05、0.05L、未检出、约12）。"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 32:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


# Reference data --------------------------------------------------------------------------------------------
class ParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parameter
        fields = ["id", "code", "name", "unit", "dimension", "hj212_code", "hj212_unit", "aliases"]


class ParameterViewSet(ScopedReadOnlyViewSet):
    """监测项目 and their units; every signed-in user."""

    queryset = Parameter.objects.all()
    serializer_class = ParameterSerializer


class StandardLimitSerializer(serializers.Serializer):
    grade = serializers.CharField()
    parameter = serializers.CharField(source="parameter.code")
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    lower = serializers.FloatField(allow_null=True)
    upper = serializers.FloatField(allow_null=True)
    unit = serializers.CharField()
    condition = serializers.CharField(help_text="空：一般；cold：水温≤12℃时；lake：湖、库")
    uncertain = serializers.BooleanField()


class StandardSerializer(serializers.ModelSerializer):
    limits = StandardLimitSerializer(many=True, read_only=True)
    grades = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))

    class Meta:
        model = Standard
        fields = ["id", "code", "name", "kind", "grades", "scope", "source", "uncertain", "note", "limits"]


class StandardViewSet(ScopedReadOnlyViewSet):
    """The standards library with every limit (uncertain ones marked)."""

    queryset = Standard.objects.all()
    serializer_class = StandardSerializer

    def base_queryset(self):
        return Standard.objects.prefetch_related("limits__parameter")


# Limits per outfall ----------------------------------------------------------------------------------------
class ApplicableSerializer(serializers.Serializer):
    parameter = serializers.CharField()
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    lower = serializers.FloatField(allow_null=True)
    upper = serializers.FloatField(allow_null=True)
    cold_upper = serializers.FloatField(allow_null=True, help_text="水温≤12℃时的上限")
    unit = serializers.CharField()
    source = serializers.CharField(help_text="permit（排污许可）、assigned（指定）或 rule（按类型与水体）")
    source_text = serializers.CharField()
    reason = serializers.CharField()
    uncertain = serializers.BooleanField()


class OutfallLimitsSerializer(serializers.Serializer):
    outfall = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    name = serializers.CharField()
    standard = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()

    def _entry(self, outfall):
        return self.context["limits"].get(outfall.pk)

    @extend_schema_field(OpenApiTypes.STR)
    def get_standard(self, outfall):
        entry = self._entry(outfall)
        return entry.standard_text if entry else ""

    @extend_schema_field(OpenApiTypes.STR)
    def get_reason(self, outfall):
        entry = self._entry(outfall)
        return entry.reason if entry else ""

    @extend_schema_field(ApplicableSerializer(many=True))
    def get_limits(self, outfall):
        entry = self._entry(outfall)
        rows = sorted(entry.limits.values(), key=lambda lim: lim.parameter) if entry else []
        return ApplicableSerializer(rows, many=True).data


class LimitViewSet(ScopedReadOnlyViewSet):
    """The limits that apply to each outfall in your scope, and why (permit, assigned standard or rule); the
    id is the outfall's. Filters: the matrix's (county, type_level2, water_body, q)."""

    queryset = Outfall.objects.all()
    filterset_class = MatrixFilter
    serializer_class = OutfallLimitsSerializer

    def base_queryset(self):
        return Outfall.objects.only(
            "id", "code", "name", "type_code", "type_level2", "water_body_id"
        ).order_by("code")

    def _with_limits(self, outfalls):
        self._limits = limits_for(list(outfalls))
        return outfalls

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return self._with_limits(page) if page is not None else page

    def get_object(self):
        outfall = super().get_object()
        self._with_limits([outfall])
        return outfall

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["limits"] = getattr(self, "_limits", {})
        return context


# Stations --------------------------------------------------------------------------------------------------
class StationSerializer(serializers.ModelSerializer):
    code = StrictCharField(max_length=32, label="站点编码")
    name = StrictCharField(max_length=100, label="站点名称")
    kind = serializers.ChoiceField(choices=StationKind.choices, default=StationKind.ONLINE)
    outfall = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Outfall.objects.all(),
        allow_null=True,
        required=False,
        help_text="排污口编码",
    )
    section = serializers.PrimaryKeyRelatedField(
        queryset=Section.objects.all(), allow_null=True, required=False
    )
    mn = StrictCharField(
        max_length=24, allow_null=True, required=False, allow_blank=True, label="设备编码（MN）"
    )
    password = StrictCharField(max_length=6, required=False, allow_blank=True, write_only=True)
    notes = StrictCharField(required=False, allow_blank=True, max_length=2000)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Station
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "outfall",
            "section",
            "mn",
            "password",
            "interval_minutes",
            "offline_after_minutes",
            "active",
            "last_seen_at",
            "last_data_at",
            "notes",
            "state",
        ]
        read_only_fields = ["last_seen_at", "last_data_at"]
        validators = []  # uniqueness is checked by the service (full_clean), with Chinese messages

    @extend_schema_field(OpenApiTypes.STR)
    def get_state(self, station):
        from .stations import status_of

        return status_of(station).state

    def validate(self, data):
        outfall = data.get("outfall", getattr(self.instance, "outfall", None))
        section = data.get("section", getattr(self.instance, "section", None))
        if (outfall is None) == (section is None):
            raise serializers.ValidationError({"outfall": ["站点须设在一个排口或一个断面（二选一）。"]})
        return data


class StationViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedReadOnlyViewSet):
    """Monitoring stations in your scope, with their state (online, offline, never, manual, inactive). POST
    creates one, PUT/PATCH changes one (at an outfall you may edit; at a section: the city bureau)."""

    queryset = Station.objects.all()
    serializer_class = StationSerializer
    filterset_class = StationFilter

    def base_queryset(self):
        return Station.objects.select_related("outfall", "section")

    def get_queryset(self):
        if self.action in ("update", "partial_update"):
            return self.base_queryset().editable_by(self.request.user)
        return super().get_queryset()

    def _save(self, serializer, instance):
        for name, value in serializer.validated_data.items():
            setattr(instance, name, value)
        try:
            return services.save_station(instance, user=self.request.user)
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error))

    def perform_create(self, serializer):
        serializer.instance = self._save(serializer, Station())

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer, serializer.instance)


# Samples ---------------------------------------------------------------------------------------------------
class ValueSerializer(serializers.Serializer):
    parameter = serializers.SlugRelatedField(
        slug_field="code", queryset=Parameter.objects.all(), help_text="项目代码，如 COD"
    )
    value = ReadingField(help_text="数值，或 <0.05、0.05L、未检出、约12 等")
    unit = StrictCharField(
        max_length=16, required=False, allow_blank=True, default="", help_text="默认为项目的标准单位"
    )
    detection_limit = StrictFloatField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1e6
    )


class SampleValueOutSerializer(serializers.ModelSerializer):
    parameter = serializers.CharField(source="parameter.code")
    shown = serializers.CharField(help_text="如报告所写：12.3、<0.05、约 12")

    class Meta:
        model = SampleValue
        fields = [
            "parameter",
            "value",
            "unit",
            "value_std",
            "qualifier",
            "detection_limit",
            "detection_limit_std",
            "shown",
        ]


class SampleSerializer(serializers.ModelSerializer):
    outfall = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Outfall.objects.all(),
        allow_null=True,
        required=False,
        help_text="排污口编码",
    )
    section = serializers.PrimaryKeyRelatedField(
        queryset=Section.objects.all(), allow_null=True, required=False
    )
    source = serializers.ChoiceField(choices=[(s.value, s.label) for s in services.MANUAL_SOURCES])
    place = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    lon = StrictFloatField(required=False, allow_null=True, min_value=73, max_value=136, default=None)
    lat = StrictFloatField(required=False, allow_null=True, min_value=3, max_value=54, default=None)
    flow = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=1e7, default=None)
    flow_unit = StrictCharField(max_length=8, required=False, allow_blank=True, default="")
    weather = serializers.ChoiceField(choices=Weather.choices, required=False, default="")
    lab = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    lab_sample_id = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="检测单位的样品编号：与检测单位一起识别样品，重复提交不会重复录入",
    )
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    values = ValueSerializer(many=True, write_only=True, min_length=1, max_length=50)
    results = SampleValueOutSerializer(source="values", many=True, read_only=True)

    class Meta:
        model = Sample
        fields = [
            "id",
            "outfall",
            "section",
            "source",
            "sampled_at",
            "place",
            "lon",
            "lat",
            "flow",
            "flow_unit",
            "flow_m3h",
            "weather",
            "lab",
            "lab_sample_id",
            "notes",
            "values",
            "results",
            "created_at",
        ]
        read_only_fields = ["flow_m3h", "created_at"]

    def validate_sampled_at(self, value):
        earliest = timezone.make_aware(EARLIEST_SAMPLE)
        if value < earliest or value > timezone.now() + timedelta(days=1):
            raise serializers.ValidationError("采样时间应在 1990 年以后，且不晚于当前时间。")
        return value

    def to_input(self):
        data = self.validated_data
        return services.SampleInput(
            source=data["source"],
            sampled_at=data["sampled_at"],
            outfall=data.get("outfall"),
            section=data.get("section"),
            place=data["place"],
            lon=data["lon"],
            lat=data["lat"],
            flow=data["flow"],
            flow_unit=data["flow_unit"],
            weather=data["weather"],
            lab=data["lab"],
            lab_sample_id=data["lab_sample_id"],
            notes=data["notes"],
            values=[
                services.ValueInput(v["parameter"], v["value"], v["unit"], v["detection_limit"])
                for v in data["values"]
            ],
        )


# What the list reads: the sample's own columns, its outfall's code and section's id, and each value with its
# parameter's code (not the outfall's fifty columns).
SAMPLE_FIELDS = (
    "id",
    "outfall__code",
    "section__id",
    "source",
    "sampled_at",
    "place",
    "lon",
    "lat",
    "flow",
    "flow_unit",
    "flow_m3h",
    "weather",
    "lab",
    "lab_sample_id",
    "notes",
    "created_at",
)
VALUE_FIELDS = (
    "id",
    "sample_id",
    "parameter__code",
    "value",
    "unit",
    "value_std",
    "qualifier",
    "detection_limit",
    "detection_limit_std",
)


class SampleViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Samples in your scope with their values. POST records one (a lab system with its token): the same sample
    again (same lab and sample number, or same place, source and time) with the same values answers 200 with
    the existing sample and changes nothing; with other values it is a 400 naming what differs."""

    queryset = Sample.objects.all()
    serializer_class = SampleSerializer
    filterset_class = SampleFilter

    def base_queryset(self):
        values = SampleValue.objects.select_related("parameter").only(*VALUE_FIELDS).order_by("parameter_id")
        return (
            Sample.objects.select_related("outfall", "section")
            .only(*SAMPLE_FIELDS)
            .prefetch_related(Prefetch("values", queryset=values))
            .order_by("-sampled_at", "-id")
        )

    @extend_schema(
        responses={
            201: OpenApiResponse(SampleSerializer, description="已录入"),
            200: OpenApiResponse(SampleSerializer, description="该样品此前已录入且数值相同，未作改动"),
        }
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sample, created = services.save_sample(serializer.to_input(), user=request.user)
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error))
        sample = self.base_queryset().get(pk=sample.pk)
        return Response(
            self.get_serializer(sample).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# Findings --------------------------------------------------------------------------------------------------
class FindingSerializer(serializers.ModelSerializer):
    outfall_code = serializers.CharField(source="outfall.code")
    county = serializers.CharField(source="outfall.county.code")
    parameter = serializers.CharField(source="parameter.code")
    grain = serializers.ChoiceField(choices=Grain.choices)

    class Meta:
        model = Finding
        fields = [
            "id",
            "kind",
            "outfall",
            "outfall_code",
            "county",
            "parameter",
            "grain",
            "at",
            "period_end",
            "value",
            "limit_kind",
            "limit_lower",
            "limit_upper",
            "unit",
            "multiple",
            "limit_source",
            "reason",
            "evaluated_at",
        ]


class FindingViewSet(ScopedReadOnlyViewSet):
    """Exceedances, chronic exceedances, unjudgeable values and missing samples in your scope, each with its
    reason and the limit it was judged by."""

    queryset = Finding.objects.all()
    serializer_class = FindingSerializer
    filterset_class = FindingFilter

    def base_queryset(self):
        return (
            Finding.objects.select_related("outfall", "outfall__county", "parameter")
            .defer("outfall__county__boundary")
            .order_by("-at", "-id")
        )


# 双随机一公开 ----------------------------------------------------------------------------------------------------
class DrawItemSerializer(serializers.ModelSerializer):
    outfall = serializers.CharField(source="outfall.code", help_text="排污口编码")
    pool_class = serializers.ChoiceField(choices=InspectionClass.choices)
    inspectors = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    result = serializers.ChoiceField(choices=InspectionResult.choices)

    class Meta:
        model = DrawItem
        fields = ["id", "outfall", "pool_class", "inspectors", "result", "result_note", "inspected_on"]


class DrawPoolSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=InspectionClass.choices, source="class", help_text="类别")
    county_name = serializers.CharField()
    size = serializers.IntegerField(help_text="池中排口数")
    rate = serializers.FloatField()
    rate_reason = serializers.CharField()
    count = serializers.IntegerField(help_text="抽取数")


class DrawSerializer(serializers.ModelSerializer):
    county = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Jurisdiction.objects.counties(),
        allow_null=True,
        required=False,
        help_text="县区代码；留空为全市",
    )
    name = StrictCharField(max_length=100)
    period = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    seed = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="随机种子；留空则自动生成。检查日期前只有组织者可见",
    )
    confidential = serializers.BooleanField(read_only=True, help_text="检查日期前结果保密")
    verified = serializers.SerializerMethodField(
        help_text="按保存的抽取池、名录、回避关系和种子重新抽取，结果一致"
    )
    pools = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField(
        help_text="您可见的抽查对象（检查日期前：组织者全部，检查人员自己的）"
    )

    class Meta:
        model = Draw
        fields = [
            "id",
            "name",
            "county",
            "period",
            "inspection_date",
            "seed",
            "algorithm",
            "digest",
            "status",
            "confidential",
            "verified",
            "published_at",
            "created_at",
            "pools",
            "items",
        ]
        read_only_fields = ["algorithm", "digest", "status", "published_at", "created_at"]

    @extend_schema_field(serializers.BooleanField())
    def get_verified(self, draw):
        return draws.verify(draw)[0]

    @extend_schema_field(DrawPoolSerializer(many=True))
    def get_pools(self, draw):
        user = self.context["request"].user
        pools = [{**pool, "size": len(pool["members"])} for pool in draws.visible_pools(draw, user)]
        return DrawPoolSerializer(pools, many=True).data

    @extend_schema_field(DrawItemSerializer(many=True))
    def get_items(self, draw):
        user = self.context["request"].user
        items = (
            DrawItem.objects.visible_to(user)
            .filter(draw=draw)
            .select_related("outfall")
            .prefetch_related("inspectors")
            .order_by("pool_class", "outfall__code")
        )
        return DrawItemSerializer(items, many=True).data

    def to_representation(self, draw):
        data = super().to_representation(draw)
        user = self.context["request"].user
        if not (draw.sees_result(user) and draws.sees_whole(draw, user)):
            data["seed"] = ""  # the seed and the pools give the result: secret until the date
        return data


class DrawViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Random inspections (双随机一公开) you may see. Until the inspection date the drawn outfalls and the seed are
    confidential: the organiser and the city admin see them, an inspector only their own items. POST draws now
    from the ledger (the city bureau for the city, county staff for their county)."""

    queryset = Draw.objects.all()
    serializer_class = DrawSerializer
    filterset_class = DrawFilter

    def base_queryset(self):
        return Draw.objects.order_by("-created_at", "-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            draw = draws.create_draw(
                user=request.user,
                name=data["name"],
                period=data["period"],
                inspection_date=data["inspection_date"],
                county=data.get("county"),
                seed=data["seed"],
            )
        except DjangoPermissionDenied as error:
            raise exceptions.PermissionDenied(str(error))
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict)
        return Response(self.get_serializer(draw).data, status=status.HTTP_201_CREATED)
