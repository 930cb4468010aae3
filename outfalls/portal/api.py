"""REST API of citizen reports, the handlers' side: /api/v1/citizen-reports/ (read in the caller's scope, and
the handling steps of the report's page as POST {id}/assign/, investigate/, reply/, close/, merge/,
tracing-case/ and field-point/). Every step calls the same service as the page (portal/services.py); the
queryset starts from Report.objects.visible_to(user) (404 outside it), and a step on a report the caller sees
but may not handle is a 403 (Report.objects.editable_by, as the page decides whether to offer the steps).

The reporter's contact (name and phone) is private: the list never carries it; the detail carries it as the
report's page shows it (to the handlers who see the report, only when the reporter left it, i.e. not
anonymous). The source address and device digests are never in the API. Photos are seen on the page."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import ScopedRelatedField, request_user
from outfalls.core.choices import FollowUp
from outfalls.core.services import labelled_status_changes
from outfalls.survey.models import Campaign

from . import services
from .choices import OPEN_STATUSES, REPORT_STEPS, ReportStatus
from .filters import ReportFilter
from .models import Report

NOT_HANDLER = "该举报不在您的办理范围内。"  # the services' own refusal (services._locked)
# The services' messages for an empty assignee or reply, also when the field is missing or blank.
ASSIGNEE_MISSING = "请填写承办人或承办单位。"
REPLY_MISSING = "请填写答复内容（至少 5 个字），举报人将在查询页面看到。"


class CitizenReportSerializer(serializers.ModelSerializer):
    """A report as the to-do list and the report's page show it, without the reporter's contact."""

    category_label = serializers.CharField(source="get_category_display", read_only=True)
    location_source_label = serializers.CharField(source="get_location_source_display", read_only=True)
    county_code = serializers.CharField(source="county.code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    department_name = serializers.CharField(
        source="department.name", read_only=True, allow_null=True, default=None
    )
    outfall_code = serializers.CharField(source="outfall.code", read_only=True, allow_null=True, default=None)
    outfall_name = serializers.CharField(source="outfall.name", read_only=True, allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.BooleanField(read_only=True, help_text="未办结且已过办理期限")
    merged_into_code = serializers.CharField(
        source="merged_into.tracking_code", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Report
        fields = [
            "id",
            "tracking_code",
            "category",
            "category_label",
            "description",
            "lon",
            "lat",
            "location_source",
            "location_source_label",
            "accuracy_m",
            "address",
            "outfall",
            "outfall_code",
            "outfall_name",
            "county",
            "county_code",
            "county_name",
            "department",
            "department_name",
            "deadline",
            "overdue",
            "status",
            "status_label",
            "assignee",
            "reply",
            "replied_at",
            "merged_into",
            "merged_into_code",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CitizenReportDuplicateSerializer(serializers.ModelSerializer):
    """Another report of perhaps the same problem (services.duplicates_of), to merge this one into."""

    category_label = serializers.CharField(source="get_category_display", read_only=True)
    distance_m = serializers.FloatField(read_only=True, help_text="与本举报相距（米）")

    class Meta:
        model = Report
        fields = ["id", "tracking_code", "category", "category_label", "status", "created_at", "distance_m"]
        read_only_fields = fields


class CitizenReportHistorySerializer(serializers.Serializer):
    """One handling record (core.StatusChange): a status step, or a follow-up (field "action")."""

    changed_at = serializers.DateTimeField()
    who = serializers.CharField(help_text="操作人（系统为受理时的自动分派）")
    field = serializers.CharField(
        help_text="status：状态变更；action：后续处理（立案溯源、转为核查点、立案查处）"
    )
    from_value = serializers.CharField()
    from_label = serializers.CharField()
    to_value = serializers.CharField()
    to_label = serializers.CharField()
    reason = serializers.CharField()


class CitizenReportCampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name"]
        read_only_fields = fields


class CitizenReportDetailSerializer(CitizenReportSerializer):
    """The report's page: the reporter's contact when left (null for an anonymous report), the handling
    record, the steps the caller may take now, the suggested duplicates and the campaigns for a field point."""

    anonymous = serializers.BooleanField(read_only=True)
    contact_name = serializers.SerializerMethodField(help_text="举报人称呼（匿名举报为 null）")
    contact_phone = serializers.SerializerMethodField(help_text="举报人联系电话（匿名举报为 null）")
    editable = serializers.SerializerMethodField(help_text="您可以办理该举报")
    steps = serializers.SerializerMethodField(help_text="您现在可以将其变为的状态（办理步骤）")
    duplicates = serializers.SerializerMethodField(help_text="可能是同一问题的其他举报（可合并到其中之一）")
    field_point_campaigns = serializers.SerializerMethodField(
        help_text="可转为现场核查点的排查任务（本县区、您可编辑的）"
    )
    history = serializers.SerializerMethodField(help_text="办理记录，新的在前")

    class Meta(CitizenReportSerializer.Meta):
        fields = [
            *CitizenReportSerializer.Meta.fields,
            "anonymous",
            "contact_name",
            "contact_phone",
            "editable",
            "steps",
            "duplicates",
            "field_point_campaigns",
            "history",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contact_name(self, report):
        return None if report.anonymous else report.contact_name

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contact_phone(self, report):
        return None if report.anonymous else report.contact_phone

    def _editable(self, report):
        cache = self.context.setdefault("editable", {})
        if report.pk not in cache:
            user = request_user(self)
            cache[report.pk] = Report.objects.editable_by(user).filter(pk=report.pk).exists()
        return cache[report.pk]

    def get_editable(self, report) -> bool:
        return self._editable(report)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ReportStatus.choices)))
    def get_steps(self, report):
        return [str(s) for s in REPORT_STEPS[ReportStatus(report.status)]] if self._editable(report) else []

    @extend_schema_field(CitizenReportDuplicateSerializer(many=True))
    def get_duplicates(self, report):
        if report.status not in OPEN_STATUSES:
            return []
        return CitizenReportDuplicateSerializer(
            services.duplicates_of(report, request_user(self)), many=True
        ).data

    @extend_schema_field(CitizenReportCampaignSerializer(many=True))
    def get_field_point_campaigns(self, report):
        if not self._editable(report) or report.lon is None:
            return []
        rows = Campaign.objects.editable_by(request_user(self)).filter(county_id=report.county_id)
        return CitizenReportCampaignSerializer(rows.order_by("name", "id"), many=True).data

    @extend_schema_field(CitizenReportHistorySerializer(many=True))
    def get_history(self, report):
        return CitizenReportHistorySerializer(
            labelled_status_changes(report, ReportStatus, FollowUp), many=True
        ).data


# The steps' bodies (the page's forms: portal/forms.py) ------------------------------------------------------
class CitizenReportAssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(
        max_length=64,
        help_text="承办人或承办单位",
        error_messages={"required": ASSIGNEE_MISSING, "blank": ASSIGNEE_MISSING},
    )
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="说明"
    )


class CitizenReportNoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="说明"
    )


class CitizenReportReplySerializer(serializers.Serializer):
    reply = serializers.CharField(
        max_length=2000,
        help_text="答复举报人（至少 5 个字；举报人在查询页面看到）",
        error_messages={"required": REPLY_MISSING, "blank": REPLY_MISSING},
    )


class CitizenReportMergeSerializer(serializers.Serializer):
    into = ScopedRelatedField(Report, help_text="合并到的举报 id（您可办理、未合并的举报）")
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="说明"
    )


class EditableCampaignField(serializers.PrimaryKeyRelatedField):
    """A campaign the caller may edit (the page's pick-list); others are "not found"."""

    def get_queryset(self):
        return Campaign.objects.editable_by(request_user(self))


class CitizenReportFieldPointSerializer(serializers.Serializer):
    campaign = EditableCampaignField(
        queryset=Campaign.objects.all(),
        help_text="排查任务 id（本县区、您可编辑的，见详情的 field_point_campaigns）",
    )


class CitizenReportTracingCaseSerializer(serializers.Serializer):
    tracing_case = serializers.IntegerField(help_text="新立的溯源案件 id")
    report = CitizenReportDetailSerializer()


class CitizenReportFieldPointOpenedSerializer(serializers.Serializer):
    suspected_point = serializers.IntegerField(help_text="新建的疑似点（现场核查点）id")
    number = serializers.CharField(help_text="疑似点编号")
    report = CitizenReportDetailSerializer()


class CitizenReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Citizen reports in the caller's scope (the city bureau and auditors all, a county its county's, a
    department those routed to it). Filters: q, status (or open), county, department, category, overdue,
    created_from, created_to, ordering. The handling steps are POST actions on a report."""

    queryset = Report.objects.all()
    filterset_class = ReportFilter

    def get_queryset(self):
        return (
            Report.objects.visible_to(self.request.user)
            .select_related("county", "department", "outfall", "merged_into")
            .defer("county__boundary")
            .order_by("-created_at", "-id")
        )

    def get_serializer_class(self):
        return CitizenReportSerializer if self.action == "list" else CitizenReportDetailSerializer

    def handle_exception(self, exc):
        # A service's refusal keeps its Chinese message (DRF would answer its generic one).
        if isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)

    def _handled(self):
        """The report, if the caller sees it (else 404) and may handle it (else 403, before reading the body)."""
        report = self.get_object()
        if not Report.objects.editable_by(self.request.user).filter(pk=report.pk).exists():
            raise exceptions.PermissionDenied(NOT_HANDLER)
        return report

    def _body(self, serializer_class):
        body = serializer_class(data=self.request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _detail(self, report):
        return CitizenReportDetailSerializer(
            self.get_queryset().get(pk=report.pk), context=self.get_serializer_context()
        ).data

    @extend_schema(
        request=CitizenReportAssignSerializer,
        responses=CitizenReportDetailSerializer,
        summary="分派：指定承办人或承办单位",
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        report = self._handled()
        data = self._body(CitizenReportAssignSerializer)
        return Response(self._detail(services.assign_report(report, user=request.user, **data)))

    @extend_schema(
        request=CitizenReportNoteSerializer, responses=CitizenReportDetailSerializer, summary="开始调查处理"
    )
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        report = self._handled()
        data = self._body(CitizenReportNoteSerializer)
        return Response(self._detail(services.investigate_report(report, user=request.user, **data)))

    @extend_schema(
        request=CitizenReportReplySerializer, responses=CitizenReportDetailSerializer, summary="答复举报人"
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        report = self._handled()
        data = self._body(CitizenReportReplySerializer)
        return Response(self._detail(services.reply_report(report, user=request.user, **data)))

    @extend_schema(
        request=CitizenReportNoteSerializer,
        responses=CitizenReportDetailSerializer,
        summary="办结（答复之后）",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        report = self._handled()
        data = self._body(CitizenReportNoteSerializer)
        return Response(self._detail(services.close_report(report, user=request.user, **data)))

    @extend_schema(
        request=CitizenReportMergeSerializer,
        responses=CitizenReportDetailSerializer,
        summary="合并到同一问题的另一举报（举报人随后看到该举报的办理进展）",
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        report = self._handled()
        data = self._body(CitizenReportMergeSerializer)
        merged = services.merge_report(report, data["into"], user=request.user, note=data["note"])
        return Response(self._detail(merged))

    @extend_schema(
        request=None,
        responses={201: CitizenReportTracingCaseSerializer},
        summary="对举报涉及的已核实排口立案溯源",
    )
    @action(detail=True, methods=["post"], url_path="tracing-case")
    def tracing_case(self, request, pk=None):
        report = self._handled()
        case = services.open_tracing_case(report, user=request.user)
        return Response(
            {"tracing_case": case.pk, "report": self._detail(report)}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=CitizenReportFieldPointSerializer,
        responses={201: CitizenReportFieldPointOpenedSerializer},
        summary="转为排查任务中的现场核查点（照片随之复制）",
    )
    @action(detail=True, methods=["post"], url_path="field-point")
    def field_point(self, request, pk=None):
        report = self._handled()
        data = self._body(CitizenReportFieldPointSerializer)
        point = services.open_field_point(report, user=request.user, campaign=data["campaign"])
        return Response(
            {"suspected_point": point.pk, "number": point.number, "report": self._detail(report)},
            status=status.HTTP_201_CREATED,
        )
