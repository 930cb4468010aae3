"""溯源 cases, 借道排污 list, coverage, reconciliation and progress pages. Thin: the rules are in
tracing.py, coverage.py and progress.py; every query starts from visible_to(user)."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from outfalls.core import params
from outfalls.core.downloads import attachment
from outfalls.core.forms import add_service_errors, error_text
from outfalls.core.services import labelled_status_changes
from outfalls.core.spreadsheets import csv_writer
from outfalls.core.views import ScopedListView
from outfalls.registry import ledger_export
from outfalls.registry.choices import LifecycleStatus, LinkRole, UnitKind
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink

from . import coverage, progress, tracing
from .choices import OPEN_OUTCOMES, CaseStatus, PointOutcome
from .models import Campaign, TracingCase
from .tracing_forms import (
    AwaitingFilter,
    BorrowedFilter,
    CaseFilter,
    ConcludeForm,
    LinkForm,
    ReopenForm,
    StepForm,
)


def _links_prefetch(prefix=""):
    return Prefetch(
        f"{prefix}unit_links",
        queryset=OutfallUnitLink.objects.select_related("unit").order_by("role", "unit__name"),
    )


# Cases ------------------------------------------------------------------------------------------------
class CaseListView(ScopedListView):
    model = TracingCase
    filterset_class = CaseFilter
    template_name = "survey/case_list.html"

    def base_queryset(self):
        return (
            TracingCase.objects.select_related(
                "outfall__county", "outfall__water_body", "responsible_entity", "campaign"
            )
            .defer("outfall__county__boundary", "outfall__water_body__geometry")
            .prefetch_related(_links_prefetch("outfall__"))
            .order_by("-opened_at", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = "cases"
        context["awaiting_count"] = awaiting_queryset(self.request.user).count()
        return context


def _awaiting():
    """Verified outfalls without a tracing case (unscoped: callers add visible_to)."""
    return Outfall.objects.filter(status=LifecycleStatus.VERIFIED, tracing_case=None)


def awaiting_queryset(user):
    return _awaiting().visible_to(user)


class AwaitingListView(ScopedListView):
    """Visible verified outfalls without a case: 待溯源, each with a 立案溯源 button where editable."""

    model = Outfall
    filterset_class = AwaitingFilter
    template_name = "survey/case_awaiting.html"

    def base_queryset(self):
        return _awaiting().for_list().order_by("code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = "awaiting"
        page_ids = [o.pk for o in context["object_list"]]
        context["editable_ids"] = set(
            Outfall.objects.editable_by(self.request.user)
            .filter(pk__in=page_ids)
            .values_list("pk", flat=True)
        )
        return context


@login_required
@require_POST
def case_open(request, outfall_pk):
    outfall = get_object_or_404(Outfall.objects.visible_to(request.user), pk=outfall_pk)
    try:
        case = tracing.open_case(outfall, user=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("survey:case_awaiting")
    messages.success(request, f"已立案溯源：{outfall.name}")
    return redirect("survey:case_detail", pk=case.pk)


def _case_forms(case, user, data=None, files=None, action=None):
    outfall = case.outfall
    linked_ids = [link.unit_id for link in outfall.unit_links.all()]
    county_units = (
        DischargeUnit.objects.visible_to(user)
        .filter(county_id=outfall.county_id)
        .only("id", "name", "kind")
        .order_by("name")
    )
    entities = DischargeUnit.objects.visible_to(user).filter(pk__in=linked_ids) | county_units.filter(
        kind=UnitKind.GOVERNMENT
    )
    forms = {
        "step_form": StepForm(data if action == "step" else None, files if action == "step" else None),
        "link_form": LinkForm(data if action == "link" else None, units=county_units),
        "conclude_form": ConcludeForm(
            data if action == "conclude" else None, entities=entities.only("id", "name").order_by("name")
        ),
        "reopen_form": ReopenForm(data if action == "reopen" else None),
    }
    if action != "step":
        forms["step_form"].initial["date"] = timezone.localdate()
    return forms


def _case_queryset(user):
    return TracingCase.objects.visible_to(user).select_related(
        "outfall__county",
        "outfall__water_body",
        "outfall__responsible_entity",
        "responsible_entity",
        "campaign",
    )


@login_required
def case_detail(request, pk):
    case = get_object_or_404(
        _case_queryset(request.user).prefetch_related(_links_prefetch("outfall__")), pk=pk
    )
    editable = TracingCase.objects.editable_by(request.user).filter(pk=case.pk).exists()
    action = request.POST.get("action") if request.method == "POST" else None
    if action and not editable:
        raise Http404
    forms = _case_forms(case, request.user, request.POST, request.FILES, action)
    if action:
        done = _case_action(request, case, action, forms)
        if done is not None:
            return redirect(reverse("survey:case_detail", args=[case.pk]) + done)
    steps = tracing.steps_with_files(case)
    links = list(case.outfall.unit_links.all())
    government = tracing.government_body_for(case.outfall.county_id)
    context = {
        "case": case,
        "outfall": case.outfall,
        "steps": steps,
        "links": links,
        "borrowed": any(link.role == LinkRole.BORROWS for link in links),
        "share_total": sum(link.share_percent or 0 for link in links),
        "editable": editable,
        "is_open": case.status == CaseStatus.OPEN,
        "government": government,
        "changes": labelled_status_changes(case, CaseStatus),
        "action": action,
        **forms,
    }
    return render(request, "survey/case_detail.html", context, status=400 if action else 200)


# Where a service's field is named otherwise on the case page's forms: the new unit's fields on the link form.
FORM_FIELDS = {"link": {"name": "new_name", "kind": "new_kind", "credit_code": "new_credit_code"}}


def _case_action(request, case, action, forms):
    """Run one POSTed action; the anchor to return to on success, None to show the form's errors."""
    user = request.user
    try:
        if action == "step":
            form = forms["step_form"]
            if form.is_valid():
                d = form.cleaned_data
                tracing.add_step(
                    case,
                    user=user,
                    kind=d["kind"],
                    date=d["date"],
                    findings=d["findings"],
                    staff=d["staff"],
                    files=d["files"],
                )
                messages.success(request, "溯源步骤已记录。")
                return "#steps"
        elif action == "link":
            form = forms["link_form"]
            if form.is_valid():
                d = form.cleaned_data
                extra = {
                    "role": d["role"],
                    "via_channel": d["via_channel"],
                    "share_note": d["share_note"],
                    "share_percent": d["share_percent"],
                }
                if d["unit"]:
                    tracing.link_found_unit(case, d["unit"], user=user, **extra)
                    name = d["unit"].name
                else:
                    unit = DischargeUnit(
                        name=d["new_name"].strip(),
                        kind=d["new_kind"],
                        credit_code=d["new_credit_code"].strip() or None,
                    )
                    tracing.create_and_link_unit(case, unit, user=user, **extra)
                    name = unit.name
                messages.success(request, f"已关联排污单位：{name}")
                return "#units"
        elif action == "unlink":
            link_id = params.parse_id(request.POST.get("link"), "link", label="要移除的关联（link）")
            link = get_object_or_404(OutfallUnitLink, pk=link_id, outfall_id=case.outfall_id)
            tracing.unlink_found_unit(case, link, user=user)
            messages.success(request, f"已移除关联：{link.unit}")
            return "#units"
        elif action == "conclude":
            form = forms["conclude_form"]
            if form.is_valid():
                d = form.cleaned_data
                concluded = tracing.conclude_case(
                    case, user=user, basis=d["basis"], entity=d["entity"], note=d["note"]
                )
                messages.success(request, f"已结案，责任主体：{concluded.responsible_entity}")
                return ""
        elif action == "reopen":
            form = forms["reopen_form"]
            if form.is_valid():
                tracing.reopen_case(case, user=user, reason=form.cleaned_data["reason"])
                messages.success(request, "案件已重新开启。")
                return ""
        else:
            raise Http404
    except ValidationError as error:
        key = {"step": "step_form", "link": "link_form", "conclude": "conclude_form", "reopen": "reopen_form"}
        if action in key:
            add_service_errors(forms[key[action]], error, fields=FORM_FIELDS.get(action))
        else:
            messages.error(request, error_text(error))
            return "#units"
    return None


# 借道排污 ----------------------------------------------------------------------------------------------
def _borrowed():
    """Outfalls some unit borrows (借道排污), with their links (unscoped: callers add visible_to)."""
    borrowing = OutfallUnitLink.objects.filter(role=LinkRole.BORROWS).values("outfall_id")
    return (
        Outfall.objects.filter(pk__in=borrowing)
        .for_list()
        .prefetch_related(_links_prefetch())
        .order_by("county__code", "code")
    )


def borrowed_queryset(user):
    return _borrowed().visible_to(user)


class BorrowedListView(ScopedListView):
    model = Outfall
    filterset_class = BorrowedFilter
    template_name = "survey/borrowed_list.html"

    def base_queryset(self):
        return _borrowed()  # ScopedListView adds visible_to(user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for outfall in context["object_list"]:
            _split_links(outfall)
        return context


def _split_links(outfall):
    links = list(outfall.unit_links.all())
    outfall.borrowers = [link for link in links if link.role == LinkRole.BORROWS]
    outfall.owners = [link.unit for link in links if link.role == LinkRole.OWNER]
    return outfall


BORROWED_HEADERS = [
    "排污口编码",
    "入河排污口名称",
    "县区",
    "受纳水体",
    "借道排污单位",
    "经由通道",
    "产权单位",
    "责任主体",
]


@login_required
def borrowed_export(request):
    filterset = BorrowedFilter(request.GET or None, queryset=borrowed_queryset(request.user), request=request)
    rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else Outfall.objects.none()
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv_writer(buffer)
    writer.writerow(BORROWED_HEADERS)
    for outfall in rows:
        _split_links(outfall)
        writer.writerow(
            [
                outfall.code,
                outfall.name,
                outfall.county.name,
                outfall.water_body.name,
                "、".join(link.unit.name for link in outfall.borrowers),
                "、".join(link.via_channel for link in outfall.borrowers if link.via_channel),
                "、".join(unit.name for unit in outfall.owners),
                outfall.responsible_entity.name if outfall.responsible_entity_id else "",
            ]
        )
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    filename = f"借道排污清单-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = attachment(filename)
    return response


# Coverage and reconciliation -------------------------------------------------------------------------------
def _campaign_choice(request):
    campaigns = coverage.campaigns_for(request.user)
    county = request.GET.get("county", "")
    if county:
        campaigns = campaigns.filter(county__code=county)
    return campaigns, county


def _counties(user):
    return progress.counties_for(user).only("id", "code", "name")


@login_required
def coverage_view(request):
    campaigns, county = _campaign_choice(request)
    coverages = coverage.coverage_of(campaigns)
    return render(
        request,
        "survey/coverage.html",
        {
            "coverages": coverages,
            "counties": coverage.by_county(coverages),
            "county_choices": _counties(request.user),
            "county": county,
            "buffer_m": int(coverage.BUFFER_M),
        },
    )


@login_required
def coverage_detail(request, pk):
    campaign = get_object_or_404(coverage.campaigns_for(request.user), pk=pk)
    (cov,) = coverage.coverage_of([campaign])
    points = coverage.open_points(Campaign.objects.filter(pk=campaign.pk))
    rivers = []
    for row in cov.rivers:
        if row.water_body.geometry:
            rivers.append({"name": row.water_body.name, "geometry": row.water_body.geometry})
    return render(
        request,
        "survey/coverage_detail.html",
        {
            "cov": cov,
            "campaign": campaign,
            "map_data": {
                "points": points,
                "rivers": rivers,
                "tracks": [t.geometry for t in campaign.tracks.all()],
                "point_url": reverse("survey:point_detail", args=[0]),
            },
            "buffer_m": int(coverage.BUFFER_M),
        },
    )


@login_required
def reconciliation_view(request):
    campaigns, county = _campaign_choice(request)
    balances, anomalies = coverage.reconcile(campaigns)
    return render(
        request,
        "survey/reconciliation.html",
        {
            "balances": balances,
            "counties": [
                (
                    county,
                    [counts[o] for o in PointOutcome.values],
                    total,
                    sum(counts[o] for o in OPEN_OUTCOMES),
                )
                for county, counts, total in coverage.balance_by_county(balances)
            ],
            "anomalies": anomalies,
            "outcomes": PointOutcome.choices,
            "county_choices": _counties(request.user),
            "county": county,
        },
    )


# Progress ----------------------------------------------------------------------------------------------
@login_required
def progress_view(request):
    rows = progress.progress_rows(request.user)
    chart = {
        "counties": [r.county.name for r in rows],
        "series": [
            {"name": "台账排口", "data": [r.outfalls for r in rows]},
            {"name": "已溯源", "data": [r.traced for r in rows]},
            {"name": "已明确责任主体", "data": [r.fixed for r in rows]},
            {"name": "逾期未明确", "data": [r.overdue_outfalls for r in rows]},
        ],
    }
    return render(
        request,
        "survey/progress.html",
        {
            "rows": rows,
            "total": progress.totals(rows) if len(rows) > 1 else None,
            "chart": chart,
            "today": timezone.localdate(),
        },
    )


@login_required
def progress_export(request, fmt):
    rows = progress.progress_rows(request.user)
    stamp = f"{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        response = HttpResponse(progress.as_csv(rows), content_type="text/csv; charset=utf-8")
        filename = f"排查溯源工作进度-{stamp}.csv"
    elif fmt == "xlsx":
        response = HttpResponse(
            progress.as_xlsx(rows),
            content_type=ledger_export.XLSX_CONTENT_TYPE,
        )
        filename = f"排查溯源工作进度-{stamp}.xlsx"
    else:
        raise Http404
    response["Content-Disposition"] = attachment(filename)
    return response
