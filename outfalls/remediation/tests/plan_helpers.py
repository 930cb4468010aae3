"""Shared helpers of the plan and close-out tests."""

import io
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from outfalls.core.choices import Milestone
from outfalls.core.models import Deadline
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall
from outfalls.remediation.choices import ProposalStatus
from outfalls.remediation.models import MeasureProposal

PINGCHENG = "140213"
YUNZHOU = "140215"


def set_city_deadline(due):
    """The city's rectification deadline (the default of a new plan while it is ahead)."""
    Deadline.objects.update_or_create(
        milestone=Milestone.RECTIFICATION, jurisdiction=None, defaults={"due_date": due}
    )
    return due


def city_deadline_ahead():
    """The demo's city deadline (2024-12-31) is past, so a new plan gets no default deadline: tests that make
    plans without one move it a year ahead (rolled back with the test)."""
    return set_city_deadline(timezone.localdate() + timedelta(days=365))


def png(name="after.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 140, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def document(name="验收意见.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 demo", content_type="application/pdf")


def free_outfall(county=PINGCHENG, status=LifecycleStatus.CLASSIFIED, exclude=()):
    """An outfall of the county in the given lifecycle status without a plan."""
    statuses = status if isinstance(status, tuple | list) else [status]
    return (
        Outfall.objects.filter(county__code=county, status__in=statuses, rectification_plan__isnull=True)
        .exclude(pk__in=[o.pk for o in exclude])
        .order_by("code")
        .first()
    )


def merge_target(outfall):
    return (
        Outfall.objects.filter(county_id=outfall.county_id, status=LifecycleStatus.KEPT)
        .exclude(pk=outfall.pk)
        .order_by("code")
        .first()
    )


def pending_proposal(outfall, measure):
    return MeasureProposal.objects.create(
        outfall=outfall, measure=measure, reason="测试规则建议", status=ProposalStatus.PENDING
    )


TODAY = date.today()
PLANNABLE = (LifecycleStatus.CLASSIFIED, LifecycleStatus.TRACED, LifecycleStatus.RECTIFYING)
