"""REST API of the setup review and the permits: /api/v1/setup-applications/ (read, file, change, and the
workflow steps as actions), /api/v1/setup-decisions/ (read, withhold, disclose) and /api/v1/permits/ (read, and
for the city bureau create and change). Every write calls the same services as the pages; the querysets start
from visible_to(user), objects outside it are 404, and a relation the caller may not see is refused like a
missing one."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedRelatedField, request_user
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody, WaterFunctionZone

from . import permit_services, services
from .choices import ChangeItem, Opinion, Outcome
from .filters import ApplicationFilter, DecisionFilter, PermitFilter
from .models import (
    ApplicationPollutant,
    Consultation,
    Decision,
    DischargePermit,
    MonitoringDuty,
    PermitLimit,
    PermitOutfall,
    SetupApplication,
)


class PollutantSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApplicationPollutant
        fields = ["parameter", "concentration", "unit", "annual_load_t"]


class DecisionSummarySerializer(serializers.ModelSerializer):
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "outcome", "outcome_label", "number", "decided_on", "public"]


class ApplicationSerializer(serializers.ModelSerializer):
    applicant = ScopedRelatedField(DischargeUnit, help_text="申请单位（排污单位 id）")
    applicant_name = serializers.CharField(source="applicant.name", read_only=True)
    county = serializers.SlugRelatedField(
        slug_field="code", queryset=Jurisdiction.objects.counties(), help_text="县区代码（6 位）"
    )
    outfall = ScopedRelatedField(
        Outfall, required=False, allow_null=True, help_text="台账排口 id（改设、扩大）"
    )
    water_body = ScopedRelatedField(WaterBody)
    zone = ScopedRelatedField(WaterFunctionZone, required=False, allow_null=True)
    change_items = serializers.ListField(
        child=serializers.ChoiceField(choices=ChangeItem.choices), required=False, max_length=4
    )
    pollutants = PollutantSerializer(many=True, required=False, max_length=20)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    working_days_left = serializers.SerializerMethodField(help_text="距办理期限的工作日（负数为已超期）")
    decision = DecisionSummarySerializer(read_only=True, allow_null=True, default=None)

    class Meta:
        model = SetupApplication
        fields = [
            "id",
            "number",
            "kind",
            "change_items",
            "procedure",
            "authority",
            "national_basis",
            "applicant",
            "applicant_name",
            "county",
            "outfall",
            "outfall_name",
            "type_code",
            "type_level2",
            "type_level3",
            "lon",
            "lat",
            "water_body",
            "zone",
            "entry_mode",
            "discharge_mode",
            "daily_volume_m3",
            "production_to_municipal",
            "exception_reason",
            "description",
            "pollutants",
            "status",
            "status_label",
            "check_results",
            "consultation_required",
            "return_reason",
            "accepted_on",
            "due_on",
            "working_days_left",
            "decision",
            "version",
            "created_at",
        ]
        read_only_fields = [
            "number",
            "procedure",
            "type_code",
            "status",
            "check_results",
            "consultation_required",
            "return_reason",
            "accepted_on",
            "due_on",
            "version",
            "created_at",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_working_days_left(self, application):
        return application.working_days_left()

    def _save(self, application, validated):
        pollutants = validated.pop("pollutants", None)
        for name, value in validated.items():
            setattr(application, name, value)
        return services.save_application(application, user=request_user(self), pollutants=pollutants)

    def create(self, validated):
        return self._save(SetupApplication(), validated)

    def update(self, application, validated):
        return self._save(application, validated)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="理由"
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="转报意见"
    )


class ConsultationSerializer(serializers.ModelSerializer):
    opinion = serializers.ChoiceField(choices=Opinion.choices, required=False, allow_blank=True, default="")

    class Meta:
        model = Consultation
        fields = ["id", "authority", "sent_on", "replied_on", "opinion", "reply", "created_at"]
        read_only_fields = ["created_at"]


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    number = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    decided_on = serializers.DateField(required=False, allow_null=True, default=None)
    conditions = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    conditions_due = serializers.DateField(required=False, allow_null=True, default=None)
    reasons = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    permit_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=22)
    issuing_authority = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)


class ApplicationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Setup-review applications in the caller's scope. Filters: q, county, kind, procedure, authority, status,
    type_level2, water_body, overdue, consultation_required, ordering. POST creates a draft (the applicant's
    side); PATCH changes a draft or returned one; the actions are the workflow's steps."""

    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    queryset = SetupApplication.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            SetupApplication.objects.visible_to(self.request.user)
            .select_related("applicant", "county", "decision")
            .prefetch_related("pollutants")
            .order_by("-created_at", "-id")
        )

    def _done(self, application):
        application = self.get_queryset().get(pk=application.pk)
        return Response(self.get_serializer(application).data)

    @extend_schema(
        request=None, responses=ApplicationSerializer, summary="提交：运行检查；责任主体的申请待县区转报"
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._done(services.submit(self.get_object(), user=request.user))

    @extend_schema(request=NoteSerializer, responses=ApplicationSerializer, summary="县区转报市生态环境局")
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._done(services.forward(self.get_object(), user=request.user, **body.validated_data))

    @extend_schema(request=ReasonSerializer, responses=ApplicationSerializer, summary="退回补正（须写理由）")
    @action(detail=True, methods=["post"], url_path="return")
    def return_application(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._done(
            services.return_application(self.get_object(), user=request.user, **body.validated_data)
        )

    @extend_schema(request=ReasonSerializer, responses=ApplicationSerializer, summary="撤回申请")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._done(services.withdraw(self.get_object(), user=request.user, **body.validated_data))

    @extend_schema(
        request=ConsultationSerializer,
        responses=ApplicationSerializer,
        summary="记录意见征询（回复函附件在申请页面上传）",
    )
    @action(detail=True, methods=["post"])
    def consultations(self, request, pk=None):
        body = ConsultationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = {
            k: body.validated_data.get(k) for k in services.CONSULTATION_FIELDS if k in body.validated_data
        }
        application = self.get_object()
        services.save_consultation(application, user=request.user, **fields)
        return self._done(application)

    @extend_schema(
        request=DecideSerializer, responses=ApplicationSerializer, summary="作出决定：批准、不予批准或登记"
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        application = self.get_object()
        services.decide(application, user=request.user, **body.validated_data)
        return self._done(application)


class DecisionSerializer(serializers.ModelSerializer):
    application_number = serializers.CharField(source="application.number", read_only=True)
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)
    outfall = serializers.PrimaryKeyRelatedField(
        source="application.outfall", read_only=True, allow_null=True
    )
    conditions_list = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "application",
            "application_number",
            "outfall",
            "outcome",
            "outcome_label",
            "number",
            "decided_on",
            "conditions",
            "conditions_list",
            "reasons",
            "permit_number",
            "recorded",
            "issuing_authority",
            "public",
            "withheld_reason",
        ]

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "due_on": {"type": "string", "format": "date", "nullable": True},
                    "fulfilled_on": {"type": "string", "format": "date", "nullable": True},
                },
            },
        }
    )
    def get_conditions_list(self, decision):
        return [
            {
                "text": c.text,
                "due_on": c.due_on.isoformat() if c.due_on else None,
                "fulfilled_on": c.fulfilled_on.isoformat() if c.fulfilled_on else None,
            }
            for c in decision.items.all()
        ]


class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Decisions on applications in the caller's scope. Filters: q, county, outcome, public, decided_from,
    decided_to. POST {id}/withhold/ (reason) and {id}/disclose/: the city bureau."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    queryset = Decision.objects.all()

    def get_queryset(self):
        return (
            Decision.objects.visible_to(self.request.user)
            .select_related("application")
            .prefetch_related("items")
            .order_by("-decided_on", "-id")
        )

    def _done(self, decision):
        return Response(self.get_serializer(self.get_queryset().get(pk=decision.pk)).data)

    @extend_schema(request=ReasonSerializer, responses=DecisionSerializer, summary="不予公开（须写理由）")
    @action(detail=True, methods=["post"])
    def withhold(self, request, pk=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._done(services.withhold(self.get_object(), user=request.user, **body.validated_data))

    @extend_schema(request=None, responses=DecisionSerializer, summary="恢复向社会公开")
    @action(detail=True, methods=["post"])
    def disclose(self, request, pk=None):
        return self._done(services.disclose(self.get_object(), user=request.user))


class LimitSerializer(serializers.ModelSerializer):
    class Meta:
        model = PermitLimit
        fields = ["parameter", "limit_value", "lower_value", "unit", "averaging", "standard"]


class DutySerializer(serializers.ModelSerializer):
    class Meta:
        model = MonitoringDuty
        fields = ["parameter", "frequency"]


class EntrySerializer(serializers.ModelSerializer):
    outfall = ScopedRelatedField(Outfall)
    outfall_code = serializers.CharField(source="outfall.code", read_only=True)
    limits = LimitSerializer(many=True, required=False, max_length=200)
    monitoring = DutySerializer(many=True, required=False, max_length=200)

    class Meta:
        model = PermitOutfall
        fields = [
            "outfall",
            "outfall_code",
            "outlet_code",
            "share_percent",
            "share_note",
            "limits",
            "monitoring",
        ]


class PermitSerializer(serializers.ModelSerializer):
    unit = ScopedRelatedField(DischargeUnit)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    outfalls = EntrySerializer(
        source="covered", many=True, max_length=100, help_text="许可的入河排污口（写入时整体替换）"
    )

    class Meta:
        model = DischargePermit
        fields = [
            "id",
            "number",
            "unit",
            "unit_name",
            "valid_from",
            "valid_until",
            "issued_by",
            "issued_on",
            "self_monitoring",
            "disclosure",
            "source",
            "outfalls",
        ]
        extra_kwargs = {"number": {"validators": []}}  # uniqueness: save_permit replaces a permit by number

    def to_representation(self, permit):
        data = super().to_representation(permit)
        visible = self._visible_outfalls()
        if visible is not None:
            data["outfalls"] = [e for e in data["outfalls"] if e["outfall"] in visible]
        return data

    def _visible_outfalls(self):
        """Ids of the outfalls the caller sees (None: all), read once per response."""
        context = self.parent.context if self.parent is not None else self.context
        if "visible_outfalls" not in context:
            user = request_user(self)
            citywide = scope_of(user).citywide
            context["visible_outfalls"] = (
                None if citywide else set(Outfall.objects.visible_to(user).values_list("pk", flat=True))
            )
        return context["visible_outfalls"]

    def _save(self, permit, validated):
        entries = validated.pop("covered", None)
        if entries is None and permit is not None:
            entries = [
                {
                    "outfall": e.outfall,
                    "outlet_code": e.outlet_code,
                    "share_percent": e.share_percent,
                    "share_note": e.share_note,
                    "limits": [LimitSerializer(x).data for x in e.limits.all()],
                    "monitoring": [DutySerializer(x).data for x in e.monitoring.all()],
                }
                for e in permit.covered.select_related("outfall")
            ]
        fields = {k: v for k, v in validated.items() if k in permit_services.PERMIT_FIELDS}
        if permit is not None:
            fields.setdefault("number", permit.number)
        return permit_services.save_permit(fields, entries or [], user=request_user(self), permit=permit)

    def create(self, validated):
        return self._save(None, validated)

    def update(self, permit, validated):
        return self._save(permit, validated)


class PermitViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Discharge permits in the caller's scope (each lists only the outfalls the caller sees). Filters: q,
    county, in_force. POST and PATCH: the city bureau; a write replaces the covered outfalls with `outfalls`."""

    serializer_class = PermitSerializer
    filterset_class = PermitFilter
    queryset = DischargePermit.objects.all()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            DischargePermit.objects.visible_to(self.request.user)
            .select_related("unit")
            .prefetch_related("covered__outfall", "covered__limits", "covered__monitoring")
            .order_by("number")
        )

    # Who may write is checked before the body is read: a county's POST is a 403 (only the bureau keeps
    # permits), not a 400 about a unit it cannot see; a PATCH outside the caller's scope stays a 404.
    def create(self, request, *args, **kwargs):
        permit_services.check_can_keep(request.user)
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        self.get_object()
        permit_services.check_can_keep(request.user)
        return super().update(request, *args, **kwargs)
