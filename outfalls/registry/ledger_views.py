"""Pages of the ledger import: upload, progress, preview with per-row verdicts, decisions, commit."""

import logging
import threading

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import close_old_connections, connection
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from outfalls.core.forms import BootstrapMixin
from outfalls.geo.coords import CRS_CHOICES

from . import checks, ledger_import
from .models import LedgerImport

logger = logging.getLogger(__name__)
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


def _in_background(work, record_id):
    """Run a long import step off the request (settings.LEDGER_IMPORT_BACKGROUND), or inline."""

    def run():
        try:
            record = LedgerImport.objects.get(pk=record_id)
            work(record)
        except (ledger_import.LedgerImportError, PermissionDenied):
            pass  # kept on the record by the step itself
        except Exception as error:  # noqa: BLE001 - the record must say what happened
            logger.exception("ledger import %s failed", record_id)
            LedgerImport.objects.filter(pk=record_id).update(
                status=LedgerImport.Status.FAILED, error=f"系统错误：{error}"
            )
        finally:
            if settings.LEDGER_IMPORT_BACKGROUND:
                connection.close()

    if settings.LEDGER_IMPORT_BACKGROUND:
        close_old_connections()
        threading.Thread(target=run, name=f"ledger-import-{record_id}", daemon=True).start()
    else:
        run()


@login_required
def import_list(request):
    ledger_import.check_can_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = LedgerImport.objects.create(
            created_by=request.user, file=upload, filename=upload.name, crs=form.cleaned_data["crs"]
        )
        _in_background(ledger_import.run_preview, record.pk)
        return redirect("registry:import_detail", pk=record.pk)
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
    shown = request.GET.get("action", "")
    rows = [r for r in record.report if not shown or r["action"] == shown]
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    duplicates = [r for r in record.report if r["action"] == "duplicate"]
    context = {
        "record": record,
        "page": page,
        "shown": shown,
        "action_labels": ledger_import.Action.LABELS,
        "filters": [(a, ledger_import.Action.LABELS[a], record.counts.get(a, 0)) for a in ACTION_FILTERS],
        "decisions": ledger_import.DECISIONS,
        "duplicates": duplicates,
        "duplicate_m": checks.duplicate_m(),
        "can_commit": record.status == LedgerImport.Status.PREVIEWED and not record.counts.get("error"),
        "busy": record.status
        in (LedgerImport.Status.PENDING, LedgerImport.Status.RUNNING, LedgerImport.Status.COMMITTING),
    }
    return render(request, "registry/import_detail.html", context)


@login_required
def import_file(request, pk):
    """The original file, to whoever may see the import."""
    record = _record(request, pk)
    return FileResponse(record.file.open("rb"), as_attachment=True, filename=record.filename)


@login_required
def import_progress(request, pk):
    """The progress bar, polled by htmx while the file is read or written; a redirect header when done."""
    record = _record(request, pk)
    busy = record.status in (
        LedgerImport.Status.PENDING,
        LedgerImport.Status.RUNNING,
        LedgerImport.Status.COMMITTING,
    )
    response = render(request, "registry/import_progress.html", {"record": record, "busy": busy})
    if not busy:
        response["HX-Refresh"] = "true"
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
        decisions = ledger_import.start_commit(record, request.user, decisions)
    except ledger_import.LedgerImportError as error:
        messages.error(request, str(error))
        return redirect("registry:import_detail", pk=record.pk)

    def work(record):
        try:
            ledger_import.commit(record, record.created_by, decisions)
        except (ledger_import.LedgerImportError, PermissionDenied) as error:
            LedgerImport.objects.filter(pk=record.pk).update(
                status=LedgerImport.Status.PREVIEWED, error=str(error)
            )
            raise

    _in_background(work, record.pk)
    record.refresh_from_db()
    if record.status == LedgerImport.Status.COMMITTED:
        messages.success(
            request, f"已导入：新增 {len(record.created_ids)} 个排口，更新 {len(record.updated_ids)} 个。"
        )
    elif record.error:
        messages.error(request, record.error)
    return redirect("registry:import_detail", pk=record.pk)
