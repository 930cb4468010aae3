"""The handlers' side (login): the to-do list of reports routed to one's county or department, and a report's
page with its photos, the reports of the same problem to merge, and the handling steps. Thin: the rules are
in portal/services.py, the scope in Report.objects.visible_to / editable_by (404 outside it)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from outfalls.core.choices import FollowUp
from outfalls.core.params import parse_id, parse_int
from outfalls.core.services import attachments_for, labelled_status_changes
from outfalls.survey.models import Campaign

from . import services
from .choices import OPEN_STATUSES, REPORT_STEPS, ReportCategory, ReportStatus
from .forms import AssignForm, NoteForm, ReplyForm
from .models import Report

STATUS_FILTERS = [("open", "待办（未答复）"), ("all", "全部"), *ReportStatus.choices]


@login_required
def report_list(request):
    wanted = request.GET.get("status") or "open"
    if wanted not in dict(STATUS_FILTERS):
        wanted = "open"
    rows = Report.objects.visible_to(request.user)
    if wanted == "open":
        rows = services.open_reports(request.user).order_by("deadline", "created_at")
    elif wanted != "all":
        rows = rows.filter(status=wanted)
    rows = rows.select_related("county", "department", "outfall")
    page = Paginator(rows, 50).get_page(parse_int(request.GET.get("page"), "page", default=1, minimum=1))
    return render(
        request,
        "portal/handling_list.html",
        {"page": page, "wanted": wanted, "status_filters": STATUS_FILTERS},
    )


def _report(request, pk):
    return get_object_or_404(
        Report.objects.visible_to(request.user).select_related(
            "county", "department", "outfall", "merged_into"
        ),
        pk=pk,
    )


@login_required
def report_detail(request, pk):
    found = _report(request, pk)
    editable = Report.objects.editable_by(request.user).filter(pk=found.pk).exists()
    steps = REPORT_STEPS[ReportStatus(found.status)] if editable else ()
    photos = [a for a in attachments_for(found) if a.is_photo]
    return render(
        request,
        "portal/handling_detail.html",
        {
            "r": found,
            "editable": editable,
            "steps": steps,
            "photos": photos,
            "duplicates": services.duplicates_of(found, request.user)
            if found.status in OPEN_STATUSES
            else [],
            "history": labelled_status_changes(found, ReportStatus, FollowUp),
            "assign_form": AssignForm(initial={"assignee": found.assignee}),
            "note_form": NoteForm(),
            "reply_form": ReplyForm(initial={"reply": found.reply}),
            "campaigns": Campaign.objects.editable_by(request.user).filter(county_id=found.county_id)
            if editable and found.lon is not None
            else [],
            "categories": ReportCategory,
            "S": ReportStatus,
        },
    )


@login_required
@require_POST
def report_action(request, pk, action):
    found = _report(request, pk)
    post = request.POST
    try:
        if action == "assign":
            services.assign_report(
                found, user=request.user, assignee=post.get("assignee"), note=post.get("note", "")
            )
        elif action == "investigate":
            services.investigate_report(found, user=request.user, note=post.get("note", ""))
        elif action == "reply":
            services.reply_report(found, user=request.user, reply=post.get("reply"))
        elif action == "close":
            services.close_report(found, user=request.user, note=post.get("note", ""))
        elif action == "merge":
            into = get_object_or_404(
                Report.objects.visible_to(request.user), pk=parse_id(post.get("into"), "into", label="合并到")
            )
            services.merge_report(found, into, user=request.user, note=post.get("note", ""))
        elif action == "tracing":
            case = services.open_tracing_case(found, user=request.user)
            messages.success(request, f"已立案溯源（案件 {case.pk}）。")
        elif action == "field_point":
            campaign = get_object_or_404(
                Campaign.objects.editable_by(request.user),
                pk=parse_id(post.get("campaign"), "campaign", label="排查任务"),
            )
            point = services.open_field_point(found, user=request.user, campaign=campaign)
            messages.success(request, f"已转为现场核查点 {point.number}。")
        else:
            return redirect("handling:detail", pk=found.pk)
    except ValidationError as error:
        messages.error(request, "未完成：" + "；".join(error.messages))
    else:
        if action not in ("tracing", "field_point"):
            messages.success(request, "已保存。")
    return redirect("handling:detail", pk=found.pk)
