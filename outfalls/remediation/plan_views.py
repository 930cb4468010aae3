"""一口一策, 销号, retained list, supervision, notice and dashboard pages. Thin: scope comes from
visible_to/editable_by, rules from services.py, figures from supervision.py."""

import io
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from outfalls.core import params
from outfalls.core.downloads import attachment
from outfalls.core.forms import add_service_errors
from outfalls.core.models import Attachment
from outfalls.core.scopes import scope_of
from outfalls.core.services import attachments_for, labelled_status_changes
from outfalls.core.spreadsheets import csv_writer
from outfalls.core.views import ScopedListView, apply_filter
from outfalls.registry import ledger_export
from outfalls.registry.choices import OUTFALL_CHANGE_CHOICES, LifecycleStatus
from outfalls.registry.models import Outfall
from outfalls.registry.panels import supervision_panels

from . import jobs as remediation_jobs
from . import notice, proposals, services, supervision
from .choices import PlanStatus
from .models import Programme, ProgressUpdate, RectificationPlan
from .plan_filters import PlanFilter, RetainedFilter
from .plan_forms import ApproveForm, PlanForm, ProgressForm, ReasonForm, SubmitForm


# List and export ---------------------------------------------------------------------------------------------
class PlanListView(ScopedListView):
    model = RectificationPlan
    filterset_class = PlanFilter
    template_name = "remediation/plan_list.html"

    def base_queryset(self):
        return supervision.list_rows(RectificationPlan.objects.all())


CSV_HEADER = [
    "排污口编码",
    "入河排污口名称",
    "县区",
    "受纳水体",
    "整治措施",
    "具体措施",
    "整治责任单位",
    "整治期限",
    "过渡期至",
    "所属专项",
    "完成进度（%）",
    "状态",
    "是否逾期",
]


@login_required
def plan_export(request):
    rows = supervision.list_rows(RectificationPlan.objects.visible_to(request.user))
    _, rows = apply_filter(PlanFilter, request, rows)
    today = timezone.localdate()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv_writer(buffer)
    writer.writerow(CSV_HEADER)
    for plan in rows.order_by("outfall__county__code", "deadline", "outfall__code"):
        writer.writerow(
            [
                plan.outfall.code,
                plan.outfall.name,
                plan.outfall.county.name if plan.outfall.county_id else "",
                plan.outfall.water_body.name if plan.outfall.water_body_id else "",
                plan.get_measure_display(),
                plan.actions,
                plan.responsible_unit.name if plan.responsible_unit_id else plan.responsible_org,
                plan.deadline.isoformat(),
                plan.transitional_until.isoformat() if plan.transitional_until else "",
                plan.programme.name if plan.programme_id else "",
                plan.percent_done,
                plan.get_status_display(),
                "是" if plan.is_overdue else "否",
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment(f"一口一策整治方案-{today:%Y%m%d}.csv")
    return response


# Create and edit ---------------------------------------------------------------------------------------------
def _scoped(proposal, user):
    if proposal is not None:
        proposals.scoped_reasons([proposal], user)
    return proposal


def _plan_fields(form):
    return {name: form.cleaned_data.get(name) for name in form.Meta.fields}


@login_required
def plan_create(request):
    outfall_id = params.parse_id(
        request.GET.get("outfall") or request.POST.get("outfall"),
        "outfall",
        default=None,
        label="排污口 id（outfall）",
    )
    if outfall_id is None:
        messages.error(request, "请从排污口页面或整治建议页面进入“制定整治方案”（缺少排污口）。")
        return redirect("remediation:plan_list")
    outfall = get_object_or_404(Outfall.objects.editable_by(request.user).for_list(), pk=outfall_id)
    existing = RectificationPlan.objects.filter(outfall=outfall).first()
    if existing is not None:
        messages.info(request, "该排污口已有整治方案，已转到原方案。")
        return redirect("remediation:plan_detail", pk=existing.pk)
    proposal = services.decided_proposal(outfall)
    if request.method == "POST":
        form = PlanForm(request.POST, user=request.user, outfall=outfall)
        if form.is_valid():
            try:
                plan = services.create_plan(
                    outfall, user=request.user, proposal=proposal, **_plan_fields(form)
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"已制定整治方案：{outfall}")
                return redirect("remediation:plan_detail", pk=plan.pk)
        status = 400
    else:
        initial = {
            "measure": services.proposal_measure(proposal),
            "deadline": services.default_deadline(outfall),
            "responsible_unit": outfall.responsible_entity_id,
        }
        if not outfall.responsible_entity_id and outfall.responsibility_note:
            initial["responsible_org"] = outfall.responsibility_note[:128]
        form = PlanForm(initial=initial, user=request.user, outfall=outfall)
        status = 200
    context = {"form": form, "outfall": outfall, "proposal": _scoped(proposal, request.user), "plan": None}
    return render(request, "remediation/plan_form.html", context, status=status)


@login_required
def plan_edit(request, pk):
    plan = get_object_or_404(
        RectificationPlan.objects.editable_by(request.user).select_related("outfall"), pk=pk
    )
    if plan.status not in services.OPEN_FOR_WORK:
        messages.error(request, f"方案状态为“{plan.get_status_display()}”，不能修改。")
        return redirect("remediation:plan_detail", pk=plan.pk)
    if request.method == "POST":
        form = PlanForm(request.POST, instance=plan, user=request.user, outfall=plan.outfall)
        if form.is_valid():
            try:
                services.update_plan(
                    plan, user=request.user, expected_version=form.expected_version(), **_plan_fields(form)
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "整治方案已保存。")
                return redirect("remediation:plan_detail", pk=plan.pk)
        status = 400
    else:
        form = PlanForm(instance=plan, user=request.user, outfall=plan.outfall)
        status = 200
    context = {
        "form": form,
        "outfall": plan.outfall,
        "proposal": _scoped(plan.proposal, request.user),
        "plan": plan,
    }
    return render(request, "remediation/plan_form.html", context, status=status)


# Plan page ---------------------------------------------------------------------------------------------------
def _plan_context(request, plan, **forms):
    user = request.user
    updates = list(plan.updates.select_related("created_by"))
    by_update = {}
    if updates:
        attachments = Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(ProgressUpdate),
            object_id__in=[u.pk for u in updates],
        ).order_by("id")
        for a in attachments:
            by_update.setdefault(a.object_id, []).append(a)
    for u in updates:
        files = by_update.get(u.pk, [])
        u.photos = [a for a in files if a.is_photo]
        u.documents = [a for a in files if not a.is_photo]
    plan_files = list(attachments_for(plan).order_by("id"))
    editable = services.can_edit_outfall(user, plan.outfall)
    open_for_work = plan.status in services.OPEN_FOR_WORK
    reviewer = services.can_review(user)
    context = {
        "plan": plan,
        "outfall": plan.outfall,
        "updates": updates,
        "plan_files": plan_files,
        "evidence_count": sum(len(v) for v in by_update.values()) + len(plan_files),
        "plan_changes": labelled_status_changes(plan, PlanStatus),
        "outfall_changes": labelled_status_changes(plan.outfall, *OUTFALL_CHANGE_CHOICES),
        "can_edit": editable and open_for_work,
        "can_submit": open_for_work and services.can_submit(user, plan),
        "can_review": reviewer and plan.status == PlanStatus.SUBMITTED,
        "can_reopen": reviewer and plan.status == PlanStatus.APPROVED,
        # A refused step (POSTed to its own address) reloads as the plan page (templates/base.html).
        "reload_url": reverse("remediation:plan_detail", args=[plan.pk]),
    }
    if context["can_edit"]:
        context["progress_form"] = forms.get("progress_form") or ProgressForm(
            initial={"date": timezone.localdate(), "percent": plan.percent_done}
        )
    if context["can_submit"]:
        context["submit_form"] = forms.get("submit_form") or SubmitForm()
    if context["can_review"]:
        context["return_form"] = forms.get("return_form") or ReasonForm(prefix="return")
        context["closeout_gaps"] = services.closeout_gaps(plan)
        context["approve_form"] = forms.get("approve_form") or ApproveForm(**_approve_kwargs(plan))
    if context["can_reopen"]:
        context["reopen_form"] = forms.get("reopen_form") or ReasonForm(prefix="reopen")
    return context


def _visible_plan(request, pk):
    queryset = RectificationPlan.objects.visible_to(request.user).select_related(
        "outfall",
        "outfall__county",
        "outfall__water_body",
        "outfall__merged_into",
        "responsible_unit",
        "merge_target",
        "programme",
        "proposal",
        "created_by",
        "approved_by",
    )
    return get_object_or_404(queryset, pk=pk)


@login_required
def plan_detail(request, pk):
    plan = _visible_plan(request, pk)
    return render(request, "remediation/plan_detail.html", _plan_context(request, plan))


def _approve_kwargs(plan):
    return {"keeps": services.closeout_keeps(plan), "gaps": bool(services.closeout_gaps(plan))}


def _step(request, pk, form_class, call, form_key, success, *, prefix=None, files=False, form_kwargs=None):
    """One POSTed workflow step: bind the form, call the service, show errors on the plan page (400).
    form_kwargs(plan): more arguments for the form."""
    plan = _visible_plan(request, pk)
    kwargs = {"prefix": prefix} if prefix else {}
    if form_kwargs is not None:
        kwargs.update(form_kwargs(plan))
    form = form_class(request.POST, request.FILES if files else None, **kwargs)
    if form.is_valid():
        try:
            call(plan, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect("remediation:plan_detail", pk=plan.pk)
    messages.error(request, "操作未完成，请查看表单中的提示。")
    plan.refresh_from_db()
    context = _plan_context(request, plan, **{form_key: form})
    context[form_key] = form
    return render(request, "remediation/plan_detail.html", context, status=400)


@login_required
@require_POST
def plan_progress(request, pk):
    def call(plan, data):
        services.add_progress(
            plan,
            user=request.user,
            date=data["date"],
            percent=data["percent"],
            note=data["note"],
            photos=data["photos"],
            documents=data["documents"],
        )

    return _step(request, pk, ProgressForm, call, "progress_form", "已填报进展。", files=True)


@login_required
@require_POST
def plan_submit(request, pk):
    def call(plan, data):
        services.submit_closeout(plan, user=request.user, note=data["note"], files=data["files"])

    return _step(
        request, pk, SubmitForm, call, "submit_form", "已提交销号申请，等待市生态环境局审核。", files=True
    )


@login_required
@require_POST
def plan_return(request, pk):
    def call(plan, data):
        services.return_closeout(plan, user=request.user, reason=data["reason"])

    return _step(request, pk, ReasonForm, call, "return_form", "已退回销号申请。", prefix="return")


@login_required
@require_POST
def plan_approve(request, pk):
    def call(plan, data):
        services.approve_closeout(
            plan,
            user=request.user,
            note=data["note"],
            register=data.get("register", False),
            accept_gaps=data.get("accept_gaps", False),
        )

    return _step(request, pk, ApproveForm, call, "approve_form", "已通过销号。", form_kwargs=_approve_kwargs)


@login_required
@require_POST
def plan_reopen(request, pk):
    def call(plan, data):
        services.reopen_closeout(plan, user=request.user, reason=data["reason"])

    return _step(
        request, pk, ReasonForm, call, "reopen_form", "已重新打开，排污口回到整治中。", prefix="reopen"
    )


# Programmes --------------------------------------------------------------------------------------------------
class ProgrammeListView(LoginRequiredMixin, ListView):
    template_name = "remediation/programme_list.html"
    context_object_name = "programmes"

    def get_queryset(self):
        visible = RectificationPlan.objects.visible_to(self.request.user)
        today = timezone.localdate()
        programmes = Programme.objects.annotate(
            total=Count("plans", filter=Q(plans__in=visible)),
            completed=Count("plans", filter=Q(plans__in=visible, plans__status=PlanStatus.APPROVED)),
            overdue=Count("plans", filter=Q(plans__in=visible.filter(supervision.overdue_q(today)))),
        )
        # Programmes are citywide; the list shows a county officer those their own plans belong to.
        return programmes if scope_of(self.request.user).citywide else programmes.filter(total__gt=0)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for p in context["programmes"]:
            p.completion_rate = supervision.rate(p.completed, p.total)
        return context


class ProgrammeDetailView(LoginRequiredMixin, DetailView):
    model = Programme
    template_name = "remediation/programme_detail.html"
    context_object_name = "programme"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plans = list(
            supervision.list_rows(RectificationPlan.objects.visible_to(self.request.user))
            .filter(programme=self.object)
            .order_by("outfall__county__code", "deadline", "outfall__code")
        )
        groups = {}
        for plan in plans:
            groups.setdefault(plan.outfall.county.name if plan.outfall.county_id else "未填县区", []).append(
                plan
            )
        completed = sum(1 for p in plans if p.status == PlanStatus.APPROVED)
        context.update(
            groups=groups,
            total=len(plans),
            completed=completed,
            completion_rate=supervision.rate(completed, len(plans)),
        )
        return context


# Retained list (保留清单) --------------------------------------------------------------------------------------
def retained_rows(user):
    return Outfall.objects.for_list().visible_to(user).filter(status=LifecycleStatus.KEPT)


class RetainedListView(ScopedListView):
    model = Outfall
    filterset_class = RetainedFilter
    template_name = "remediation/retained_list.html"

    def get_queryset(self):
        queryset = retained_rows(self.request.user)
        self.filterset, rows = apply_filter(self.filterset_class, self.request, queryset)
        return rows if rows.query.order_by else rows.order_by("county__code", "code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["export_query"] = context["query_without_page"]
        return context


@login_required
def retained_export(request):
    """The retained list in the attachment-1 layout (registry.ledger_export), titled 保留…信息汇总表."""
    filterset, rows = apply_filter(RetainedFilter, request, retained_rows(request.user))
    code = filterset.form.cleaned_data.get("county") if filterset.is_bound and filterset.is_valid() else ""
    county = ledger_export.county_by_code(code) if code else None
    subject = ledger_export.export_subject(request.user, county)
    title_subject = "保留" if subject == ledger_export.CITYWIDE_SUBJECT else f"{subject}保留"
    handle = tempfile.TemporaryFile()
    ledger_export.write_xlsx(rows, handle, title_subject=title_subject)
    handle.seek(0)
    filename = f"保留入河排污口清单-{subject}-{timezone.localdate():%Y%m%d}.xlsx"
    response = FileResponse(handle, content_type=ledger_export.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment(filename)
    return response


# Supervision, notice, dashboard ------------------------------------------------------------------------------
@login_required
def supervision_page(request):
    user = request.user
    today = timezone.localdate()
    total = supervision.totals(user, today)
    counties = supervision.county_ranking(user, today)
    context = {
        "today": today,
        "total": total,
        "overdue": list(supervision.overdue_plans(user, today)[:200]),
        "due_soon": list(supervision.due_soon_plans(user, today)),
        "counties": counties,
        "departments": supervision.department_ranking(user, today),
        "lagging": supervision.lagging(counties, total.completion_rate),
        "due_soon_days": supervision.DUE_SOON_DAYS,
        "can_notice": notice.can_download(user),
        # Follow-ups of the other workflows (e.g. the setup review's overdue applications), by AppConfig hook.
        "follow_ups": supervision_panels(user, today),
    }
    without_plan = supervision.outfalls_without_plan(user)
    context["without_plan_count"] = without_plan.count()
    context["without_plan"] = shown = list(without_plan[:100])
    # The 制定方案 button only where plan_create would not 404 (one query for the rows shown).
    context["plannable_ids"] = set(
        Outfall.objects.editable_by(user).filter(pk__in=[o.pk for o in shown]).values_list("pk", flat=True)
    )
    return render(request, "remediation/supervision.html", context)


@login_required
@require_POST
def notice_start(request):
    """Make the notice on the task queue; its page offers the .docx when it is ready."""
    job = remediation_jobs.start_notice(request.user)
    return redirect("core:job_detail", pk=job.pk)


@login_required
def dashboard(request):
    data = supervision.dashboard_data(request.user)
    context = {
        "data": data,
        "total": supervision.totals(request.user),
        "json_url": reverse("remediation:dashboard_data"),
    }
    return render(request, "remediation/dashboard.html", context)


@login_required
def dashboard_data(request):
    return JsonResponse(supervision.dashboard_data(request.user))
