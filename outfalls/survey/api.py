"""REST API of 排查 (campaigns, their reaches and walked tracks: /api/v1/campaigns/) and the fields the survey's
API modules share; suspected points and field checks are in point_api.py, tracing cases in tracing_api.py.

Every write calls the same service as the page (services.py, tracing.py). The querysets start from
visible_to(user): an object outside it is a 404, a relation to one is refused like a missing one. A write the
caller may not make is a 403 before its body is read, as the pages check before they read their forms.
"""

import uuid

from django.db.models import Count, Prefetch, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import request_user
from outfalls.core.models import Department, StatusChange
from outfalls.registry.models import WaterBody

from . import services
from .choices import (
    OPEN_OUTCOMES,
    Bank,
    CampaignStatus,
)
from .filters import CampaignFilter
from .forms import county_choices, team_choices
from .models import Campaign, CampaignReach, Track


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


def forbid(allowed, message):
    if not allowed:
        raise exceptions.PermissionDenied(message)


def parse_uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def request_body(request):
    """The request body as a mapping (a JSON list or scalar reads as empty: the serializer then says what is
    missing)."""
    return request.data if hasattr(request.data, "get") else {}


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
        forbid(editable, "无权修改该排查任务。")
        return campaign

    @extend_schema(summary="创建排查任务")
    def create(self, request, *args, **kwargs):
        forbid(services.may_create_campaigns(request.user), "无权创建排查任务。")
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
        client_uuid = parse_uuid(request_body(request).get("client_uuid"))
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
