"""Citizen reports: the form's checks (photos, place, anonymity), routing to county and department with a
deadline, photos re-encoded with EXIF stripped unless consented, the tracking code and status page, the
limits on bursts, the handling workflow with status-change rows, duplicates suggested (never merged silently),
tracing cases and field-check points, and the handlers' scope for every demo role."""

import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from outfalls.core.services import attachments_for, status_changes_for
from outfalls.portal import services
from outfalls.portal.choices import ReportStatus
from outfalls.portal.models import Report
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.models import Outfall

from .helpers import form_data, jpeg, public_outfall

pytestmark = pytest.mark.django_db
PINGCHENG, YUNZHOU = "140213", "140215"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post(client, data, photos=None, **headers):
    files = {"photos": photos if photos is not None else [jpeg()]}
    return client.post(reverse("portal:report"), {**data, **files}, **headers)


def submit(outfall=None, photos=None, client_key="k", **extra):
    data = {
        "category": "colour",
        "description": "河边排口在排黄色的水。",
        "anonymous": True,
        **extra,
    }
    if outfall is not None and "lon" not in extra:
        data.update(lon=outfall.lon + 0.0001, lat=outfall.lat, outfall_code=outfall.code)
    return services.submit_report(data, photos if photos is not None else [jpeg()], client_key=client_key)


# The form -------------------------------------------------------------------------------------------------
def test_report_gets_a_code_routing_and_a_deadline(client):
    outfall = public_outfall(county__code=PINGCHENG, type_level2="urban_storm")
    response = post(client, form_data(outfall))
    assert response.status_code == 302
    code = re.search(r"/public/reports/(JB[0-9A-Z]{8})/", response["Location"])[1]
    report = Report.objects.get(tracking_code=code)
    assert report.county.code == PINGCHENG and report.outfall == outfall
    assert report.department.name == "市城市管理局"  # urban storm outfalls are the city management bureau's
    assert (report.deadline - timezone.localdate(report.created_at)).days == 15
    row = status_changes_for(report).get()
    assert row.to_value == ReportStatus.RECEIVED and "平城区" in row.reason
    page = client.get(response["Location"]).content.decode()
    assert code in page and "已受理" in page


def test_place_by_county_boundary_without_an_outfall(client):
    outfall = public_outfall(county__code=YUNZHOU)
    response = post(client, form_data(lon=outfall.lon + 0.001, lat=outfall.lat))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.county.code == YUNZHOU and report.outfall is None and report.department is None


@pytest.mark.parametrize(
    "change, field_message",
    [
        ({"description": ""}, "请描述看到的情况"),
        ({"anonymous": ""}, "请选择是否匿名举报"),
        ({"anonymous": "yes", "contact_phone": "13900000000"}, "选择匿名举报时请不要填写联系方式"),
        ({"anonymous": "no"}, "留下联系方式时请填写联系电话"),
        ({"lon": "", "lat": "", "outfall_code": ""}, "请提供位置"),
        ({"lon": "", "lat": "", "outfall_code": "", "address": "御河桥下"}, "只填写地址时，请选择所属县区"),
        ({"lon": "100.0", "lat": "30.0", "outfall_code": ""}, "不在本市范围内"),
        ({"lon": "abc"}, "经度"),
    ],
)
def test_form_errors_are_chinese_and_name_the_field(client, change, field_message):
    outfall = public_outfall(county__code=PINGCHENG)
    response = post(client, {**form_data(outfall), **change})
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert not Report.objects.exists()


def test_address_only_with_a_county(client):
    county = Outfall.objects.filter(county__code=PINGCHENG).first().county
    data = form_data(address="御河东岸，北都桥往南 200 米", county=county.pk)
    response = post(client, data)
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.county == county and report.lon is None and report.location_source == "address"


# Files ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "photos, message",
    [
        ([], "请上传 1 至 6 张照片（现有 0 张）"),
        ([jpeg(f"p{i}.jpg") for i in range(7)], "最多上传 6 张照片"),
        ([SimpleUploadedFile("fake.jpg", b"<script>alert(1)</script>" * 10)], "不是可识别的图片"),
        ([SimpleUploadedFile("doc.pdf", b"%PDF-1.4\n" + b"0" * 100)], "不是可识别的图片"),
        ([SimpleUploadedFile("empty.jpg", b"")], "空文件"),
    ],
)
def test_bad_files_are_refused(client, photos, message):
    outfall = public_outfall(county__code=PINGCHENG)
    response = post(client, form_data(outfall), photos=photos)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_a_gif_or_a_huge_file_is_refused(client, settings):
    outfall = public_outfall(county__code=PINGCHENG)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    response = post(client, form_data(outfall), photos=[SimpleUploadedFile("a.gif", gif.getvalue())])
    assert "格式 GIF 不支持" in response.content.decode()
    settings.PORTAL_PHOTO_MAX_BYTES = 2 * 1024 * 1024
    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"0" * (3 * 1024 * 1024))
    response = post(client, form_data(outfall), photos=[huge])
    assert response.status_code == 400 and "超过 2 MB" in response.content.decode()
    assert not Report.objects.exists()


def _stored_exif(attachment):
    with attachment.file.open("rb") as handle, Image.open(handle) as image:
        return dict(image.getexif()), image.format


def test_exif_position_is_stripped_unless_consented():
    outfall = public_outfall(county__code=PINGCHENG)
    position = (113.301234, 40.081234)
    kept_private = submit(outfall, photos=[jpeg(gps=position)])
    photo = attachments_for(kept_private).get()
    exif, fmt = _stored_exif(photo)
    assert fmt == "JPEG" and exif == {}  # no GPS, no camera, nothing
    assert photo.exif_lon is None and photo.exif_lat is None
    shared = submit(outfall, photos=[jpeg(gps=position)], share_photo_position=True, client_key="k2")
    photo = attachments_for(shared).get()
    exif, _ = _stored_exif(photo)
    assert exif == {}  # the file never carries it
    assert photo.exif_lon == pytest.approx(position[0], abs=1e-4)
    assert photo.exif_lat == pytest.approx(position[1], abs=1e-4)


# Abuse ---------------------------------------------------------------------------------------------------
def _solve(page):
    question = re.search(r"(\d) \+ (\d) = \?", page)
    token = re.search(r'name="challenge_token" value="([^"]+)"', page)
    return {"challenge_answer": str(int(question[1]) + int(question[2])), "challenge_token": token[1]}


def test_a_burst_of_200_reports_from_one_address_is_throttled(client, settings):
    outfall = public_outfall(county__code=PINGCHENG)
    data = form_data(outfall)
    statuses = []
    for _ in range(200):
        client.cookies.clear()  # a new device each time: only the address counts
        statuses.append(post(client, data, REMOTE_ADDR="203.0.113.7").status_code)
    after = settings.PORTAL_REPORT_CHALLENGE_AFTER
    assert statuses[:after] == [302] * after
    assert set(statuses[after:]) == {400}  # the sum is asked for, and not answered
    assert Report.objects.count() == after
    page = client.get(reverse("portal:report"), REMOTE_ADDR="203.0.113.7").content.decode()
    assert "请计算" in page
    # Answering the sum lets a person go on, up to the hourly limit; then 429 with the hotline.
    for _ in range(settings.PORTAL_REPORT_LIMIT_PER_HOUR - after):
        client.cookies.clear()
        page = client.get(reverse("portal:report"), REMOTE_ADDR="203.0.113.7").content.decode()
        assert post(client, {**data, **_solve(page)}, REMOTE_ADDR="203.0.113.7").status_code == 302
    client.cookies.clear()
    page = client.get(reverse("portal:report"), REMOTE_ADDR="203.0.113.7").content.decode()
    refused = post(client, {**data, **_solve(page)}, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and "12369" in refused.content.decode()
    assert Report.objects.count() == settings.PORTAL_REPORT_LIMIT_PER_HOUR
    # Another address is not affected.
    client.cookies.clear()
    assert post(client, data, REMOTE_ADDR="198.51.100.1").status_code == 302


def test_one_device_is_limited_across_addresses(client, settings):
    settings.PORTAL_REPORT_CHALLENGE_AFTER = 100
    outfall = public_outfall(county__code=PINGCHENG)
    client.get(reverse("portal:report"))  # sets the device cookie
    codes = [
        post(client, form_data(outfall), REMOTE_ADDR=f"192.0.2.{i}").status_code
        for i in range(settings.PORTAL_REPORT_LIMIT_PER_DEVICE + 1)
    ]
    assert codes == [302] * settings.PORTAL_REPORT_LIMIT_PER_DEVICE + [429]


# Handling -------------------------------------------------------------------------------------------------
def test_workflow_steps_leave_status_change_rows_and_the_reply_is_public(client, demo_user):
    county = demo_user("pingcheng")
    report = submit(public_outfall(county__code=PINGCHENG), contact_phone="", anonymous=True)
    services.assign_report(report, user=county, assignee="平城区执法大队")
    services.investigate_report(report, user=county, note="已到现场")
    with pytest.raises(ValidationError):
        services.reply_report(report, user=county, reply="")
    services.reply_report(report, user=county, reply="经查，系雨水管网混接，已责令整改。")
    services.close_report(report, user=county)
    report.refresh_from_db()
    assert report.status == ReportStatus.CLOSED
    steps = [r.to_value for r in reversed(status_changes_for(report))]
    assert steps == ["received", "assigned", "investigating", "answered", "closed"]
    with pytest.raises(ValidationError):
        services.investigate_report(report, user=county)  # nothing after 办结
    page = client.get(reverse("portal:report_status", args=[report.tracking_code])).content.decode()
    assert "经查，系雨水管网混接" in page and "已办结" in page
    assert "平城区执法大队" not in page and county.username not in page  # no names of staff


def test_duplicates_are_suggested_and_merged_only_by_the_handler(demo_user, settings):
    outfall = public_outfall(county__code=PINGCHENG)
    first = submit(outfall)
    second = submit(outfall, client_key="other")  # a few metres away, same day
    far = submit(outfall, lon=outfall.lon + 0.01, lat=outfall.lat, client_key="far")
    county = demo_user("pingcheng")
    assert [r.pk for r in services.duplicates_of(second, county)] == [first.pk]
    assert far.pk not in [r.pk for r in services.duplicates_of(first, county)]
    second.refresh_from_db()
    assert second.status == ReportStatus.RECEIVED and second.merged_into is None  # nothing silent
    settings.PORTAL_DUPLICATE_M = 2000
    assert far.pk in [r.pk for r in services.duplicates_of(first, county)]
    services.merge_report(second, first, user=county)
    second.refresh_from_db()
    assert second.status == ReportStatus.MERGED and second.merged_into == first
    services.reply_report(first, user=county, reply="已查处，责令停止排放。")
    second.refresh_from_db()
    assert second.public_status == ReportStatus.ANSWERED


def test_a_report_opens_a_tracing_case_or_a_field_check_point(demo_user):
    from outfalls.survey.models import Campaign, SuspectedPoint, TracingCase

    county = demo_user("pingcheng")
    verified = (
        Outfall.objects.filter(
            county__code=PINGCHENG, status=LifecycleStatus.VERIFIED, tracing_case__isnull=True
        )
        .order_by("code")
        .first()
    )
    report = submit(lon=verified.lon, lat=verified.lat)
    Report.objects.filter(pk=report.pk).update(outfall=verified)
    report.refresh_from_db()
    case = services.open_tracing_case(report, user=county)
    assert TracingCase.objects.get(pk=case.pk).outfall == verified
    campaign = Campaign.objects.filter(county__code=PINGCHENG).first()
    point = services.open_field_point(report, user=county, campaign=campaign)
    assert SuspectedPoint.objects.get(pk=point.pk).source == "report"
    assert attachments_for(point).count() == 1  # the evidence goes with it
    assert status_changes_for(report).filter(field="action").count() == 2
    other = Campaign.objects.exclude(county__code=PINGCHENG).first()
    with pytest.raises(ValidationError):
        services.open_field_point(report, user=demo_user("bureau"), campaign=other)


ROLES = ["city_admin", "bureau", "pingcheng", "yunzhou", "chengguan", "enterprise", "river_chief", "auditor"]


@pytest.mark.parametrize("username", ROLES)
def test_handler_scope_for_every_demo_role(client_for, demo_user, username):
    storm = public_outfall(county__code=PINGCHENG, type_level2="urban_storm")
    routed = submit(storm)  # 平城区 and 市城市管理局
    other = submit(public_outfall(county__code=YUNZHOU, type_code="GY"), client_key="y")  # 云州区 only
    client = client_for(username)
    sees = {
        "city_admin": {routed, other},
        "bureau": {routed, other},
        "auditor": {routed, other},
        "pingcheng": {routed},
        "yunzhou": {other},
        "chengguan": {routed},
        "enterprise": set(),
        "river_chief": set(),
    }[username]
    listing = client.get(reverse("handling:list")).content.decode()
    for report in (routed, other):
        detail = client.get(reverse("handling:detail", args=[report.pk]))
        if report in sees:
            assert report.tracking_code in listing and detail.status_code == 200
        else:
            assert report.tracking_code not in listing and detail.status_code == 404
    may_act = username in ("city_admin", "bureau", "pingcheng", "chengguan")
    response = client.post(reverse("handling:action", args=[routed.pk, "investigate"]))
    routed.refresh_from_db()
    if may_act:
        assert routed.status == ReportStatus.INVESTIGATING
    else:
        assert response.status_code in (302, 403, 404) and routed.status == ReportStatus.RECEIVED
        if routed in sees:
            with pytest.raises(PermissionDenied):
                services.investigate_report(routed, user=demo_user(username))


def test_status_page_and_lookup_show_nothing_private(client):
    report = submit(
        public_outfall(county__code=PINGCHENG),
        anonymous=False,
        contact_name="张先生PRIVATE",
        contact_phone="13912345678",
        description="描述PRIVATE内容在此",
    )
    lookup = client.get(reverse("portal:report_lookup"), {"code": report.tracking_code.lower()})
    assert lookup.status_code == 302
    page = client.get(lookup["Location"]).content.decode()
    for private in ("张先生PRIVATE", "13912345678", f"{report.lon:.5f}"):
        assert private not in page
    missing = client.get(reverse("portal:report_lookup"), {"code": "JBXXXXXXXX"})
    assert "没有找到该查询码" in missing.content.decode()
