"""REST API of enforcement: /api/v1/enforcement-cases/ (read, open, and each step as POST {id}/steps/) and
/api/v1/borrowing-reports/ (read, a responsible entity's report, and dismiss). Every write calls the same
services as the pages; the querysets start from visible_to(user), objects outside it are 404."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedRelatedField, request_user
from outfalls.core.models import Jurisdiction
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody

from . import patrols, services
from .choices import CaseKind, CaseSource, CaseStatus, Outcome
from .filters import CaseFilter, EntityReportFilter, PatrolFilter
from .models import EnforcementCase, EntityReport, Patrol, PatrolFinding


class CaseSerializer(serializers.ModelSerializer):
    county_code = serializers.CharField(source="county.code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    source_kind_label = serializers.CharField(source="get_source_display", read_only=True)
    outfall_codes = serializers.SerializerMethodField(help_text="涉及排污口的编码")
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, allow_blank=True, read_only=True, help_text="决定结果（决定前为空）"
    )

    class Meta:
        model = EnforcementCase
        fields = [
            "id",
            "number",
            "kind",
            "kind_label",
            "county",
            "county_code",
            "county_name",
            "summary",
            "outfalls",
            "outfall_codes",
            "units",
            "source",
            "source_kind_label",
            "source_id",
            "source_label",
            "status",
            "status_label",
            "opened_on",
            "investigated_on",
            "findings",
            "notified_on",
            "notice",
            "decided_on",
            "outcome",
            "decision_number",
            "penalty_amount",
            "legal_basis",
            "enforced_on",
            "enforcement",
            "closed_on",
            "closing_note",
            "version",
            "created_at",
        ]
        read_only_fields = fields

    def get_outfall_codes(self, case) -> list[str]:
        return [o.code for o in case.outfalls.all()]


class CaseOpenSerializer(serializers.Serializer):
    """The body of POST /enforcement-cases/ (立案)."""

    kind = serializers.ChoiceField(choices=CaseKind.choices)
    county = serializers.PrimaryKeyRelatedField(
        queryset=Jurisdiction.objects.counties(), help_text="属地县区的 id"
    )
    summary = serializers.CharField(max_length=2000)
    opened_on = serializers.DateField()
    outfalls = ScopedRelatedField(Outfall, many=True, required=False, default=list)
    units = ScopedRelatedField(DischargeUnit, many=True, required=False, default=list)
    source = serializers.ChoiceField(choices=CaseSource.choices, default=CaseSource.DIRECT)
    source_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="来源记录的 id"
    )


class StepSerializer(serializers.Serializer):
    """The body of POST /enforcement-cases/{id}/steps/: the next step and what it records (services.STEP_FIELDS)."""

    status = serializers.ChoiceField(choices=[c for c in CaseStatus.choices if c[0] != CaseStatus.OPENED])
    on = serializers.DateField(help_text="该步骤的日期")
    version = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="读取时的版本"
    )
    findings = serializers.CharField(required=False, allow_blank=True, default="")
    units = ScopedRelatedField(
        DischargeUnit, many=True, required=False, help_text="调查确定的涉及单位（仅调查步骤）"
    )
    notice = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, allow_blank=True, default="")
    decision_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    penalty_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None, min_value=0
    )
    legal_basis = serializers.CharField(required=False, allow_blank=True, default="")
    enforcement = serializers.CharField(required=False, allow_blank=True, default="")
    closing_note = serializers.CharField(required=False, allow_blank=True, default="")


class EnforcementCaseViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Enforcement cases in the caller's scope. Filters: q, county, kind, status, source, ordering. POST opens a
    case (立案; with source and source_id from a report, tracing case, exceedance or entity report);
    POST {id}/steps/ records the next step."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    queryset = EnforcementCase.objects.all()

    def get_queryset(self):
        return (
            EnforcementCase.objects.visible_to(self.request.user)
            .select_related("county")
            .defer("county__boundary")
            .prefetch_related("outfalls", "units")
            .order_by("-opened_on", "-id")
        )

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseSerializer}, summary="立案")
    def create(self, request, *args, **kwargs):
        body = CaseOpenSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        source, source_id = data.pop("source"), data.pop("source_id")
        source_obj = None
        if source != CaseSource.DIRECT:
            if source_id is None:
                raise ValidationError({"source_id": "请给出来源记录的 id。"})
            source_obj = services.source_object(source, source_id, request.user)
        case = services.open_case(user=request.user, source=source, source_obj=source_obj, **data)
        case = self.get_queryset().get(pk=case.pk)
        return Response(self.get_serializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=StepSerializer, responses=CaseSerializer, summary="记录下一步：调查、告知、决定、执行、结案"
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        body = StepSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        to_status, on, version = data.pop("status"), data.pop("on"), data.pop("version")
        case = services.record_step(
            self.get_object(), to_status, user=request.user, on=on, expected_version=version, **data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=case.pk)).data)


class EntityReportSerializer(serializers.ModelSerializer):
    unit = ScopedRelatedField(DischargeUnit)
    outfall = ScopedRelatedField(Outfall)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True, allow_null=True, default=None)

    class Meta:
        model = EntityReport
        fields = [
            "id",
            "unit",
            "outfall",
            "county",
            "suspect",
            "description",
            "found_on",
            "status",
            "status_label",
            "handling_note",
            "case",
            "case_number",
            "reported_at",
        ]
        read_only_fields = ["county", "status", "handling_note", "case", "reported_at"]

    def create(self, validated):
        return services.submit_entity_report(user=request_user(self), **validated)


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="不予立案的理由（报告单位可见）")


class EntityReportViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """借道排污 reports in the caller's scope. A responsible entity POSTs one (evidence files are added on the
    page); the county opens a case from it (POST /enforcement-cases/ with source "entity") or dismisses it."""

    serializer_class = EntityReportSerializer
    filterset_class = EntityReportFilter
    queryset = EntityReport.objects.all()

    def get_queryset(self):
        return (
            EntityReport.objects.visible_to(self.request.user)
            .select_related("case")
            .order_by("-reported_at", "-id")
        )

    @extend_schema(
        request=DismissSerializer, responses=EntityReportSerializer, summary="不予立案（须写理由）"
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.dismiss_entity_report(self.get_object(), user=request.user, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=report.pk)).data)


class PatrolFindingSerializer(serializers.ModelSerializer):
    outfall = ScopedRelatedField(
        Outfall, required=False, allow_null=True, default=None, help_text="排污口 id（台账外的位置填经纬度）"
    )
    outfall_code = serializers.CharField(source="outfall.code", read_only=True, allow_null=True, default=None)

    class Meta:
        model = PatrolFinding
        fields = ["id", "outfall", "outfall_code", "lon", "lat", "description", "created_at"]
        read_only_fields = ["id", "outfall_code", "created_at"]


class PatrolSerializer(serializers.ModelSerializer):
    water_body_name = serializers.CharField(source="water_body.name", read_only=True)
    county_code = serializers.CharField(source="county.code", read_only=True)
    findings = PatrolFindingSerializer(many=True, read_only=True)

    class Meta:
        model = Patrol
        fields = [
            "id",
            "water_body",
            "water_body_name",
            "county",
            "county_code",
            "patrolled_on",
            "participants",
            "track",
            "track_km",
            "note",
            "findings",
            "created_at",
        ]
        read_only_fields = ["id", "water_body_name", "county_code", "track_km", "findings", "created_at"]


class PatrolCreateSerializer(serializers.Serializer):
    """The body of POST /patrols/: the river, the county, the day, and optionally the track as GeoJSON."""

    water_body = serializers.PrimaryKeyRelatedField(queryset=WaterBody.objects.defer("geometry"))
    county = serializers.PrimaryKeyRelatedField(queryset=Jurisdiction.objects.counties().defer("boundary"))
    patrolled_on = serializers.DateField()
    participants = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    track = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="GeoJSON LineString 或 MultiLineString"
    )


class PatrolViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Patrols (巡河) in the caller's scope with their findings. Filters: county, water_body, date_from, date_to.
    POST records a patrol (the track as GeoJSON); POST {id}/findings/ adds a finding (photos on the page)."""

    serializer_class = PatrolSerializer
    filterset_class = PatrolFilter
    queryset = Patrol.objects.all()

    def get_queryset(self):
        return (
            Patrol.objects.visible_to(self.request.user)
            .select_related("water_body", "county")
            .defer("water_body__geometry", "county__boundary")
            .prefetch_related("findings__outfall")
            .order_by("-patrolled_on", "-id")
        )

    @extend_schema(request=PatrolCreateSerializer, responses={201: PatrolSerializer}, summary="记录巡河")
    def create(self, request, *args, **kwargs):
        body = PatrolCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        track = data.pop("track")
        lines = None
        if track is not None:
            kind = track.get("type") if isinstance(track, dict) else None
            coordinates = track.get("coordinates") if isinstance(track, dict) else None
            if kind == "LineString":
                lines = [coordinates]
            elif kind == "MultiLineString" and isinstance(coordinates, list):
                lines = coordinates
            else:
                raise ValidationError({"track": "轨迹须为 GeoJSON LineString 或 MultiLineString。"})
        patrol = patrols.record_patrol(user=request.user, lines=lines, **data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=patrol.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=PatrolFindingSerializer, responses=PatrolSerializer, summary="登记巡河发现的问题")
    @action(detail=True, methods=["post"])
    def findings(self, request, pk=None):
        body = PatrolFindingSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        outfall = data.get("outfall")
        if (
            outfall is not None
            and not Outfall.objects.visible_to(request.user).filter(pk=outfall.pk).exists()
        ):
            raise ValidationError({"outfall": "该排污口不在您的范围内。"})
        patrols.add_finding(
            self.get_object(),
            user=request.user,
            description=data.get("description"),
            outfall=outfall,
            lon=data.get("lon"),
            lat=data.get("lat"),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)
