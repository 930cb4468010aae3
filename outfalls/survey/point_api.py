"""REST API of the survey's points: /api/v1/suspected-points/ (read; the expert decision and reopening) and
/api/v1/field-checks/ (read; a field check as the phone sends it, photos excepted). Same rules as api.py."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedReadOnlyViewSet, ScopedRelatedField, request_user
from outfalls.core.models import Jurisdiction
from outfalls.core.services import labelled_status_changes
from outfalls.registry.choices import EntryMode
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall, WaterBody

from . import services
from .api import (
    PickedField,
    StatusChangeRowSerializer,
    forbid,
    parse_uuid,
    request_body,
    request_user_of,
    required,
    username,
)
from .choices import (
    Colour,
    FlowState,
    Odour,
    PointOutcome,
    PositionSource,
    Turbidity,
)
from .filters import FieldCheckFilter, PointListFilter
from .models import Campaign, FieldCheck, SuspectedPoint

#: What an expert decides (专家研判) and what a field check concludes (the forms' choices), named in the schema
#: (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
EXPERT_OUTCOMES = [
    (c.value, c.label) for c in (PointOutcome.CONFIRMED, PointOutcome.DUPLICATE, PointOutcome.NOT_OUTFALL)
]
CHECK_OUTCOMES = [(c.value, c.label) for c in PointOutcome if c != PointOutcome.PENDING]


# Suspected points -------------------------------------------------------------------------------------------
class SuspectedPointSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    county = serializers.CharField(source="campaign.county.code", read_only=True, help_text="县区代码")
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    water_body_name = serializers.CharField(
        source="water_body.name", read_only=True, allow_null=True, default=None
    )
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    outfall_code = serializers.CharField(
        source="outfall.code", read_only=True, allow_null=True, default=None, help_text="对应台账排口的编码"
    )
    decided_by = username("decided_by", "判定人的用户名")

    class Meta:
        model = SuspectedPoint
        fields = [
            "id",
            "campaign",
            "campaign_name",
            "county",
            "number",
            "source",
            "source_label",
            "lon",
            "lat",
            "water_body",
            "water_body_name",
            "description",
            "outcome",
            "outcome_label",
            "decided_level",
            "outfall",
            "outfall_code",
            "decision_note",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class FieldCheckSummarySerializer(serializers.ModelSerializer):
    staff = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = FieldCheck
        fields = ["id", "checked_at", "flow", "dry_weather", "outcome", "staff"]


class NearbyOutfallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    distance_m = serializers.FloatField(help_text="距疑似点（米）")


class SuspectedPointDetailSerializer(SuspectedPointSerializer):
    checks = FieldCheckSummarySerializer(many=True, read_only=True, help_text="现场核查记录")
    nearby_outfalls = serializers.SerializerMethodField(
        help_text="附近的台账排口（判定为重复时从中选择 duplicate_of）"
    )
    history = serializers.SerializerMethodField(help_text="结论的变更记录，新的在前")

    class Meta(SuspectedPointSerializer.Meta):
        fields = [*SuspectedPointSerializer.Meta.fields, "checks", "nearby_outfalls", "history"]
        read_only_fields = fields

    @extend_schema_field(NearbyOutfallSerializer(many=True))
    def get_nearby_outfalls(self, point):
        found = services.nearby_outfalls(request_user(self), point.lon, point.lat)
        return NearbyOutfallSerializer(found, many=True).data

    @extend_schema_field(StatusChangeRowSerializer(many=True))
    def get_history(self, point):
        return StatusChangeRowSerializer(labelled_status_changes(point, PointOutcome), many=True).data


def _candidates(context):
    point = context["point"]
    found = services.nearby_outfalls(request_user_of(context), point.lon, point.lat)
    return Outfall.objects.filter(pk__in=[o.pk for o in found])


class PointDecisionSerializer(serializers.Serializer):
    """The body of POST /suspected-points/{id}/decide/: the expert decision (专家研判, level 3) on a point
    awaiting it (待专家研判), as on the point's page."""

    outcome = serializers.ChoiceField(
        choices=EXPERT_OUTCOMES,
        error_messages=required(
            "研判结论", invalid_choice="研判结论“{input}”无效：应为 confirmed、duplicate 或 not_outfall。"
        ),
    )
    experts = serializers.CharField(
        max_length=200, help_text="研判专家姓名，以顿号分隔", error_messages=required("研判专家姓名")
    )
    note = serializers.CharField(help_text="研判意见", error_messages=required("研判意见"))
    duplicate_of = PickedField(
        Outfall,
        _candidates,
        message="所选排口（id {pk_value}）不在疑似点附近或不在您的范围内（见详情的 nearby_outfalls）。",
        required=False,
        allow_null=True,
        default=None,
        help_text="重复的已有排口 id（判定为重复时必填；附近的台账排口之一）",
    )
    water_body = PickedField(
        WaterBody,
        lambda context: context["point"].campaign.water_bodies.defer("geometry"),
        message="受纳水体须是本任务的排查河流之一（收到 id {pk_value}）。",
        required=False,
        allow_null=True,
        default=None,
        help_text="受纳水体 id（确认为排口时必填）",
    )
    landmark = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="地标或单位名（确认为排口时必填，用于命名）",
    )
    type_code = serializers.ChoiceField(
        choices=TypeCode.choices, required=False, default=TypeCode.UNDETERMINED
    )

    def validate(self, data):
        errors = {}
        if data["outcome"] == PointOutcome.DUPLICATE and data.get("duplicate_of") is None:
            errors["duplicate_of"] = "判定为重复时须选择已有排口。"
        if data["outcome"] == PointOutcome.CONFIRMED:
            if data.get("water_body") is None:
                errors["water_body"] = "确认为排口时须选择受纳水体。"
            if not data.get("landmark", "").strip():
                errors["landmark"] = "确认为排口时须填写地标或单位名。"
        if errors:
            raise serializers.ValidationError(errors)
        return data


class PointReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300, help_text="重新打开的原因", error_messages=required("原因")
    )


class SuspectedPointViewSet(ScopedReadOnlyViewSet):
    """Suspected points of the campaigns in the caller's scope. Filters: q, campaign, county, outcome, source.
    POST {id}/decide/ records the expert decision on a point awaiting it; POST {id}/reopen/ puts a decided point
    back to 待核查. The field check (level 2) is POST /field-checks/."""

    queryset = SuspectedPoint.objects.all()
    filterset_class = PointListFilter

    def base_queryset(self):
        return (
            SuspectedPoint.objects.select_related("campaign__county", "water_body", "outfall", "decided_by")
            .defer("campaign__county__boundary", "water_body__geometry")
            .order_by("campaign_id", "number")
        )

    def get_serializer_class(self):
        return SuspectedPointSerializer if self.action == "list" else SuspectedPointDetailSerializer

    def get_queryset(self):
        rows = super().get_queryset()
        if self.action != "list":
            rows = rows.prefetch_related(
                Prefetch("checks", queryset=FieldCheck.objects.order_by("-checked_at", "-id"))
            )
        return rows

    def _editable(self, message):
        point = self.get_object()
        editable = SuspectedPoint.objects.editable_by(self.request.user).filter(pk=point.pk).exists()
        forbid(editable, message)
        return point

    def _answer(self, point):
        return Response(
            SuspectedPointDetailSerializer(
                self.get_queryset().get(pk=point.pk), context=self.get_serializer_context()
            ).data
        )

    @extend_schema(
        request=PointDecisionSerializer,
        responses=SuspectedPointDetailSerializer,
        summary="专家研判（第三级）：确认为排口、与已有排口重复或非排口",
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        point = self._editable("无权研判该疑似点。")
        body = PointDecisionSerializer(
            data=request.data, context={**self.get_serializer_context(), "point": point}
        )
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.decide_point(
            point,
            data["outcome"],
            user=request.user,
            level=3,
            outfall=data["duplicate_of"],
            note=data["note"],
            experts=data["experts"],
            details={
                "water_body": data["water_body"],
                "landmark": data["landmark"],
                "type_code": data["type_code"],
            },
        )
        return self._answer(point)

    @extend_schema(
        request=PointReopenSerializer,
        responses=SuspectedPointDetailSerializer,
        summary="重新打开已判定的疑似点（须写原因）",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        point = self._editable("无权修改该疑似点。")
        body = PointReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.reopen_point(point, user=request.user, reason=body.validated_data["reason"])
        return self._answer(point)


# Field checks -----------------------------------------------------------------------------------------------
class FieldCheckSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="point.campaign_id", read_only=True, help_text="排查任务 id")
    point_number = serializers.CharField(source="point.number", read_only=True)
    point_outcome = serializers.ChoiceField(
        source="point.outcome", choices=PointOutcome.choices, read_only=True, help_text="疑似点当前的结论"
    )
    outfall = serializers.IntegerField(
        source="point.outfall_id", read_only=True, allow_null=True, help_text="疑似点对应的台账排口 id"
    )
    flow_label = serializers.CharField(source="get_flow_display", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    staff = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="核查人员")
    created_by = username("created_by", "提交人的用户名")

    class Meta:
        model = FieldCheck
        fields = [
            "id",
            "client_uuid",
            "campaign",
            "point",
            "point_number",
            "point_outcome",
            "outfall",
            "checked_at",
            "lon",
            "lat",
            "accuracy_m",
            "position_source",
            "flow",
            "flow_label",
            "dry_weather",
            "colour",
            "odour",
            "turbidity",
            "oil_film",
            "foam",
            "sampling_possible",
            "outlet_form",
            "outlet_size",
            "entry_mode",
            "suspected_source",
            "notes",
            "staff",
            "outcome",
            "outcome_label",
            "created_by",
            "received_at",
        ]
        read_only_fields = fields


def _blank_choice(enum, label):
    return serializers.ChoiceField(
        choices=enum.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=label,
        error_messages={"invalid_choice": f"{label}“{{input}}”无效。"},
    )


class FieldCheckSubmitSerializer(serializers.Serializer):
    """The body of POST /field-checks/: the phone's record (forms.FieldCheckForm), checked the same way."""

    campaign = ScopedRelatedField(Campaign, help_text="排查任务 id", error_messages=required("排查任务"))
    client_uuid = serializers.UUIDField(
        help_text="客户端生成的记录标识；同一标识再次提交返回已存的记录（200）",
        error_messages=required("记录标识", invalid="记录标识无效。"),
    )
    point = ScopedRelatedField(
        SuspectedPoint,
        required=False,
        allow_null=True,
        default=None,
        help_text="疑似点 id（现场新发现的留空）",
    )
    checked_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="核查时间（默认为接收时间）"
    )
    lon = serializers.FloatField(
        min_value=73,
        max_value=136,
        help_text="经度（CGCS2000）",
        error_messages=required("经度", min_value="经度超出范围。", max_value="经度超出范围。"),
    )
    lat = serializers.FloatField(
        min_value=3,
        max_value=54,
        help_text="纬度（CGCS2000）",
        error_messages=required("纬度", min_value="纬度超出范围。", max_value="纬度超出范围。"),
    )
    accuracy_m = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    position_source = serializers.ChoiceField(choices=PositionSource.choices, default=PositionSource.GPS)
    flow = serializers.ChoiceField(choices=FlowState.choices, error_messages=required("排水特征"))
    dry_weather = serializers.BooleanField(default=False, help_text="旱天")
    colour = _blank_choice(Colour, "颜色")
    odour = _blank_choice(Odour, "气味")
    turbidity = _blank_choice(Turbidity, "浊度")
    oil_film = serializers.BooleanField(default=False)
    foam = serializers.BooleanField(default=False)
    sampling_possible = serializers.BooleanField(default=False)
    outlet_form = _blank_choice(EntryMode, "口门形态")
    outlet_size = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    entry_mode = _blank_choice(EntryMode, "入河方式")
    suspected_source = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    staff = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=20,
        help_text="核查人员姓名（至少两人）",
        error_messages=required("核查人员"),
    )
    outcome = serializers.ChoiceField(
        choices=CHECK_OUTCOMES,
        error_messages=required("核查结论"),
        help_text="核查结论（待专家研判的交由 POST /suspected-points/{id}/decide/）",
    )
    duplicate_of = ScopedRelatedField(
        Outfall,
        required=False,
        allow_null=True,
        default=None,
        help_text="重复的已有排口 id（判定为重复时必填）",
    )
    water_body = serializers.PrimaryKeyRelatedField(
        queryset=WaterBody.objects.defer("geometry"),
        required=False,
        allow_null=True,
        default=None,
        help_text="受纳水体 id（确认为排口时必填，除非疑似点已有河流）",
    )
    landmark = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="地标或单位名（确认为排口时必填）",
    )
    town = serializers.PrimaryKeyRelatedField(
        queryset=Jurisdiction.objects.filter(level="town").defer("boundary"),
        required=False,
        allow_null=True,
        default=None,
        help_text="乡镇（街道）id（本任务县区内）",
    )
    village = serializers.PrimaryKeyRelatedField(
        queryset=Jurisdiction.objects.filter(level="village").defer("boundary"),
        required=False,
        allow_null=True,
        default=None,
        help_text="村（社区）id（本任务县区内）",
    )
    type_code = serializers.ChoiceField(
        choices=TypeCode.choices, required=False, allow_blank=True, default=""
    )
    decision_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

    def validate(self, data):
        campaign, point = data["campaign"], data["point"]
        errors = {}
        if point is not None and point.campaign_id != campaign.pk:
            errors["point"] = "该疑似点不属于本排查任务。"
        for name, label in (("town", "乡镇（街道）"), ("village", "村（社区）")):
            if data[name] is not None and data[name].county_id != campaign.county_id:
                errors[name] = f"所选{label}不在本任务的县区内。"
        outcome = data["outcome"]
        if outcome == PointOutcome.DUPLICATE and data["duplicate_of"] is None:
            errors["duplicate_of"] = "判定为重复时须选择已有排口。"
        if outcome == PointOutcome.CONFIRMED:
            if data["water_body"] is None and not (point is not None and point.water_body_id):
                errors["water_body"] = "确认为排口时须选择受纳水体。"
            if not data["landmark"].strip():
                errors["landmark"] = "确认为排口时须填写地标或单位名（用于排口命名）。"
        if errors:
            raise serializers.ValidationError(errors)
        if data["village"] is not None and data["town"] is None:
            data["town"] = data["village"].parent
        if data["outlet_form"]:
            data["outlet_form_label"] = EntryMode(data["outlet_form"]).label
        return data


class FieldCheckViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Field checks (现场核查, level 2) of the campaigns in the caller's scope. Filters: campaign, county, point,
    outcome, flow, dry_weather, date_from, date_to. POST records one as the phone does (services.submit_field_check:
    a new point for one found on the walk, the point's outcome, a ledger outfall when confirmed); the photos are
    sent by the field page, not through the API."""

    queryset = FieldCheck.objects.all()
    filterset_class = FieldCheckFilter
    serializer_class = FieldCheckSerializer

    def base_queryset(self):
        return FieldCheck.objects.select_related("point", "created_by").order_by("-checked_at", "-id")

    def _answer(self, check, created):
        return Response(
            self.get_serializer(self.base_queryset().get(pk=check.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=FieldCheckSubmitSerializer,
        responses={201: FieldCheckSerializer, 200: FieldCheckSerializer},
        summary="提交现场核查记录（同一 client_uuid 再次提交返回已存的记录，200）",
    )
    def create(self, request, *args, **kwargs):
        user = request.user
        forbid(Campaign.objects.editable_by(user).exists(), "无权提交现场核查记录。")
        client_uuid = parse_uuid(request_body(request).get("client_uuid"))
        known = (
            FieldCheck.objects.filter(client_uuid=client_uuid).select_related("point").first()
            if client_uuid
            else None
        )
        if known is not None:
            forbid(
                FieldCheck.objects.visible_to(user).filter(pk=known.pk).exists(), "该记录不在您的权限范围内。"
            )
            check, created = services.submit_field_check(
                known.point.campaign, {"client_uuid": client_uuid}, user=user
            )
            return self._answer(check, created)
        body = FieldCheckSubmitSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        campaign = data.pop("campaign")
        editable = Campaign.objects.editable_by(user).filter(pk=campaign.pk).exists()
        forbid(editable, "无权在该排查任务中提交核查记录。")
        check, created = services.submit_field_check(campaign, data, user=user)
        return self._answer(check, created)
