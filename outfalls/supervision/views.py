"""Enforcement pages: the case register (search, filters, sorting, export), opening a case (also from a report,
a tracing case, an exceedance or an entity's report), a case's page with its steps and evidence, and the
entities' 借道排污 reports. Thin: scope from visible_to/editable_by (404 outside), rules in services.py."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from outfalls.core.choices import FollowUp
from outfalls.core.forms import add_service_errors, error_text
from outfalls.core.params import parse_id, parse_int
from outfalls.core.scopes import scope_of
from outfalls.core.services import attachments_for, labelled_status_changes
from outfalls.core.spreadsheets import csv_writer
from outfalls.core.views import ScopedListView, apply_filter

from . import services
from .choices import STEP_NAMES, CaseSource, CaseStatus, EntityReportStatus
from .filters import CaseFilter, EntityReportFilter
from .forms import CaseOpenForm, EntityReportForm, EvidenceForm, ReasonForm, StepForm
from .models import EnforcementCase, EntityReport


def case_rows(queryset):
    return queryset.select_related("county").defer("county__boundary")


# The register ----------------------------------------------------------------------------------------------
class CaseListView(ScopedListView):
    model = EnforcementCase
    filterset_class = CaseFilter
    template_name = "supervision/case_list.html"

    def base_queryset(self):
        return case_rows(EnforcementCase.objects.all())

    def get_queryset(self):
        rows = super().get_queryset()
        return rows if rows.query.order_by else rows.order_by("-opened_on", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_open"] = services.can_open(self.request.user)
        return context


EXPORT_HEADER = [
    "案件编号",
    "案件类型",
    "属地县区",
    "案件来源",
    "来源说明",
    "案情摘要",
    "涉及排污口",
    "涉及单位",
    "状态",
    "立案日期",
    "调查终结日期",
    "告知日期",
    "决定日期",
    "决定结果",
    "决定书文号",
    "罚款金额（元）",
    "法律依据",
    "执行日期",
    "结案日期",
]


def _day(value):
    return value.isoformat() if value else ""


@login_required
def case_export(request):
    rows = case_rows(EnforcementCase.objects.visible_to(request.user)).prefetch_related("outfalls", "units")
    _, rows = apply_filter(CaseFilter, request, rows)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv_writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for c in rows.order_by("number"):
        writer.writerow(
            [
                c.number,
                c.get_kind_display(),
                c.county.name,
                c.get_source_display(),
                c.source_label,
                c.summary,
                "、".join(o.code for o in c.outfalls.all()),
                "、".join(u.name for u in c.units.all()),
                c.get_status_display(),
                _day(c.opened_on),
                _day(c.investigated_on),
                _day(c.notified_on),
                _day(c.decided_on),
                c.get_outcome_display() if c.outcome else "",
                c.decision_number,
                f"{c.penalty_amount:.2f}" if c.penalty_amount is not None else "",
                c.legal_basis,
                _day(c.enforced_on),
                _day(c.closed_on),
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"执法案件-{timezone.localdate():%Y%m%d}.csv"
    )
    return response


# Opening -----------------------------------------------------------------------------------------------------
def _source(request, data):
    """(source kind, the source object or None, its facts or None) named by the request."""
    source = data.get("source") or CaseSource.DIRECT
    if source == CaseSource.DIRECT:
        return source, None, None
    source_id = parse_id(data.get("source_id") or data.get("id"), "source_id", label="来源编号")
    obj = services.source_object(source, source_id, request.user)
    return source, obj, services.source_facts(source, obj)


@login_required
def case_new(request):
    if not services.can_open(request.user):
        raise PermissionDenied("只有市生态环境局和县区可以立案。")
    data = request.POST if request.method == "POST" else request.GET
    try:
        source, obj, facts = _source(request, data)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("supervision:case_list")
    if request.method == "POST":
        form = CaseOpenForm(request.POST, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = services.open_case(
                    user=request.user,
                    kind=d["kind"],
                    county=d["county"],
                    summary=d["summary"],
                    opened_on=d["opened_on"],
                    outfalls=d["outfall_codes"],
                    units=d["unit_names"],
                    source=source,
                    source_obj=obj,
                )
            except ValidationError as error:
                add_service_errors(form, error, {"outfalls": "outfall_codes", "units": "unit_names"})
            else:
                messages.success(request, f"已立案：案件 {case.number}。")
                return redirect("supervision:case_detail", pk=case.pk)
        status = 400
    else:
        initial = {"source": source, "source_id": obj.pk if obj is not None else None}
        if facts:
            initial.update(
                kind=facts["kind"],
                county=facts["county_id"],
                summary=facts["summary"][:2000],
                outfall_codes=" ".join(o.code for o in facts["outfalls"]),
                unit_names="\n".join(u.name for u in facts["units"]),
            )
        form = CaseOpenForm(initial=initial, user=request.user)
        status = 200
    earlier = services.cases_from(obj) if obj is not None else []
    return render(
        request,
        "supervision/case_new.html",
        {"form": form, "facts": facts, "source_obj": obj, "earlier": earlier},
        status=status,
    )


# A case ------------------------------------------------------------------------------------------------------
def _visible(request, pk):
    return get_object_or_404(
        case_rows(EnforcementCase.objects.visible_to(request.user)).select_related("opened_by"), pk=pk
    )


def _context(request, case, **forms):
    user = request.user
    steps = services.next_steps(case, user)
    step_forms = []
    for status in steps:
        form = forms.get(status) or StepForm(status=status, user=user, initial={"version": case.version})
        step_forms.append((status, STEP_NAMES[status], form))
    evidence = list(attachments_for(case))
    can_edit = services.editable(case, user)
    return {
        "case": case,
        "outfalls": case.outfalls.select_related("county", "water_body").defer(
            "county__boundary", "water_body__geometry"
        ),
        "units": case.units.all(),
        "step_forms": step_forms,
        "photos": [a for a in evidence if a.is_photo],
        "documents": [a for a in evidence if not a.is_photo],
        "evidence_form": forms.get("evidence") or EvidenceForm() if can_edit and case.is_open else None,
        "history": labelled_status_changes(case, CaseStatus),
        "decide_elsewhere": can_edit and not steps and case.is_open,
        "S": CaseStatus,
    }


@login_required
def case_detail(request, pk):
    case = _visible(request, pk)
    return render(request, "supervision/case_detail.html", _context(request, case))


@login_required
@require_POST
def case_step(request, pk, status):
    case = _visible(request, pk)
    if status not in CaseStatus.values or status == CaseStatus.OPENED:
        return redirect("supervision:case_detail", pk=pk)
    form = StepForm(request.POST, status=status, user=request.user)
    if form.is_valid():
        try:
            services.record_step(
                case,
                status,
                user=request.user,
                expected_version=form.cleaned_data.get("version"),
                **form.step_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error, {"units": "unit_names"})
        else:
            messages.success(request, f"已记录“{STEP_NAMES[status]}”。")
            return redirect("supervision:case_detail", pk=pk)
    messages.error(request, "未完成，请查看表单中的提示；您填写的内容已保留。")
    case = _visible(request, pk)
    return render(
        request, "supervision/case_detail.html", _context(request, case, **{status: form}), status=400
    )


@login_required
@require_POST
def case_evidence(request, pk):
    case = _visible(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.add_evidence(case, d["file"], user=request.user, kind=d["kind"], title=d["title"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "证据已保存。")
            return redirect(reverse("supervision:case_detail", args=[pk]) + "#evidence")
    messages.error(request, "证据未保存，请查看表单中的提示。")
    return render(request, "supervision/case_detail.html", _context(request, case, evidence=form), status=400)


# Entity reports -----------------------------------------------------------------------------------------------
@login_required
def entity_report_list(request):
    rows = EntityReport.objects.visible_to(request.user).select_related("unit", "outfall", "county", "case")
    filterset, rows = apply_filter(EntityReportFilter, request, rows)
    waiting_first = Case(When(status=EntityReportStatus.SUBMITTED, then=0), default=1)
    rows = rows.order_by(waiting_first, "-reported_at", "-id")
    page = Paginator(rows, 50).get_page(parse_int(request.GET.get("page"), "page", default=1, minimum=1))
    return render(
        request,
        "supervision/entity_report_list.html",
        {
            "page": page,
            "filter": filterset,
            "can_report": bool(scope_of(request.user).unit_ids),
        },
    )


@login_required
def entity_report_new(request):
    if not scope_of(request.user).unit_ids:
        raise PermissionDenied("只有责任主体可以报告借道排污。")
    if request.method == "POST":
        form = EntityReportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                report = services.submit_entity_report(
                    user=request.user,
                    unit=d["unit"],
                    outfall=d["outfall"],
                    description=d["description"],
                    found_on=d["found_on"],
                    suspect=d["suspect"],
                    files=d["files"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"已报告，送{report.county.name}处理。")
                return redirect("supervision:entity_report_detail", pk=report.pk)
        status = 400
    else:
        form = EntityReportForm(user=request.user)
        status = 200
    return render(request, "supervision/entity_report_new.html", {"form": form}, status=status)


def _entity_report(request, pk):
    return get_object_or_404(
        EntityReport.objects.visible_to(request.user).select_related("unit", "outfall", "county", "case"),
        pk=pk,
    )


def _entity_context(request, report, reason_form=None):
    handles = EntityReport.objects.editable_by(request.user).filter(pk=report.pk).exists()
    return {
        "r": report,
        "attachments": attachments_for(report),
        "history": labelled_status_changes(report, EntityReportStatus, FollowUp),
        "handles": handles and report.status == EntityReportStatus.SUBMITTED,
        "reason_form": reason_form or ReasonForm(),
    }


@login_required
def entity_report_detail(request, pk):
    report = _entity_report(request, pk)
    return render(request, "supervision/entity_report_detail.html", _entity_context(request, report))


@login_required
@require_POST
def entity_report_dismiss(request, pk):
    report = _entity_report(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.dismiss_entity_report(report, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已不予立案，报告单位可看到理由。")
            return redirect("supervision:entity_report_detail", pk=pk)
    return render(
        request,
        "supervision/entity_report_detail.html",
        _entity_context(request, report, reason_form=form),
        status=400,
    )
