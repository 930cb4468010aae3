"""The 排查与溯源 panel on the outfall's file (registry.panels hook)."""

import pytest
from django.urls import reverse

from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall
from outfalls.survey.choices import PointOutcome
from outfalls.survey.models import SuspectedPoint, TracingCase

pytestmark = pytest.mark.django_db

PINGCHENG = "140213"


def _page(client, outfall):
    return client.get(reverse("registry:outfall_detail", args=[outfall.pk])).content.decode()


def test_case_and_points_link_from_the_outfall_file(client_for):
    case = TracingCase.objects.filter(outfall__county__code=PINGCHENG).select_related("outfall").first()
    assert case is not None, "the demo has tracing cases in 平城区"
    html = _page(client_for("pingcheng"), case.outfall)
    assert 'data-testid="survey-panel"' in html
    assert reverse("survey:case_detail", args=[case.pk]) in html

    point = SuspectedPoint.objects.filter(outcome=PointOutcome.CONFIRMED).select_related("outfall").first()
    html = _page(client_for("city_admin"), point.outfall)
    assert reverse("survey:point_detail", args=[point.pk]) in html


def test_open_button_only_for_editors_of_a_verified_outfall_without_case(client_for):
    outfall = Outfall.objects.filter(
        county__code=PINGCHENG, status=LifecycleStatus.VERIFIED, tracing_case=None, suspected_points=None
    ).first()
    assert outfall is not None
    assert 'data-testid="case-open"' in _page(client_for("pingcheng"), outfall)
    # The auditor sees the outfall but edits nothing: no panel at all (no case, no points, no button).
    assert 'data-testid="survey-panel"' not in _page(client_for("auditor"), outfall)

    response = client_for("pingcheng").post(reverse("survey:case_open", args=[outfall.pk]))
    case = TracingCase.objects.get(outfall=outfall)
    assert response.status_code == 302 and response.url == reverse("survey:case_detail", args=[case.pk])
    assert reverse("survey:case_detail", args=[case.pk]) in _page(client_for("pingcheng"), outfall)


def test_field_check_photos_show_on_the_outfall_file(client_for, demo_user, settings, tmp_path):
    import uuid

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from outfalls.core.choices import AttachmentKind
    from outfalls.core.services import add_attachment
    from outfalls.core.tests.test_photos import jpeg_with_exif
    from outfalls.survey.choices import FlowState
    from outfalls.survey.models import FieldCheck

    settings.MEDIA_ROOT = tmp_path
    point = (
        SuspectedPoint.objects.filter(outcome=PointOutcome.CONFIRMED, campaign__county__code=PINGCHENG)
        .select_related("outfall")
        .first()
    )
    check = FieldCheck.objects.create(
        point=point,
        client_uuid=uuid.uuid4(),
        checked_at=timezone.now(),
        lon=point.lon,
        lat=point.lat,
        flow=FlowState.FLOWING,
        staff=["张三", "李四"],
        outcome=PointOutcome.CONFIRMED,
    )
    upload = SimpleUploadedFile("close.jpg", jpeg_with_exif().getvalue(), content_type="image/jpeg")
    photo = add_attachment(check, upload, user=demo_user("pingcheng"), kind=AttachmentKind.PHOTO_CLOSE)
    html = _page(client_for("pingcheng"), point.outfall)
    assert 'data-testid="check-photos"' in html and photo.file.name in html
    # Another county's officer cannot open the outfall's file at all.
    assert (
        client_for("yunzhou").get(reverse("registry:outfall_detail", args=[point.outfall_id])).status_code
        == 404
    )
