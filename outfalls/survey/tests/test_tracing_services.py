"""溯源 services (survey/tracing.py) on the demo ledger: links, shares, conclusion, fallback, reopen."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from outfalls.core.models import StatusChange
from outfalls.core.services import attachments_for, status_changes_for
from outfalls.registry.choices import LifecycleStatus, LinkRole, ResponsibilityBasis, UnitKind
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink
from outfalls.survey import tracing
from outfalls.survey.choices import CaseStatus, StepKind
from outfalls.survey.models import TracingCase

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def verified_outfall(county_code="140213"):
    """A verified outfall of the county without a tracing case, and without links (a clean start)."""
    outfall = (
        Outfall.objects.filter(county__code=county_code, status=LifecycleStatus.VERIFIED, tracing_case=None)
        .order_by("id")
        .first()
    )
    assert outfall is not None
    OutfallUnitLink.objects.filter(outfall=outfall).delete()
    return outfall


def county_units(outfall, count=2):
    units = list(
        DischargeUnit.objects.filter(county_id=outfall.county_id)
        .exclude(kind=UnitKind.GOVERNMENT)
        .order_by("id")[:count]
    )
    assert len(units) == count
    return units


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def officer(demo_user):
    return demo_user("pingcheng")


@pytest.fixture
def case(officer):
    return tracing.open_case(verified_outfall(), user=officer)


def test_open_case_leaves_a_status_row_and_refuses_a_second(officer, case):
    assert case.status == CaseStatus.OPEN
    rows = list(status_changes_for(case))
    assert [(r.from_value, r.to_value) for r in rows] == [("", CaseStatus.OPEN)]
    with pytest.raises(ValidationError) as err:
        tracing.open_case(case.outfall, user=officer)
    assert "已有溯源案件" in str(err.value)


def test_open_case_needs_a_verified_outfall_in_scope(demo_user):
    traced = Outfall.objects.filter(
        county__code="140213", status=LifecycleStatus.TRACED, tracing_case__isnull=True
    ).first()
    with pytest.raises(ValidationError) as err:
        tracing.open_case(traced, user=demo_user("pingcheng"))
    assert "已核实" in str(err.value)
    with pytest.raises(PermissionDenied):
        tracing.open_case(verified_outfall("140213"), user=demo_user("yunzhou"))
    with pytest.raises(PermissionDenied):
        tracing.open_case(verified_outfall("140213"), user=demo_user("auditor"))


def test_steps_with_photos_and_documents(officer, case):
    step = tracing.add_step(
        case,
        user=officer,
        kind=StepKind.DYE_TEST,
        date=datetime.date(2023, 6, 1),
        findings="在某厂污水井投放荧光素钠，20 分钟后排口出现绿色",
        staff="张三、李四",
        files=[
            SimpleUploadedFile("井口.png", PNG, content_type="image/png"),
            SimpleUploadedFile("管网图.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
        ],
    )
    assert sorted(a.title for a in attachments_for(step)) == ["溯源照片", "溯源资料"]
    with pytest.raises(ValidationError) as err:
        tracing.add_step(
            case,
            user=officer,
            kind=StepKind.CCTV,
            date=datetime.date(2023, 6, 2),
            findings="x",
            files=[SimpleUploadedFile("病毒.exe", b"MZ")],
        )
    assert "不允许" in str(err.value)
    assert case.steps.count() == 1  # the failed step left nothing behind
    with pytest.raises(ValidationError) as err:
        tracing.add_step(case, user=officer, kind=StepKind.CCTV, date=datetime.date(2023, 6, 2), findings="")
    assert "findings" in err.value.message_dict


def test_link_owner_and_borrower_then_conclude_traced(officer, case):
    owner, borrower = county_units(case.outfall)
    tracing.link_found_unit(case, owner, user=officer, role=LinkRole.OWNER)
    with pytest.raises(ValidationError) as err:
        tracing.link_found_unit(case, borrower, user=officer, role=LinkRole.BORROWS)
    assert "经由的通道" in err.value.message_dict["via_channel"][0]
    tracing.link_found_unit(
        case, borrower, user=officer, role=LinkRole.BORROWS, via_channel="魏都大道雨水管网"
    )
    outfall = Outfall.objects.get(pk=case.outfall_id)
    assert outfall.is_borrowed
    links = {link.unit_id: link.role for link in outfall.unit_links.all()}
    assert links == {owner.pk: LinkRole.OWNER, borrower.pk: LinkRole.BORROWS}

    # The entity must be one of the linked units.
    stranger = DischargeUnit.objects.filter(county_id=outfall.county_id).exclude(pk__in=links).first()
    with pytest.raises(ValidationError) as err:
        tracing.conclude_case(case, user=officer, basis=ResponsibilityBasis.TRACED, entity=stranger)
    assert "不是本排口已关联" in err.value.message_dict["entity"][0]

    before = StatusChange.objects.count()
    concluded = tracing.conclude_case(
        case, user=officer, basis=ResponsibilityBasis.TRACED, entity=owner, note="染色试验确认"
    )
    assert concluded.status == CaseStatus.CONCLUDED
    outfall.refresh_from_db()
    assert outfall.responsible_entity == owner
    assert outfall.responsibility_basis == ResponsibilityBasis.TRACED
    assert outfall.responsibility_note == "染色试验确认"
    assert outfall.status == LifecycleStatus.TRACED
    new_rows = StatusChange.objects.order_by("id")[before:]
    pairs = {(r.content_type.model, r.from_value, r.to_value) for r in new_rows}
    assert ("tracingcase", CaseStatus.OPEN, CaseStatus.CONCLUDED) in pairs
    assert ("outfall", LifecycleStatus.VERIFIED, LifecycleStatus.TRACED) in pairs

    # Concluded: no more changes until reopened.
    with pytest.raises(ValidationError):
        tracing.link_found_unit(case, stranger, user=officer, role=LinkRole.OWNER)
    with pytest.raises(ValidationError) as err:
        tracing.reopen_case(case, user=officer, reason=" ")
    assert "reason" in err.value.message_dict
    reopened = tracing.reopen_case(case, user=officer, reason="发现另一家单位也接入")
    assert reopened.status == CaseStatus.OPEN
    last = status_changes_for(case).order_by("-id").first()
    assert (last.from_value, last.to_value, last.reason) == (
        CaseStatus.CONCLUDED,
        CaseStatus.OPEN,
        "发现另一家单位也接入",
    )
    # Concluding again keeps the outfall's lifecycle status (already traced).
    tracing.conclude_case(case, user=officer, basis=ResponsibilityBasis.TRACED, entity=owner)
    outfall.refresh_from_db()
    assert outfall.status == LifecycleStatus.TRACED


def test_shared_outfall_needs_notes_and_percent_at_most_100(officer, case):
    first, second, third = county_units(case.outfall, 3)
    with pytest.raises(ValidationError) as err:
        tracing.link_found_unit(case, first, user=officer, role=LinkRole.SHARES, share_percent=60)
    assert "责任分担说明" in err.value.message_dict["share_note"][0]
    tracing.link_found_unit(
        case, first, user=officer, role=LinkRole.SHARES, share_note="按许可排水量", share_percent=60
    )
    tracing.link_found_unit(
        case, second, user=officer, role=LinkRole.SHARES, share_note="按许可排水量", share_percent=30
    )
    with pytest.raises(ValidationError) as err:
        tracing.link_found_unit(
            case, third, user=officer, role=LinkRole.SHARES, share_note="其余", share_percent=20
        )
    assert "合计 110%" in err.value.message_dict["share_percent"][0]
    # Changing one unit's own share counts its old share once.
    tracing.link_found_unit(
        case, second, user=officer, role=LinkRole.SHARES, share_note="按许可排水量", share_percent=40
    )
    shares = dict(
        OutfallUnitLink.objects.filter(outfall=case.outfall).values_list("unit_id", "share_percent")
    )
    assert shares == {first.pk: 60, second.pk: 40}
    assert not OutfallUnitLink.objects.filter(outfall=case.outfall, unit=third).exists()


def test_government_fallback_defaults_to_the_county_government(officer, case):
    with pytest.raises(ValidationError) as err:
        tracing.conclude_case(case, user=officer, basis=ResponsibilityBasis.GOVERNMENT_FALLBACK, note="")
    assert "无法溯源的原因" in err.value.message_dict["note"][0]
    concluded = tracing.conclude_case(
        case,
        user=officer,
        basis=ResponsibilityBasis.GOVERNMENT_FALLBACK,
        note="管网错综复杂，经三次排查未查明来源",
    )
    assert concluded.responsible_entity.name == "平城区人民政府"
    outfall = Outfall.objects.get(pk=case.outfall_id)
    assert outfall.responsible_entity.name == "平城区人民政府"
    assert outfall.responsibility_basis == ResponsibilityBasis.GOVERNMENT_FALLBACK
    assert outfall.responsibility_note == "管网错综复杂，经三次排查未查明来源"
    assert outfall.status == LifecycleStatus.TRACED


def test_government_fallback_to_a_new_body_created_on_the_spot(officer, case):
    body = DischargeUnit(name="平城区住房和城乡建设局", kind=UnitKind.GOVERNMENT)  # no county given
    tracing.create_and_link_unit(case, body, user=officer, role=LinkRole.OWNER)
    assert body.pk is not None
    assert DischargeUnit.objects.get(pk=body.pk).county_id == case.outfall.county_id
    tracing.conclude_case(
        case,
        user=officer,
        basis=ResponsibilityBasis.GOVERNMENT_FALLBACK,
        entity=body,
        note="区政府指定住建局负责",
    )
    assert Outfall.objects.get(pk=case.outfall_id).responsible_entity == body


def test_create_and_link_is_all_or_nothing(officer, case):
    unit = DischargeUnit(name="某洗车店", kind=UnitKind.COMMERCIAL, county=case.outfall.county)
    with pytest.raises(ValidationError):
        tracing.create_and_link_unit(case, unit, user=officer, role=LinkRole.SHARES)  # no share note
    assert not DischargeUnit.objects.filter(name="某洗车店").exists()


def test_other_county_cannot_touch_the_case(demo_user, case):
    other = demo_user("yunzhou")
    with pytest.raises(PermissionDenied):
        tracing.add_step(case, user=other, kind=StepKind.OTHER, date=datetime.date(2023, 1, 1), findings="x")
    with pytest.raises(PermissionDenied):
        tracing.conclude_case(case, user=other, basis=ResponsibilityBasis.GOVERNMENT_FALLBACK, note="x")
    assert TracingCase.objects.visible_to(other).filter(pk=case.pk).count() == 0


def test_step_files_are_served_only_in_scope(officer, case, client_for):
    step = tracing.add_step(
        case,
        user=officer,
        kind=StepKind.MANHOLE,
        date=datetime.date(2023, 6, 1),
        findings="检查井内有来水",
        files=[SimpleUploadedFile("检查井.png", PNG, content_type="image/png")],
    )
    url = attachments_for(step).get().file.url
    assert client_for("yunzhou").get(url).status_code == 404
    response = client_for("pingcheng").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_unlink_a_found_unit_but_never_the_responsible_entity(officer, case, demo_user):
    owner, borrower = county_units(case.outfall)
    owner_link = tracing.link_found_unit(case, owner, user=officer, role=LinkRole.OWNER)
    borrow_link = tracing.link_found_unit(
        case, borrower, user=officer, role=LinkRole.BORROWS, via_channel="魏都大道雨水管网"
    )
    with pytest.raises(PermissionDenied):
        tracing.unlink_found_unit(case, borrow_link, user=demo_user("yunzhou"))
    tracing.unlink_found_unit(case, borrow_link, user=officer)
    assert list(OutfallUnitLink.objects.filter(outfall=case.outfall).values_list("unit_id", flat=True)) == [
        owner.pk
    ]
    tracing.conclude_case(case, user=officer, basis=ResponsibilityBasis.TRACED, entity=owner)
    tracing.reopen_case(case, user=officer, reason="复核")
    with pytest.raises(ValidationError) as err:
        tracing.unlink_found_unit(case, owner_link, user=officer)
    assert "责任主体" in err.value.message_dict["link"][0]
    other = OutfallUnitLink.objects.exclude(outfall=case.outfall).first()
    with pytest.raises(ValidationError) as err:
        tracing.unlink_found_unit(case, other, user=officer)
    assert "不属于本案件" in err.value.message_dict["link"][0]
