"""Setup-review and permit pages. Thin: scope from visible_to/editable_by, rules from services.py and checks.py."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from outfalls.core.forms import add_service_errors, error_text
from outfalls.core.scopes import scope_of
from outfalls.core.services import attachments_for, labelled_status_changes
from outfalls.core.spreadsheets import csv_writer
from outfalls.core.views import ScopedListView, apply_filter
from outfalls.registry.models import Outfall

from . import checks, importer, permit_services, services
from .choices import EDITABLE, ApplicationStatus, Authority, CheckOutcome
from .filters import ApplicationFilter, DecisionFilter, PermitFilter
from .forms import (
    ApplicationForm,
    ConditionForm,
    ConsultationForm,
    DecisionForm,
    MaterialFileForm,
    NoteForm,
    PermitImportForm,
    ReasonForm,
    pollutant_formset,
    pollutant_rows,
)
from .models import (
    ApplicationMaterial,
    Consultation,
    Decision,
    DecisionCondition,
    DischargePermit,
    PermitOutfall,
    SetupApplication,
)


def list_rows(queryset):
    return queryset.select_related("county", "applicant", "water_body", "outfall", "decision").defer(
        "county__boundary", "water_body__geometry", "outfall__notes", "outfall__outlet_description"
    )


# Lists --------------------------------------------------------------------------------------------------------
class ApplicationListView(ScopedListView):
    model = SetupApplication
    filterset_class = ApplicationFilter
    template_name = "permits/application_list.html"

    def base_queryset(self):
        return list_rows(SetupApplication.objects.all())

    def get_queryset(self):
        rows = super().get_queryset()
        return rows if rows.query.order_by else rows.order_by("-created_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_file"] = services.can_file(self.request.user)
        context["today"] = timezone.localdate()
        return context


EXPORT_HEADER = [
    "申请编号",
    "申请类型",
    "程序",
    "审批权限",
    "申请单位",
    "县区",
    "入河排污口",
    "排污口类型",
    "受纳水体",
    "日排放量（立方米/日）",
    "状态",
    "受理日期",
    "办理期限",
    "决定",
    "文号",
    "决定日期",
]


@login_required
def application_export(request):
    rows = list_rows(SetupApplication.objects.visible_to(request.user))
    _, rows = apply_filter(ApplicationFilter, request, rows)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv_writer(buffer)
    writer.writerow(EXPORT_HEADER)
    for a in rows.order_by("county__code", "number"):
        decision = getattr(a, "decision", None)
        writer.writerow(
            [
                a.number,
                a.get_kind_display(),
                a.get_procedure_display(),
                a.get_authority_display(),
                a.applicant.name,
                a.county.name,
                a.outfall.code if a.outfall_id else a.outfall_name,
                a.type_label,
                a.water_body.name,
                a.daily_volume_m3,
                a.get_status_display(),
                a.accepted_on.isoformat() if a.accepted_on else "",
                a.due_on.isoformat() if a.due_on else "",
                decision.get_outcome_display() if decision else "",
                decision.number if decision else "",
                decision.decided_on.isoformat() if decision else "",
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"入河排污口设置申请-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def todo(request):
    lists = [
        (key, title, list_rows(queryset).order_by("due_on", "-created_at")[:100], queryset.count())
        for key, (title, queryset) in services.todo(request.user).items()
    ]
    return render(request, "permits/todo.html", {"lists": lists, "today": timezone.localdate()})


# Filing -------------------------------------------------------------------------------------------------------
def _render_form(request, form, formset, application, status=200):
    context = {"form": form, "formset": formset, "application": application}
    return render(request, "permits/application_form.html", context, status=status)


def _save(request, form, formset, application):
    if form.is_valid() & formset.is_valid():
        try:
            saved = services.save_application(
                form.instance,
                user=request.user,
                pollutants=pollutant_rows(formset),
                expected_version=form.expected_version() if application else None,
                sent=form.sent_values() if application else None,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "pollutants" in error.error_dict:
                formset_errors = error.message_dict["pollutants"]
                error = ValidationError({k: v for k, v in error.error_dict.items() if k != "pollutants"})
                form.add_error(None, formset_errors)
                if not error.error_dict:
                    return None
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            return saved
    return None


@login_required
def application_create(request):
    if not services.can_file(request.user):
        raise PermissionDenied("您的角色不能填报入河排污口设置申请。")
    if request.method == "POST":
        form = ApplicationForm(request.POST, user=request.user, instance=SetupApplication())
        formset = pollutant_formset(request.POST)
        saved = _save(request, form, formset, None)
        if saved is not None:
            messages.success(request, f"已保存申请 {saved.number}，请上传材料后提交。")
            return redirect("permits:application_detail", pk=saved.pk)
        return _render_form(request, form, formset, None, status=400)
    form = ApplicationForm(user=request.user)
    return _render_form(request, form, pollutant_formset(), None)


@login_required
def application_edit(request, pk):
    application = get_object_or_404(SetupApplication.objects.editable_by(request.user), pk=pk)
    if application.status not in EDITABLE:
        messages.error(request, f"申请状态为“{application.get_status_display()}”，不能修改。")
        return redirect("permits:application_detail", pk=pk)
    if request.method == "POST":
        form = ApplicationForm(request.POST, user=request.user, instance=application)
        formset = pollutant_formset(request.POST)
        saved = _save(request, form, formset, application)
        if saved is not None:
            messages.success(request, "申请已保存。")
            return redirect("permits:application_detail", pk=saved.pk)
        return _render_form(request, form, formset, application, status=400)
    form = ApplicationForm(user=request.user, instance=application)
    return _render_form(request, form, pollutant_formset(application=application), application)


# The application's page -----------------------------------------------------------------------------------------
def _visible(request, pk):
    queryset = (
        SetupApplication.objects.visible_to(request.user)
        .select_related(
            "county",
            "applicant",
            "water_body",
            "zone",
            "outfall",
            "filed_by",
            "decision",
            "decision__decided_by",
        )
        .prefetch_related(
            "pollutants", Prefetch("consultations", queryset=Consultation.objects.order_by("sent_on", "id"))
        )
    )
    return get_object_or_404(queryset, pk=pk)


def _context(request, application, **forms):
    user = request.user
    editable = services.can_edit(user, application)
    decider = services.can_decide(user)
    reviewing = application.status == ApplicationStatus.UNDER_REVIEW
    results = checks.run_checks(application) if application.is_open else []
    files = services.material_files(application)
    materials = list(application.materials.all())
    for m in materials:
        m.files = files.get(m.pk, [])
    consultations = list(application.consultations.all())
    for c in consultations:
        c.files = list(attachments_for(c))
    duplicates = next((r for r in results if r.name == "possible_duplicates"), None)
    decision = getattr(application, "decision", None)
    context = {
        "application": application,
        "results": results,
        "snapshot": application.check_results,
        "blocking": checks.blocking(application, results) if results else [],
        "materials": materials,
        "consultations": consultations,
        "decision": decision,
        "conditions": list(decision.items.all()) if decision else [],
        "changes": labelled_status_changes(application, ApplicationStatus),
        "visible_duplicates": services.scoped_other_outfalls(
            user, duplicates.data.get("other_ids") if duplicates else []
        ),
        "today": timezone.localdate(),
        "days_left": (days_left := application.working_days_left()),
        "days_over": -days_left if days_left is not None and days_left < 0 else 0,
        "can_edit": editable,
        "can_forward": services.can_forward(user, application),
        "can_return": (services.can_forward(user, application) or (decider and reviewing)),
        "can_withdraw": application.is_open
        and SetupApplication.objects.editable_by(user).filter(pk=application.pk).exists(),
        "can_consult": decider and reviewing,
        "can_decide": decider and reviewing,
        "can_withhold": decider and decision is not None,
        "consultation_state": services.consultation_state(application) if reviewing else (True, ""),
        "CheckOutcome": CheckOutcome,
        "national": application.authority == Authority.NATIONAL,
    }
    if editable:
        context["material_form"] = forms.get("material_form") or MaterialFileForm()
    if context["can_forward"]:
        context["forward_form"] = forms.get("forward_form") or NoteForm(prefix="forward")
    if context["can_return"]:
        context["return_form"] = forms.get("return_form") or ReasonForm(prefix="return")
    if context["can_consult"]:
        suggested = next((r.data.get("authority") for r in results if r.outcome == CheckOutcome.CONSULT), "")
        context["consultation_form"] = forms.get("consultation_form") or ConsultationForm(
            initial={"authority": suggested, "sent_on": timezone.localdate()}, prefix="consult"
        )
    if context["can_decide"]:
        context["decision_form"] = forms.get("decision_form") or DecisionForm(
            procedure=application.procedure,
            national=context["national"],
            initial={"decided_on": timezone.localdate()},
            prefix="decide",
        )
    if context["can_withhold"]:
        context["withhold_form"] = forms.get("withhold_form") or ReasonForm(prefix="withhold")
        context["condition_form"] = ConditionForm(
            initial={"fulfilled_on": timezone.localdate()}, prefix="cond"
        )
    return context


@login_required
def application_detail(request, pk):
    application = _visible(request, pk)
    return render(request, "permits/application_detail.html", _context(request, application))


def _step(request, pk, call, success, *, form=None, form_key=None, anchor=""):
    """One POSTed step: bind the form, call the service, go back to the page (errors shown there, 400)."""
    application = _visible(request, pk)
    if form is None or form.is_valid():
        try:
            call(application, form.cleaned_data if form is not None else {})
        except ValidationError as error:
            if form is None:
                messages.error(request, error_text(error))
                return redirect(reverse("permits:application_detail", args=[pk]) + anchor)
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect(reverse("permits:application_detail", args=[pk]) + anchor)
    messages.error(request, "操作未完成，请查看表单中的提示。")
    application = _visible(request, pk)
    context = _context(request, application, **({form_key: form} if form_key else {}))
    return render(request, "permits/application_detail.html", context, status=400)


@login_required
@require_POST
def application_submit(request, pk):
    def call(application, data):
        saved = services.submit(application, user=request.user)
        if saved.status == ApplicationStatus.SUBMITTED:
            messages.info(request, "已提交，等待县区转报。")

    return _step(request, pk, call, "申请已提交。")


@login_required
@require_POST
def application_forward(request, pk):
    form = NoteForm(request.POST, prefix="forward")

    def call(application, data):
        services.forward(application, user=request.user, note=data["note"])

    return _step(
        request, pk, call, "已转报市生态环境局，开始计算办理时限。", form=form, form_key="forward_form"
    )


@login_required
@require_POST
def application_return(request, pk):
    form = ReasonForm(request.POST, prefix="return")

    def call(application, data):
        services.return_application(application, user=request.user, reason=data["reason"])

    return _step(request, pk, call, "已退回补正。", form=form, form_key="return_form")


@login_required
@require_POST
def application_withdraw(request, pk):
    def call(application, data):
        services.withdraw(application, user=request.user)

    return _step(request, pk, call, "申请已撤回。")


@login_required
@require_POST
def material_upload(request, pk, material_pk):
    application = _visible(request, pk)
    material = get_object_or_404(ApplicationMaterial, pk=material_pk, application=application)
    form = MaterialFileForm(request.POST, request.FILES)

    def call(application, data):
        services.add_material_file(material, data["file"], user=request.user)

    return _step(
        request,
        pk,
        call,
        f"已上传：{material.get_item_display()}",
        form=form,
        form_key="material_form",
        anchor="#materials",
    )


@login_required
@require_POST
def consultation_add(request, pk):
    form = ConsultationForm(request.POST, request.FILES, prefix="consult")

    def call(application, data):
        fields = {name: data[name] for name in services.CONSULTATION_FIELDS}
        services.save_consultation(application, user=request.user, files=data["files"], **fields)

    return _step(
        request,
        pk,
        call,
        "已记录意见征询。",
        form=form,
        form_key="consultation_form",
        anchor="#consultations",
    )


@login_required
@require_POST
def consultation_reply(request, pk, consultation_pk):
    application = _visible(request, pk)
    consultation = get_object_or_404(Consultation, pk=consultation_pk, application=application)
    form = ConsultationForm(request.POST, request.FILES, prefix=f"reply{consultation.pk}")

    def call(application, data):
        fields = {name: data[name] for name in services.CONSULTATION_FIELDS}
        services.save_consultation(
            application, user=request.user, consultation=consultation, files=data["files"], **fields
        )

    return _step(
        request, pk, call, "已记录回复。", form=form, form_key="consultation_form", anchor="#consultations"
    )


@login_required
@require_POST
def application_decide(request, pk):
    application = _visible(request, pk)
    form = DecisionForm(
        request.POST,
        procedure=application.procedure,
        national=application.authority == Authority.NATIONAL,
        prefix="decide",
    )

    def call(application, data):
        services.decide(
            application,
            user=request.user,
            **{k: v for k, v in data.items() if v is not None or k == "conditions_due"},
        )

    return _step(request, pk, call, "已作出决定，台账已更新。", form=form, form_key="decision_form")


@login_required
@require_POST
def decision_withhold(request, pk):
    form = ReasonForm(request.POST, prefix="withhold")

    def call(application, data):
        services.withhold(application.decision, user=request.user, reason=data["reason"])

    return _step(request, pk, call, "该决定不再向社会公开。", form=form, form_key="withhold_form")


@login_required
@require_POST
def decision_disclose(request, pk):
    def call(application, data):
        services.disclose(application.decision, user=request.user)

    return _step(request, pk, call, "该决定已恢复向社会公开。")


@login_required
@require_POST
def condition_fulfil(request, pk, condition_pk):
    application = _visible(request, pk)
    condition = get_object_or_404(DecisionCondition, pk=condition_pk, decision__application=application)
    form = ConditionForm(request.POST, prefix="cond")

    def call(application, data):
        services.fulfil_condition(
            condition, user=request.user, fulfilled_on=data["fulfilled_on"], note=data["note"]
        )

    return _step(request, pk, call, "已记录条件落实。", form=form)


# Decisions register -----------------------------------------------------------------------------------------------
class DecisionListView(ScopedListView):
    model = Decision
    filterset_class = DecisionFilter
    template_name = "permits/decision_list.html"

    def base_queryset(self):
        return Decision.objects.select_related(
            "application",
            "application__applicant",
            "application__county",
            "application__water_body",
            "application__outfall",
        ).defer(
            "application__county__boundary",
            "application__water_body__geometry",
            "application__outfall__notes",
        )


# Permits --------------------------------------------------------------------------------------------------------
class PermitListView(ScopedListView):
    model = DischargePermit
    filterset_class = PermitFilter
    template_name = "permits/permit_list.html"

    def base_queryset(self):
        return (
            DischargePermit.objects.select_related("unit", "unit__county")
            .defer("unit__county__boundary")
            .annotate(outfall_count=Count("covered"))
            .order_by("number")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_import"] = scope_of(self.request.user).can_decide_setup
        context["today"] = timezone.localdate()
        return context


@login_required
def permit_detail(request, pk):
    permit = get_object_or_404(
        DischargePermit.objects.visible_to(request.user).select_related("unit", "unit__county"), pk=pk
    )
    visible = Outfall.objects.visible_to(request.user)
    entries = (
        PermitOutfall.objects.filter(permit=permit, outfall__in=visible)
        .select_related("outfall", "outfall__county", "outfall__water_body")
        .prefetch_related("limits", "monitoring")
    )
    hidden = permit.covered.exclude(outfall__in=visible).count()
    context = {"permit": permit, "entries": entries, "hidden": hidden, "today": timezone.localdate()}
    return render(request, "permits/permit_detail.html", context)


@login_required
def permit_import(request):
    if not scope_of(request.user).can_decide_setup:
        raise PermissionDenied("只有市生态环境局可以导入排污许可证。")
    result = None
    if request.method == "POST":
        form = PermitImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = importer.import_file(
                upload, filename=upload.name, user=request.user, dry_run=form.cleaned_data["dry_run"]
            )
            if result.ok and not result.dry_run:
                messages.success(request, result.summary)
                return redirect("permits:permit_list")
        status = 200 if result is not None and result.ok else 400
    else:
        form = PermitImportForm()
        status = 200
    context = {"form": form, "result": result, "columns": importer.COLUMNS}
    return render(request, "permits/permit_import.html", context, status=status)


@login_required
def shared_findings(request):
    rows = permit_services.shared_outfalls_without_share(request.user)
    return render(request, "permits/shared_findings.html", {"rows": rows})
