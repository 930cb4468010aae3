"""Monitoring pages. Thin: scope comes from visible_to/editable_by, rules from services.py and the engine."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from outfalls.core import jobs as core_jobs
from outfalls.core import params
from outfalls.core.forms import add_service_errors, fast_selects, style_form
from outfalls.core.scopes import scope_of
from outfalls.core.views import ScopedDetailView, ScopedListView
from outfalls.registry.models import Outfall

from . import jobs, matrix, series, services
from .choices import LimitSource
from .filters import FindingFilter, MatrixFilter, SampleFilter, StationFilter
from .forms import AssignStandardForm, ImportForm, SampleForm, StationForm
from .limits import limits_for
from .models import (
    DryWeatherEvent,
    Finding,
    LibraryLoad,
    OutfallLoad,
    Parameter,
    RejectedPackets,
    Sample,
    SampleImport,
    SampleValue,
    Standard,
    StandardRule,
    Station,
)
from .stations import gaps, station_statuses

MATRIX_PAGE = 100


def parse_period(request, *, default_days=365):
    """(start, end) aware datetimes from ?from=YYYY-MM-DD&to=YYYY-MM-DD (end inclusive), default the last year."""
    today = timezone.localdate()
    last = params.parse_date(request.GET.get("to"), "to", default=today, label="截止日期")
    first = params.parse_date(
        request.GET.get("from"), "from", default=last - timedelta(days=default_days - 1), label="起始日期"
    )
    if first > last:
        raise params.ParamError("from", "起始日期不能晚于截止日期。")
    if (last - first).days > 366 * 10:
        raise params.ParamError("from", "查询时段不能超过十年。")
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return first, last, start, end


@login_required
def home(request):
    return redirect("monitoring:matrix")


# The matrix ---------------------------------------------------------------------------------------------------
@login_required
def matrix_view(request):
    first, last, start, end = parse_period(request)
    outfalls = Outfall.objects.visible_to(request.user)
    query = request.GET.copy()
    for name in ("from", "to", "page"):
        query.pop(name, None)
    filterset = MatrixFilter(query or None, queryset=outfalls, request=request)
    rows_qs = filterset.qs if (not filterset.is_bound or filterset.is_valid()) else outfalls.none()
    parameters, rows, totals = matrix.build(rows_qs, start, end)
    page = Paginator(rows, MATRIX_PAGE).get_page(
        params.parse_int(request.GET.get("page"), "page", default=1, minimum=1)
    )
    style_form(fast_selects(filterset.form))
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "monitoring/matrix.html",
        {
            "filter": filterset,
            "parameters": parameters,
            "page_obj": page,
            "rows": page.object_list,
            "totals": [(matrix.STATE_LABELS[s], totals[s]) for s in matrix.STATE_ORDER],
            "legend": [(s, matrix.STATE_LABELS[s], matrix.STATE_CSS[s]) for s in matrix.STATE_ORDER],
            "first": first,
            "last": last,
            "query_without_page": query_without_page.urlencode(),
            "can_evaluate": jobs.can_evaluate(request.user),
            "can_notice": scope_of(request.user).citywide,
        },
    )


@login_required
@require_POST
def evaluate_start(request):
    job = jobs.start_evaluation(request.user)
    return redirect("core:job_detail", job.pk)


# One outfall --------------------------------------------------------------------------------------------------
@login_required
def outfall_view(request, pk):
    outfall = get_object_or_404(
        Outfall.objects.visible_to(request.user).select_related("county", "water_body"), pk=pk
    )
    first, last, start, end = parse_period(request)
    limits = limits_for([outfall])[outfall.pk]
    samples = (
        Sample.objects.filter(outfall=outfall, sampled_at__gte=start, sampled_at__lt=end)
        .prefetch_related("values__parameter")
        .order_by("-sampled_at")[:100]
    )
    findings = (
        Finding.objects.filter(outfall=outfall, at__gte=start, at__lt=end)
        .select_related("parameter")
        .order_by("-at")[:200]
    )
    scope = scope_of(request.user)
    context = {
        "outfall": outfall,
        "limits": limits,
        "limit_rows": sorted(limits.limits.values(), key=lambda lim: lim.parameter),
        "permit_source": LimitSource.PERMIT,
        "samples": samples,
        "findings": findings,
        "stations": station_statuses(Station.objects.filter(outfall=outfall)),
        "dry_events": DryWeatherEvent.objects.filter(outfall=outfall).order_by("-observed_at")[:20],
        "loads": OutfallLoad.objects.filter(outfall=outfall)
        .select_related("parameter")
        .order_by("-year", "parameter__order"),
        "chart": series.outfall_series(outfall, start, end),
        "first": first,
        "last": last,
        "can_record": services.can_record(request.user)
        and Outfall.objects.editable_by(request.user).filter(pk=outfall.pk).exists(),
        "can_assign": scope.can_edit_citywide,
        "assign_form": AssignStandardForm() if scope.can_edit_citywide else None,
    }
    return render(request, "monitoring/outfall.html", context)


@login_required
@require_POST
def assign_standard(request, pk):
    outfall = get_object_or_404(Outfall.objects.visible_to(request.user), pk=pk)
    if request.POST.get("clear"):
        services.clear_standard(outfall, user=request.user)
        messages.success(request, "已取消指定，按排口类型与受纳水体确定执行标准。")
        return redirect("monitoring:outfall", pk=pk)
    form = AssignStandardForm(request.POST)
    if form.is_valid():
        try:
            services.assign_standard(outfall, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, "已指定执行标准，并重新判定该排口的监测数据。")
    else:
        messages.error(
            request, "；".join(f"{form.fields[f].label}：{'，'.join(e)}" for f, e in form.errors.items())
        )
    return redirect("monitoring:outfall", pk=pk)


# Samples ------------------------------------------------------------------------------------------------------
class SampleListView(ScopedListView):
    model = Sample
    filterset_class = SampleFilter
    template_name = "monitoring/sample_list.html"

    def base_queryset(self):
        return (
            Sample.objects.select_related("outfall", "outfall__county", "section", "section__water_body")
            .defer("outfall__county__boundary", "section__water_body__geometry")
            .prefetch_related("values__parameter")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_record"] = services.can_record(self.request.user)
        return context


class SampleDetailView(ScopedDetailView):
    model = Sample
    template_name = "monitoring/sample_detail.html"

    def base_queryset(self):
        return Sample.objects.select_related("outfall", "section", "station", "created_by", "imported_in")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        values = list(
            SampleValue.objects.filter(sample=self.object)
            .select_related("parameter")
            .order_by("parameter__order")
        )
        findings = {
            f.value_id: f for f in Finding.objects.filter(grain="sample", value_id__in=[v.pk for v in values])
        }
        context["value_rows"] = [(v, findings.get(v.pk)) for v in values]
        return context


@login_required
def sample_create(request):
    if not services.can_record(request.user):
        raise PermissionDenied("您的角色不能录入监测数据。")
    initial = {}
    outfall_id = params.parse_id(request.GET.get("outfall"), "outfall", default=None, label="排口")
    if outfall_id is not None:
        outfall = get_object_or_404(Outfall.objects.editable_by(request.user), pk=outfall_id)
        initial["outfall_code"] = outfall.code
    form = SampleForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sample, created = services.save_sample(form.to_input(), user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            if created:
                messages.success(request, "样品已录入，并已判定是否超标。")
            else:
                messages.info(request, "该样品此前已录入，数值相同，未作改动。")
            return redirect("monitoring:sample_detail", pk=sample.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "monitoring/sample_form.html", {"form": form}, status=status)


# Imports ------------------------------------------------------------------------------------------------------
@login_required
def import_list(request):
    if not services.can_record(request.user):
        raise PermissionDenied("您的角色不能导入监测数据。")
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            record, _ = jobs.start_import(
                form.cleaned_data["file"],
                user=request.user,
                source=form.cleaned_data["source"],
                lab=form.cleaned_data["lab"],
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            return redirect("monitoring:import_detail", pk=record.pk)
    records = SampleImport.objects.all()
    if not scope_of(request.user).citywide:
        records = records.filter(created_by=request.user)
    return render(
        request,
        "monitoring/import_list.html",
        {"form": form, "records": records.select_related("created_by")[:50]},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def import_detail(request, pk):
    records = SampleImport.objects.all()
    if not scope_of(request.user).citywide:
        records = records.filter(created_by=request.user)
    record = get_object_or_404(records, pk=pk)
    job = core_jobs.latest_for(record)
    if job is not None:
        core_jobs.reap([job])
        job.refresh_from_db()
    samples = (
        Sample.objects.visible_to(request.user)
        .filter(imported_in=record)
        .select_related("outfall", "section")[:200]
    )
    return render(
        request, "monitoring/import_detail.html", {"record": record, "job": job, "samples": samples}
    )


# Findings -----------------------------------------------------------------------------------------------------
class FindingListView(ScopedListView):
    model = Finding
    filterset_class = FindingFilter
    template_name = "monitoring/finding_list.html"

    def base_queryset(self):
        return Finding.objects.select_related("outfall", "outfall__county", "parameter").defer(
            "outfall__county__boundary"
        )


# The library --------------------------------------------------------------------------------------------------
@login_required
def standards_view(request):
    standards = list(Standard.objects.prefetch_related("limits__parameter").order_by("kind", "code"))
    for standard in standards:
        grades = [code for code, _ in standard.grades]
        by_parameter = {}
        for limit in standard.limits.all():
            by_parameter.setdefault(
                (limit.parameter.order, limit.parameter.name, limit.get_condition_display()), {}
            )[limit.grade] = limit
        standard.table = [
            (name, condition, [cells.get(g) for g in grades])
            for (_, name, condition), cells in sorted(by_parameter.items())
        ]
    return render(
        request,
        "monitoring/standards.html",
        {
            "standards": standards,
            "rules": StandardRule.objects.select_related("standard"),
            "parameters": Parameter.objects.all(),
            "load": LibraryLoad.objects.first(),
        },
    )


# Stations -----------------------------------------------------------------------------------------------------
class StationListView(ScopedListView):
    model = Station
    filterset_class = StationFilter
    template_name = "monitoring/station_list.html"

    def base_queryset(self):
        return Station.objects.select_related(
            "outfall", "outfall__county", "section", "section__water_body"
        ).defer("outfall__county__boundary", "section__water_body__geometry")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = station_statuses(context["object_list"])
        scope = scope_of(self.request.user)
        context["can_create"] = scope.can_edit_anything
        if scope.citywide:
            context["rejected"] = RejectedPackets.objects.order_by("-day", "-count")[:50]
        return context


class StationDetailView(ScopedDetailView):
    model = Station
    template_name = "monitoring/station_detail.html"

    def base_queryset(self):
        return Station.objects.select_related("outfall", "section", "section__water_body")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        station = self.object
        context["status"] = station_statuses([station])[0]
        context["gaps"] = gaps(station, days=7)
        context["editable"] = Station.objects.editable_by(self.request.user).filter(pk=station.pk).exists()
        return context


@login_required
def station_form(request, pk=None):
    if pk is None:
        if not scope_of(request.user).can_edit_anything:
            raise PermissionDenied("您的角色只能查看。")
        station = Station()
    else:
        station = get_object_or_404(Station.objects.editable_by(request.user), pk=pk)
    form = StationForm(request.POST or None, instance=station, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_station(form.instance, user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"已保存站点：{saved.name}")
            return redirect("monitoring:station_detail", pk=saved.pk)
    return render(
        request,
        "monitoring/station_form.html",
        {"form": form, "object": station if pk else None},
        status=400 if request.method == "POST" else 200,
    )
