"""Demo data for 排查 (see demo.py): three campaigns with reaches, suspected points in every outcome, field checks
with staff names and two walked tracks.

Deterministic and idempotent: points are keyed by (campaign, number), field checks by a UUID derived from
the point's number (uuid5), tracks likewise, and outcomes are set through services.py only while a point
is still pending, so a second run creates and changes nothing. Built on the ledger's demo data
(registry.demo): it places points next to the demo outfalls of each county's rivers.
"""

import datetime as dt
import random
import uuid

import shapely
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from shapely import ops
from shapely.geometry import Point

from outfalls.core.models import Jurisdiction
from outfalls.core.services import record_status_change
from outfalls.geo.shapes import length_km, metres_per_degree, shape_of
from outfalls.registry.models import Outfall, WaterBody

from . import services
from .choices import Bank, CampaignStatus, FlowState, PointOutcome, PointSource
from .models import Campaign, CampaignReach, SuspectedPoint, Track

NAMESPACE = uuid.UUID("6b3c1d2e-5f40-4a8b-9c7d-0e1f2a3b4c5d")
STAFF = [["王建国", "李娜"], ["张伟", "刘洋", "陈静"], ["赵磊", "孙丽"]]

# (name, county code, rivers, lead unit, team, deadline, plan of outcomes)
CAMPAIGNS = [
    (
        "平城区御河、十里河入河排污口排查",
        "140213",
        ["御河", "十里河"],
        "平城区人民政府",
        "王建国、李娜、张伟、刘洋",
        dt.date(2023, 6, 30),
        [
            "linked",
            "linked",
            "confirmed",
            "duplicate",
            "duplicate",
            "not_outfall",
            "not_outfall",
            "escalated",
            "expert",
            "pending",
            "pending",
            "pending",
            "field",
        ],
    ),
    (
        "云州区御河入河排污口排查",
        "140215",
        ["御河"],
        "云州区人民政府",
        "赵磊、孙丽、陈静",
        dt.date(2023, 6, 30),
        ["linked", "confirmed", "duplicate", "not_outfall", "escalated", "pending", "pending", "pending"],
    ),
    (
        "新荣区御河入河排污口排查",
        "140212",
        ["御河"],
        "新荣区人民政府",
        "周强、吴敏",
        dt.date(2023, 7, 31),
        ["linked", "duplicate", "not_outfall", "pending", "pending", "pending"],
    ),
]


def _uuid(*parts):
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts))


def _offset(lon, lat, east_m, north_m):
    per_lon, per_lat = metres_per_degree(lat)
    return round(lon + east_m / per_lon, 7), round(lat + north_m / per_lat, 7)


def _chainages(line, outfalls):
    total = length_km(line)
    return sorted(line.project(Point(o.lon, o.lat), normalized=True) * total for o in outfalls)


def load_demo(stdout):
    """Deterministic and idempotent: a second run creates nothing."""
    user = get_user_model().objects.filter(username="bureau").first()
    if user is None:
        stdout.write("排查演示数据：缺少演示账号 bureau，跳过。\n")
        return {}
    created = {"campaigns": 0, "points": 0, "checks": 0, "tracks": 0}
    with transaction.atomic():
        for index, spec in enumerate(CAMPAIGNS):
            _campaign(index, spec, user, created)
    stdout.write(
        "排查演示数据：新增任务 {campaigns} 个、疑似点 {points} 个、现场核查 {checks} 条、轨迹 {tracks} 条。\n".format(
            **created
        )
    )
    return created


def _campaign(index, spec, user, created):
    name, county_code, river_names, lead_unit, team, deadline, plan = spec
    county = Jurisdiction.objects.filter(code=county_code).first()
    rivers = sorted(WaterBody.objects.filter(name__in=river_names), key=lambda w: river_names.index(w.name))
    if county is None or not rivers:
        return
    campaign = Campaign.objects.filter(name=name, county=county).first()
    if campaign is None:
        campaign = services.save_campaign(
            Campaign(
                name=name,
                county=county,
                lead_unit=lead_unit,
                team_names=team,
                start_date=dt.date(2023, 3, 1),
                deadline=deadline,
                status=CampaignStatus.ACTIVE,
                notes="演示数据（虚构）：一级排查为无人机航测解译成果，二级排查为徒步现场核查。",
            ),
            user=user,
            water_bodies=rivers,
        )
        created["campaigns"] += 1
    rng = random.Random(1000 + index)
    main = rivers[0]
    outfalls = list(
        Outfall.objects.filter(county=county, water_body=main)
        .exclude(source_key__startswith="survey-")
        .order_by("code")
    )
    line = shape_of(main.geometry) if main.geometry else None
    for river in rivers:
        if not river.geometry:
            continue
        river_line = shape_of(river.geometry)
        on_river = [o for o in Outfall.objects.filter(county=county, water_body=river).only("lon", "lat")]
        if not on_river:
            continue
        marks = _chainages(river_line, on_river)
        low, high = max(0.0, marks[0] - 0.5), min(length_km(river_line), marks[-1] + 0.5)
        middle = round((low + high) / 2, 1)
        for part, (start, end) in enumerate(((round(low, 1), middle), (middle, round(high, 1)))):
            reach, made = CampaignReach.objects.get_or_create(
                campaign=campaign,
                water_body=river,
                from_km=start,
                defaults={"to_km": end, "bank": Bank.BOTH, "name": f"{river.name}第{part + 1}段"},
            )
            if made and part == 0:
                services.set_reach_checked(reach, True, user=user)
                walked_on = timezone.make_aware(dt.datetime(2023, 4, 15, 17, 0))
                CampaignReach.objects.filter(pk=reach.pk).update(checked_at=walked_on)
    for number, kind in enumerate(plan, start=1):
        _point(
            campaign,
            f"UAV-{index + 1:02d}{number:03d}",
            kind,
            number,
            outfalls,
            line,
            main,
            rng,
            user,
            created,
        )
    if index < 2 and line is not None and outfalls:
        _track(campaign, main, line, outfalls, rng, user, created)


def _near_river(line, outfalls, number, rng):
    """A spot ~30–80 m off the river between two demo outfalls."""
    base = outfalls[(number * 3) % len(outfalls)]
    fraction = line.project(Point(base.lon, base.lat), normalized=True)
    spot = line.interpolate(min(1.0, fraction + 0.002 + rng.random() * 0.003), normalized=True)
    return _offset(spot.x, spot.y, rng.uniform(30, 80), rng.uniform(-40, 40))


def _point(campaign, number, kind, n, outfalls, line, river, rng, user, created):
    if not outfalls:
        return
    base = outfalls[(n - 1) % len(outfalls)]
    if kind in ("linked", "duplicate"):
        lon, lat = _offset(base.lon, base.lat, rng.uniform(-25, 25), rng.uniform(-25, 25))
    else:
        lon, lat = (
            _near_river(line, outfalls, n, rng) if line is not None else _offset(base.lon, base.lat, 300, 300)
        )
    if kind == "field":
        check_uuid = _uuid(campaign.name, number, "check")
        data = _check_data(check_uuid, None, lon, lat, PointOutcome.CONFIRMED, n)
        data.update(water_body=river, landmark=f"{river.name}现场新发现{n}号涵洞")
        _, made = services.submit_field_check(campaign, data, user=user)
        if made:
            created["checks"] += 1
            created["points"] += 1
        return
    point, made = SuspectedPoint.objects.get_or_create(
        campaign=campaign,
        number=number,
        defaults={
            "source": PointSource.UAV if n % 3 else PointSource.REMOTE_SENSING,
            "lon": lon,
            "lat": lat,
            "water_body": river,
            "description": "无人机影像可见疑似出水口" if kind != "not_outfall" else "影像疑似管道口",
        },
    )
    if made:
        created["points"] += 1
        record_status_change(
            point, user=user, from_value="", to_value=point.outcome, reason="演示数据导入", field="outcome"
        )
    if point.outcome != PointOutcome.PENDING or kind == "pending":
        return
    if kind == "linked":
        # Confirmed at the visit: the outfall was already in the ledger (the county's 2022 list).
        check_uuid = _uuid(campaign.name, number, "check")
        data = _check_data(check_uuid, point, lon, lat, PointOutcome.DUPLICATE, n, duplicate_of=base)
        data["decision_note"] = "现场核实为台账内已有排口"
        services.submit_field_check(campaign, data, user=user)
        point.refresh_from_db()
        SuspectedPoint.objects.filter(pk=point.pk).update(outcome=PointOutcome.CONFIRMED)
        record_status_change(
            point,
            user=user,
            from_value=PointOutcome.DUPLICATE,
            to_value=PointOutcome.CONFIRMED,
            reason="演示数据：确认为排口，对应台账已有排口",
            field="outcome",
        )
        created["checks"] += 1
        return
    outcome = {
        "confirmed": PointOutcome.CONFIRMED,
        "duplicate": PointOutcome.DUPLICATE,
        "not_outfall": PointOutcome.NOT_OUTFALL,
        "escalated": PointOutcome.ESCALATED,
        "expert": PointOutcome.ESCALATED,
    }[kind]
    data = _check_data(_uuid(campaign.name, number, "check"), point, lon, lat, outcome, n, duplicate_of=base)
    if outcome == PointOutcome.CONFIRMED:
        data.update(water_body=river, landmark=f"{river.name}{n}号排水涵")
    if outcome == PointOutcome.NOT_OUTFALL:
        data.update(flow=FlowState.DRY, decision_note="为废弃灌溉渠口，无排水")
    _, made = services.submit_field_check(campaign, data, user=user)
    if made:
        created["checks"] += 1
    if kind == "expert":
        services.decide_point(
            point,
            PointOutcome.NOT_OUTFALL,
            user=user,
            level=3,
            note="经专家研判为河道护坡泄水孔，非排口",
            experts="高工、马工",
        )


def _check_data(check_uuid, point, lon, lat, outcome, n, duplicate_of=None):
    when = timezone.make_aware(dt.datetime(2023, 4, 10, 9, 0) + dt.timedelta(hours=n * 5))
    return {
        "client_uuid": check_uuid,
        "point": point,
        "checked_at": when,
        "lon": lon,
        "lat": lat,
        "accuracy_m": 5.0 + n % 7,
        "position_source": "gps",
        "flow": FlowState.FLOWING if n % 2 else FlowState.STAGNANT,
        "dry_weather": True,
        "colour": "grey" if n % 2 else "clear",
        "odour": "slight" if n % 3 else "none",
        "turbidity": "slight",
        "oil_film": False,
        "foam": n % 4 == 0,
        "sampling_possible": n % 2 == 1,
        "outlet_form": "pipe",
        "outlet_size": f"DN{300 + (n % 4) * 100}",
        "entry_mode": "pipe",
        "suspected_source": "周边小区生活污水" if n % 2 else "",
        "notes": "演示数据",
        "staff": STAFF[n % len(STAFF)],
        "outcome": outcome,
        "duplicate_of": duplicate_of if outcome == PointOutcome.DUPLICATE else None,
        "decision_note": "",
    }


def _track(campaign, river, line, outfalls, rng, user, created):
    key = _uuid(campaign.name, river.name, "track")
    if Track.objects.filter(client_uuid=key).exists():
        return
    marks = sorted(line.project(Point(o.lon, o.lat), normalized=True) for o in outfalls)
    part = ops.substring(line, marks[0], marks[len(marks) // 2], normalized=True)
    if part.length == 0:
        return
    per_lon, _ = metres_per_degree(part.centroid.y)
    shifted = part.offset_curve(12 / per_lon)
    points = [
        (round(x + rng.uniform(-3, 3) / per_lon, 7), round(y + rng.uniform(-3, 3) / per_lon, 7))
        for x, y in shapely.get_coordinates(shapely.segmentize(shifted, 0.002))
    ]
    _, made = services.submit_track(
        campaign,
        {
            "client_uuid": key,
            "water_body": river,
            "bank": Bank.LEFT,
            "recorded_at": timezone.make_aware(dt.datetime(2023, 4, 12, 8, 30)),
            "coordinates": [list(p) for p in points],
        },
        user=user,
    )
    created["tracks"] += int(made)
