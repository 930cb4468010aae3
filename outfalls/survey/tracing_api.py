"""REST API of 溯源: /api/v1/tracing-cases/ (read with steps and found units; open, steps, link and unlink units,
conclude, reopen) through tracing.py, as the case page. Same rules as api.py."""

from django.db.models import Prefetch, Q
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedReadOnlyViewSet, ScopedRelatedField
from outfalls.core.scopes import scope_of
from outfalls.core.services import labelled_status_changes
from outfalls.registry.choices import LinkRole, ResponsibilityBasis, UnitKind
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from . import tracing
from .api import PickedField, StatusChangeRowSerializer, forbid, request_user_of, required, username
from .choices import (
    CaseStatus,
    StepKind,
)
from .models import Campaign, TracingCase, TracingStep
from .tracing_forms import CONCLUSION_BASES, CaseFilter


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
        forbid(
            TracingCase.objects.editable_by(self.request.user).filter(pk=case.pk).exists(),
            tracing.OUT_OF_SCOPE,
        )
        return case

    def request_body(self, serializer_class, case):
        body = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), "case": case}
        )
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(
        request=TracingCaseOpenSerializer, responses={201: TracingCaseDetailSerializer}, summary="立案溯源"
    )
    def create(self, request, *args, **kwargs):
        forbid(scope_of(request.user).can_edit_anything, tracing.OUT_OF_SCOPE)
        data = self.request_body(TracingCaseOpenSerializer, None)
        outfall = data.pop("outfall")
        forbid(Outfall.objects.editable_by(request.user).filter(pk=outfall.pk).exists(), tracing.OUT_OF_SCOPE)
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
        tracing.add_step(case, user=request.user, **self.request_body(TracingStepSerializer, case))
        return self._answer(case)

    @extend_schema(
        request=FoundUnitLinkSerializer,
        responses=TracingCaseDetailSerializer,
        summary="关联溯源发现的排污单位",
    )
    @action(detail=True, methods=["post"])
    def units(self, request, pk=None):
        case = self._editable()
        data = self.request_body(FoundUnitLinkSerializer, case)
        tracing.link_found_unit(case, data.pop("unit"), user=request.user, **data)
        return self._answer(case)

    @extend_schema(
        request=FoundUnitUnlinkSerializer, responses=TracingCaseDetailSerializer, summary="移除关联的排污单位"
    )
    @action(detail=True, methods=["post"])
    def unlink(self, request, pk=None):
        case = self._editable()
        tracing.unlink_found_unit(
            case, self.request_body(FoundUnitUnlinkSerializer, case)["link"], user=request.user
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
        tracing.conclude_case(case, user=request.user, **self.request_body(TracingConcludeSerializer, case))
        return self._answer(case)

    @extend_schema(
        request=TracingCaseReopenSerializer,
        responses=TracingCaseDetailSerializer,
        summary="重新开启已结案的案件（须写原因）",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        case = self._editable()
        tracing.reopen_case(case, user=request.user, **self.request_body(TracingCaseReopenSerializer, case))
        return self._answer(case)
