"""Applying the plan: get_or_create by stable keys, so a second run creates nothing and changes nothing;
the demo accounts; and ``load_demo``, the entry point."""

import sys
import unicodedata

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from outfalls.core.apps import refresh_sqlite_statistics
from outfalls.core.choices import JurisdictionLevel, Milestone, Role
from outfalls.core.models import Deadline, Department, Jurisdiction, Membership
from outfalls.core.services import record_status_change

from ..checks import check_outfalls
from ..choices import DisclosureBasis, LifecycleStatus, WaterBodyKind
from ..models import (
    DischargeUnit,
    Outfall,
    OutfallUnitLink,
    ProtectedArea,
    Section,
    SpatialFinding,
    WaterBody,
    WaterFunctionZone,
    WaterWorks,
)
from ..services import apply_disclosure_rules, set_disclosure
from .data import (
    CITY,
    DEMO_USERS,
    DEPARTMENTS,
    DIVISIONS_SOURCE,
    RIVER_SOURCE,
    RIVERS,
    SECTION_TARGETS,
    TOWN_SOURCE,
    VILLAGE_SOURCE,
    ZONE,
)
from .plan import Planner
from .protected import load_protected_areas
from .zones import load_zones


class _Counter:
    """Rows created per kind, for the summary."""

    def __init__(self):
        self.created = {}

    def add(self, label, created):
        self.created[label] = self.created.get(label, 0) + (1 if created else 0)

    def ensure(self, label, model, defaults, **lookup):
        obj, created = model.objects.get_or_create(**lookup, defaults=defaults)
        self.add(label, created)
        return obj


def _jurisdictions(planner, counter):
    city_feature = next(f for f in planner.features if f["properties"]["level"] == "city")
    city_defaults = {"name": CITY[1], "level": JurisdictionLevel.CITY}
    city_defaults.update(boundary=city_feature["geometry"], boundary_source=DIVISIONS_SOURCE)
    city = counter.ensure("辖区", Jurisdiction, city_defaults, code=CITY[0])
    places = {CITY[0]: city}
    for feature in planner.features:
        code, name, level = (feature["properties"][k] for k in ("adcode", "name", "level"))
        if level == "county":
            defaults = {"name": name, "level": JurisdictionLevel.COUNTY, "parent": city}
            defaults.update(boundary=feature["geometry"], boundary_source=DIVISIONS_SOURCE)
            places[code] = counter.ensure("辖区", Jurisdiction, defaults, code=code)
    defaults = {"name": ZONE["name"], "level": JurisdictionLevel.ZONE, "parent": city}
    defaults.update(
        boundary={"type": "Polygon", "coordinates": [[list(p) for p in ZONE["coords"]]]},
        boundary_source=ZONE["source"],
        boundary_approximate=True,
    )
    places[ZONE["code"]] = counter.ensure("辖区", Jurisdiction, defaults, code=ZONE["code"])
    for county, towns in planner.towns.items():
        for town_code, town_name in towns:
            defaults = {"name": town_name, "level": JurisdictionLevel.TOWN, "parent": places[county]}
            defaults["boundary_source"] = TOWN_SOURCE
            places[town_code] = counter.ensure("辖区", Jurisdiction, defaults, code=town_code)
            for code, name in planner.villages[town_code]:
                defaults = {"name": name, "level": JurisdictionLevel.VILLAGE, "parent": places[town_code]}
                defaults["boundary_source"] = VILLAGE_SOURCE
                places[code] = counter.ensure("辖区", Jurisdiction, defaults, code=code)
    return places


def _departments(counter):
    departments = {}
    for order, (name, short, types) in enumerate(DEPARTMENTS, start=1):
        defaults = {"short_name": short, "responsible_types": [str(t) for t in types], "order": order}
        departments[name] = counter.ensure("部门", Department, defaults, name=name)
    return departments


def _waters(planner, places, counter):
    waters = {}
    for code, name, basin, parent, coords in RIVERS:
        defaults = {"name": name, "kind": WaterBodyKind.RIVER, "basin": basin, "parent": waters.get(parent)}
        defaults.update(
            geometry={"type": "LineString", "coordinates": [list(p) for p in coords]},
            geometry_approximate=True,
            geometry_source=RIVER_SOURCE,
        )
        waters[code] = counter.ensure("受纳水体", WaterBody, defaults, code=code)
    for section in planner.sections:
        defaults = {k: section[k] for k in ("level", "lon", "lat", "chainage_km")}
        defaults["target_class"] = SECTION_TARGETS.get((section["water"], section["name"]), "")
        defaults.update(
            level_approximate=True, location_approximate=True, county=places.get(section["county"])
        )
        counter.ensure(
            "考核断面", Section, defaults, water_body=waters[section["water"]], name=section["name"]
        )
    return waters


def _units(planner, places, counter):
    units = {}
    for plan in planner.units:
        unit = DischargeUnit.objects.filter(credit_code=plan.credit_code).first()
        created = unit is None
        if created:
            unit = DischargeUnit(
                credit_code=plan.credit_code,
                name=plan.name,
                kind=plan.kind,
                industry=plan.industry,
                park=plan.park,
                county=places[plan.county],
                town=places[plan.town],
                address=plan.address,
                lon=plan.lon,
                lat=plan.lat,
                permit_number=plan.permit_number,
                notes=plan.notes,
            )
            unit.full_clean(exclude=["county", "town"])  # related rows are ours; skip their lookups
            unit.save()
        counter.add("排污单位", created)
        units[plan.credit_code] = unit
    return units


def _outfalls(planner, places, waters, units, counter):
    existing = set(
        Outfall.objects.filter(source_key__startswith="DEMO-").values_list("source_key", flat=True)
    )
    for plan in planner.outfalls:
        if plan.key in existing:
            counter.add("入河排污口", False)
            continue
        fields = dict(plan.fields)
        outfall = Outfall(
            county=places[plan.county],
            town=places[plan.town],
            village=places[plan.village] if plan.village else None,
            lon=plan.lon,
            lat=plan.lat,
            water_body=waters[plan.river],
            landmark=plan.landmark,
            number=plan.number,
            name_auto=True,
            responsible_entity=units[plan.responsible] if plan.responsible else None,
            notes=plan.notes,
            source_key=plan.key,
            **fields,
        )
        outfall.full_clean(exclude=["county", "town", "village", "water_body", "responsible_entity"])
        outfall.save()
        record_status_change(
            outfall, user=None, from_value="", to_value=outfall.status, reason="演示数据初始状态"
        )
        counter.add("入河排污口", True)
        for credit_code, role, via, note in plan.links:
            OutfallUnitLink.objects.create(
                outfall=outfall, unit=units[credit_code], role=role, via_channel=via, share_note=note
            )
            counter.add("排口-单位关联", True)


def _users(planner, places, departments, waters, units):
    User = get_user_model()
    by_name = {plan.name: units[plan.credit_code] for plan in planner.units}
    hashed = None  # hashing is slow on purpose: do it once for all new accounts
    rows = []
    for username, role, display, scope, target in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            rows.append((username, Role(role).label, scope, "（已存在，未修改）"))
            continue
        admin = role == Role.CITY_ADMIN
        hashed = hashed or make_password(settings.DEMO_PASSWORD)
        user = User.objects.create(
            username=username, password=hashed, first_name=display, is_staff=admin, is_superuser=admin
        )
        membership = Membership(
            user=user,
            role=role,
            jurisdiction=places.get(target.get("jurisdiction")),
            department=departments.get(target.get("department")),
            unit=by_name.get(target.get("unit")),
        )
        membership.full_clean()
        membership.save()
        for code in target.get("water_bodies", []):
            membership.water_bodies.add(waters[code])
        rows.append((username, Role(role).label, scope, settings.DEMO_PASSWORD))
    return rows


def _pad(text, width):
    """Pad to a display width, counting CJK characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 1)


# The plan's deadlines (同政办发〔2023〕8号) as the city's defaults; a county may be given its own.
PLAN_DEADLINES = {
    Milestone.BASELINE: "2023-12-31",
    Milestone.RECTIFICATION: "2024-12-31",
    Milestone.REPORT_SURVEY: "2023-09-30",
    Milestone.REPORT_PROGRESS: "2023-12-31",
    Milestone.REPORT_SUMMARY: "2024-11-30",
}


def _deadlines(counter):
    for milestone, due in PLAN_DEADLINES.items():
        counter.ensure(
            "工作期限",
            Deadline,
            {"due_date": due, "basis": "同政办发〔2023〕8号"},
            milestone=milestone,
            jurisdiction=None,
        )


# The bureau's demo decisions against the rules: withheld while an enforcement case runs, and published early
# because the public asked. (source_key of the outfall's plan, reason); the first few matching outfalls.
DEMO_WITHHELD = 4
DEMO_WITHHELD_REASON = "涉及正在办理的执法案件，结案前暂不公开"
DEMO_PUBLISHED = 3
DEMO_PUBLISHED_REASON = "群众关注度高，核实后提前公开"


def _disclosure():
    """The disclosure rules applied to the ledger, and a few decisions of the bureau against them (once)."""
    changed = apply_disclosure_rules()
    if Outfall.objects.filter(disclosure_basis=DisclosureBasis.DECISION).exists():
        return changed
    bureau = get_user_model().objects.filter(username="bureau").first()
    if bureau is None:
        return changed
    public = Outfall.objects.filter(disclosed=True).order_by("code").values_list("pk", flat=True)
    hidden = Outfall.objects.filter(disclosed=False, status=LifecycleStatus.VERIFIED).order_by("code")
    set_disclosure(list(public[:DEMO_WITHHELD]), user=bureau, disclose=False, reason=DEMO_WITHHELD_REASON)
    set_disclosure(
        list(hidden.values_list("pk", flat=True)[:DEMO_PUBLISHED]),
        user=bureau,
        disclose=True,
        reason=DEMO_PUBLISHED_REASON,
    )
    return changed + DEMO_WITHHELD + DEMO_PUBLISHED


def load_demo(stdout=None):
    """Load (or complete) the Datong demo data set; returns the number of rows created per kind."""
    out = stdout if stdout is not None else sys.stdout
    planner = Planner().build()
    counter = _Counter()
    with transaction.atomic():
        places = _jurisdictions(planner, counter)
        departments = _departments(counter)
        waters = _waters(planner, places, counter)
        units = _units(planner, places, counter)
        _outfalls(planner, places, waters, units, counter)
        accounts = _users(planner, places, departments, waters, units)
        load_protected_areas(counter)
        load_zones(counter, waters)
        _deadlines(counter)
        _disclosure()
        # The spatial checks, when this run added rows (or none were run yet): the demo shows findings, and
        # a second load still changes nothing.
        spatial = None
        if any(counter.created.values()) or not SpatialFinding.objects.exists():
            spatial = check_outfalls()
    totals = {
        "辖区": Jurisdiction.objects.count(),
        "部门": Department.objects.count(),
        "受纳水体": WaterBody.objects.count(),
        "考核断面": Section.objects.count(),
        "排污单位": DischargeUnit.objects.count(),
        "入河排污口": Outfall.objects.count(),
        "排口-单位关联": OutfallUnitLink.objects.count(),
        "特殊保护区域": ProtectedArea.objects.count(),
        "水功能区": WaterFunctionZone.objects.count(),
        "涉水工程": WaterWorks.objects.count(),
    }
    out.write("演示数据（大同）：\n")
    for label, total in totals.items():
        out.write(f"  {label}：新建 {counter.created.get(label, 0)}，现有 {total}\n")
    if spatial is not None:
        out.write("空间检查：\n")
        for line in spatial.summary_lines():
            out.write(f"  {line.strip()}\n")
    out.write("演示账号：\n")
    out.write(f"  {_pad('用户名', 14)}{_pad('角色', 14)}{_pad('范围', 30)}密码\n")
    for username, role, scope, password in accounts:
        out.write(f"  {_pad(username, 14)}{_pad(role, 14)}{_pad(scope, 30)}{password}\n")
    # The workflow apps' demo data (campaigns, tracing, rectification...): each app config that has a
    # load_demo(stdout) adds its own, after the ledger it builds on. Discovery, not imports: registry sits
    # below those apps.
    for config in apps.get_app_configs():
        if config.name != "outfalls.registry" and hasattr(config, "load_demo"):
            config.load_demo(stdout=out)
    refresh_sqlite_statistics()
    return counter.created
