"""Sign boards, the workflow side: the sign's texts come from public fields and its QR address is the fixed
public page; generated files are recorded; the county confirms the installation with a photo, which sets the
ledger's 标识牌 field through the registry service (history and status-change row); others cannot."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from outfalls.core.services import attachments_for, status_changes_for
from outfalls.portal import signs
from outfalls.portal.choices import SignEventKind
from outfalls.portal.models import SignEvent
from outfalls.registry.choices import SignState
from outfalls.registry.models import Outfall

from .helpers import jpeg

pytestmark = pytest.mark.django_db
PINGCHENG = "140213"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def outfall_without_sign():
    return (
        Outfall.objects.filter(county__code=PINGCHENG, sign_installed=False, responsible_entity__isnull=False)
        .select_related("county", "responsible_entity")
        .order_by("code")
        .first()
    )


def test_sign_texts_and_qr_address(settings):
    settings.PORTAL_BASE_URL = "https://hpk.example.gov.cn"
    outfall = outfall_without_sign()
    fields = signs.sign_fields(outfall)
    assert set(fields) == {"name", "code", "type_label", "entity", "pollutants", "supervisor", "phone", "url"}
    assert fields["url"] == f"https://hpk.example.gov.cn/public/outfalls/{outfall.code}/"
    assert fields["entity"] == outfall.responsible_entity.name and fields["phone"] == "12369"
    assert "平城区" in fields["supervisor"]
    assert outfall.responsible_entity.phone not in fields.values() or not outfall.responsible_entity.phone


def test_generated_files_are_recorded(demo_user):
    outfalls = list(Outfall.objects.filter(county__code=PINGCHENG)[:3])
    signs.record_generated(outfalls, user=demo_user("pingcheng"), size="wall")
    assert SignEvent.objects.filter(kind=SignEventKind.GENERATED, size="wall").count() == 3
    with pytest.raises(ValueError):
        signs.record_generated(outfalls, user=demo_user("pingcheng"), size="huge")


def test_county_confirms_installation_with_a_photo(client_for, demo_user):
    outfall = outfall_without_sign()
    client = client_for("pingcheng")
    page = client.get(reverse("registry:outfall_detail", args=[outfall.pk])).content.decode()
    assert 'data-testid="sign-confirm"' in page
    url = reverse("signs:confirm_installed", args=[outfall.pk])
    response = client.post(url, {"note": "已在排口上方墙面安装"}, follow=True)
    assert "请上传标识牌安装后的现场照片" in response.content.decode()
    outfall.refresh_from_db()
    assert not outfall.sign_installed
    client.post(url, {"note": "已在排口上方墙面安装", "photo": jpeg(gps=(113.3, 40.1))})
    outfall.refresh_from_db()
    assert outfall.sign_installed
    event = SignEvent.objects.get(outfall=outfall, kind=SignEventKind.INSTALLED)
    assert attachments_for(event).count() == 1
    row = status_changes_for(outfall).get(field="sign_installed")
    assert (row.from_value, row.to_value, row.changed_by) == (
        SignState.NOT_INSTALLED,
        SignState.INSTALLED,
        demo_user("pingcheng"),
    )
    assert outfall.history.first().history_user == demo_user("pingcheng")
    page = client.get(reverse("registry:outfall_detail", args=[outfall.pk])).content.decode()
    assert "确认已安装" in page and 'data-testid="sign-confirm"' not in page


@pytest.mark.parametrize("username", ["yunzhou", "auditor", "river_chief"])
def test_others_cannot_confirm(client_for, demo_user, username):
    outfall = outfall_without_sign()
    with pytest.raises(PermissionDenied):
        signs.confirm_installed(outfall, user=demo_user(username), photo=jpeg())
    response = client_for(username).post(
        reverse("signs:confirm_installed", args=[outfall.pk]), {"photo": jpeg()}
    )
    assert response.status_code in (403, 404)
    outfall.refresh_from_db()
    assert not outfall.sign_installed


def test_a_bad_photo_is_refused(demo_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    outfall = outfall_without_sign()
    with pytest.raises(ValidationError):
        signs.confirm_installed(
            outfall, user=demo_user("pingcheng"), photo=SimpleUploadedFile("x.jpg", b"nope")
        )
    outfall.refresh_from_db()
    assert not outfall.sign_installed and not SignEvent.objects.exists()


def _qr_url(pdf):
    import io as _io

    import pypdfium2 as pdfium
    import zxingcpp

    page = pdfium.PdfDocument(_io.BytesIO(pdf))[0]
    image = page.render(scale=4).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_one_outfalls_sign_pdf_is_recorded_and_its_qr_opens_the_public_page(client_for, settings):
    from pypdf import PdfReader

    settings.PORTAL_BASE_URL = "https://hpk.example.gov.cn"
    outfall = outfall_without_sign()
    client = client_for("pingcheng")
    response = client.get(reverse("signs:sign_pdf", args=[outfall.pk]), {"size": "standing"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    assert _qr_url(response.content) == [f"https://hpk.example.gov.cn/public/outfalls/{outfall.code}/"]
    assert SignEvent.objects.get(outfall=outfall).size == "standing"
    assert client.get(reverse("signs:sign_pdf", args=[outfall.pk]), {"size": "huge"}).status_code == 400
    other = Outfall.objects.exclude(county__code=PINGCHENG).first()
    assert client.get(reverse("signs:sign_pdf", args=[other.pk])).status_code == 404


def test_batch_for_the_ledger_filter_runs_as_a_job(client_for):
    from outfalls.core.models import Job

    client = client_for("pingcheng")
    response = client.post(reverse("signs:batch"), {"filter": "type_code=GY", "size": "wall"})
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("core:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    expected = set(
        Outfall.objects.filter(county__code=PINGCHENG, type_code="GY").values_list("pk", flat=True)
    )
    assert set(SignEvent.objects.values_list("outfall_id", flat=True)) == expected  # nothing of 云州区
    from django.core.files.storage import default_storage
    from pypdf import PdfReader

    with default_storage.open(job.result["file"]) as handle:
        assert len(PdfReader(handle).pages) == len(expected)
    page = client.get(reverse("registry:outfall_list")).content.decode()
    assert 'data-testid="sign-batch"' in page
