"""REST API of 一口一策 and 问责: /api/v1/rectification-plans/ (read, create, change, progress as
GET/POST {id}/progress/, the close-out steps as POST {id}/closeout/submit|return|approve|reopen/) and
/api/v1/accountability/ (read, and the city bureau records one). Every write calls the same service as the page
(services.py, accountability.py); the querysets start from visible_to(user), objects outside it are 404, and
a relation the caller may not see is refused like a missing one. Photos and documents are uploaded on the
plan's page, not here. (The rules' proposals are proposal_api.py.)"""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedRelatedField
from outfalls.core.models import Department, Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.registry.choices import RectificationMeasure
from outfalls.registry.models import DischargeUnit, Outfall

from . import accountability, services, supervision
from .choices import AccountabilityKind, PlanStatus
from .models import Accountability, Programme, ProgressUpdate, RectificationPlan
from .plan_filters import PlanFilter
from .plan_forms import PERCENT_RANGE

# Body keys that would carry files: the API takes none (they are uploaded on the plan's page).
FILE_KEYS = {"photos", "documents", "files", "file", "attachments"}


class StrictBodyMixin:
    """A write body holds only the fields it may set: any other key (a read-only field such as `status`, a
    misspelt one, a file) is a 400 naming it, so nothing sent is silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = [name for name, field in self.fields.items() if not field.read_only]
            unknown = sorted(set(data) - set(writable))
            if unknown:
                allowed = "、".join(writable)
                raise serializers.ValidationError(
                    {
                        name[:30]: [
                            "接口不接收文件：照片和文件请在整治方案页面上传。"
                            if name in FILE_KEYS
                            else f"不支持的字段（可填写：{allowed}）。"
                        ]
                        for name in unknown[:5]
                    }
                )
        return super().to_internal_value(data)


def _username(source, help_text):
    return serializers.CharField(
        source=source, read_only=True, allow_null=True, default=None, help_text=help_text
    )


# Plans ------------------------------------------------------------------------------------------------------
class RectificationPlanSerializer(serializers.ModelSerializer):
    outfall_code = serializers.CharField(source="outfall.code", read_only=True)
    outfall_name = serializers.CharField(source="outfall.name", read_only=True)
    county = serializers.CharField(
        source="outfall.county.code", read_only=True, allow_null=True, default=None, help_text="县区代码"
    )
    county_name = serializers.CharField(
        source="outfall.county.name", read_only=True, allow_null=True, default=None
    )
    measure_label = serializers.CharField(source="get_measure_display", read_only=True)
    responsible_unit_name = serializers.CharField(
        source="responsible_unit.name", read_only=True, allow_null=True, default=None
    )
    merge_target_code = serializers.CharField(
        source="merge_target.code", read_only=True, allow_null=True, default=None, help_text="并入排口编码"
    )
    programme_name = serializers.CharField(
        source="programme.name", read_only=True, allow_null=True, default=None
    )
    status = serializers.ChoiceField(choices=PlanStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="未销号且已过整治期限")
    approved_by = _username("approved_by.username", "审核通过人的用户名")
    created_by = _username("created_by.username", "制定人的用户名")

    class Meta:
        model = RectificationPlan
        fields = [
            "id",
            "outfall",
            "outfall_code",
            "outfall_name",
            "county",
            "county_name",
            "proposal",
            "measure",
            "measure_label",
            "actions",
            "responsible_unit",
            "responsible_unit_name",
            "responsible_org",
            "deadline",
            "transitional_until",
            "transitional_reason",
            "merge_target",
            "merge_target_code",
            "programme",
            "programme_name",
            "status",
            "status_label",
            "percent_done",
            "is_overdue",
            "submission_note",
            "submitted_at",
            "return_reason",
            "approved_at",
            "approved_by",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class RectificationPlanDetailSerializer(RectificationPlanSerializer):
    closeout_gaps = serializers.SerializerMethodField(
        help_text="销号审核时台账尚未记录的承诺事项（保留的排口：标识牌、登记建档）；已销号的方案为空"
    )
    evidence_count = serializers.SerializerMethodField(
        help_text="方案及其进展上的佐证材料（照片、文件）数；申请销号须至少一份"
    )

    class Meta(RectificationPlanSerializer.Meta):
        fields = [*RectificationPlanSerializer.Meta.fields, "closeout_gaps", "evidence_count"]
        read_only_fields = fields

    def get_closeout_gaps(self, plan) -> list[str]:
        if plan.status == PlanStatus.APPROVED:
            return []
        return services.closeout_gaps(plan)

    def get_evidence_count(self, plan) -> int:
        return services.evidence_for(plan).count()


class RectificationPlanFieldsSerializer(StrictBodyMixin, serializers.Serializer):
    """The plan's own fields (services.PLAN_FIELDS but the proposal, which the service links itself)."""

    measure = serializers.ChoiceField(
        choices=RectificationMeasure.choices,
        required=False,
        allow_blank=True,
        help_text="整治措施；制定时不填则取已采纳（或改定）的整治建议",
        error_messages={"invalid_choice": "“{input}”不是可选的整治措施。"},
    )
    actions = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="具体措施，如 设置标识牌、规范采样点、建设检查井、修复管道",
    )
    responsible_unit = ScopedRelatedField(
        DischargeUnit,
        required=False,
        allow_null=True,
        help_text="整治责任单位（排污单位 id）；与 responsible_org 二选一",
        error_messages={"does_not_exist": "整治责任单位 id “{pk_value}” 不存在或不在您的权限范围内。"},
    )
    responsible_org = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="整治责任单位（非排污单位），如 市城市管理局",
    )
    deadline = serializers.DateField(
        required=False, allow_null=True, help_text="整治期限；制定时不填则取本县区尚未到期的整治期限"
    )
    transitional_until = serializers.DateField(required=False, allow_null=True, help_text="过渡期至")
    transitional_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text="过渡期理由（设置过渡期时必填）"
    )
    merge_target = ScopedRelatedField(
        Outfall,
        required=False,
        allow_null=True,
        help_text="并入排口 id（措施为清理合并时必填）",
        error_messages={"does_not_exist": "并入排口 id “{pk_value}” 不存在或不在您的权限范围内。"},
    )
    programme = serializers.PrimaryKeyRelatedField(
        queryset=Programme.objects.all(),
        required=False,
        allow_null=True,
        help_text="所属专项 id",
        error_messages={"does_not_exist": "所属专项 id “{pk_value}” 不存在。"},
    )


class RectificationPlanCreateSerializer(RectificationPlanFieldsSerializer):
    """The body of POST /rectification-plans/ (制定一口一策)."""

    outfall = ScopedRelatedField(
        Outfall,
        help_text="入河排污口 id（须已溯源；每个排口一个方案）",
        error_messages={
            "required": "请给出排污口（outfall）。",
            "does_not_exist": "排污口 id “{pk_value}” 不存在或不在您的权限范围内。",
        },
    )
    actions = serializers.CharField(
        max_length=5000,
        help_text="具体措施，如 设置标识牌、规范采样点、建设检查井、修复管道",
        error_messages={"required": "请填写具体整治措施。", "blank": "请填写具体整治措施。"},
    )


class RectificationPlanUpdateSerializer(RectificationPlanFieldsSerializer):
    """The body of PATCH /rectification-plans/{id}/: the fields to change, and the version they were read at."""

    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="读取方案时的版本（version）；此后他人已修改时拒绝保存（400），不填则不核对",
    )


class ProgressUpdateSerializer(serializers.ModelSerializer):
    created_by = _username("created_by.username", "填报人的用户名")

    class Meta:
        model = ProgressUpdate
        fields = ["id", "plan", "date", "percent", "note", "created_by", "created_at"]
        read_only_fields = fields


class ProgressUpdateCreateSerializer(StrictBodyMixin, serializers.Serializer):
    """The body of POST /rectification-plans/{id}/progress/ (the messages are the service's, as on the page)."""

    date = serializers.DateField(
        help_text="进展日期（不晚于今天）", error_messages={"required": "请填写进展日期。"}
    )
    percent = serializers.IntegerField(
        min_value=0,
        max_value=100,
        help_text="完成进度（%），0–100",
        error_messages={
            "required": "请填写完成进度。",
            "invalid": "完成进度须为 0 到 100 的整数。",
            "min_value": PERCENT_RANGE,
            "max_value": PERCENT_RANGE,
        },
    )
    note = serializers.CharField(
        max_length=5000,
        help_text="进展说明",
        error_messages={"required": "请填写进展说明。", "blank": "请填写进展说明。"},
    )


class CloseoutSubmitSerializer(StrictBodyMixin, serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="销号申请说明"
    )


class CloseoutReasonSerializer(StrictBodyMixin, serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="理由（必填，不能为空白）"
    )


class CloseoutApproveSerializer(StrictBodyMixin, serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="审核意见（带未完成事项销号时必填）",
    )
    register = serializers.BooleanField(
        required=False, default=False, help_text="同时完成登记建档（规范整治、无需整治的保留排口）"
    )
    accept_gaps = serializers.BooleanField(
        required=False,
        default=False,
        help_text="已知悉 closeout_gaps 所列未完成事项，仍予销号（须在 note 中说明理由）",
    )


# The plan list's 所属专项 filter takes a programme id, or null for the plans without one (PlanFilter).
PROGRAMME_PARAM = OpenApiParameter(
    "programme",
    {"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["null"]}]},
    OpenApiParameter.QUERY,
    description="所属专项 id，或 null 表示未填写所属专项",
)


@extend_schema_view(list=extend_schema(parameters=[PROGRAMME_PARAM]))
class RectificationPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """一口一策 plans in the caller's scope. Filters: the plan list's (q, county, measure, status, programme,
    due, ordering). POST creates a plan for an outfall, PATCH changes an open one (with `version`);
    GET/POST {id}/progress/ lists and reports progress; POST {id}/closeout/submit|return|approve|reopen/ are
    the close-out steps."""

    serializer_class = RectificationPlanSerializer
    filterset_class = PlanFilter
    queryset = RectificationPlan.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            supervision.list_rows(RectificationPlan.objects.visible_to(self.request.user))
            .select_related("merge_target", "approved_by", "created_by")
            .order_by("deadline", "id")
        )

    def get_serializer_class(self):
        return RectificationPlanSerializer if self.action == "list" else RectificationPlanDetailSerializer

    def _plan(self, plan, status_code=status.HTTP_200_OK):
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(
            RectificationPlanDetailSerializer(plan, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        request=RectificationPlanCreateSerializer,
        responses={201: RectificationPlanDetailSerializer},
        summary="制定整治方案（一口一策）：排口进入整治中",
    )
    def create(self, request, *args, **kwargs):
        body = RectificationPlanCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        outfall = fields.pop("outfall")
        plan = services.create_plan(outfall, user=request.user, **fields)
        return self._plan(plan, status.HTTP_201_CREATED)

    @extend_schema(
        request=RectificationPlanUpdateSerializer,
        responses=RectificationPlanDetailSerializer,
        summary="修改整治方案（整治中或销号退回的方案）",
    )
    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        body = RectificationPlanUpdateSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        version = fields.pop("version", None)
        plan = services.update_plan(plan, user=request.user, expected_version=version, **fields)
        return self._plan(plan)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=ProgressUpdateSerializer(many=True),
        summary="整治进展（新的在前）",
    )
    @extend_schema(
        methods=["POST"],
        request=ProgressUpdateCreateSerializer,
        responses={201: ProgressUpdateSerializer},
        summary="填报整治进展（整治后照片、文件在方案页面上传）",
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def progress(self, request, pk=None):
        plan = self.get_object()
        if request.method == "GET":
            updates = plan.updates.select_related("created_by").order_by("-date", "-id")
            return Response(ProgressUpdateSerializer(updates, many=True).data)
        body = ProgressUpdateCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        update = services.add_progress(plan, user=request.user, **body.validated_data)
        update = ProgressUpdate.objects.select_related("created_by").get(pk=update.pk)
        return Response(ProgressUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CloseoutSubmitSerializer,
        responses=RectificationPlanDetailSerializer,
        summary="申请销号（完成进度 100%，且已有佐证材料）",
    )
    @action(detail=True, methods=["post"], url_path="closeout/submit", url_name="closeout-submit")
    def closeout_submit(self, request, pk=None):
        body = CloseoutSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._plan(
            services.submit_closeout(self.get_object(), user=request.user, **body.validated_data)
        )

    @extend_schema(
        request=CloseoutReasonSerializer,
        responses=RectificationPlanDetailSerializer,
        summary="退回销号申请（须写理由）",
    )
    @action(detail=True, methods=["post"], url_path="closeout/return", url_name="closeout-return")
    def closeout_return(self, request, pk=None):
        body = CloseoutReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._plan(
            services.return_closeout(self.get_object(), user=request.user, **body.validated_data)
        )

    @extend_schema(
        request=CloseoutApproveSerializer,
        responses=RectificationPlanDetailSerializer,
        summary="通过销号：按措施取缔、合并或保留排口",
    )
    @action(detail=True, methods=["post"], url_path="closeout/approve", url_name="closeout-approve")
    def closeout_approve(self, request, pk=None):
        body = CloseoutApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._plan(
            services.approve_closeout(self.get_object(), user=request.user, **body.validated_data)
        )

    @extend_schema(
        request=CloseoutReasonSerializer,
        responses=RectificationPlanDetailSerializer,
        summary="重新打开已销号的方案（须写理由）：排口回到整治中",
    )
    @action(detail=True, methods=["post"], url_path="closeout/reopen", url_name="closeout-reopen")
    def closeout_reopen(self, request, pk=None):
        body = CloseoutReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._plan(
            services.reopen_closeout(self.get_object(), user=request.user, **body.validated_data)
        )


# 问责 -----------------------------------------------------------------------------------------------------------
FIGURES_SCHEMA = {
    "type": "object",
    "description": "记录当日的督办数据",
    "properties": {
        "as_of": {"type": "string", "format": "date"},
        "total": {"type": "integer", "description": "整治方案数"},
        "completed": {"type": "integer", "description": "已销号数"},
        "completion_rate": {"type": "number", "nullable": True, "description": "完成率（%）"},
        "submitted": {"type": "integer", "description": "已申请销号数"},
        "returned": {"type": "integer", "description": "销号退回数"},
        "overdue": {"type": "integer", "description": "逾期未完成数"},
        "city_completion_rate": {"type": "number", "nullable": True, "description": "全市完成率（%）"},
    },
}


@extend_schema_field(FIGURES_SCHEMA)
class FiguresField(serializers.JSONField):
    pass


class AccountabilitySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AccountabilityKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    county = serializers.CharField(
        source="county.code",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="县区代码（问责部门时为空）",
    )
    county_name = serializers.CharField(source="county.name", read_only=True, allow_null=True, default=None)
    department_name = serializers.CharField(
        source="department.name", read_only=True, allow_null=True, default=None
    )
    target_name = serializers.CharField(read_only=True, help_text="被问责的县区或部门")
    figures = FiguresField(read_only=True)
    decided_by = _username("decided_by.username", "记录人的用户名")

    class Meta:
        model = Accountability
        fields = [
            "id",
            "kind",
            "kind_label",
            "county",
            "county_name",
            "department",
            "department_name",
            "target_name",
            "decided_on",
            "document_number",
            "reason",
            "figures",
            "decided_by",
            "created_at",
        ]
        read_only_fields = fields


class AccountabilityCreateSerializer(StrictBodyMixin, serializers.Serializer):
    """The body of POST /accountability/: one county (by code) or one department (by id)."""

    kind = serializers.ChoiceField(
        choices=AccountabilityKind.choices,
        help_text="问责方式",
        error_messages={"required": "请选择问责方式。", "invalid_choice": "“{input}”不是可选的问责方式。"},
    )
    county = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Jurisdiction.objects.counties().defer("boundary"),
        required=False,
        allow_null=True,
        help_text="县区代码（6 位）；与 department 二选一",
        error_messages={"does_not_exist": "县区代码“{value}”不存在，或不是县区、开发区。"},
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        help_text="部门 id；与 county 二选一",
        error_messages={"does_not_exist": "部门 id “{pk_value}” 不存在。"},
    )
    decided_on = serializers.DateField(
        help_text="日期（不晚于今天）", error_messages={"required": "请填写日期。"}
    )
    document_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=64, help_text="文号"
    )
    reason = serializers.CharField(
        max_length=2000,
        help_text=f"事由（至少 {accountability.REASON_MIN} 个字）",
        error_messages={
            "required": f"请写明事由（至少 {accountability.REASON_MIN} 个字）。",
            "blank": f"请写明事由（至少 {accountability.REASON_MIN} 个字）。",
        },
    )


class AccountabilityViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """问责 records the caller sees (the city all, a county or a department its own). POST records one: the city
    bureau only, as on the page; the figures are taken as of today by the service."""

    serializer_class = AccountabilitySerializer
    queryset = Accountability.objects.all()

    def get_queryset(self):
        return (
            Accountability.objects.visible_to(self.request.user)
            .select_related("county", "department", "decided_by")
            .defer("county__boundary")
            .order_by("-decided_on", "-id")
        )

    @extend_schema(
        request=AccountabilityCreateSerializer,
        responses={201: AccountabilitySerializer},
        summary="记录通报批评或公开约谈（市生态环境局）",
    )
    def create(self, request, *args, **kwargs):
        # Who may record is checked before the body is read, as the page does (a county's POST is a 403).
        if not scope_of(request.user).can_hold_accountable:
            raise PermissionDenied("只有市生态环境局可以记录通报批评和公开约谈。")
        body = AccountabilityCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = accountability.record(user=request.user, **body.validated_data)
        entry = self.get_queryset().get(pk=entry.pk)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)
