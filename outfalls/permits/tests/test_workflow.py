"""The setup review's steps (permits/services.py): filing, submission with its checks, forwarding and the time
limit, consultation, the decision writing the ledger through the registry's services, disclosure, follow-ups."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from shapely.geometry import Point, mapping

from outfalls.core.models import Jurisdiction, StatusChange
from outfalls.core.workdays import add_working_days
from outfalls.permits import services
from outfalls.permits.choices import (
    ApplicationKind,
    ApplicationStatus,
    Authority,
    ChangeItem,
    Opinion,
    Outcome,
)
from outfalls.permits.models import Decision
from outfalls.registry.choices import LifecycleStatus, ProtectedAreaKind, ResponsibilityBasis, Workflow
from outfalls.registry.classification import Level2
from outfalls.registry.models import Outfall, ProtectedArea
from outfalls.registry.services import set_outfall_state

from .helpers import application, point_on

pytestmark = pytest.mark.django_db
POLLUTANTS = [{"parameter": "化学需氧量", "concentration": 60}, {"parameter": "氨氮", "concentration": 8}]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test\n", content_type="application/pdf")


def filed(user, **fields):
    app = services.save_application(application(**fields), user=user, pollutants=POLLUTANTS)
    for material in app.materials.filter(required=True):
        services.add_material_file(material, pdf(), user=user)
    return app


def by_the_dykes(**fields):
    lon, lat = point_on("YUH01", 40)
    return {"river": "YUH01", "lon": lon, "lat": lat, "exception_reason": "迁建，不增加排放量", **fields}


def test_filing_gives_a_number_the_procedure_and_its_checklist(demo_user):
    enterprise = demo_user("enterprise")
    app = services.save_application(application(), user=enterprise, pollutants=POLLUTANTS)
    assert app.number.startswith(f"SQ{timezone.localdate():%Y}") and app.status == ApplicationStatus.DRAFT
    assert app.procedure == "approval" and app.type_code == "GY"
    required = set(app.materials.filter(required=True).values_list("item", flat=True))
    assert required == {"application_form", "assessment", "site_plan"}
    assert [p.parameter for p in app.pollutants.all()] == ["化学需氧量", "氨氮"]
    storm = services.save_application(
        application(type_level2=Level2.INDUSTRIAL_MINING_STORM), user=enterprise, pollutants=[]
    )
    assert storm.procedure == "registration"
    assert set(storm.materials.filter(required=True).values_list("item", flat=True)) == {
        "registration_form",
        "photos",
    }
    second = services.save_application(application(), user=enterprise)
    assert int(second.number[-4:]) > int(storm.number[-4:]) > int(app.number[-4:])


def test_who_may_file_for_whom(demo_user):
    other = (
        Outfall.objects.exclude(responsible_entity__isnull=True).order_by("code").last().responsible_entity
    )
    with pytest.raises(ValidationError) as error:
        services.save_application(application(applicant=other), user=demo_user("enterprise"))
    assert "applicant" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.save_application(
            application(county=Jurisdiction.objects.get(code="140215")), user=demo_user("pingcheng")
        )
    assert "county" in error.value.message_dict
    for username in ("auditor", "river_chief", "chengguan"):
        with pytest.raises(PermissionDenied):
            services.save_application(application(), user=demo_user(username))


def test_a_change_needs_its_outfall_and_what_changes(demo_user):
    with pytest.raises(ValidationError) as error:
        services.save_application(application(kind=ApplicationKind.CHANGE), user=demo_user("bureau"))
    assert set(error.value.message_dict) >= {"outfall", "change_items"}


def test_submission_refuses_what_is_missing_and_saves_the_checks(demo_user):
    enterprise = demo_user("enterprise")
    app = services.save_application(application(**by_the_dykes(exception_reason="")), user=enterprise)
    with pytest.raises(ValidationError) as error:
        services.submit(app, user=enterprise)
    problems = error.value.message_dict
    assert "materials" in problems and "入河排污口设置申请书" in problems["materials"][0]
    assert "pollutants" in problems
    assert "未达到水质目标" in problems["checks"][0]
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT

    app = filed(enterprise, **by_the_dykes())
    services.submit(app, user=enterprise)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED and app.due_on is None
    assert app.consultation_required and app.zone.name.startswith("御河大同城区")
    assert {r["name"]: r["outcome"] for r in app.check_results}["consultation_needed"] == "consult"
    rows = StatusChange.objects.filter(object_id=app.pk, content_type__model="setupapplication")
    assert list(rows.order_by("id").values_list("to_value", flat=True)) == ["draft", "submitted"]


def test_inside_a_protected_area_nothing_is_submitted(demo_user):
    area = ProtectedArea.objects.get(kind=ProtectedAreaKind.SPRING)
    from shapely.geometry import shape

    point = shape(area.geometry).representative_point()
    app = filed(demo_user("bureau"), lon=point.x, lat=point.y, river="HLH01")
    with pytest.raises(ValidationError) as error:
        services.submit(app, user=demo_user("bureau"))
    assert "特殊保护区域" in str(error.value.message_dict["checks"]) or "保护区" in str(error.value)


def test_the_county_forwards_and_the_time_limit_runs_in_working_days(demo_user, settings):
    settings.PERMITS_DECISION_WORKING_DAYS = 20
    app = filed(demo_user("enterprise"))
    services.submit(app, user=demo_user("enterprise"))
    with pytest.raises(PermissionDenied):
        services.forward(app, user=demo_user("yunzhou"))
    with pytest.raises(PermissionDenied):
        services.forward(app, user=demo_user("enterprise"))
    services.forward(app, user=demo_user("pingcheng"), note="材料齐全")
    app.refresh_from_db()
    today = timezone.localdate()
    assert app.status == ApplicationStatus.UNDER_REVIEW and app.accepted_on == today
    assert app.due_on == add_working_days(today, 20) and app.time_limit_days == 20
    assert app.working_days_left(today) == 20 and not app.is_overdue(today)
    assert app.is_overdue(app.due_on + timedelta(days=1))

    services.return_application(app, user=demo_user("bureau"), reason="论证报告缺少水质预测")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.RETURNED and app.due_on is None
    assert services.can_edit(demo_user("enterprise"), app)
    services.submit(app, user=demo_user("enterprise"))
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED


def test_a_county_or_bureau_submission_goes_straight_to_review(demo_user):
    app = filed(demo_user("pingcheng"))
    services.submit(app, user=demo_user("pingcheng"))
    app.refresh_from_db()
    assert app.status == ApplicationStatus.UNDER_REVIEW and app.due_on is not None


def test_the_decision_waits_for_the_consultation_and_then_writes_the_ledger(demo_user):
    bureau = demo_user("bureau")
    app = filed(demo_user("enterprise"), **by_the_dykes())
    services.submit(app, user=demo_user("enterprise"))
    services.forward(app, user=demo_user("pingcheng"))
    decide = {
        "outcome": Outcome.APPROVE,
        "number": "同环排口审〔2026〕9号",
        "conditions": "设置标识牌\n安装在线监测",
    }
    with pytest.raises(PermissionDenied):
        services.decide(app, user=demo_user("pingcheng"), **decide)
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, **decide)
    assert "须先征求" in error.value.message_dict["consultation"][0]
    today = timezone.localdate()
    asked = services.save_consultation(app, user=bureau, authority="大同市水务局", sent_on=today)
    with pytest.raises(ValidationError) as error:
        services.save_consultation(app, user=bureau, consultation=asked, authority="大同市水务局", sent_on=today,
                                   replied_on=today, opinion="", reply="")  # fmt: skip
    assert set(error.value.message_dict) == {"opinion", "reply"}
    services.save_consultation(
        app, user=bureau, consultation=asked, authority="大同市水务局", sent_on=today, replied_on=today,
        opinion=Opinion.AGREE, reply="同意设置",
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, **decide)
    assert "回复函" in error.value.message_dict["consultation"][0]
    services.save_consultation(
        app, user=bureau, consultation=asked, authority="大同市水务局", sent_on=today, replied_on=today,
        opinion=Opinion.AGREE, reply="同意设置", files=[pdf("回复函.pdf")],
    )  # fmt: skip
    before = Outfall.objects.count()
    decision = services.decide(app, user=bureau, conditions_due=today + timedelta(days=30), **decide)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED and decision.public
    assert [c.text for c in decision.items.all()] == ["设置标识牌", "安装在线监测"]
    outfall = app.outfall
    assert Outfall.objects.count() == before + 1
    assert outfall.registered and outfall.approval_number == "同环排口审〔2026〕9号"
    assert outfall.approval_date == today and outfall.status == LifecycleStatus.VERIFIED
    assert outfall.responsible_entity == app.applicant
    assert outfall.responsibility_basis == ResponsibilityBasis.DECLARED
    assert (outfall.lon, outfall.lat) == (app.lon, app.lat) and outfall.type_level2 == app.type_level2
    assert outfall.unit_links.get().unit == app.applicant
    change = StatusChange.objects.get(
        object_id=outfall.pk, content_type__model="outfall", field="approval_number"
    )
    assert change.to_value == "同环排口审〔2026〕9号" and change.changed_by == bureau
    assert app.number in outfall.history.first().history_change_reason
    assert outfall.section_interval  # the spatial checks ran on the new entry
    with pytest.raises(ValidationError):
        services.decide(app, user=bureau, **decide)  # decided already


def test_a_disagreeing_water_authority_stops_an_approval(demo_user):
    bureau = demo_user("bureau")
    app = filed(bureau, **by_the_dykes())
    services.submit(app, user=bureau)
    today = timezone.localdate()
    services.save_consultation(
        app, user=bureau, authority="大同市水务局", sent_on=today, replied_on=today, opinion=Opinion.DISAGREE,
        reply="影响堤防安全", files=[pdf()],
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, outcome=Outcome.APPROVE, number="X1")
    assert "不同意" in error.value.message_dict["consultation"][0]
    services.decide(app, user=bureau, outcome=Outcome.REFUSE, number="X2", reasons="水利部门不同意")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REFUSED and app.outfall is None


def test_a_protected_area_drawn_after_submission_stops_the_approval_not_the_refusal(demo_user):
    bureau = demo_user("bureau")
    app = filed(bureau)
    services.submit(app, user=bureau)
    ProtectedArea.objects.create(
        name="新划定水源保护区（测试）",
        kind=ProtectedAreaKind.DRINKING_WATER_1,
        geometry=mapping(Point(app.lon, app.lat).buffer(0.01)),
    )
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, outcome=Outcome.APPROVE, number="X")
    assert "新划定水源保护区" in error.value.message_dict["checks"][0]
    services.decide(app, user=bureau, outcome=Outcome.REFUSE, reasons="位于饮用水水源保护区")


def test_the_outcome_follows_the_procedure_and_a_refusal_needs_reasons(demo_user):
    bureau = demo_user("bureau")
    app = filed(bureau)
    services.submit(app, user=bureau)
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, outcome=Outcome.REGISTER, number="登1")
    assert "须经审批" in error.value.message_dict["outcome"][0]
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, outcome=Outcome.REFUSE)
    assert "reasons" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, outcome=Outcome.APPROVE)
    assert "number" in error.value.message_dict


def test_approving_a_change_moves_the_outfall_and_records_the_approval(demo_user):
    bureau = demo_user("bureau")
    outfall = (
        Outfall.objects.filter(
            type_level2=Level2.INDUSTRIAL_MINING, responsible_entity__credit_code__isnull=False
        )
        .exclude(status__in=("closed", "removed", "merged"))
        .order_by("code")
        .first()
    )
    lon, lat = outfall.lon + 0.001, outfall.lat
    app = filed(
        bureau, kind=ApplicationKind.CHANGE, change_items=[ChangeItem.POSITION, ChangeItem.VOLUME], outfall=outfall,
        applicant=outfall.responsible_entity, county=outfall.county, river=outfall.water_body.code, lon=lon, lat=lat,
        daily_volume_m3=55, exception_reason="迁建",
    )  # fmt: skip
    services.submit(app, user=bureau)
    services.decide(
        app, user=bureau, outcome=Outcome.APPROVE, number="同环排口审〔2026〕10号",
        permit_number=f"{app.applicant.credit_code}002P",
    )  # fmt: skip
    outfall.refresh_from_db()
    assert (outfall.lon, outfall.daily_volume_m3) == (lon, 55)
    assert outfall.permit_number == f"{app.applicant.credit_code}002P"
    assert outfall.approval_number == "同环排口审〔2026〕10号" and outfall.registered


def test_the_state_decides_and_the_bureau_records(demo_user):
    bureau = demo_user("bureau")
    area = ProtectedArea.objects.get(kind=ProtectedAreaKind.SPRING)
    from shapely.geometry import shape

    point = shape(area.geometry).representative_point()
    app = filed(
        bureau, lon=point.x, lat=point.y, river="HLH01", authority=Authority.NATIONAL, national_basis="跨省"
    )
    services.submit(app, user=bureau)  # a refusing check is shown, not applied: the state decides
    app.refresh_from_db()
    assert app.due_on is None and not app.counted
    with pytest.raises(ValidationError) as error:
        services.decide(app, user=bureau, outcome=Outcome.APPROVE, number="部审1")
    assert "issuing_authority" in error.value.message_dict
    decision = services.decide(
        app, user=bureau, outcome=Outcome.APPROVE, number="部审1", issuing_authority="生态环境部"
    )
    assert decision.recorded and app.__class__.objects.get(pk=app.pk).outfall.approval_number == "部审1"


def test_decisions_are_public_unless_withheld_with_a_reason(demo_user):
    bureau = demo_user("bureau")
    decision = Decision.objects.filter(public=True, outcome=Outcome.APPROVE).first()
    record = decision.public_record()
    assert record["number"] == decision.number and record["applicant"] == decision.application.applicant.name
    assert {"lon", "lat", "pollutants", "discharge_mode", "entry_mode", "daily_volume_m3"} <= set(record)
    assert not {"filed_by", "decided_by", "withheld_reason", "check_results"} & set(record)
    assert decision in Decision.objects.disclosed()
    with pytest.raises(ValidationError):
        services.withhold(decision, user=bureau, reason=" ")
    with pytest.raises(PermissionDenied):
        services.withhold(decision, user=demo_user("pingcheng"), reason="x")
    services.withhold(decision, user=bureau, reason="涉及商业秘密")
    assert decision not in Decision.objects.disclosed()
    services.disclose(decision, user=bureau)
    assert decision in Decision.objects.disclosed()


def test_follow_ups_are_overdue_applications_and_expiring_conditions(demo_user):
    bureau = demo_user("bureau")
    today = timezone.localdate()
    overdue = services.overdue_applications(bureau, today)
    assert overdue.exists() and all(a.due_on < today for a in overdue)
    conditions = services.expiring_conditions(bureau, today)
    assert conditions.exists() and all(c.fulfilled_on is None for c in conditions)
    assert not services.expiring_conditions(demo_user("enterprise"), today).exists()


def test_only_the_setup_review_writes_the_approval_number_through_the_state_service(demo_user):
    outfall = Outfall.objects.order_by("code").first()
    with pytest.raises(ValidationError) as error:
        set_outfall_state(
            outfall, user=demo_user("bureau"), workflow=Workflow.CLOSEOUT, reason="x", approval_number="A1"
        )
    assert "设置审核" in error.value.message_dict["approval_number"][0]
    county_user = demo_user("pingcheng" if outfall.county.code == "140213" else "bureau")
    if county_user.username == "pingcheng":
        with pytest.raises(ValidationError):
            set_outfall_state(
                outfall, user=county_user, workflow=Workflow.SETUP_REVIEW, reason="x", approval_number="A1"
            )
    with pytest.raises(ValidationError) as error:
        set_outfall_state(
            outfall, user=demo_user("bureau"), workflow=Workflow.SETUP_REVIEW, reason="x", permit_number="123"
        )
    assert "permit_number" in error.value.message_dict
    saved = set_outfall_state(
        outfall, user=demo_user("bureau"), workflow=Workflow.SETUP_REVIEW, reason="登记", approval_number="A1",
        registered=True,
    )  # fmt: skip
    assert saved.approval_number == "A1" and saved.registered
