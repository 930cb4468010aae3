"""巡河 pages: the register, recording a patrol (with its track file), a patrol's page with its map and findings,
and coverage per river and month. Thin: scope from visible_to/editable_by (404 outside), rules in patrols.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from outfalls.core.basemap import base_layers
from outfalls.core.forms import add_service_errors
from outfalls.core.params import parse_int
from outfalls.core.scopes import scope_of
from outfalls.core.services import attachments_for
from outfalls.core.views import ScopedListView

from . import patrols, services
from .filters import PatrolFilter
from .forms import FindingForm, PatrolForm
from .models import Patrol, PatrolFinding


class PatrolListView(ScopedListView):
    model = Patrol
    filterset_class = PatrolFilter
    template_name = "supervision/patrol_list.html"

    def base_queryset(self):
        return (
            Patrol.objects.select_related("water_body", "county", "recorded_by")
            .defer("water_body__geometry", "county__boundary", "track")
            .order_by("-patrolled_on", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_patrol"] = scope_of(self.request.user).can_patrol
        return context


@login_required
def patrol_new(request):
    if not scope_of(request.user).can_patrol:
        raise PermissionDenied("您的角色不能记录巡河。")
    if request.method == "POST":
        form = PatrolForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                patrol = patrols.record_patrol(
                    user=request.user,
                    water_body=d["water_body"],
                    county=d["county"],
                    patrolled_on=d["patrolled_on"],
                    participants=d["participants"],
                    lines=d["track_file"],
                    note=d["note"],
                )
            except ValidationError as error:
                add_service_errors(form, error, {"track": "track_file"})
            else:
                messages.success(request, "巡河记录已保存，可以继续登记发现的问题。")
                return redirect("supervision:patrol_detail", pk=patrol.pk)
        status = 400
    else:
        form = PatrolForm(user=request.user)
        status = 200
    return render(request, "supervision/patrol_new.html", {"form": form}, status=status)


def _patrol(request, pk):
    return get_object_or_404(
        Patrol.objects.visible_to(request.user).select_related("water_body", "county", "recorded_by"), pk=pk
    )


def _context(request, patrol, finding_form=None):
    editable = Patrol.objects.editable_by(request.user).filter(pk=patrol.pk).exists()
    findings = list(patrol.findings.select_related("outfall").order_by("id"))
    for finding in findings:
        finding.photos = [a for a in attachments_for(finding) if a.is_photo]
        finding.cases = services.cases_from(finding)
    points = [
        {
            "lon": f.outfall.lon if f.outfall_id else f.lon,
            "lat": f.outfall.lat if f.outfall_id else f.lat,
            "n": i,
        }
        for i, f in enumerate(findings, start=1)
        if (f.outfall_id and f.outfall.lon is not None) or f.lon is not None
    ]
    return {
        "patrol": patrol,
        "findings": findings,
        "editable": editable,
        "can_open_case": services.can_open(request.user),
        "finding_form": finding_form or (FindingForm(user=request.user) if editable else None),
        "map_config": {
            "track": patrol.track,
            "points": points,
            "rivers": reverse("maps:api_rivers"),
            "baseLayers": base_layers(),
        },
    }


@login_required
def patrol_detail(request, pk):
    patrol = _patrol(request, pk)
    return render(request, "supervision/patrol_detail.html", _context(request, patrol))


@login_required
@require_POST
def patrol_finding(request, pk):
    patrol = _patrol(request, pk)
    form = FindingForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            patrols.add_finding(
                patrol,
                user=request.user,
                description=d["description"],
                outfall=d["outfall_code"],
                lon=d["lon"],
                lat=d["lat"],
                photos=d["photos"],
            )
        except ValidationError as error:
            add_service_errors(form, error, {"outfall": "outfall_code"})
        else:
            messages.success(request, "已登记发现的问题。")
            return redirect(reverse("supervision:patrol_detail", args=[pk]) + "#findings")
    messages.error(request, "未保存，请查看表单中的提示；您填写的内容已保留。")
    return render(request, "supervision/patrol_detail.html", _context(request, patrol, form), status=400)


@login_required
def patrol_coverage(request):
    today = timezone.localdate()
    year = parse_int(
        request.GET.get("year"),
        "year",
        default=today.year,
        minimum=2000,
        maximum=today.year + 1,
        label="年份",
    )
    rows = patrols.coverage(request.user, year)
    return render(
        request,
        "supervision/patrol_coverage.html",
        {"rows": rows, "year": year, "years": range(today.year, today.year - 5, -1), "months": range(1, 13)},
    )


@login_required
def finding_detail(request, pk):
    """A finding's address (a case opened from it links here): its place on the patrol's page."""
    finding = get_object_or_404(PatrolFinding.objects.visible_to(request.user), pk=pk)
    return redirect(reverse("supervision:patrol_detail", args=[finding.patrol_id]) + f"#finding-{finding.pk}")
