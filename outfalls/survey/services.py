"""排查 workflow steps: campaigns, reaches, the outcome of a suspected point, field checks from the phone.

Every step checks permission (the campaign must be editable by the user) and state, changes rows inside
``transaction.atomic`` and writes a status-change row (core.services.record_status_change). Views, the
phone's upload endpoint, the management command and the demo data all call these functions.
"""

import uuid as uuidlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from outfalls.core.locking import bump_version, claim_version
from outfalls.core.scopes import scope_of
from outfalls.core.services import add_photo, record_status_change
from outfalls.geo import tracks as tracks_geo
from outfalls.geo.shapes import degrees_around, distance_m
from outfalls.registry.choices import LifecycleStatus
from outfalls.registry.classification import TypeCode
from outfalls.registry.models import Outfall
from outfalls.registry.services import save_outfall

from .choices import FINAL_OUTCOMES, OPEN_OUTCOMES, CampaignStatus, PointOutcome, PointSource
from .models import Campaign, FieldCheck, SuspectedPoint, Track

MIN_STAFF = 2


def duplicate_radius_m():
    """The forms offer the outfalls this close to a point as what it repeats (SURVEY_DUPLICATE_RADIUS_M)."""
    return settings.SURVEY_DUPLICATE_RADIUS_M


def duplicate_max_m():
    """A point said to repeat an outfall farther than this is refused (SURVEY_DUPLICATE_MAX_M: a GPS fix
    under trees or a bridge can be off by more than the offered radius)."""
    return settings.SURVEY_DUPLICATE_MAX_M


# ---------------------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------------------


def can_create_campaign_in(user, county):
    scope = scope_of(user)
    return scope.can_edit_citywide or (county is not None and county.pk in scope.county_ids)


def may_create_campaigns(user):
    return scope_of(user).can_create_campaign


def check_campaign_editable(campaign, user):
    if not Campaign.objects.editable_by(user).filter(pk=campaign.pk).exists():
        raise PermissionDenied("无权修改该排查任务。")


# ---------------------------------------------------------------------------------------------------------
# Campaigns and reaches
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def save_campaign(campaign, *, user, water_bodies=None, team=None, expected_version=None, sent=None):
    """Create or update a campaign: city editors anywhere, county officers in their own county.
    expected_version: the version the editing form was opened at (core.locking)."""
    creating = campaign.pk is None
    if creating:
        if not can_create_campaign_in(user, campaign.county if campaign.county_id else None):
            raise PermissionDenied("只能在本辖区内创建排查任务。")
        previous_status = ""
    else:
        check_campaign_editable(campaign, user)
        previous = Campaign.objects.only("status", "county_id").get(pk=campaign.pk)
        previous_status = previous.status
        if previous.county_id != campaign.county_id and not can_create_campaign_in(user, campaign.county):
            raise PermissionDenied("只能将排查任务设在本辖区内。")
        campaign.created_by = campaign.created_by if campaign.created_by_id else None
    if creating and user is not None and user.is_authenticated:
        campaign.created_by = user
    if campaign.status == CampaignStatus.COMPLETED and previous_status != CampaignStatus.COMPLETED:
        open_points = campaign.points.filter(outcome__in=OPEN_OUTCOMES).count() if campaign.pk else 0
        if open_points:
            raise ValidationError(
                {"status": f"还有 {open_points} 个疑似点待核查或待专家研判，不能将任务标记为已完成。"}
            )
    campaign.full_clean()
    if expected_version is not None:
        claim_version(campaign, expected_version, user=user, sent=sent)
    elif not creating:
        bump_version(campaign)
    campaign.save()
    if water_bodies is not None:
        campaign.water_bodies.set(water_bodies)
    if team is not None:
        campaign.team.set(team)
    if previous_status != campaign.status:
        record_status_change(
            campaign,
            user=user,
            from_value=previous_status,
            to_value=campaign.status,
            reason="新建排查任务" if creating else "修改排查任务",
        )
    return campaign


def validate_reach(reach):
    errors = {}
    if reach.from_km is not None and reach.to_km is not None and reach.to_km <= reach.from_km:
        errors["to_km"] = "终点（公里）须大于起点（公里）。"
    if reach.water_body_id and reach.campaign_id:
        chosen = set(reach.campaign.water_bodies.values_list("pk", flat=True))
        if chosen and reach.water_body_id not in chosen:
            errors["water_body"] = "河段所在河流须是本任务的排查河流之一。"
    if reach.water_body_id and reach.water_body.geometry and reach.to_km is not None:
        from outfalls.geo.shapes import length_km, shape_of

        try:
            total = length_km(shape_of(reach.water_body.geometry))
        except ValueError:
            total = None
        if total is not None and reach.to_km > total + 0.5:
            errors["to_km"] = f"终点（公里）超出河流全长（约 {total:.1f} 公里）。"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_reach(reach, *, user):
    check_campaign_editable(reach.campaign, user)
    reach.full_clean()
    validate_reach(reach)
    reach.save()
    return reach


@transaction.atomic
def set_reach_checked(reach, checked, *, user, reason=""):
    """Mark a reach walked (已完成徒步排查) or not; a status-change row on the reach records it."""
    check_campaign_editable(reach.campaign, user)
    if reach.checked == checked:
        return reach
    reach.checked = checked
    reach.checked_at = timezone.now() if checked else None
    reach.checked_by = user if checked else None
    reach.save(update_fields=["checked", "checked_at", "checked_by"])
    record_status_change(
        reach,
        user=user,
        from_value="unchecked" if checked else "checked",
        to_value="checked" if checked else "unchecked",
        reason=reason or ("已完成徒步排查" if checked else "撤销徒步排查完成标记"),
        field="checked",
    )
    return reach


@transaction.atomic
def delete_reach(reach, *, user):
    check_campaign_editable(reach.campaign, user)
    reach.delete()


# ---------------------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------------------


def nearby_outfalls(user, lon, lat, radius_m=None, county_id=None):
    """Visible outfalls within radius_m (default duplicate_radius_m()) of (lon, lat), nearest first, each with
    .distance_m."""
    radius_m = duplicate_radius_m() if radius_m is None else radius_m
    dlon, dlat = degrees_around(lat, radius_m)
    rows = Outfall.objects.visible_to(user).filter(
        lon__range=(lon - dlon, lon + dlon), lat__range=(lat - dlat, lat + dlat)
    )
    if county_id:
        rows = rows.filter(county_id=county_id)
    found = []
    for outfall in rows.only("id", "code", "name", "lon", "lat", "county_id"):
        outfall.distance_m = distance_m(lon, lat, outfall.lon, outfall.lat)
        if outfall.distance_m <= radius_m:
            found.append(outfall)
    return sorted(found, key=lambda o: o.distance_m)


def _confirm(point, *, user, details, level):
    """The ledger entry for a confirmed point (created once: source_key survey-point-<pk>)."""
    key = f"survey-point-{point.pk}"
    existing = Outfall.objects.filter(source_key=key).first()
    if existing is not None:
        return existing
    water_body = details.get("water_body") or point.water_body
    if water_body is None:
        raise ValidationError({"water_body": "确认为排口时须选择受纳水体。"})
    landmark = (details.get("landmark") or "").strip()
    if not landmark:
        raise ValidationError({"landmark": "确认为排口时须填写地标或单位名（用于排口命名）。"})
    outfall = Outfall(
        county=point.campaign.county,
        town=details.get("town"),
        village=details.get("village"),
        landmark=landmark,
        type_code=details.get("type_code") or TypeCode.UNDETERMINED,
        lon=details.get("lon", point.lon),
        lat=details.get("lat", point.lat),
        water_body=water_body,
        entry_mode=details.get("entry_mode") or "",
        outlet_description=(details.get("outlet_description") or "")[:200],
        status=LifecycleStatus.VERIFIED,
        notes=f"排查任务“{point.campaign.name}”疑似点 {point.number} 经{'专家研判' if level == 3 else '现场核查'}确认。",
        source_key=key,
    )
    # The point was checked in the field: a county or river finding is recorded on the file, not asked about.
    return save_outfall(
        outfall, user=user, reason=f"排查确认（疑似点 {point.number}）", confirm_placement=True
    )


@transaction.atomic
def decide_point(point, outcome, *, user, level=2, outfall=None, note="", details=None, experts=""):
    """Set a suspected point's outcome.

    outcome CONFIRMED creates the ledger entry (details: water_body, landmark, town, village, type_code,
    lon, lat, entry_mode, outlet_description); DUPLICATE needs ``outfall`` (a visible one within
    duplicate_max_m()); ESCALATED leaves the point open for an expert (level 3). A level-3 decision names its
    experts (``experts``, kept in the note). A point in a final outcome cannot be decided again (see
    reopen_point).
    """
    point = SuspectedPoint.objects.select_for_update().select_related("campaign__county").get(pk=point.pk)
    check_campaign_editable(point.campaign, user)
    outcome = PointOutcome(outcome)
    if point.outcome in FINAL_OUTCOMES:
        raise ValidationError(
            {
                "outcome": f"疑似点 {point.number} 已判定为“{point.get_outcome_display()}”，不能再次判定；如需更改请先重新打开。"
            }
        )
    if outcome == PointOutcome.PENDING:
        raise ValidationError({"outcome": "请选择核查结论。"})
    if level == 3 and point.outcome != PointOutcome.ESCALATED:
        raise ValidationError({"outcome": "只有待专家研判的疑似点才能由专家判定。"})
    if level == 3 and outcome == PointOutcome.ESCALATED:
        raise ValidationError({"outcome": "专家研判须给出最终结论：确认为排口、与已有排口重复或非排口。"})
    if level == 3:
        experts = (experts or "").strip()
        if not experts:
            raise ValidationError({"experts": "专家研判须填写研判专家姓名。"})
        note = f"{note}（研判专家：{experts}）"
    details = details or {}
    linked = None
    if outcome == PointOutcome.CONFIRMED:
        linked = _confirm(point, user=user, details=details, level=level)
    elif outcome == PointOutcome.DUPLICATE:
        if outfall is None:
            raise ValidationError({"duplicate_of": "判定为重复时须选择已有排口。"})
        if not Outfall.objects.visible_to(user).filter(pk=outfall.pk).exists():
            raise ValidationError({"duplicate_of": "所选排口不存在或不在您的权限范围内。"})
        far = distance_m(point.lon, point.lat, outfall.lon, outfall.lat)
        if far > duplicate_max_m():
            raise ValidationError(
                {"duplicate_of": f"所选排口距疑似点约 {far:.0f} 米，过远，不能判定为重复。"}
            )
        linked = outfall
    previous = point.outcome
    point.outcome = outcome
    point.outfall = linked
    point.decision_note = note
    if outcome in FINAL_OUTCOMES:
        point.decided_level = level
        point.decided_by = user if user is not None and user.is_authenticated else None
        point.decided_at = timezone.now()
    point.save()
    label = "专家研判" if level == 3 else "现场核查"
    record_status_change(
        point,
        user=user,
        from_value=previous,
        to_value=outcome,
        reason=f"{label}：{note}" if note else label,
        field="outcome",
    )
    return point


@transaction.atomic
def reopen_point(point, *, user, reason):
    """Put a decided point back to 待核查 (an outfall it created stays in the ledger)."""
    point = SuspectedPoint.objects.select_for_update().select_related("campaign").get(pk=point.pk)
    check_campaign_editable(point.campaign, user)
    if not (reason or "").strip():
        raise ValidationError({"reason": "重新打开须写明原因。"})
    if point.outcome in OPEN_OUTCOMES:
        raise ValidationError({"outcome": "该疑似点尚未判定，无需重新打开。"})
    previous = point.outcome
    point.outcome = PointOutcome.PENDING
    point.outfall = None
    point.decided_level = point.decided_by = point.decided_at = None
    point.decision_note = ""
    point.save()
    record_status_change(
        point, user=user, from_value=previous, to_value=point.outcome, reason=reason.strip(), field="outcome"
    )
    return point


# ---------------------------------------------------------------------------------------------------------
# Field checks (level 2), from the phone
# ---------------------------------------------------------------------------------------------------------


def _field_number(client_uuid):
    return f"XC-{str(client_uuid).replace('-', '')[:8].upper()}"


def clean_staff(staff):
    names = []
    for item in staff or []:
        for part in str(item).replace("，", "、").replace(",", "、").split("、"):
            if part.strip() and part.strip() not in names:
                names.append(part.strip())
    if len(names) < MIN_STAFF:
        raise ValidationError({"staff": f"核查人员至少填写 {MIN_STAFF} 人（当前 {len(names)} 人）。"})
    return names


@transaction.atomic
def _create_field_check(campaign, data, photos, *, user):
    check_campaign_editable(campaign, user)
    client_uuid = data["client_uuid"]
    if data.get("point") is not None:
        point = data["point"]
        if point.campaign_id != campaign.pk:
            raise ValidationError({"point": "该疑似点不属于本排查任务。"})
        if point.outcome in FINAL_OUTCOMES:
            raise ValidationError(
                {"point": f"疑似点 {point.number} 已判定为“{point.get_outcome_display()}”，不能再次核查。"}
            )
    else:
        point = SuspectedPoint(
            campaign=campaign,
            number=_field_number(client_uuid),
            source=PointSource.FIELD,
            lon=data["lon"],
            lat=data["lat"],
            water_body=data.get("water_body"),
            description=(data.get("notes") or "")[:300],
        )
        point.full_clean()
        point.save()
        record_status_change(
            point, user=user, from_value="", to_value=point.outcome, reason="现场新发现", field="outcome"
        )
    check = FieldCheck(
        point=point,
        client_uuid=client_uuid,
        checked_at=data.get("checked_at") or timezone.now(),
        lon=data["lon"],
        lat=data["lat"],
        accuracy_m=data.get("accuracy_m"),
        position_source=data["position_source"],
        flow=data["flow"],
        dry_weather=data.get("dry_weather", True),
        colour=data.get("colour") or "",
        odour=data.get("odour") or "",
        turbidity=data.get("turbidity") or "",
        oil_film=data.get("oil_film", False),
        foam=data.get("foam", False),
        sampling_possible=data.get("sampling_possible", False),
        outlet_form=data.get("outlet_form") or "",
        outlet_size=data.get("outlet_size") or "",
        entry_mode=data.get("entry_mode") or "",
        suspected_source=data.get("suspected_source") or "",
        notes=data.get("notes") or "",
        staff=clean_staff(data.get("staff")),
        outcome=data["outcome"],
        created_by=user if user is not None and user.is_authenticated else None,
    )
    check.full_clean()
    check.save()
    for kind, upload in photos:
        add_photo(check, upload, user=user, kind=kind)
    details = {
        "water_body": data.get("water_body"),
        "landmark": data.get("landmark"),
        "town": data.get("town"),
        "village": data.get("village"),
        "type_code": data.get("type_code"),
        "lon": data["lon"],
        "lat": data["lat"],
        "entry_mode": data.get("entry_mode"),
        "outlet_description": "；".join(
            part for part in (data.get("outlet_form_label"), data.get("outlet_size")) if part
        ),
    }
    check.point = decide_point(
        point,
        data["outcome"],
        user=user,
        level=2,
        outfall=data.get("duplicate_of"),
        note=data.get("decision_note") or "",
        details=details,
    )
    return check


def submit_field_check(campaign, data, photos=(), *, user):
    """Record one field check sent by the phone; returns (check, created).

    data holds cleaned values (see forms.FieldCheckForm): client_uuid, point (None for a new point found
    on the walk), position, observations, staff, outcome and what the outcome needs. photos is a list of
    (AttachmentKind, upload). The same client_uuid sent again returns the check already stored, and
    nothing else is created (no second point, no second outfall).
    """
    client_uuid = uuidlib.UUID(str(data["client_uuid"]))
    data = {**data, "client_uuid": client_uuid}
    existing = FieldCheck.objects.filter(client_uuid=client_uuid).select_related("point__campaign").first()
    if existing is not None:
        return _existing(existing, user), False
    try:
        return _create_field_check(campaign, data, photos, user=user), True
    except IntegrityError:
        # The same record arriving twice at the same moment: the first one won.
        existing = (
            FieldCheck.objects.filter(client_uuid=client_uuid).select_related("point__campaign").first()
        )
        if existing is None:
            raise
        return _existing(existing, user), False


def _existing(check, user):
    if not FieldCheck.objects.visible_to(user).filter(pk=check.pk).exists():
        raise PermissionDenied("该记录不在您的权限范围内。")
    return check


# ---------------------------------------------------------------------------------------------------------
# Walked tracks, from the phone
# ---------------------------------------------------------------------------------------------------------


def submit_track(campaign, data, *, user):
    """Store one walked GPS track (徒步排查轨迹); returns (track, created). The same client_uuid again returns
    the stored track. data: client_uuid, water_body (one of the campaign's rivers), bank, recorded_at,
    coordinates ([[lon, lat], ...], at least two)."""
    client_uuid = uuidlib.UUID(str(data["client_uuid"]))
    existing = Track.objects.filter(client_uuid=client_uuid).select_related("campaign").first()
    if existing is not None:
        if not Campaign.objects.visible_to(user).filter(pk=existing.campaign_id).exists():
            raise PermissionDenied("该记录不在您的权限范围内。")
        return existing, False
    check_campaign_editable(campaign, user)
    river = data.get("water_body")
    if river is None or not campaign.water_bodies.filter(pk=river.pk).exists():
        raise ValidationError({"water_body": "请选择本任务的排查河流。"})
    try:
        line = tracks_geo.clean_line(data.get("coordinates") or [])
    except tracks_geo.TrackError as error:
        raise ValidationError({"coordinates": error.message}) from None
    try:
        with transaction.atomic():
            track = Track(
                campaign=campaign,
                water_body=river,
                bank=data.get("bank") or "both",
                geometry={"type": "LineString", "coordinates": line},
                client_uuid=client_uuid,
                recorded_at=data.get("recorded_at") or timezone.now(),
                recorded_by=user if user is not None and user.is_authenticated else None,
            )
            track.full_clean()
            track.save()
    except IntegrityError:
        existing = Track.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return existing, False
    return track, True
