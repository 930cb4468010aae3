"""Shared view building blocks (scoped list/detail) and the core pages."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.templatetags.static import PrefixNode
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from . import jobs
from .choices import JobStatus
from .downloads import attachment
from .filters import JurisdictionFilter
from .forms import fast_selects, style_form
from .models import Attachment, Job, Jurisdiction
from .pagination import IdsFirstPaginator
from .params import ParamError


# Error pages (handler400 and handler500 in outfalls/urls.py; 403.html and 404.html use Django's views).
def bad_request(request, exception):
    """400: a parameter's own Chinese message (ParamError from core/params.py), else a general one."""
    message = exception.message if isinstance(exception, ParamError) else ""
    return render(request, "400.html", {"message": message}, status=400)


SERVER_ERROR_FALLBACK = (
    '<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>系统出错</title>'
    "<h1>系统出错，本次操作没有完成</h1><p>请稍后重试；如果仍然出错，请把出错时间 {time} 告诉平台管理员。</p></html>"
)


def server_error(request):
    """500: the standalone Chinese page with the time to give the administrator.

    Rendered without the request (no context processors, no database): what failed may be either.
    """
    time = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    try:
        html = loader.get_template("500.html").render(
            {
                "time": time,
                "platform_name": settings.PLATFORM_NAME,
                "static_prefix": PrefixNode.handle_simple("STATIC_URL"),
            }
        )
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        html = SERVER_ERROR_FALLBACK.format(time=time)
    return HttpResponseServerError(html)


def apply_filter(filterset_class, request, queryset):
    """Bind a FilterSet to the request's query string; an invalid filter gives no rows, never all rows."""
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, queryset.none()
    return filterset, filterset.qs


class ScopedListView(LoginRequiredMixin, ListView):
    """A register page: the model's visible_to(user), a FilterSet, sorting and pagination.

    The same FilterSet class serves the register's API list.
    """

    filterset_class = None
    paginate_by = settings.LEDGER_PAGE_SIZE
    paginator_class = IdsFirstPaginator

    def base_queryset(self):
        return self.model.objects.all()

    def get_queryset(self):
        queryset = self.base_queryset().visible_to(self.request.user)
        self.filterset, rows = apply_filter(self.filterset_class, self.request, queryset)
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        style_form(fast_selects(self.filterset.form))
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        return context


class ScopedDetailView(LoginRequiredMixin, DetailView):
    """Objects outside the user's scope are 404, not 403."""

    def base_queryset(self):
        return self.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().visible_to(self.request.user)


class JurisdictionListView(ScopedListView):
    model = Jurisdiction
    filterset_class = JurisdictionFilter
    template_name = "core/jurisdiction_list.html"
    paginate_by = 100

    def base_queryset(self):
        return Jurisdiction.objects.select_related("parent", "county").defer("boundary")


class JurisdictionDetailView(ScopedDetailView):
    model = Jurisdiction
    template_name = "core/jurisdiction_detail.html"
    slug_field = "code"
    slug_url_kwarg = "code"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["children"] = self.object.children.visible_to(self.request.user).defer("boundary")
        return context


@login_required
def protected_media(request, path):
    """Serve an attachment only to users who can see the object it belongs to."""
    attachment = get_object_or_404(Attachment.objects.select_related("content_type"), file=path)
    model = attachment.content_type.model_class()
    manager = model.objects
    if hasattr(manager, "visible_to"):
        if not manager.visible_to(request.user).filter(pk=attachment.object_id).exists():
            raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404
    content_type = mimetypes.guess_type(attachment.file.name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)


# Background jobs (core/jobs.py) ---------------------------------------------------------------------------
def _job(request, pk):
    return get_object_or_404(Job.objects.visible_to(request.user).select_related("owner"), pk=pk)


def _back(request, job):
    back = request.POST.get("back") or request.GET.get("back") or ""
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    return reverse("core:job_detail", args=[job.pk])


@login_required
def job_detail(request, pk):
    job = _job(request, pk)
    jobs.reap([job])
    return render(request, "core/job_detail.html", {"job": job})


@login_required
def job_progress(request, pk):
    """The bar alone, polled by htmx; when the job has ended the page reloads to show the outcome."""
    job = _job(request, pk)
    jobs.reap([job])
    response = render(request, "core/job_progress_fragment.html", {"job": job, "back": _back(request, job)})
    if not job.busy:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def job_retry(request, pk):
    job = _job(request, pk)
    try:
        jobs.retry(job, request.user)
    except jobs.JobError as error:
        messages.error(request, error.message)
    return redirect(_back(request, job))


@login_required
def job_download(request, pk):
    """The file a finished job made (e.g. the notice .docx), to whoever may see the job."""
    job = _job(request, pk)
    stored = job.result.get("file") if job.status == JobStatus.SUCCEEDED else None
    if not stored:
        raise Http404
    try:
        handle = default_storage.open(stored, "rb")
    except FileNotFoundError:
        raise Http404
    filename = job.result.get("filename") or Path(stored).name
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["Content-Disposition"] = attachment(filename)
    return response
