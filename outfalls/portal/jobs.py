"""Sign boards in a batch on the task queue (core/jobs.py): one PDF, one sign per page at true size with crop
marks (signboard.render_batch), for the ledger's current filter within the user's scope."""

from types import SimpleNamespace

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import QueryDict
from django.urls import reverse

from outfalls.core import jobs
from outfalls.core.choices import JobKind
from outfalls.core.views import apply_filter
from outfalls.registry.filters import OutfallFilter
from outfalls.registry.models import Outfall

from . import signs
from .choices import SignSize

SIGN_BATCH_LIMIT = 2000


def batch_outfalls(user, query):
    """The outfalls of the ledger filter (a query string) that the user may edit, in code order."""
    request = SimpleNamespace(user=user, GET=QueryDict(query))
    filterset, rows = apply_filter(OutfallFilter, request, Outfall.objects.for_list().editable_by(user))
    if filterset.is_bound and not filterset.is_valid():
        raise jobs.JobError("筛选条件不正确，请回到台账重新筛选。")
    return rows.order_by("code")


def start_sign_batch(user, query, size):
    SignSize(size)
    if not Outfall.objects.editable_by(user).exists():
        raise PermissionDenied("您没有可生成标识牌的排污口。")
    return jobs.start(JobKind.SIGN_BATCH, owner=user, params={"filter": query, "size": size})


@jobs.register(JobKind.SIGN_BATCH)
def sign_batch(job, progress):
    from .signboard import SignContent, render_batch

    size = job.params["size"]
    rows = list(batch_outfalls(job.owner, job.params.get("filter", ""))[: SIGN_BATCH_LIMIT + 1])
    if not rows:
        raise jobs.JobError("当前筛选没有您可生成标识牌的排污口。")
    if len(rows) > SIGN_BATCH_LIMIT:
        raise jobs.JobError(f"一次最多生成 {SIGN_BATCH_LIMIT} 块标识牌，请按县区或类型缩小筛选。")
    progress.step(f"绘制 {len(rows)} 块标识牌")
    pdf = render_batch([SignContent(**signs.sign_fields(o)) for o in rows], size, crop_marks=True)
    signs.record_generated(rows, user=job.owner, size=size)
    name = f"标识牌-{SignSize(size).label}-{len(rows)}块.pdf"
    stored = default_storage.save(f"jobs/{job.pk}/signs.pdf", ContentFile(pdf))
    job.result = {
        "file": stored,
        "filename": name,
        "back_url": reverse("registry:outfall_list"),
        "back_label": "返回台账",
    }
    return f"已生成 {len(rows)} 块标识牌（{SignSize(size).label}，每页一块，含裁切线）。"
