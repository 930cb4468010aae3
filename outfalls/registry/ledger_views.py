"""Pages of the ledger import: upload, progress, preview with per-row verdicts, decisions, commit."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from outfalls.core import jobs
from outfalls.core.choices import JobStatus
from outfalls.core.downloads import attachment
from outfalls.core.forms import BootstrapMixin
from outfalls.geo.coords import CRS_CHOICES

from . import checks, ledger_import
from . import jobs as registry_jobs
from .models import LedgerImport

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="台账文件（.xlsx 或 .csv）")
    crs = forms.ChoiceField(label="文件中的坐标系", choices=CRS_CHOICES, initial="cgcs2000")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".xlsx", ".csv")):
            raise forms.ValidationError(
                f"不支持的文件类型：{upload.name}。请上传 .xlsx 或 .csv（.xls 请另存为 .xlsx）。"
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。")
        return upload


@login_required
def import_list(request):
    ledger_import.check_can_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = LedgerImport.objects.create(
            created_by=request.user, file=upload, filename=upload.name, crs=form.cleaned_data["crs"]
        )
        registry_jobs.start_preview(record, request.user)
        return redirect("registry:import_detail", pk=record.pk)
    jobs.reap()  # an import whose worker died says so in the list
    imports = LedgerImport.objects.visible_to(request.user).select_related("created_by")[:50]
    return render(
        request,
        "registry/import_list.html",
        {"form": form, "imports": imports},
        status=400 if form.errors else 200,
    )


def _record(request, pk):
    return get_object_or_404(LedgerImport.objects.visible_to(request.user), pk=pk)


ACTION_FILTERS = ("error", "duplicate", "new", "update", "skip")


@login_required
def import_detail(request, pk):
    record = _record(request, pk)
    job = jobs.latest_for(record)
    jobs.reap([job])
    if job is not None and job.status != JobStatus.SUCCEEDED:
        record.refresh_from_db()  # a dead worker's job has just put the import back
    shown = request.GET.get("action", "")
    page = Paginator(record.report(shown), 100).get_page(request.GET.get("page"))
    job_failed = job is not None and job.status == JobStatus.FAILED
    context = {
        "record": record,
        "job": job,
        "page": page,
        "shown": shown,
        "action_labels": ledger_import.Action.LABELS,
        "filters": [(a, ledger_import.Action.LABELS[a], record.counts.get(a, 0)) for a in ACTION_FILTERS],
        "decisions": ledger_import.DECISIONS,
        "rest_decisions": ledger_import.REST_DECISIONS,
        "duplicates": bool(record.counts.get(ledger_import.Action.DUPLICATE)),
        "duplicate_m": checks.duplicate_m(),
        "can_commit": record.status == LedgerImport.Status.PREVIEWED and not record.counts.get("error"),
        "busy": job is not None and job.busy,
        "job_failed": job_failed,
        # The job's failure box says it already (with 重试 where that helps).
        "record_error": "" if job_failed and job.error == record.error else record.error,
    }
    return render(request, "registry/import_detail.html", context)


@login_required
def import_file(request, pk):
    """The original file, to whoever may see the import."""
    record = _record(request, pk)
    response = FileResponse(record.file.open("rb"), as_attachment=True, filename=record.filename)
    response["Content-Disposition"] = attachment(record.filename)
    return response


@login_required
@require_POST
def import_commit(request, pk):
    record = _record(request, pk)
    decisions = {
        key.removeprefix("decision-"): value
        for key, value in request.POST.items()
        if key.startswith("decision-") and value
    }
    try:
        job = registry_jobs.start_commit(
            record, request.user, decisions, request.POST.get("duplicates-rest", "")
        )
    except ledger_import.LedgerImportError as error:
        messages.error(request, str(error))
        return redirect("registry:import_detail", pk=record.pk)
    if job.status == JobStatus.SUCCEEDED:
        messages.success(request, job.message)
    return redirect("registry:import_detail", pk=record.pk)
