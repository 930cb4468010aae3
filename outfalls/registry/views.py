"""Ledger pages. Thin: scope comes from visible_to/editable_by, rules from models and services."""

import tempfile
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import FileResponse, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_POST

from outfalls.core.downloads import attachment
from outfalls.core.forms import add_service_errors
from outfalls.core.params import parse_ids
from outfalls.core.scopes import scope_of
from outfalls.core.services import add_attachment, attachments_for, labelled_status_changes
from outfalls.core.views import ScopedDetailView, ScopedListView, apply_filter

from . import ledger_export, services
from .choices import (
    OUTFALL_CHANGE_CHOICES,
    ledger_steps,
    workflow_steps,
)
from .filters import (
    DischargeUnitFilter,
    OutfallAsOfFilter,
    OutfallFilter,
    SectionFilter,
    WaterBodyFilter,
    ZoneFilter,
)
from .forms import (
    AttachmentForm,
    DischargeUnitForm,
    DisclosureForm,
    OutfallForm,
    StatusForm,
    UnitLinkForm,
)
from .history import outfall_history
from .models import DischargeUnit, Outfall, OutfallUnitLink, Section, WaterBody, WaterFunctionZone
from .panels import outfall_panels


def _form_errors_text(form):
    """One line naming each field and its errors, for a flash message after a small POST form whose fields
    are hidden or on another page (the ledger's bulk disclosure action)."""
    return "；".join(
        f"{form.fields[f].label if f in form.fields else '表单'}：{'，'.join(e)}"
        for f, e in form.errors.items()
    )


# Outfalls -----------------------------------------------------------------------------------------------
class OutfallListView(ScopedListView):
    model = Outfall
    filterset_class = OutfallFilter
    template_name = "registry/outfall_list.html"

    def base_queryset(self):
        return Outfall.objects.for_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = scope_of(self.request.user).can_edit_anything
        if scope_of(self.request.user).can_disclose:
            query = self.request.GET.copy()
            query.pop("page", None)
            context["disclosure_form"] = DisclosureForm(initial={"filter": query.urlencode()})
        # The current filter, carried as hidden fields by the export form (format and date are its own).
        context["export_params"] = [
            (name, value)
            for name, values in self.request.GET.lists()
            if name not in ("page", *EXPORT_ONLY_PARAMS)
            for value in values
        ]
        return context


# Query parameters of the export itself, not of the ledger filter.
EXPORT_ONLY_PARAMS = ("format", "as_of")


class OutfallExportView(LoginRequiredMixin, View):
    """The ledger in the prescribed attachment-1 table, for the current filter within the user's scope.

    ?format=xlsx (default) or csv; ?as_of=YYYY-MM-DD gives the ledger as it stood at the end of that day,
    read from history, with the same filter. A bad date or format goes back to the ledger with a message.
    """

    def _back(self, request, message):
        messages.error(request, message)
        query = request.GET.copy()
        for name in EXPORT_ONLY_PARAMS:
            query.pop(name, None)
        url = reverse("registry:outfall_list")
        return redirect(f"{url}?{query.urlencode()}" if query else url)

    def get(self, request):
        fmt = request.GET.get("format") or "xlsx"
        if fmt not in ledger_export.FORMATS:
            return self._back(request, f"不支持的导出格式“{fmt[:20]}”，可选 xlsx 或 csv。")
        as_of, error = ledger_export.parse_as_of(request.GET.get("as_of"))
        if error:
            return self._back(request, error)
        rows = ledger_export.outfall_rows(user=request.user, as_of=as_of)
        filterset, rows = apply_filter(OutfallAsOfFilter if as_of else OutfallFilter, request, rows)
        code = (
            filterset.form.cleaned_data.get("county") if filterset.is_bound and filterset.is_valid() else ""
        )
        county = ledger_export.county_by_code(code) if code else None
        subject = ledger_export.export_subject(request.user, county)
        filename = ledger_export.export_filename(subject, fmt, as_of)
        disposition = attachment(filename)
        if fmt == "csv":
            response = StreamingHttpResponse(
                ledger_export.csv_lines(rows, as_of=as_of), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = disposition
            return response
        handle = tempfile.TemporaryFile()  # write-only xlsx: rows stream to disk, not memory
        ledger_export.write_xlsx(rows, handle, title_subject=subject, as_of=as_of)
        handle.seek(0)
        response = FileResponse(handle, content_type=ledger_export.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = disposition
        return response


class OutfallDetailView(ScopedDetailView):
    model = Outfall
    template_name = "registry/outfall_detail.html"

    def base_queryset(self):
        links = OutfallUnitLink.objects.select_related("unit", "unit__county")
        return (
            Outfall.objects.for_list()
            .select_related("county__parent", "responsible_entity__county")
            .prefetch_related(Prefetch("unit_links", queryset=links))
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        outfall = self.object
        user = self.request.user
        editable = Outfall.objects.editable_by(user).filter(pk=outfall.pk).exists()
        attachments = list(attachments_for(outfall))
        context.update(
            editable=editable,
            history=outfall_history(outfall),
            status_changes=labelled_status_changes(outfall, *OUTFALL_CHANGE_CHOICES),
            photos=[a for a in attachments if a.is_photo],
            documents=[a for a in attachments if not a.is_photo],
            sections=Section.objects.filter(water_body=outfall.water_body).order_by("chainage_km"),
            panels=outfall_panels(outfall, user),
        )
        if editable:
            choices = ledger_steps(outfall.status)
            context["status_form"] = StatusForm(choices=choices) if choices else None
            context["workflow_steps"] = workflow_steps(outfall.status)
            context["link_form"] = UnitLinkForm(user=user)
            context["attachment_form"] = AttachmentForm()
        return context


class ServiceFormView(LoginRequiredMixin, View):
    """Create (no pk) or edit (pk) one object through its service. Editing starts from editable_by (404
    outside scope); a service's ValidationError lands on the form's fields, and what was typed is kept."""

    model = form_class = template_name = detail_url = None

    def save(self, obj, user, form):
        raise NotImplementedError

    def service_error(self, form, error):
        add_service_errors(form, error)

    def get_object(self, request, pk):
        if pk is None:
            if not scope_of(request.user).can_edit_anything:
                raise PermissionDenied("您的角色只能查看。")
            return self.model()
        return get_object_or_404(self.model.objects.editable_by(request.user), pk=pk)

    def render_form(self, request, form, pk, status=200):
        context = {"form": form, "object": form.instance if pk else None}
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk=None):
        obj = self.get_object(request, pk)
        return self.render_form(request, self.form_class(instance=obj, user=request.user), pk)

    def post(self, request, pk=None):
        obj = self.get_object(request, pk)
        form = self.form_class(request.POST, instance=obj, user=request.user)
        if form.is_valid():
            try:
                saved = self.save(form.instance, request.user, form)
            except ValidationError as error:
                self.service_error(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"已保存：{saved.name}")
                return redirect(self.detail_url, pk=saved.pk)
        return self.render_form(request, form, pk, status=400)


class OutfallFormView(ServiceFormView):
    model = Outfall
    form_class = OutfallForm
    template_name = "registry/outfall_form.html"
    detail_url = "registry:outfall_detail"

    def save(self, obj, user, form):
        confirm = bool(form.cleaned_data.get("confirm_placement"))
        return services.save_outfall(
            obj,
            user=user,
            confirm_placement=confirm,
            expected_version=form.expected_version(),
            sent=form.sent_values(),
        )

    def service_error(self, form, error):
        if hasattr(error, "error_dict") and "confirm_placement" in error.error_dict:
            form.ask_placement(error.message_dict["confirm_placement"])
            error = ValidationError({k: v for k, v in error.error_dict.items() if k != "confirm_placement"})
            if not error.error_dict:
                return
        add_service_errors(form, error)


def _editable_outfall(request, pk):
    return get_object_or_404(Outfall.objects.editable_by(request.user), pk=pk)


def _refused_on_page(request, outfall, anchor, **forms):
    """A refused form of the outfall's page: the page again (400) with that form bound, its messages on the
    fields they concern and what was typed kept; a reload asks for the page, not the form (reload_url)."""
    messages.error(request, "操作未完成，请查看表单中标红的字段。")
    view = OutfallDetailView()
    view.setup(request, pk=outfall.pk)
    view.object = view.get_object()
    context = view.get_context_data(object=view.object)
    context.update(forms, reload_url=reverse("registry:outfall_detail", args=[outfall.pk]) + anchor)
    return render(request, view.template_name, context, status=400)


@login_required
@require_POST
def outfall_change_status(request, pk):
    outfall = _editable_outfall(request, pk)
    form = StatusForm(request.POST, choices=ledger_steps(outfall.status))
    if form.is_valid():
        try:
            services.change_status(
                outfall, form.cleaned_data["to_status"], user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error, fields={"status": "to_status"})
        else:
            messages.success(request, "状态已变更。")
            return redirect("registry:outfall_detail", pk=outfall.pk)
    return _refused_on_page(request, outfall, "#lifecycle", status_form=form)


@login_required
@require_POST
def outfall_disclosure(request):
    """The ledger's bulk action: make the ticked outfalls (or the current filter's) public, withheld, or back
    to the disclosure rules (registry.services.set_disclosure; the city bureau only)."""
    if not scope_of(request.user).can_disclose:
        raise PermissionDenied("只有市生态环境局可以决定入河排污口是否向社会公开。")
    form = DisclosureForm(request.POST)
    back = reverse("registry:outfall_list")
    if not form.is_valid():
        messages.error(request, "公开设置未完成：" + _form_errors_text(form))
        return redirect(back)
    query = QueryDict(form.cleaned_data["filter"])
    if query:
        back = f"{back}?{query.urlencode()}"
    if form.cleaned_data["target"] == "filter":
        filterset, outfalls = apply_filter(
            OutfallFilter,
            SimpleNamespace(user=request.user, GET=query),
            Outfall.objects.visible_to(request.user),
        )
        if filterset.is_bound and not filterset.is_valid():
            messages.error(request, "公开设置未完成：筛选条件不正确。")
            return redirect(back)
    else:
        outfalls = parse_ids(request.POST.getlist("ids"), "ids", label="勾选的排污口")
        if not outfalls:
            messages.error(request, "公开设置未完成：请先勾选排污口，或选择“当前筛选的全部排污口”。")
            return redirect(back)
    try:
        changed = services.set_disclosure(
            outfalls, user=request.user, disclose=form.disclose(), reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, "公开设置未完成：" + "；".join(error.messages))
        return redirect(back)
    action = dict(DisclosureForm.ACTIONS)[form.cleaned_data["action"]]
    messages.success(request, f"已设置为“{action}”，{changed} 个排污口的公开状态发生变化。")
    return redirect(back)


@login_required
@require_POST
def outfall_link_unit(request, pk):
    outfall = _editable_outfall(request, pk)
    form = UnitLinkForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.link_unit(
                outfall,
                form.cleaned_data["unit"],
                user=request.user,
                role=form.cleaned_data["role"],
                via_channel=form.cleaned_data["via_channel"],
                share_note=form.cleaned_data["share_note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "已关联排污单位。")
            return redirect(reverse("registry:outfall_detail", args=[outfall.pk]) + "#units")
    return _refused_on_page(request, outfall, "#units", link_form=form)


@login_required
@require_POST
def outfall_unlink_unit(request, pk, link_pk):
    outfall = _editable_outfall(request, pk)
    link = get_object_or_404(OutfallUnitLink, pk=link_pk, outfall=outfall)
    services.unlink_unit(link, user=request.user)
    messages.success(request, f"已解除与“{link.unit.name}”的关联。")
    return redirect(reverse("registry:outfall_detail", args=[outfall.pk]) + "#units")


@login_required
@require_POST
def outfall_add_attachment(request, pk):
    outfall = _editable_outfall(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            add_attachment(
                outfall,
                form.cleaned_data["file"],
                user=request.user,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as error:
            # The file's type or content is refused: the message sits on the file field.
            add_service_errors(
                form, error if hasattr(error, "error_dict") else ValidationError({"file": error})
            )
        else:
            messages.success(request, "附件已上传。")
            return redirect(reverse("registry:outfall_detail", args=[outfall.pk]) + "#files")
    return _refused_on_page(request, outfall, "#files", attachment_form=form)


# Discharge units ----------------------------------------------------------------------------------------
class DischargeUnitListView(ScopedListView):
    model = DischargeUnit
    filterset_class = DischargeUnitFilter
    template_name = "registry/unit_list.html"

    def base_queryset(self):
        return (
            DischargeUnit.objects.select_related("county", "town")
            .annotate(outfall_count=Count("outfall_links"))
            .order_by("name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = scope_of(self.request.user).can_edit_anything
        if scope_of(self.request.user).can_disclose:
            query = self.request.GET.copy()
            query.pop("page", None)
            context["disclosure_form"] = DisclosureForm(initial={"filter": query.urlencode()})
        return context


class DischargeUnitDetailView(ScopedDetailView):
    model = DischargeUnit
    template_name = "registry/unit_detail.html"

    def base_queryset(self):
        return DischargeUnit.objects.select_related("county", "town")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = Outfall.objects.visible_to(user)
        context["links"] = OutfallUnitLink.objects.filter(
            unit=self.object, outfall__in=visible
        ).select_related("outfall", "outfall__county", "outfall__water_body")
        context["responsible_for"] = visible.filter(responsible_entity=self.object).select_related(
            "county", "water_body"
        )
        context["editable"] = DischargeUnit.objects.editable_by(user).filter(pk=self.object.pk).exists()
        context["attachments"] = attachments_for(self.object)
        return context


class DischargeUnitFormView(ServiceFormView):
    model = DischargeUnit
    form_class = DischargeUnitForm
    template_name = "registry/unit_form.html"
    detail_url = "registry:unit_detail"

    def save(self, obj, user, form):
        return services.save_unit(
            obj, user=user, expected_version=form.expected_version(), sent=form.sent_values()
        )


# Receiving waters and sections ---------------------------------------------------------------------------
class WaterBodyListView(ScopedListView):
    model = WaterBody
    filterset_class = WaterBodyFilter
    template_name = "registry/waterbody_list.html"

    def base_queryset(self):
        return (
            WaterBody.objects.select_related("parent")
            .defer("geometry")
            .annotate(section_count=Count("sections"))
            .order_by("name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Outfall counts per water body, counted within the user's scope only.
        counts = (
            Outfall.objects.visible_to(self.request.user)
            .values("water_body_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        by_id = {row["water_body_id"]: row["n"] for row in counts}
        for water in context["object_list"]:
            water.visible_outfalls = by_id.get(water.pk, 0)
        return context


class WaterBodyDetailView(ScopedDetailView):
    model = WaterBody
    template_name = "registry/waterbody_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visible = Outfall.objects.visible_to(self.request.user).filter(water_body=self.object)
        context["sections"] = self.object.sections.select_related("county").order_by("chainage_km")
        context["outfall_count"] = visible.count()
        context["by_county"] = visible.values("county__name").annotate(n=Count("id")).order_by("county__name")
        context["tributaries"] = self.object.tributaries.defer("geometry")
        context["zones"] = self.object.zones.defer("geometry").order_by("start_km", "name")
        return context


class SectionListView(ScopedListView):
    model = Section
    filterset_class = SectionFilter
    template_name = "registry/section_list.html"
    paginate_by = 100

    def base_queryset(self):
        return Section.objects.select_related("water_body", "county").defer("water_body__geometry")


class ZoneListView(ScopedListView):
    model = WaterFunctionZone
    filterset_class = ZoneFilter
    template_name = "registry/zone_list.html"
    paginate_by = 100

    def base_queryset(self):
        return WaterFunctionZone.objects.select_related("water_body").defer(
            "geometry", "water_body__geometry"
        )


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
