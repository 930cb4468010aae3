"""REST API of 排查 and 溯源:

- /api/v1/campaigns/ (read, create, change; their reaches: add, change, delete, mark walked; a walked track),
- /api/v1/suspected-points/ (read; the expert decision and reopening),
- /api/v1/field-checks/ (read; a field check as the phone sends it, photos excepted),
- /api/v1/tracing-cases/ (read with steps and found units; open, steps, link and unlink units, conclude, reopen).

Every write calls the same service as the page (services.py, tracing.py). The querysets start from
visible_to(user): an object outside it is a 404, a relation to one is refused like a missing one. A write the
caller may not make is a 403 before its body is read, as the pages check before they read their forms.
"""

import uuid

from django.db.models import Count, Prefetch, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedReadOnlyViewSet, ScopedRelatedField, request_user
from outfalls.core.models import Department, Jurisdiction, StatusChange
from outfalls.core.scopes import scope_of
from outfalls.core.services import labelled_status_changes
from outfalls.registry.choices import EntryMode, LinkRole, ResponsibilityBasis, UnitKind
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, WaterBody

from . import services, tracing
from .choices import (
    OPEN_OUTCOMES,
    Bank,
    CampaignStatus,
    CaseStatus,
    Colour,
    FlowState,
    Odour,
    PointOutcome,
    PositionSource,
    StepKind,
    Turbidity,
)
from .filters import CampaignFilter, FieldCheckFilter, PointListFilter
from .forms import county_choices, team_choices
from .models import Campaign, CampaignReach, FieldCheck, SuspectedPoint, TracingCase, TracingStep, Track
from .tracing_forms import CONCLUSION_BASES, CaseFilter

#: What an expert decides (专家研判) and what a field check concludes (the forms' choices), named in the schema
#: (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
EXPERT_OUTCOMES = [
    (c.value, c.label) for c in (PointOutcome.CONFIRMED, PointOutcome.DUPLICATE, PointOutcome.NOT_OUTFALL)
]
CHECK_OUTCOMES = [(c.value, c.label) for c in PointOutcome if c != PointOutcome.PENDING]


# Shared fields ------------------------------------------------------------------------------------------------
def username(source, help_text):
    return serializers.CharField(
        source=f"{source}.username", read_only=True, allow_null=True, default=None, help_text=help_text
    )


class PickedField(serializers.PrimaryKeyRelatedField):
    """A relation by id among the rows ``rows(context)`` gives (the rows the page's pick-list offers, e.g. the
    campaign's rivers); any other id is refused with ``message``."""

    def __init__(self, model, rows, message=None, **kwargs):
        self.rows = rows
        kwargs.setdefault("queryset", model.objects.all())
        if message:
            kwargs.setdefault("error_messages", {})["does_not_exist"] = message
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.rows(self.context)


def required(label, **messages):
    """Chinese messages for a missing or empty value that name the field."""
    return {
        "required": f"请填写{label}。",
        "blank": f"请填写{label}。",
        "null": f"请填写{label}。",
        **messages,
    }


class StatusChangeRowSerializer(serializers.ModelSerializer):
    """One status-change row: who moved the object from which state to which, when and why."""

    from_label = serializers.CharField(read_only=True)
    to_label = serializers.CharField(read_only=True)
    who = serializers.CharField(read_only=True, help_text="操作人")

    class Meta:
        model = StatusChange
        fields = ["field", "from_value", "from_label", "to_value", "to_label", "reason", "who", "changed_at"]


def request_user_of(context):
    return getattr(context.get("request"), "user", None)


def _forbid(allowed, message):
    if not allowed:
        raise exceptions.PermissionDenied(message)


# Campaigns ----------------------------------------------------------------------------------------------------
class CampaignReachSerializer(serializers.ModelSerializer):
    water_body = PickedField(
        WaterBody,
        lambda context: context["campaign"].water_bodies.defer("geometry"),
        message="河段所在河流须是本任务的排查河流之一（收到 id {pk_value}）。",
        help_text="河流 id（本任务的排查河流之一）",
        error_messages=required("河流"),
    )
    water_body_name = serializers.CharField(source="water_body.name", read_only=True)
    bank_label = serializers.CharField(source="get_bank_display", read_only=True)
    checked_by = username("checked_by", "确认人的用户名")

    class Meta:
        model = CampaignReach
        fields = [
            "id",
            "water_body",
            "water_body_name",
            "name",
            "from_km",
            "to_km",
            "bank",
            "bank_label",
            "checked",
            "checked_at",
            "checked_by",
        ]
        read_only_fields = ["checked", "checked_at"]
        extra_kwargs = {
            "from_km": {"error_messages": required("起点（公里）"), "help_text": "自河源起算的公里数"},
            "to_km": {"error_messages": required("终点（公里）"), "help_text": "须大于起点"},
        }

    def validate(self, data):
        instance = self.instance
        start = data.get("from_km", getattr(instance, "from_km", None))
        end = data.get("to_km", getattr(instance, "to_km", None))
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"to_km": "终点（公里）须大于起点（公里）。"})
        return data


class ReachCheckedSerializer(serializers.Serializer):
    checked = serializers.BooleanField(help_text="true：已完成徒步排查；false：撤销完成标记")


class CountyField(serializers.SlugRelatedField):
    """A county by its code, among those the caller may set up campaigns in (the form's pick-list)."""

    def get_queryset(self):
        return county_choices(request_user(self))


class TeamField(serializers.SlugRelatedField):
    def get_queryset(self):
        return team_choices(request_user(self))


class CampaignSerializer(serializers.ModelSerializer):
    county = CountyField(
        slug_field="code",
        help_text="县区代码（6 位；须是可创建任务的县区）",
        error_messages=required("县区", does_not_exist="县区“{value}”不存在或不在您可创建任务的范围内。"),
    )
    county_name = serializers.CharField(source="county.name", read_only=True)
    water_bodies = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=WaterBody.objects.defer("geometry"),
        allow_empty=False,
        help_text="排查河流的 id（至少一条）",
        error_messages={"required": "请至少选择一条排查河流。", "empty": "请至少选择一条排查河流。"},
    )
    water_body_names = serializers.SerializerMethodField(help_text="排查河流的名称")
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        allow_null=True,
        required=False,
        help_text="牵头部门 id（留空则由县区牵头）",
    )
    team = TeamField(
        slug_field="username",
        many=True,
        required=False,
        help_text="排查人员账号（用户名）：县区人员（市级可选各县区及市级人员）",
    )
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    n_points = serializers.IntegerField(read_only=True, help_text="疑似点数")
    n_open = serializers.IntegerField(read_only=True, help_text="待核查或待专家研判的疑似点数")
    reaches = CampaignReachSerializer(many=True, read_only=True)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="读取时的版本；修改时给出，他人已修改则拒绝（400）"
    )
    created_by = username("created_by", "创建人的用户名")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "county",
            "county_name",
            "water_bodies",
            "water_body_names",
            "department",
            "lead_unit",
            "team",
            "team_names",
            "start_date",
            "deadline",
            "status",
            "status_label",
            "notes",
            "n_points",
            "n_open",
            "reaches",
            "version",
            "created_by",
            "created_at",
        ]
        extra_kwargs = {
            "name": {"error_messages": required("任务名称")},
            "deadline": {"error_messages": required("完成期限")},
        }

    def get_water_body_names(self, campaign) -> list[str]:
        return [w.name for w in campaign.water_bodies.all()]

    def validate(self, data):
        instance = self.instance
        start = data.get("start_date", getattr(instance, "start_date", None))
        deadline = data.get("deadline", getattr(instance, "deadline", None))
        if start and deadline and deadline < start:
            raise serializers.ValidationError({"deadline": "完成期限不能早于开始日期。"})
        return data

    def _save(self, campaign, validated):
        version = validated.pop("version", None)
        water_bodies = validated.pop("water_bodies", None)
        team = validated.pop("team", None)
        for name, value in validated.items():
            setattr(campaign, name, value)
        return services.save_campaign(
            campaign,
            user=request_user(self),
            water_bodies=water_bodies,
            team=team,
            expected_version=version if campaign.pk else None,
            sent=validated,
        )

    def create(self, validated):
        return self._save(Campaign(), validated)

    def update(self, campaign, validated):
        return self._save(campaign, validated)


class WalkedTrackSubmitSerializer(serializers.Serializer):
    """The body of POST /campaigns/{id}/tracks/: one walked GPS track, as the phone sends it."""

    client_uuid = serializers.UUIDField(help_text="客户端生成的记录标识；同一标识再次提交返回已存的轨迹")
    water_body = PickedField(
        WaterBody,
        lambda context: context["campaign"].water_bodies.defer("geometry"),
        message="请选择本任务的排查河流（收到 id {pk_value}）。",
        help_text="河流 id（本任务的排查河流之一）",
        error_messages=required("河流"),
    )
    bank = serializers.ChoiceField(choices=Bank.choices, error_messages=required("岸别"))
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    coordinates = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="轨迹点 [[经度, 纬度], ...]（CGCS2000，至少两个点）",
        error_messages=required("轨迹"),
    )


class WalkedTrackSerializer(serializers.ModelSerializer):
    water_body_name = serializers.CharField(source="water_body.name", read_only=True)
    points = serializers.SerializerMethodField(help_text="轨迹点数")
    recorded_by = username("recorded_by", "记录人的用户名")

    class Meta:
        model = Track
        fields = [
            "id",
            "campaign",
            "client_uuid",
            "water_body",
            "water_body_name",
            "bank",
            "recorded_at",
            "recorded_by",
            "points",
        ]

    def get_points(self, track) -> int:
        coordinates = track.geometry.get("coordinates") if isinstance(track.geometry, dict) else None
        return len(coordinates or [])


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _body(request):
    """The request body as a mapping (a JSON list or scalar reads as empty: the serializer then says what is
    missing)."""
    return request.data if hasattr(request.data, "get") else {}


REACH_PARAM = OpenApiParameter("reach_pk", int, OpenApiParameter.PATH, description="排查河段 id")


class CampaignViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """排查 campaigns in the caller's scope with their reaches. Filters: q, county, status, ordering. POST creates
    one (city editors, county officers in their county); PATCH changes one; the reaches and walked tracks are
    written through the actions."""

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    queryset = Campaign.objects.all()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        reaches = CampaignReach.objects.select_related("water_body", "checked_by").defer(
            "water_body__geometry"
        )
        return (
            Campaign.objects.visible_to(self.request.user)
            .select_related("county", "department", "created_by")
            .defer("county__boundary")
            .prefetch_related(
                Prefetch("water_bodies", queryset=WaterBody.objects.only("id", "name")),
                "team",
                Prefetch("reaches", queryset=reaches),
            )
            .annotate(
                n_points=Count("points"),
                n_open=Count("points", filter=Q(points__outcome__in=OPEN_OUTCOMES)),
            )
            .order_by("-created_at", "-id")
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context.setdefault("campaign", None)
        return context

    def _answer(self, campaign, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=campaign.pk)).data, status=code)

    def _editable(self):
        campaign = self.get_object()
        editable = Campaign.objects.editable_by(self.request.user).filter(pk=campaign.pk).exists()
        _forbid(editable, "无权修改该排查任务。")
        return campaign

    @extend_schema(summary="创建排查任务")
    def create(self, request, *args, **kwargs):
        _forbid(services.may_create_campaigns(request.user), "无权创建排查任务。")
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(body.save(), status.HTTP_201_CREATED)

    @extend_schema(summary="修改排查任务（给出 version 以防覆盖他人的修改）")
    def partial_update(self, request, *args, **kwargs):
        campaign = self._editable()
        body = self.get_serializer(campaign, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        return self._answer(body.save())

    def _reach_body(self, campaign, data, reach=None, partial=False):
        context = {**self.get_serializer_context(), "campaign": campaign}
        body = CampaignReachSerializer(reach, data=data, partial=partial, context=context)
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(request=CampaignReachSerializer, responses=CampaignSerializer, summary="添加排查河段")
    @action(detail=True, methods=["post"])
    def reaches(self, request, pk=None):
        campaign = self._editable()
        data = self._reach_body(campaign, request.data)
        services.save_reach(CampaignReach(campaign=campaign, **data), user=request.user)
        return self._answer(campaign)

    def _reach(self, campaign, reach_pk):
        reach = campaign.reaches.select_related("campaign").filter(pk=reach_pk).first()
        if reach is None:
            raise exceptions.NotFound("本任务没有这个排查河段。")
        return reach

    @extend_schema(
        methods=["patch"],
        parameters=[REACH_PARAM],
        request=CampaignReachSerializer,
        responses=CampaignSerializer,
        summary="修改排查河段",
    )
    @extend_schema(
        methods=["delete"],
        parameters=[REACH_PARAM],
        request=None,
        responses=CampaignSerializer,
        summary="删除排查河段",
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"reaches/(?P<reach_pk>[0-9]+)")
    def reach(self, request, pk=None, reach_pk=None):
        campaign = self._editable()
        reach = self._reach(campaign, reach_pk)
        if request.method == "DELETE":
            services.delete_reach(reach, user=request.user)
        else:
            for name, value in self._reach_body(campaign, request.data, reach, partial=True).items():
                setattr(reach, name, value)
            services.save_reach(reach, user=request.user)
        return self._answer(campaign)

    @extend_schema(
        parameters=[REACH_PARAM],
        request=ReachCheckedSerializer,
        responses=CampaignSerializer,
        summary="标记排查河段已完成（或撤销）徒步排查",
    )
    @action(detail=True, methods=["post"], url_path=r"reaches/(?P<reach_pk>[0-9]+)/checked")
    def reach_checked(self, request, pk=None, reach_pk=None):
        campaign = self._editable()
        reach = self._reach(campaign, reach_pk)
        body = ReachCheckedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_reach_checked(reach, body.validated_data["checked"], user=request.user)
        return self._answer(campaign)

    @extend_schema(
        request=WalkedTrackSubmitSerializer,
        responses={201: WalkedTrackSerializer, 200: WalkedTrackSerializer},
        summary="上传徒步排查轨迹（同一 client_uuid 再次提交返回已存的轨迹，200）",
    )
    @action(detail=True, methods=["post"])
    def tracks(self, request, pk=None):
        campaign = self._editable()
        client_uuid = _uuid(_body(request).get("client_uuid"))
        if client_uuid is not None and Track.objects.filter(client_uuid=client_uuid).exists():
            data = {"client_uuid": client_uuid}  # a resent record: the service returns the stored one
        else:
            context = {**self.get_serializer_context(), "campaign": campaign}
            body = WalkedTrackSubmitSerializer(data=request.data, context=context)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        track, created = services.submit_track(campaign, data, user=request.user)
        rows = Track.objects.select_related("water_body", "recorded_by").defer("water_body__geometry")
        return Response(
            WalkedTrackSerializer(rows.get(pk=track.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


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
        _forbid(editable, message)
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
        _forbid(Campaign.objects.editable_by(user).exists(), "无权提交现场核查记录。")
        client_uuid = _uuid(_body(request).get("client_uuid"))
        known = (
            FieldCheck.objects.filter(client_uuid=client_uuid).select_related("point").first()
            if client_uuid
            else None
        )
        if known is not None:
            _forbid(
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
        _forbid(editable, "无权在该排查任务中提交核查记录。")
        check, created = services.submit_field_check(campaign, data, user=user)
        return self._answer(check, created)


# Tracing cases ----------------------------------------------------------------------------------------------
class TracingStepSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=StepKind.choices, error_messages=required("方法"))
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    created_by = username("created_by", "记录人的用户名")

    class Meta:
        model = TracingStep
        fields = ["id", "kind", "kind_label", "date", "findings", "staff", "created_by", "created_at"]
        extra_kwargs = {
            "date": {"error_messages": required("日期"), "help_text": "步骤日期（不晚于今天）"},
            "findings": {"error_messages": required("发现"), "help_text": "本步骤的发现"},
            "staff": {"help_text": "参与人员"},
        }


class FoundUnitSerializer(serializers.ModelSerializer):
    """A unit linked to the case's outfall (owner, shares or borrows)."""

    id = serializers.IntegerField(read_only=True, help_text="关联 id（移除关联时用）")
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    unit_credit_code = serializers.CharField(
        source="unit.credit_code", read_only=True, allow_null=True, help_text="统一社会信用代码"
    )
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = OutfallUnitLink
        fields = [
            "id",
            "unit",
            "unit_name",
            "unit_credit_code",
            "role",
            "role_label",
            "via_channel",
            "share_note",
            "share_percent",
        ]


class TracingCaseSerializer(serializers.ModelSerializer):
    outfall_code = serializers.CharField(source="outfall.code", read_only=True)
    outfall_name = serializers.CharField(source="outfall.name", read_only=True)
    outfall_status = serializers.CharField(
        source="outfall.status", read_only=True, help_text="排口的生命周期状态"
    )
    county = serializers.CharField(source="outfall.county.code", read_only=True, help_text="县区代码")
    county_name = serializers.CharField(source="outfall.county.name", read_only=True)
    water_body = serializers.IntegerField(source="outfall.water_body_id", read_only=True)
    water_body_name = serializers.CharField(source="outfall.water_body.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    opened_by = username("opened_by", "立案人的用户名")
    responsible_entity_name = serializers.CharField(
        source="responsible_entity.name", read_only=True, allow_null=True, default=None
    )
    basis = serializers.ChoiceField(
        choices=ResponsibilityBasis.choices,
        read_only=True,
        allow_blank=True,
        help_text="责任主体确定方式（结案前为空）",
    )
    basis_label = serializers.CharField(source="get_basis_display", read_only=True)
    concluded_by = username("concluded_by", "结案人的用户名")
    steps = TracingStepSerializer(many=True, read_only=True)
    found_units = FoundUnitSerializer(source="outfall.unit_links", many=True, read_only=True)

    class Meta:
        model = TracingCase
        fields = [
            "id",
            "outfall",
            "outfall_code",
            "outfall_name",
            "outfall_status",
            "county",
            "county_name",
            "water_body",
            "water_body_name",
            "campaign",
            "status",
            "status_label",
            "deadline",
            "opened_by",
            "opened_at",
            "responsible_entity",
            "responsible_entity_name",
            "basis",
            "basis_label",
            "conclusion",
            "concluded_by",
            "concluded_at",
            "steps",
            "found_units",
        ]
        read_only_fields = fields


class TracingCaseDetailSerializer(TracingCaseSerializer):
    history = serializers.SerializerMethodField(help_text="状态变更记录，新的在前")

    class Meta(TracingCaseSerializer.Meta):
        fields = [*TracingCaseSerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(StatusChangeRowSerializer(many=True))
    def get_history(self, case):
        return StatusChangeRowSerializer(labelled_status_changes(case, CaseStatus), many=True).data


class TracingCaseOpenSerializer(serializers.Serializer):
    """The body of POST /tracing-cases/ (立案溯源): a verified outfall without a case."""

    outfall = ScopedRelatedField(
        Outfall, help_text="“已核实”且尚无溯源案件的排口 id", error_messages=required("排口")
    )
    campaign = ScopedRelatedField(
        Campaign,
        required=False,
        allow_null=True,
        default=None,
        help_text="所属排查任务 id（须与排口同一县区）",
    )
    deadline = serializers.DateField(required=False, allow_null=True, default=None, help_text="溯源期限")


def _case_of(context):
    return context["case"]


class FoundUnitLinkSerializer(serializers.Serializer):
    """The body of POST /tracing-cases/{id}/units/: link a unit found by tracing to the case's outfall."""

    unit = PickedField(
        DischargeUnit,
        lambda context: DischargeUnit.objects.visible_to(request_user_of(context)).filter(
            county_id=_case_of(context).outfall.county_id
        ),
        message="排污单位（id {pk_value}）不存在、不在您的可见范围内或不在排口所在县区。",
        help_text="排污单位 id（排口所在县区内）",
        error_messages=required("排污单位"),
    )
    role = serializers.ChoiceField(choices=LinkRole.choices, error_messages=required("与排口的关系"))
    via_channel = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="经由通道（借道排污时必填）"
    )
    share_note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="责任分担说明（共用时必填）"
    )
    share_percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, default=None, help_text="责任份额（%）"
    )


class FoundUnitUnlinkSerializer(serializers.Serializer):
    link = PickedField(
        OutfallUnitLink,
        lambda context: OutfallUnitLink.objects.filter(outfall_id=_case_of(context).outfall_id),
        message="本案件的排口没有关联 id {pk_value}（见 found_units 的 id）。",
        help_text="要移除的关联 id（found_units 中的 id）",
        error_messages=required("要移除的关联"),
    )


def _entities(context):
    """The page's choice of entity: the linked units the caller sees, and the county's government bodies."""
    case, user = _case_of(context), request_user_of(context)
    visible = DischargeUnit.objects.visible_to(user)
    linked = case.outfall.unit_links.values("unit_id")
    return visible.filter(Q(pk__in=linked) | Q(county_id=case.outfall.county_id, kind=UnitKind.GOVERNMENT))


class TracingConcludeSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(
        choices=CONCLUSION_BASES,
        help_text="traced：溯源确定；government_fallback：政府兜底",
        error_messages=required("确定方式"),
    )
    entity = PickedField(
        DischargeUnit,
        _entities,
        message="责任主体（id {pk_value}）须是本排口已关联的单位或本县区的政府单位。",
        required=False,
        allow_null=True,
        default=None,
        help_text="责任主体单位 id：溯源确定时从已关联单位中选；政府兜底时留空为本县区人民政府（经开区管委会）",
    )
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="结论说明（政府兜底时必填）"
    )


class TracingCaseReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=300, help_text="重新开启的原因", error_messages=required("重新开启原因")
    )


class TracingCaseViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Tracing cases (溯源) of the outfalls in the caller's scope, with their steps and the units found. Filters:
    q, county, status, water_body, basis, ordering. POST opens a case on a verified outfall; the actions record
    a step (files on the page), link or unlink a unit, conclude and reopen (tracing.py)."""

    queryset = TracingCase.objects.all()
    filterset_class = CaseFilter

    def base_queryset(self):
        links = OutfallUnitLink.objects.select_related("unit").order_by("role", "unit__name")
        return (
            TracingCase.objects.select_related(
                "outfall__county", "outfall__water_body", "responsible_entity", "opened_by", "concluded_by"
            )
            .defer("outfall__county__boundary", "outfall__water_body__geometry")
            .prefetch_related(
                Prefetch("steps", queryset=TracingStep.objects.select_related("created_by")),
                Prefetch("outfall__unit_links", queryset=links),
            )
            .order_by("-opened_at", "-id")
        )

    def get_serializer_class(self):
        return TracingCaseSerializer if self.action == "list" else TracingCaseDetailSerializer

    def _answer(self, case, code=status.HTTP_200_OK):
        data = TracingCaseDetailSerializer(
            self.get_queryset().get(pk=case.pk), context=self.get_serializer_context()
        ).data
        return Response(data, status=code)

    def _editable(self):
        case = self.get_object()
        _forbid(
            TracingCase.objects.editable_by(self.request.user).filter(pk=case.pk).exists(),
            tracing.OUT_OF_SCOPE,
        )
        return case

    def _body(self, serializer_class, case):
        body = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), "case": case}
        )
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(
        request=TracingCaseOpenSerializer, responses={201: TracingCaseDetailSerializer}, summary="立案溯源"
    )
    def create(self, request, *args, **kwargs):
        _forbid(scope_of(request.user).can_edit_anything, tracing.OUT_OF_SCOPE)
        data = self._body(TracingCaseOpenSerializer, None)
        outfall = data.pop("outfall")
        _forbid(
            Outfall.objects.editable_by(request.user).filter(pk=outfall.pk).exists(), tracing.OUT_OF_SCOPE
        )
        case = tracing.open_case(outfall, user=request.user, **data)
        return self._answer(case, status.HTTP_201_CREATED)

    @extend_schema(
        request=TracingStepSerializer,
        responses=TracingCaseDetailSerializer,
        summary="记录溯源步骤（照片和资料在页面上传）",
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        case = self._editable()
        tracing.add_step(case, user=request.user, **self._body(TracingStepSerializer, case))
        return self._answer(case)

    @extend_schema(
        request=FoundUnitLinkSerializer,
        responses=TracingCaseDetailSerializer,
        summary="关联溯源发现的排污单位",
    )
    @action(detail=True, methods=["post"])
    def units(self, request, pk=None):
        case = self._editable()
        data = self._body(FoundUnitLinkSerializer, case)
        tracing.link_found_unit(case, data.pop("unit"), user=request.user, **data)
        return self._answer(case)

    @extend_schema(
        request=FoundUnitUnlinkSerializer, responses=TracingCaseDetailSerializer, summary="移除关联的排污单位"
    )
    @action(detail=True, methods=["post"])
    def unlink(self, request, pk=None):
        case = self._editable()
        tracing.unlink_found_unit(
            case, self._body(FoundUnitUnlinkSerializer, case)["link"], user=request.user
        )
        return self._answer(case)

    @extend_schema(
        request=TracingConcludeSerializer,
        responses=TracingCaseDetailSerializer,
        summary="结案：确定责任主体（溯源确定或政府兜底）",
    )
    @action(detail=True, methods=["post"])
    def conclude(self, request, pk=None):
        case = self._editable()
        tracing.conclude_case(case, user=request.user, **self._body(TracingConcludeSerializer, case))
        return self._answer(case)

    @extend_schema(
        request=TracingCaseReopenSerializer,
        responses=TracingCaseDetailSerializer,
        summary="重新开启已结案的案件（须写原因）",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        case = self._editable()
        tracing.reopen_case(case, user=request.user, **self._body(TracingCaseReopenSerializer, case))
        return self._answer(case)
