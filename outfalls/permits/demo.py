"""Demo data of the setup review and the permits (after the ledger, the survey and the rectification demo).

- Discharge permits for the demo units that hold a permit number, covering the outfalls they own, with limits
  from GB 18918-2002 (municipal plants, 一级A) and GB 8978-1996 (others, level 1), self-monitoring duties and a
  disclosure duty; a few shared outfalls have each unit's share stated, the others are the shared-outfall
  finding. Figures are the standards' own; which unit holds which permit is invented.
- Applications in every state, filed and moved through the same services as the pages: a draft and a submitted
  one of the demo enterprise (山橡集团), one under review past its time limit, an approved one with conditions
  (one due soon), a refused one, a registration, a withheld decision and one the state decided (recorded).

Dates are relative to the day of loading. A second load changes nothing (it stops when the demo permits exist).
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from outfalls.core.choices import AttachmentKind, Role
from outfalls.core.models import Attachment, Jurisdiction, Membership
from outfalls.core.workdays import add_working_days
from outfalls.geo.linref import RiverLine
from outfalls.geo.shapes import shape_of
from outfalls.registry.choices import EntryMode, LinkRole
from outfalls.registry.classification import Level2, TypeCode
from outfalls.registry.models import DischargeUnit, Outfall, OutfallUnitLink, WaterBody

from . import services
from .choices import ApplicationKind, Authority, ChangeItem, DischargeMode, Opinion, Outcome
from .models import ApplicationMaterial, DischargePermit, SetupApplication
from .permit_services import save_permit

DEMO_SOURCE = "演示数据（许可证号与单位为虚构，限值取自国家标准）"
MUNICIPAL_LIMITS = [  # GB 18918-2002 一级A, daily average
    ("化学需氧量", 50, None, "mg/L"),
    ("五日生化需氧量", 10, None, "mg/L"),
    ("悬浮物", 10, None, "mg/L"),
    ("总氮", 15, None, "mg/L"),
    ("氨氮", 5, None, "mg/L"),
    ("总磷", 0.5, None, "mg/L"),
    ("pH值", 9, 6, "无量纲"),
]
INDUSTRIAL_LIMITS = [  # GB 8978-1996, level 1
    ("化学需氧量", 100, None, "mg/L"),
    ("五日生化需氧量", 20, None, "mg/L"),
    ("悬浮物", 70, None, "mg/L"),
    ("氨氮", 15, None, "mg/L"),
    ("pH值", 9, 6, "无量纲"),
]
MONITORING = {"化学需氧量": "自动监测", "氨氮": "自动监测", "pH值": "自动监测"}
DISCLOSURE = "通过全国排污许可证管理信息平台及厂区门口电子显示屏公开排放口位置、污染物排放浓度和自行监测结果（实施方案（十））。"


def _limits(level2):
    rows, standard = (
        (MUNICIPAL_LIMITS, "GB 18918-2002 一级A")
        if level2 == Level2.MUNICIPAL_WWTP
        else (INDUSTRIAL_LIMITS, "GB 8978-1996 一级")
    )
    limits = [
        {
            "parameter": p,
            "limit_value": v,
            "lower_value": low,
            "unit": u,
            "averaging": "daily",
            "standard": standard,
        }
        for p, v, low, u in rows
    ]
    monitoring = [{"parameter": p, "frequency": MONITORING.get(p, "1次/月")} for p, *_ in rows]
    return limits, monitoring


def load_permits(today):
    """A permit per demo unit with a permit number, covering its owned discharge (not storm) outfalls."""
    created = 0
    shared_stated = 0
    units = DischargeUnit.objects.exclude(permit_number="").order_by("credit_code")
    owned = {}
    for link in OutfallUnitLink.objects.filter(
        unit__in=units, role__in=(LinkRole.OWNER, LinkRole.SHARES)
    ).select_related("outfall"):
        outfall = link.outfall
        if (
            outfall.type_code in (TypeCode.GY, TypeCode.SH, TypeCode.NY)
            and "storm" not in outfall.type_level2
        ):
            owned.setdefault(link.unit_id, []).append((outfall, link.role))
    for n, unit in enumerate(units):
        entries = []
        for k, (outfall, role) in enumerate(sorted(owned.get(unit.pk, []), key=lambda x: x[0].code), 1):
            limits, monitoring = _limits(outfall.type_level2)
            entry = {
                "outfall": outfall,
                "outlet_code": f"DW{k:03d}",
                "limits": limits,
                "monitoring": monitoring,
            }
            if role == LinkRole.SHARES and n % 2 == 0:
                entry.update(share_percent=30, share_note="按排水量分担（演示）")
                shared_stated += 1
            entries.append(entry)
        if not entries:
            continue
        # Most in force; every seventh one expired (its renewal is due).
        start = date(2020 if n % 7 == 0 else 2022 + n % 3, 1 + n % 12, 1)
        fields = {
            "number": unit.permit_number,
            "unit": unit,
            "valid_from": start,
            "valid_until": start.replace(year=start.year + 5) - timedelta(days=1),
            "issued_by": "大同市生态环境局",
            "issued_on": start,
            "self_monitoring": "按排污许可证载明的监测点位、项目和频次开展自行监测，保存原始记录（演示）。",
            "disclosure": DISCLOSURE,
            "source": DEMO_SOURCE,
        }
        save_permit(fields, entries, user=None)
        created += 1
    return created, shared_stated


def _demo_file(application, material):
    """One small file per material at a fixed path (written only when missing), as an attachment."""
    name = f"attachments/demo/setup-{application.number}-{material.item}.pdf"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(b"%PDF-1.4\n% demo material\n"))
    Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(ApplicationMaterial),
        object_id=material.pk,
        kind=AttachmentKind.DOCUMENT,
        title=f"{material.get_item_display()}（演示）",
        file=name,
        size=default_storage.size(name),
    )


def _with_materials(application):
    for material in application.materials.filter(required=True):
        _demo_file(application, material)


def _point_on(water, km, offset_m=40):
    line = shape_of(water.geometry)
    river = RiverLine(line)
    frame = river.frame
    line_m = frame.geometry(line)
    point = line_m.interpolate(min(km * 1000, line_m.length))
    lon, lat = frame.lonlat(point.x + offset_m, point.y + offset_m)
    return round(float(lon), 6), round(float(lat), 6)


def _new(user, **fields):
    pollutants = fields.pop(
        "pollutants",
        [{"parameter": "化学需氧量", "concentration": 50}, {"parameter": "氨氮", "concentration": 5}],
    )
    application = SetupApplication(**fields)
    return services.save_application(application, user=user, pollutants=pollutants)


def _answer_consultation(application, user, today, authority="大同市水务局", opinion=Opinion.AGREE):
    consultation = services.save_consultation(
        application,
        user=user,
        authority=authority,
        sent_on=today - timedelta(days=10),
        replied_on=today - timedelta(days=3),
        opinion=opinion,
        reply="经审查，该排污口设置不影响防洪安全和河势稳定（演示）。",
    )
    name = f"attachments/demo/setup-{application.number}-reply.pdf"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(b"%PDF-1.4\n% demo reply\n"))
    Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(consultation),
        object_id=consultation.pk,
        kind=AttachmentKind.DOCUMENT,
        title="回复函（演示）",
        file=name,
        size=default_storage.size(name),
    )


def _backdate(application, accepted_on):
    application.accepted_on = accepted_on
    application.due_on = add_working_days(accepted_on, application.time_limit_days or 20)
    SetupApplication.objects.filter(pk=application.pk).update(
        accepted_on=application.accepted_on, due_on=application.due_on
    )


def load_applications(today):
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=("enterprise", "pingcheng", "bureau"))}
    if len(users) < 3:
        return 0
    bureau, enterprise = users["bureau"], users["enterprise"]
    unit = Membership.objects.get(user=enterprise, role=Role.ENTITY).unit
    waters = {
        w.code: w for w in WaterBody.objects.filter(code__in=("YUH01", "NYH01", "SGH01", "TAH01", "HLH01"))
    }
    county = {
        j.code: j
        for j in Jurisdiction.objects.filter(
            code__in=("140213", "140215", "140221", "140223", "140224", "140212")
        )
    }
    made = 0

    # 1. The enterprise's draft: a new industrial outfall on 御河 through the city (a zone below its target, dykes near).
    lon, lat = _point_on(waters["YUH01"], 40)
    _new(
        enterprise, kind=ApplicationKind.NEW, applicant=unit, county=county["140213"], type_level2=Level2.INDUSTRIAL_MINING,
        lon=lon, lat=lat, water_body=waters["YUH01"], entry_mode=EntryMode.PIPE, discharge_mode=DischargeMode.CONTINUOUS,
        daily_volume_m3=300, description="新建生产线配套污水处理站尾水排放（演示）。",
    )  # fmt: skip
    made += 1

    # 2. The enterprise's change of its storm outfall (registration), submitted: waits for 平城区 to forward it.
    storm = Outfall.objects.filter(
        responsible_entity=unit, type_level2=Level2.INDUSTRIAL_MINING_STORM
    ).first()
    if storm is not None:
        app = _new(
            enterprise, kind=ApplicationKind.CHANGE, change_items=[ChangeItem.POSITION], applicant=unit, outfall=storm,
            county=storm.county, type_level2=storm.type_level2, type_level3=storm.type_level3,
            lon=round(storm.lon + 0.0004, 6), lat=storm.lat, water_body=storm.water_body,
            entry_mode=EntryMode.PIPE, discharge_mode=DischargeMode.INTERMITTENT, daily_volume_m3=120,
            exception_reason="雨洪排口位置调整，不新增污染物排放量（演示）。",
            pollutants=[{"parameter": "悬浮物", "concentration": 30}],
        )  # fmt: skip
        _with_materials(app)
        services.submit(app, user=enterprise)
        made += 1

    # 3. A registration filed by the bureau, under review past its time limit (overdue on the supervision page).
    facility = (
        DischargeUnit.objects.filter(county=county["140215"], kind="rural_facility")
        .order_by("credit_code")
        .first()
    )
    if facility is not None:
        lon, lat = _point_on(waters["YUH01"], 62, offset_m=80)
        app = _new(
            bureau, kind=ApplicationKind.NEW, applicant=facility, county=county["140215"],
            type_level2=Level2.RURAL_FACILITY, lon=lon, lat=lat, water_body=waters["YUH01"],
            entry_mode=EntryMode.PIPE, discharge_mode=DischargeMode.CONTINUOUS, daily_volume_m3=180,
            exception_reason="村庄生活污水集中处理设施，处理后达标排放（演示）。",
        )  # fmt: skip
        _with_materials(app)
        services.submit(app, user=bureau)
        _backdate(app, today - timedelta(days=45))
        made += 1

    # 4. An approved municipal plant outfall on 南洋河 (阳高县) with conditions, one due soon.
    plant = (
        DischargeUnit.objects.filter(county=county["140221"], kind="municipal_wwtp")
        .order_by("credit_code")
        .first()
    )
    if plant is not None:
        lon, lat = _point_on(waters["NYH01"], 20, offset_m=60)
        app = _new(
            bureau, kind=ApplicationKind.NEW, applicant=plant, county=county["140221"],
            type_level2=Level2.MUNICIPAL_WWTP, lon=lon, lat=lat, water_body=waters["NYH01"],
            entry_mode=EntryMode.PIPE, discharge_mode=DischargeMode.CONTINUOUS, daily_volume_m3=20000,
            outfall_name="", description="县城污水处理厂提标扩建后新设尾水排放口（演示）。",
            pollutants=[{"parameter": "化学需氧量", "concentration": 30}, {"parameter": "氨氮", "concentration": 1.5},
                        {"parameter": "总磷", "concentration": 0.3}],
        )  # fmt: skip
        _with_materials(app)
        services.submit(app, user=bureau)
        app.refresh_from_db()
        if app.consultation_required:
            _answer_consultation(app, bureau, today)
        decision = services.decide(
            app, user=bureau, outcome=Outcome.APPROVE, number="同环排口审〔2025〕3号", decided_on=today - timedelta(days=40),
            conditions="设置规范化采样点和标识牌\n安装化学需氧量、氨氮在线监测设备并与生态环境部门联网",
            conditions_due=today + timedelta(days=20),
        )  # fmt: skip
        _backdate(app, today - timedelta(days=55))
        first = decision.items.order_by("id").first()
        services.fulfil_condition(
            first, user=bureau, fulfilled_on=today - timedelta(days=5), note="已设置（演示）"
        )
        made += 1

    # 5. A refused one: an industrial outfall in the 唐河 (大清河) basin sending production wastewater to the
    #    municipal plant, filed by the bureau before the rule was checked... refused on the merits.
    mine = DischargeUnit.objects.filter(county=county["140224"], kind="mine").order_by("credit_code").first()
    if mine is not None:
        lon, lat = _point_on(waters["TAH01"], 60, offset_m=70)
        app = _new(
            bureau, kind=ApplicationKind.ENLARGE, applicant=mine, county=county["140224"], outfall=Outfall.objects.filter(responsible_entity=mine).order_by("code").first(),
            type_level2=Level2.INDUSTRIAL_MINING, lon=lon, lat=lat, water_body=waters["TAH01"],
            entry_mode=EntryMode.OPEN_CHANNEL, discharge_mode=DischargeMode.CONTINUOUS, daily_volume_m3=900,
            description="扩大矿井水排放量（演示）。",
        ) if Outfall.objects.filter(responsible_entity=mine).exists() else None  # fmt: skip
        if app is not None:
            _with_materials(app)
            services.submit(app, user=bureau)
            services.decide(
                app, user=bureau, outcome=Outcome.REFUSE, number="同环排口审〔2025〕5号", decided_on=today - timedelta(days=20),
                reasons="矿井水处理工艺不能稳定达标，扩大排放将加重下游断面超标风险（演示）。",
            )  # fmt: skip
            _backdate(app, today - timedelta(days=35))
            made += 1

    # 6. A registration (规模以下养殖) on 壶流河 (广灵县), public; 7. the same kind, withheld.
    farms = DischargeUnit.objects.filter(
        county=county["140223"], kind__in=("livestock", "aquaculture")
    ).order_by("credit_code")[:2]
    for k, farm in enumerate(farms):
        lon, lat = _point_on(waters["HLH01"], 8 + 6 * k, offset_m=90)
        app = _new(
            bureau, kind=ApplicationKind.NEW, applicant=farm, county=county["140223"],
            type_level2=Level2.LIVESTOCK_SMALL if farm.kind == "livestock" else Level2.AQUACULTURE_SMALL,
            lon=lon, lat=lat, water_body=waters["HLH01"], entry_mode=EntryMode.OPEN_CHANNEL,
            discharge_mode=DischargeMode.SEASONAL, daily_volume_m3=40,
        )  # fmt: skip
        _with_materials(app)
        services.submit(app, user=bureau)
        decision = services.decide(
            app, user=bureau, outcome=Outcome.REGISTER, number=f"同环排口登〔2025〕{11 + k}号", decided_on=today - timedelta(days=12 - k),
        )  # fmt: skip
        _backdate(app, today - timedelta(days=25))
        if k == 1:
            services.withhold(
                decision, user=bureau, reason="涉及养殖户个人信息，经申请人申请不予公开（演示）。"
            )
        made += 1

    # 8. A city storm outfall on 御河 by the dykes, filed by the bureau for the city's drainage company:
    #    under review, waiting for the water authority's opinion.
    drainage = (
        DischargeUnit.objects.filter(county=county["140213"])
        .exclude(pk=unit.pk)
        .order_by("credit_code")
        .first()
    )
    if drainage is not None:
        lon, lat = _point_on(waters["YUH01"], 42, offset_m=-50)
        app = _new(
            bureau, kind=ApplicationKind.NEW, applicant=drainage, county=county["140213"], type_level2=Level2.URBAN_STORM,
            lon=lon, lat=lat, water_body=waters["YUH01"], entry_mode=EntryMode.BOX_CULVERT,
            discharge_mode=DischargeMode.INTERMITTENT, daily_volume_m3=0,
            exception_reason="城区雨水管网改造，雨季排放雨水，不排放污水（演示）。",
            pollutants=[{"parameter": "悬浮物", "concentration": 60}],
        )  # fmt: skip
        _with_materials(app)
        services.submit(app, user=bureau)
        services.save_consultation(
            app, user=bureau, authority="大同市水务局", sent_on=today - timedelta(days=2)
        )
        made += 1

    # 9. The state's decision on a large outfall at 册田水库 (桑干河), recorded here.
    big = (
        DischargeUnit.objects.filter(kind="municipal_wwtp")
        .exclude(pk=getattr(plant, "pk", None))
        .order_by("credit_code")
        .first()
    )
    if big is not None:
        lon, lat = _point_on(waters["SGH01"], 90, offset_m=100)
        app = _new(
            bureau, kind=ApplicationKind.NEW, applicant=big, county=county["140221"], type_level2=Level2.MUNICIPAL_WWTP,
            authority=Authority.NATIONAL, national_basis="跨省界河流入河排污口，属国家设置审核权限（演示）",
            lon=lon, lat=lat, water_body=waters["SGH01"], entry_mode=EntryMode.PIPE,
            discharge_mode=DischargeMode.CONTINUOUS, daily_volume_m3=50000,
        )  # fmt: skip
        _with_materials(app)
        services.submit(app, user=bureau)
        services.decide(
            app, user=bureau, outcome=Outcome.APPROVE, number="海河北海局审〔2025〕8号", decided_on=today - timedelta(days=30),
            issuing_authority="生态环境部海河流域北海海域生态环境监督管理局",
        )  # fmt: skip
        _backdate(app, today - timedelta(days=60))
        made += 1
    return made


def load_demo(stdout):
    if DischargePermit.objects.filter(source=DEMO_SOURCE).exists():
        return
    today = timezone.localdate()
    with transaction.atomic():
        permits, shared = load_permits(today)
        applications = load_applications(today)
    stdout.write(
        f"设置审核与排污许可：许可证 {permits} 张（载明共用份额 {shared} 处），设置申请 {applications} 件\n"
    )
