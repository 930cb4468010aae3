"""整治规则 pages: the rules with their hits, the proposal list, a proposal's decision. Thin: the rules are in
rules.py, the decisions in proposals.py. Scope: MeasureProposal.objects.visible_to(user) (404 outside)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from outfalls.core import params
from outfalls.core.choices import COUNTY_LEVELS
from outfalls.core.forms import add_service_errors, error_text
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.services import labelled_status_changes
from outfalls.core.views import ScopedListView
from outfalls.registry.choices import RectificationMeasure
from outfalls.registry.models import Outfall

from . import jobs as remediation_jobs
from . import proposals, rules
from .choices import ProposalStatus
from .models import MeasureProposal, RuleRun
from .proposal_forms import CURRENT, OverrideForm, ProposalFilter, RunForm, rule_q

MEASURE_BADGE = {
    "remove": "text-bg-danger",
    "merge": "text-bg-warning",
    "regularise": "text-bg-info",
    "none": "text-bg-secondary",
}
MEASURE_LABELS = dict(RectificationMeasure.choices)
STATUS_BADGE = {
    ProposalStatus.PENDING: "text-bg-warning",
    ProposalStatus.ACCEPTED: "text-bg-success",
    ProposalStatus.OVERRIDDEN: "text-bg-primary",
    ProposalStatus.SUPERSEDED: "text-bg-light",
}


def _run_form(user, data=None):
    scope = scope_of(user)
    counties = Jurisdiction.objects.filter(level__in=COUNTY_LEVELS).only("code", "name").order_by("code")
    if not scope.can_edit_citywide:
        counties = counties.filter(pk__in=scope.county_ids)
    return RunForm(data, counties=list(counties), citywide=scope.can_edit_citywide)


def _visible_runs(user):
    scope = scope_of(user)
    runs = RuleRun.objects.select_related("run_by", "county").defer("county__boundary")
    if scope.citywide:
        return runs
    return runs.filter(county_id__in=scope.county_ids) if scope.county_ids else runs.none()


@login_required
def rule_list(request):
    current = MeasureProposal.objects.visible_to(request.user).exclude(status=ProposalStatus.SUPERSEDED)
    counts = current.aggregate(
        **{name: Count("id", filter=rule_q(name)) for name in rules.RULES},
        total=Count("id"),
        pending=Count("id", filter=Q(status=ProposalStatus.PENDING)),
    )
    rows = [
        {
            "rule": r,
            "count": counts[r.name],
            "badge": MEASURE_BADGE.get(r.measure, ""),
            "url": reverse("remediation:proposal_list") + f"?rule={r.name}&status={CURRENT}",
        }
        for r in rules.RULES.values()
    ]
    return render(
        request,
        "remediation/rule_list.html",
        {
            "rows": rows,
            "total": counts["total"],
            "pending": counts["pending"],
            "last_run": _visible_runs(request.user).first(),
            "can_run": proposals.can_run_rules(request.user),
            "run_form": _run_form(request.user),
        },
    )


@require_POST
@login_required
def rule_run(request):
    if not proposals.can_run_rules(request.user):
        raise PermissionDenied("只有市级管理员、市生态环境局和县区可以运行整治规则。")
    form = _run_form(request.user, request.POST)
    if not form.is_valid():
        messages.error(request, "请选择运行范围（县区）。")
        return redirect("remediation:rule_list")
    job = remediation_jobs.start_rule_run(request.user, form.cleaned_data["county"] or None)
    return redirect("core:job_detail", pk=job.pk)


class ProposalListView(ScopedListView):
    model = MeasureProposal
    filterset_class = ProposalFilter
    template_name = "remediation/proposal_list.html"

    def base_queryset(self):
        return (
            MeasureProposal.objects.select_related("outfall", "outfall__county", "decided_by")
            .defer(
                "outfall__county__boundary",
                "outfall__notes",
                "outfall__outlet_description",
            )
            .order_by("-created_at", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        proposals.scoped_reasons(context["object_list"], self.request.user)
        for proposal in context["object_list"]:
            proposal.badge = MEASURE_BADGE.get(proposal.measure, "")
            proposal.status_badge = STATUS_BADGE.get(proposal.status, "")
            proposal.rule_titles = [rules.rule_title(h.get("rule", "")) for h in proposal.hits]
        context["can_decide"] = scope_of(self.request.user).can_edit_anything
        context["measure_badges"] = MEASURE_BADGE
        return context


def _plan_url(outfall_id):
    return reverse("remediation:plan_create") + f"?outfall={outfall_id}"


@login_required
def proposal_detail(request, pk):
    proposal = get_object_or_404(
        MeasureProposal.objects.visible_to(request.user).select_related(
            "outfall", "outfall__county", "outfall__water_body", "decided_by", "run"
        ),
        pk=pk,
    )
    editable = Outfall.objects.editable_by(request.user).filter(pk=proposal.outfall_id).exists()
    can_decide = editable and proposal.status == ProposalStatus.PENDING
    form = OverrideForm(proposal=proposal)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("无权处理该排口的整治措施建议。")
        action = request.POST.get("action")
        form = OverrideForm(request.POST, proposal=proposal) if action == "override" else form
        try:
            if action == "accept":
                proposals.accept_proposal(proposal, user=request.user)
                messages.success(request, f"已采纳建议：{proposal.get_measure_display()}。")
                return redirect("remediation:proposal_detail", pk=proposal.pk)
            if action == "override" and form.is_valid():
                proposals.override_proposal(
                    proposal,
                    user=request.user,
                    measure=form.cleaned_data["measure"],
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, "已改定整治措施。")
                return redirect("remediation:proposal_detail", pk=proposal.pk)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error)
            else:
                messages.error(request, error_text(error))
        if action not in ("accept", "override"):
            return HttpResponseBadRequest("未知的操作。")
    proposals.scoped_reasons([proposal], request.user)
    hits = [
        {
            **hit,
            "title": rules.rule_title(hit.get("rule", "")),
            "badge": MEASURE_BADGE.get(hit.get("measure")),
            "label": MEASURE_LABELS.get(hit.get("measure"), ""),
        }
        for hit in proposal.shown_hits
    ]
    others = (
        MeasureProposal.objects.visible_to(request.user)
        .filter(outfall_id=proposal.outfall_id)
        .exclude(pk=proposal.pk)
        .select_related("decided_by")
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "remediation/proposal_detail.html",
        {
            "proposal": proposal,
            "outfall": proposal.outfall,
            "hits": hits,
            "badge": MEASURE_BADGE.get(proposal.measure, ""),
            "status_badge": STATUS_BADGE.get(proposal.status, ""),
            "decided_badge": MEASURE_BADGE.get(proposal.decided_measure, ""),
            "can_decide": can_decide,
            "form": form,
            "changes": labelled_status_changes(proposal, ProposalStatus),
            "others": others,
            "plan_url": _plan_url(proposal.outfall_id)
            if proposal.status in (ProposalStatus.ACCEPTED, ProposalStatus.OVERRIDDEN) and editable
            else "",
        },
        status=status,
    )


@require_POST
@login_required
def proposal_bulk_accept(request):
    ids = params.parse_ids(request.POST.getlist("ids"), "ids", label="勾选的建议 id（ids）")
    chosen = (
        MeasureProposal.objects.editable_by(request.user)
        .filter(pk__in=ids, status=ProposalStatus.PENDING)
        .order_by("id")
    )
    if not ids:
        messages.error(request, "请先勾选要采纳的建议。")
    else:
        accepted, skipped = proposals.accept_many(list(chosen), user=request.user)
        skipped += len(ids) - accepted - skipped
        text = f"已采纳 {accepted} 条建议。"
        if skipped:
            text += f"{skipped} 条未处理（已处理过或无权处理）。"
        messages.success(request, text)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("remediation:proposal_list")
