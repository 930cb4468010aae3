"""The statutory reports' pages: the register (who sent what and when, who is late), a county's report (write,
save, send; the figures as of its date; the .docx and the attachment-1 .xlsx), and the city's merged report.
Thin: the rules and documents are in statutory.py; a subject outside the user's scope is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from outfalls.core.documents import DOCX_CONTENT_TYPE
from outfalls.core.forms import add_service_errors
from outfalls.core.models import Department, Jurisdiction
from outfalls.core.params import parse_int
from outfalls.core.scopes import scope_of
from outfalls.registry.ledger_export import XLSX_CONTENT_TYPE

from . import statutory
from .choices import ReportKind
from .forms import StatutoryReportForm


def _kind(value):
    if value not in ReportKind.values:
        raise Http404("没有这种报告。")
    return ReportKind(value)


def _subject(request, which, key):
    """The county (by code) or department (by id) named in the address, if the user may read its reports."""
    if which == "county":
        subject = statutory.Subject(
            county=get_object_or_404(Jurisdiction.objects.counties().defer("boundary"), code=key)
        )
    elif which == "department" and key.isdigit():
        subject = statutory.Subject(department=get_object_or_404(Department, pk=int(key)))
    else:
        raise Http404("没有这个报送单位。")
    if not statutory.can_read(subject, request.user):
        raise Http404("不在您的范围内。")
    return subject


UNSENT = "unsent"


@login_required
def register(request):
    kind = _kind(request.GET.get("kind") or ReportKind.SURVEY)
    entries = statutory.register(kind, request.user)
    wanted = request.GET.get("status") or ""
    shown = [e for e in entries if not e.submitted] if wanted == UNSENT else entries
    page = Paginator(shown, 100).get_page(parse_int(request.GET.get("page"), "page", default=1, minimum=1))
    return render(
        request,
        "reports/statutory_register.html",
        {
            "kind": kind,
            "kinds": ReportKind,
            "unsent_only": wanted == UNSENT,
            "paginator": page.paginator,
            "page": page,
            "entries": [(e, *statutory.address(e.subject)) for e in page.object_list],
            "total": len(entries),
            "citywide": scope_of(request.user).citywide,
            "late": sum(1 for e in entries if e.late),
            "sent": sum(1 for e in entries if e.submitted),
        },
    )


@login_required
def report_page(request, kind, which, key):
    kind = _kind(kind)
    subject = _subject(request, which, key)
    report = statutory.report_for(kind, subject, request.user)
    editable = statutory.can_write(subject, request.user)
    status = 200
    form = None
    if editable:
        initial = {
            "as_of": report.as_of,
            "work_done": report.work_done,
            "problems": report.problems,
            "next_steps": report.next_steps,
            "version": report.version if report.pk else None,
        }
        form = StatutoryReportForm(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST":
            if form.is_valid():
                d = form.cleaned_data
                try:
                    report = statutory.save_report(
                        report,
                        user=request.user,
                        as_of=d["as_of"],
                        work_done=d["work_done"],
                        problems=d["problems"],
                        next_steps=d["next_steps"],
                        expected_version=d["version"],
                    )
                    if "submit" in request.POST:
                        report = statutory.submit_report(report, user=request.user)
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(
                        request, "已报送市生态环境局。" if "submit" in request.POST else "已保存。"
                    )
                    return redirect(request.path)
            status = 400
    elif request.method == "POST":
        raise PermissionDenied(statutory.NOT_WRITER)
    as_of = report.as_of
    counted = statutory.figures(as_of, subject)
    return render(
        request,
        "reports/statutory_report.html",
        {
            "kind": kind,
            "subject": subject,
            "report": report,
            "form": form,
            "due": statutory.due_date(kind, subject),
            "summary": statutory.summary_text(kind, as_of, subject, counted),
            "progress": statutory.progress_lines(kind, as_of, subject, counted),
            "lagging": statutory.lagging(kind, as_of, subject).count(),
            "which": which,
            "key": key,
        },
        status=status,
    )


def _download(content, content_type, filename):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def report_docx(request, kind, which, key):
    kind = _kind(kind)
    subject = _subject(request, which, key)
    report = statutory.report_for(kind, subject, request.user)
    content = statutory.build_docx(kind, report.as_of, subject, report if report.pk else None)
    return _download(content, DOCX_CONTENT_TYPE, f"{subject.name}{kind.label}-{report.as_of:%Y%m%d}.docx")


@login_required
def report_xlsx(request, kind, which, key):
    kind = _kind(kind)
    subject = _subject(request, which, key)
    report = statutory.report_for(kind, subject, request.user)
    content = statutory.build_xlsx(report.as_of, subject)
    return _download(
        content, XLSX_CONTENT_TYPE, f"{subject.name}入河排污口信息汇总表-{report.as_of:%Y%m%d}.xlsx"
    )


@login_required
def city_docx(request, kind):
    kind = _kind(kind)
    if not scope_of(request.user).citywide:
        raise Http404("全市汇总报告由市生态环境局查看。")
    as_of = statutory.due_date(kind, statutory.Subject()) or timezone.localdate()
    as_of = min(as_of, timezone.localdate())
    content = statutory.build_city_docx(kind, as_of)
    return _download(content, DOCX_CONTENT_TYPE, f"全市{kind.label}-{as_of:%Y%m%d}.docx")
