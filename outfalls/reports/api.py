"""REST API of the three statutory reports (三项法定报告): /api/v1/statutory-reports/ (the reports in the
caller's scope; POST writes a subject's report, PATCH {id}/ saves its written parts over the version read,
POST {id}/submit/ sends it) and GET statutory-reports/register/ (who sent each kind and when, who is late).

Every write goes through reports/statutory.py as the report's page does (save_report, then submit_report for
报送), with the same checks: a subject the caller may not read is outside its scope (404 for a report, a
400 naming the field for a subject in a body), and only the county or department itself writes and sends its
report (statutory.can_write; the city reads them: 403). The figures are not stored; the .docx and the
attachment-1 .xlsx are made by the page's download addresses, given on each report."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outfalls.core.api import request_user
from outfalls.core.models import Deadline, Department, Jurisdiction, user_display

from . import statutory
from .choices import ReportKind, SubmissionStatus
from .filters import StatutoryReportFilter
from .models import StatutoryReport


def _due(serializer, kind, subject):
    """The subject's due date of this kind, the due dates read once per kind and response."""
    dates = serializer.context.setdefault("due_dates", {})
    if kind not in dates:
        dates[kind] = Deadline.due_dates(kind)
    return statutory.due_in(dates[kind], subject)


class StatutoryReportSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    county = serializers.CharField(
        source="county.code",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="县区代码（部门的报告为 null）",
    )
    county_name = serializers.CharField(source="county.name", read_only=True, allow_null=True, default=None)
    department_name = serializers.CharField(
        source="department.name", read_only=True, allow_null=True, default=None
    )
    subject_name = serializers.CharField(read_only=True, help_text="报送单位")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    submitted_on = serializers.SerializerMethodField(help_text="报送日期（未报送为 null）")
    submitted_by = serializers.SerializerMethodField(help_text="报送人（未报送为 null）")
    due = serializers.SerializerMethodField(help_text="报送期限（未设定为 null）")
    late = serializers.SerializerMethodField(help_text="逾期：期限已过仍未报送，或逾期后才报送")
    editable = serializers.SerializerMethodField(help_text="您可以填写和报送本报告（本县区或本部门）")
    page_url = serializers.SerializerMethodField(help_text="报告页面（含报告中的数字）")
    docx_url = serializers.SerializerMethodField(help_text="报告 Word 文件的下载地址")
    xlsx_url = serializers.SerializerMethodField(help_text="附件入河排污口信息汇总表（xlsx）的下载地址")

    class Meta:
        model = StatutoryReport
        fields = [
            "id",
            "kind",
            "kind_label",
            "county",
            "county_name",
            "department",
            "department_name",
            "subject_name",
            "as_of",
            "due",
            "late",
            "status",
            "status_label",
            "submitted_at",
            "submitted_on",
            "submitted_by",
            "work_done",
            "problems",
            "next_steps",
            "version",
            "updated_at",
            "editable",
            "page_url",
            "docx_url",
            "xlsx_url",
        ]
        read_only_fields = fields

    def _entry(self, report):
        subject = statutory.subject_of(report)
        return statutory.Entry(subject, report, _due(self, report.kind, subject))

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_submitted_on(self, report):
        return self._entry(report).submitted_on

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_submitted_by(self, report):
        if report.status != SubmissionStatus.SUBMITTED or report.submitted_by is None:
            return None
        return user_display(report.submitted_by)

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_due(self, report):
        return self._entry(report).due

    def get_late(self, report) -> bool:
        return self._entry(report).late

    def get_editable(self, report) -> bool:
        return statutory.can_write(statutory.subject_of(report), request_user(self))

    def _url(self, name, report):
        which, key = statutory.address(statutory.subject_of(report))
        return reverse(f"statutory:{name}", args=[report.kind, which, key])

    def get_page_url(self, report) -> str:
        return self._url("report", report)

    def get_docx_url(self, report) -> str:
        return self._url("docx", report)

    def get_xlsx_url(self, report) -> str:
        return self._url("xlsx", report)


# The bodies (the page's form: reports/forms.py) -----------------------------------------------------------
class StatutoryReportTextsSerializer(serializers.Serializer):
    """The parts the county writes; each left out keeps what the report holds."""

    as_of = serializers.DateField(
        required=False, help_text="数据截至（不晚于今天；报告中的数字取台账在该日结束时的状态）"
    )
    work_done = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, help_text="工作开展情况"
    )
    problems = serializers.CharField(
        max_length=3000, required=False, allow_blank=True, help_text="存在的问题"
    )
    next_steps = serializers.CharField(
        max_length=3000, required=False, allow_blank=True, help_text="下一步工作"
    )


class StatutoryReportSaveSerializer(StatutoryReportTextsSerializer):
    """PATCH {id}/ and POST {id}/submit/: the version read (a report saved by someone else since is refused)."""

    version = serializers.IntegerField(min_value=1, help_text="读取时的版本（version）")


class StatutoryReportCreateSerializer(StatutoryReportTextsSerializer):
    """POST /statutory-reports/: whose report of which kind; the version is needed once the report exists."""

    kind = serializers.ChoiceField(choices=ReportKind.choices, help_text="报告")
    county = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Jurisdiction.objects.counties().defer("boundary"),
        required=False,
        allow_null=True,
        default=None,
        help_text="县区代码（县区、经开区的报告）",
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="部门 id（市直部门的报告）",
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="读取时的版本（报告已存在时必填）",
    )

    def validate(self, data):
        county, department = data.get("county"), data.get("department")
        if (county is None) == (department is None):
            raise serializers.ValidationError(
                {"county": "请给出县区代码（county）或部门 id（department），二者选一。"}
            )
        subject = statutory.Subject(county=county, department=department)
        if not statutory.can_read(subject, request_user(self)):
            field = "county" if county is not None else "department"
            raise serializers.ValidationError({field: f"“{subject.name}”不在您的范围内。"})
        data["subject"] = subject
        return data


class StatutoryRegisterEntrySerializer(serializers.Serializer):
    subject_name = serializers.CharField(source="subject.name", help_text="报送单位")
    county = serializers.CharField(
        source="subject.county.code", allow_null=True, default=None, help_text="县区代码"
    )
    department = serializers.IntegerField(
        source="subject.department.pk", allow_null=True, default=None, help_text="部门 id"
    )
    report = serializers.IntegerField(
        source="report.pk", allow_null=True, default=None, help_text="报告 id（未填写为 null）"
    )
    status = serializers.ChoiceField(
        source="report.status",
        choices=SubmissionStatus.choices,
        allow_null=True,
        default=None,
        help_text="报告状态（未填写为 null）",
    )
    submitted = serializers.BooleanField()
    submitted_at = serializers.SerializerMethodField()
    submitted_by = serializers.SerializerMethodField()
    due = serializers.DateField(allow_null=True, help_text="期限")
    late = serializers.BooleanField(help_text="逾期")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_submitted_at(self, entry):
        return (
            serializers.DateTimeField().to_representation(entry.report.submitted_at)
            if entry.submitted
            else None
        )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_submitted_by(self, entry):
        if not entry.submitted or entry.report.submitted_by is None:
            return None
        return user_display(entry.report.submitted_by)


class StatutoryRegisterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    total = serializers.IntegerField(help_text="应报送的单位数（您的范围内）")
    sent = serializers.IntegerField(help_text="已报送")
    late = serializers.IntegerField(help_text="逾期")
    entries = StatutoryRegisterEntrySerializer(
        many=True, help_text="各报送单位（status=unsent 时只列未报送的）"
    )


UNSENT = "unsent"
REGISTER_PARAMS = ("kind", "status", "format")


def _register_params(request):
    """kind and status of GET register/, strictly (core/rest.py's rules for any other list)."""
    query = request.query_params
    unknown = sorted(set(query) - set(REGISTER_PARAMS))
    if unknown:
        listed = "、".join(name[:30] for name in unknown[:5])
        raise exceptions.ValidationError(
            {
                "detail": [f"不支持的查询参数：{listed}。可用参数：{'、'.join(sorted(REGISTER_PARAMS))}。"],
                **{name[:30]: ["不支持的查询参数。"] for name in unknown[:5]},
            }
        )
    repeated = sorted(name for name, values in query.lists() if len(values) > 1)
    if repeated:
        raise exceptions.ValidationError(
            {
                "detail": [f"查询参数只能各给一次：{'、'.join(repeated)}。"],
                **{n: ["只能给一次。"] for n in repeated},
            }
        )
    kind = query.get("kind") or ReportKind.SURVEY
    if kind not in ReportKind.values:
        raise exceptions.ValidationError(
            {"kind": [f"没有这种报告“{kind[:20]}”，可选：{'、'.join(ReportKind.values)}。"]}
        )
    wanted = query.get("status") or ""
    if wanted not in ("", UNSENT):
        raise exceptions.ValidationError(
            {"status": [f"应为 unsent（只看未报送）或留空，收到“{wanted[:20]}”。"]}
        )
    return ReportKind(kind), wanted == UNSENT


class StatutoryReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Statutory reports in the caller's scope (the city all; a county or department its own). Filters: kind,
    status, county, department, ordering. POST writes a subject's report (the first save creates it), PATCH
    saves the written parts over the version read, POST {id}/submit/ sends it; GET register/ is the register."""

    queryset = StatutoryReport.objects.all()
    serializer_class = StatutoryReportSerializer
    filterset_class = StatutoryReportFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            StatutoryReport.objects.visible_to(self.request.user)
            .select_related("county", "department", "submitted_by")
            .defer("county__boundary")
            .order_by("kind", "county__code", "department__order", "id")
        )

    def handle_exception(self, exc):
        # A service's refusal keeps its Chinese message (DRF would answer its generic one).
        if isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)

    def _check_writer(self, subject):
        """As the page: a subject the caller reads but does not own (the city) is a 403, before the body."""
        if not statutory.can_write(subject, self.request.user):
            raise exceptions.PermissionDenied(statutory.NOT_WRITER)

    def _save(self, report, data, version):
        return statutory.save_report(
            report,
            user=self.request.user,
            as_of=data.get("as_of", report.as_of),
            work_done=data.get("work_done", report.work_done),
            problems=data.get("problems", report.problems),
            next_steps=data.get("next_steps", report.next_steps),
            expected_version=version,
        )

    def _answer(self, report, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=report.pk)).data, status=code)

    @extend_schema(
        request=StatutoryReportCreateSerializer,
        responses={201: StatutoryReportSerializer, 200: StatutoryReportSerializer},
        summary="填写报告：首次保存新建（201），报告已存在时须带 version 保存（200）",
    )
    def create(self, request, *args, **kwargs):
        body = StatutoryReportCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        subject, version = data.pop("subject"), data.pop("version")
        self._check_writer(subject)
        report = statutory.report_for(data.pop("kind"), subject, request.user)
        existed = report.pk is not None
        if existed and version is None:
            raise ValidationError(
                {
                    "version": f"{subject.name}的该报告已存在（id {report.pk}，第 {report.version} 版）："
                    "请带上读取时的 version 保存，或以 PATCH 修改。"
                }
            )
        report = self._save(report, data, version)
        return self._answer(report, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=StatutoryReportSaveSerializer, responses=StatutoryReportSerializer, summary="保存填写的内容"
    )
    def partial_update(self, request, *args, **kwargs):
        report = self.get_object()
        self._check_writer(statutory.subject_of(report))
        body = StatutoryReportSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        return self._answer(self._save(report, data, data.pop("version")))

    @extend_schema(
        request=StatutoryReportSaveSerializer,
        responses=StatutoryReportSerializer,
        summary="报送市生态环境局（可同时保存填写的内容；三部分须各至少 10 个字）",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        report = self.get_object()
        self._check_writer(statutory.subject_of(report))
        body = StatutoryReportSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        # The page's 报送: save what was sent over the version read, then send.
        report = self._save(report, data, data.pop("version"))
        return self._answer(statutory.submit_report(report, user=request.user))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "kind", str, enum=ReportKind.values, description="报告（默认 report_survey）", required=False
            ),
            OpenApiParameter(
                "status", str, enum=[UNSENT], description="unsent：只列未报送的", required=False
            ),
        ],
        responses=StatutoryRegisterSerializer,
        summary="报送登记：各单位是否报送、何时报送、是否逾期",
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def register(self, request):
        kind, unsent_only = _register_params(request)
        entries = statutory.register(kind, request.user)
        shown = [e for e in entries if not e.submitted] if unsent_only else entries
        return Response(
            StatutoryRegisterSerializer(
                {
                    "kind": kind,
                    "total": len(entries),
                    "sent": sum(1 for e in entries if e.submitted),
                    "late": sum(1 for e in entries if e.late),
                    "entries": shown,
                }
            ).data
        )
