"""Monitoring pages. Thin: scope comes from visible_to/editable_by, rules from services.py and the engine."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from outfalls.core import jobs as core_jobs
from outfalls.core import params
from outfalls.core.forms import add_service_errors, fast_selects, style_form
from outfalls.core.scopes import scope_of
from outfalls.core.views import ScopedDetailView, ScopedListView
from outfalls.registry.models import Outfall, Section, WaterBody

from . import draws, jobs, loads, matrix, notice, series, services
from .choices import LimitSource, SampleSource
from .filters import FindingFilter, MatrixFilter, SampleFilter, StationFilter
from .forms import (
    AssignStandardForm,
    DrawForm,
    ExclusionForm,
    ImportForm,
    ResultForm,
    SampleForm,
    StationForm,
)
from .limits import limits_for
from .models import (
    Draw,
    DrawItem,
    DryWeatherEvent,
    Finding,
    InspectorExclusion,
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
    draw_item = None
    item_id = params.parse_id(request.GET.get("draw_item"), "draw_item", default=None, label="抽查对象")
    if item_id is not None:
        # A random inspection's sample (双随机抽查监测), recorded by its inspectors or organisers from the date on.
        draw_item = get_object_or_404(
            DrawItem.objects.editable_by(request.user).select_related("outfall"), pk=item_id
        )
        initial.update(outfall_code=draw_item.outfall.code, source=SampleSource.RANDOM)
    form = SampleForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.to_input()
        if draw_item is not None:
            data.draw_item, data.source, data.outfall = draw_item, SampleSource.RANDOM, draw_item.outfall
        try:
            sample, created = services.save_sample(data, user=request.user)
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
    return render(
        request, "monitoring/sample_form.html", {"form": form, "draw_item": draw_item}, status=status
    )


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


# The notice ---------------------------------------------------------------------------------------------------
@login_required
def notice_view(request):
    """The monthly exceedance notice: pick a month, make the .docx as a job (its page offers the file)."""
    if not notice.can_make(request.user):
        raise PermissionDenied("只有市级用户可以生成超标通报。")
    today = timezone.localdate()
    default = notice.previous_month(today.year, today.month)
    text = request.POST.get("month") or request.GET.get("month") or f"{default[0]}-{default[1]:02d}"
    try:
        year, month = notice.parse_month(text)
    except ValueError as error:
        raise params.ParamError("month", str(error)) from None
    if request.method == "POST":
        job = jobs.start_notice(request.user, year, month)
        return redirect("core:job_detail", job.pk)
    figures = notice.notice_figures(request.user, year, month)
    return render(
        request,
        "monitoring/notice.html",
        {"figures": figures, "month_value": f"{year}-{month:02d}", "body": notice.body_text(figures)},
    )


# 双随机一公开 ----------------------------------------------------------------------------------------------------
@login_required
def draw_list(request):
    user = request.user
    can_create = draws.can_draw(user) or bool(scope_of(user).county_ids and scope_of(user).can_edit_anything)
    form = DrawForm(request.POST or None, user=user) if can_create else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("您的角色不能组织抽查。")
        if form.is_valid():
            try:
                draw = draws.create_draw(user=user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"已抽取：{draw.name}。结果在检查日期前保密。")
                return redirect("monitoring:draw_detail", pk=draw.pk)
    rows = Draw.objects.visible_to(user).select_related("county", "created_by")[:100]
    return render(
        request,
        "monitoring/draw_list.html",
        {"draws": rows, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def draw_detail(request, pk):
    draw = get_object_or_404(
        Draw.objects.visible_to(request.user).select_related("county", "created_by"), pk=pk
    )
    items = (
        DrawItem.objects.visible_to(request.user)
        .filter(draw=draw)
        .select_related("outfall", "outfall__county", "recorded_by")
        .prefetch_related("inspectors", "samples")
        .order_by("pool_class", "outfall__code")
    )
    editable_ids = set(
        DrawItem.objects.editable_by(request.user).filter(draw=draw).values_list("pk", flat=True)
    )
    ok, problems = draws.verify(draw)
    whole = draws.sees_whole(draw, request.user)
    pools = draws.visible_pools(draw, request.user)
    return render(
        request,
        "monitoring/draw_detail.html",
        {
            "draw": draw,
            "items": items,
            "editable_ids": editable_ids,
            "sees_result": draw.sees_result(request.user),
            "verified": ok,
            "problems": problems,
            "result_form": ResultForm(),
            "can_publish": Draw.objects.editable_by(request.user).filter(pk=draw.pk).exists(),
            "pools": pools,
            "sees_whole": whole,
            "total_drawn": sum(pool["count"] for pool in pools),
        },
    )


@login_required
def draw_audit(request, pk):
    """The audit file: everything a redo needs, and the result (from the inspection date, or for the organiser)."""
    draw = get_object_or_404(Draw.objects.visible_to(request.user), pk=pk)
    if not (draw.sees_result(request.user) and draws.sees_whole(draw, request.user)):
        raise Http404
    record = {
        "draw": draw.name,
        "period": draw.period,
        "inspection_date": draw.inspection_date.isoformat(),
        "digest": draw.digest,
    }
    record.update(draws.audit_record(draw))
    response = JsonResponse(record, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = content_disposition_header(True, f"双随机抽查-{draw.pk}-审计记录.json")
    return response


@login_required
@require_POST
def draw_result(request, pk, item_pk):
    item = get_object_or_404(DrawItem.objects.editable_by(request.user).filter(draw_id=pk), pk=item_pk)
    form = ResultForm(request.POST)
    if form.is_valid():
        try:
            draws.record_result(item, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, f"已记录检查结果：{item.outfall.name}")
    else:
        messages.error(request, "请选择检查结果。")
    return redirect("monitoring:draw_detail", pk=pk)


@login_required
@require_POST
def draw_publish(request, pk):
    draw = get_object_or_404(Draw.objects.visible_to(request.user), pk=pk)
    try:
        draws.publish(draw, user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "已公开抽查对象和检查结果。")
    return redirect("monitoring:draw_detail", pk=pk)


@login_required
def exclusion_list(request):
    scope = scope_of(request.user)
    form = ExclusionForm(request.POST or None) if scope.can_edit_citywide else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("回避关系由市生态环境局维护。")
        if request.POST.get("delete"):
            pk = params.parse_id(request.POST.get("delete"), "delete", label="回避记录")
            InspectorExclusion.objects.editable_by(request.user).filter(pk=pk).delete()
            messages.success(request, "已删除回避关系。")
            return redirect("monitoring:exclusion_list")
        if form.is_valid():
            InspectorExclusion.objects.update_or_create(
                inspector=form.cleaned_data["inspector"],
                unit=form.cleaned_data["unit"],
                defaults={"reason": form.cleaned_data["reason"]},
            )
            messages.success(request, "已登记回避关系。")
            return redirect("monitoring:exclusion_list")
    rows = InspectorExclusion.objects.visible_to(request.user).select_related("inspector", "unit")
    return render(request, "monitoring/exclusion_list.html", {"rows": rows, "form": form})


# Loads and the downstream-impact view --------------------------------------------------------------------------
def _year_and_parameter(request):
    this_year = timezone.localdate().year
    year = params.parse_int(
        request.GET.get("year"), "year", default=this_year, minimum=1990, maximum=this_year + 1, label="年度"
    )
    code = request.GET.get("parameter") or "COD"
    parameter = Parameter.objects.filter(code=code, load_counted=True).first()
    if parameter is None:
        raise params.ParamError(
            "parameter",
            f"“{code[:20]}”不是计算负荷的项目（可选：{'、'.join(p.code for p in loads.load_parameters())}）。",
        )
    return year, parameter


@login_required
def loads_view(request):
    year, parameter = _year_and_parameter(request)
    outfalls = Outfall.objects.visible_to(request.user)
    profiles = loads.river_profile(year, parameter, outfalls=outfalls)
    waters = {w.pk: w for w in WaterBody.objects.filter(pk__in=profiles).only("name", "parent_id")}
    rivers = [
        (waters[w], intervals)
        for w, intervals in sorted(profiles.items(), key=lambda item: waters[item[0]].name)
    ]
    top = (
        OutfallLoad.objects.filter(year=year, parameter=parameter, outfall__in=outfalls)
        .select_related("outfall", "outfall__county")
        .order_by("-kg_per_day")[:20]
    )
    totals = OutfallLoad.objects.filter(year=year, parameter=parameter, outfall__in=outfalls).aggregate(
        total=Sum("kg_per_day"), estimated=Sum("kg_per_day", filter=Q(estimated=True)), n=Count("id")
    )
    return render(
        request,
        "monitoring/loads.html",
        {
            "year": year,
            "parameter": parameter,
            "parameters": loads.load_parameters(),
            "rivers": [r for r in rivers if any(i.total_kg or i.outfalls for i in r[1])],
            "top": top,
            "totals": totals,
            "can_compute": scope_of(request.user).can_edit_citywide,
        },
    )


@login_required
@require_POST
def loads_compute(request):
    job = jobs.start_loads(
        request.user,
        params.parse_int(request.POST.get("year"), "year", default=None, minimum=1990, maximum=2100),
    )
    return redirect("core:job_detail", job.pk)


@login_required
def impact_view(request):
    year, parameter = _year_and_parameter(request) if request.GET.get("parameter") else (None, None)
    failing = loads.failing_sections()
    section_id = params.parse_id(request.GET.get("section"), "section", default=None, label="断面")
    section = None
    if section_id is not None:
        section = get_object_or_404(
            Section.objects.visible_to(request.user).select_related("water_body"), pk=section_id
        )
    elif failing:
        section = failing[0].section
    assessment = next((a for a in failing if section is not None and a.section.pk == section.pk), None)
    if parameter is None:
        year = timezone.localdate().year
        codes = [
            c
            for c in (assessment.failing if assessment else [])
            if Parameter.objects.filter(code=c, load_counted=True).exists()
        ]
        parameter = Parameter.objects.get(code=codes[0] if codes else "COD")
    within = params.parse_float(
        request.GET.get("km"), "km", default=30.0, minimum=0.5, maximum=500, label="上游距离（公里）"
    )
    rows, map_data = [], None
    if section is not None:
        visible = Outfall.objects.visible_to(request.user)
        lines = loads.river_lines()
        joins = loads.confluences(lines)
        found = loads.downstream_impact(
            section, parameter, within_km=within, year=year, outfalls=visible, lines=lines, joins=joins
        )
        outfalls = {
            o.pk: o
            for o in Outfall.objects.filter(pk__in=[u.outfall_id for u in found])
            .select_related("county", "water_body")
            .defer("county__boundary", "water_body__geometry")
        }
        total = sum(u.kg_per_day or 0 for u in found)
        for rank_, item in enumerate(found, 1):
            rows.append(
                (
                    rank_,
                    item,
                    outfalls[item.outfall_id],
                    (item.kg_per_day or 0) / total * 100 if total else None,
                )
            )
        map_data = impact_map_data(section, lines, joins, within, rows)
    return render(
        request,
        "monitoring/impact.html",
        {
            "section": section,
            "assessment": assessment,
            "failing": failing,
            "sections": Section.objects.select_related("water_body").order_by(
                "water_body__name", "chainage_km"
            ),
            "parameter": parameter,
            "parameters": loads.load_parameters(),
            "year": year,
            "within": within,
            "rows": rows,
            "map_data": map_data,
        },
    )


def impact_map_data(section, lines, joins, within, rows):
    """The impact map's data: the section, the river stretches searched and the ranked outfalls."""
    section_km = lines[section.water_body_id][1].chainage(section.lon, section.lat)
    stretches = []
    for water_id, low, high, _ in loads.upstream_reach(
        lines, joins, section.water_body_id, section_km, within
    ):
        geometry = lines[water_id][1].stretch(low, high)
        if geometry is not None:
            stretches.append({"name": lines[water_id][0].name, "geometry": geometry.__geo_interface__})
    return {
        "section": {"name": str(section), "lon": section.lon, "lat": section.lat},
        "stretches": stretches,
        "outfalls": [
            {
                "rank": rank_,
                "id": outfall.pk,
                "name": outfall.name,
                "code": outfall.code,
                "lon": outfall.lon,
                "lat": outfall.lat,
                "kg": item.kg_per_day,
                "estimated": item.estimated,
                "distance": round(item.distance_km, 2),
            }
            for rank_, item, outfall, _ in rows
        ],
        "outfall_url": reverse("registry:outfall_detail", args=[0]),
    }
