"""巡河: river chiefs, entities, county officers and the city bureau record patrols (a walked track and what
was seen at outfalls); a finding can open an enforcement case (services.open_case with source "patrol"), and
links to the survey's tracing case of its outfall. Coverage per river and month, as the survey's coverage.

Every function checks the user's right (core.scopes.can_patrol, and the patrol's editable_by) and writes
inside transaction.atomic.
"""

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from outfalls.core.choices import AttachmentKind, Role
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.core.services import add_photo, record_status_change
from outfalls.geo import intervals as iv
from outfalls.geo import tracks as tracks_geo
from outfalls.geo.coords import CoordinateError, validate_lon_lat
from outfalls.geo.linref import RiverLine
from outfalls.geo.shapes import length_km, shape_of
from outfalls.registry.models import Outfall, WaterBody

from .models import Patrol, PatrolFinding

BUFFER_M = 200.0  # a track point this close to the river line walks the river (as the survey's coverage)
MAX_PHOTOS = 6


def rivers_for(user):
    """The rivers a user may record a patrol on: a river chief's own rivers (all when none are named), an
    entity's: the rivers of its outfalls; county officers and the city: every river they see."""
    scope = scope_of(user)
    rivers = WaterBody.objects.visible_to(user).defer("geometry")
    if scope.can_edit_citywide or scope.county_ids:
        return rivers
    allowed = set(scope.river_chief_waters)
    if scope.unit_ids:
        allowed |= set(Outfall.objects.visible_to(user).values_list("water_body_id", flat=True))
    if any(g.role == Role.RIVER_CHIEF and not g.water_body_ids for g in scope.grants):
        return rivers
    return rivers.filter(pk__in=sorted(allowed))


def counties_for(user):
    """The county-level jurisdictions a user may record a patrol in."""
    scope = scope_of(user)
    counties = Jurisdiction.objects.counties().defer("boundary").order_by("code")
    if scope.can_edit_citywide:
        return counties
    allowed = set(scope.county_ids)
    allowed |= {g.county_id for g in scope.grants if g.role == Role.RIVER_CHIEF and g.county_id}
    if any(g.role == Role.RIVER_CHIEF and not g.county_id for g in scope.grants):
        return counties
    if scope.unit_ids:
        allowed |= set(Outfall.objects.visible_to(user).values_list("county_id", flat=True))
    return counties.filter(pk__in=sorted(allowed))


@transaction.atomic
def record_patrol(*, user, water_body, county, patrolled_on, participants="", lines=None, note=""):
    """One patrol; lines: the walked track's lines (geo.tracks.read_track_file), or None."""
    if not scope_of(user).can_patrol:
        raise PermissionDenied("您的角色不能记录巡河。")
    errors = {}
    if water_body is None or not rivers_for(user).filter(pk=water_body.pk).exists():
        errors["water_body"] = "请选择您负责巡查的河流。"
    if county is None or not counties_for(user).filter(pk=county.pk).exists():
        errors["county"] = "请选择巡查所在的县区。"
    if patrolled_on is None:
        errors["patrolled_on"] = "请填写巡查日期。"
    elif patrolled_on > timezone.localdate():
        errors["patrolled_on"] = "巡查日期不能晚于今天。"
    track, km = None, None
    if lines:
        try:
            lines = [tracks_geo.clean_line(line) for line in lines]
        except tracks_geo.TrackError as error:
            errors["track"] = error.message
        else:
            track = tracks_geo.as_geometry(lines)
            km = round(length_km(shape_of(track)), 3)
    if errors:
        raise ValidationError(errors)
    patrol = Patrol(
        water_body=water_body,
        county=county,
        patrolled_on=patrolled_on,
        participants=(participants or "").strip()[:200],
        track=track,
        track_km=km,
        note=(note or "").strip(),
        recorded_by=user,
    )
    patrol.full_clean()
    patrol.save()
    return patrol


@transaction.atomic
def add_finding(patrol, *, user, description, outfall=None, lon=None, lat=None, photos=()):
    """What the patrol saw, at a ledger outfall or at a point, with photos."""
    try:
        patrol = Patrol.objects.editable_by(user).select_for_update().get(pk=patrol.pk)
    except Patrol.DoesNotExist:
        raise PermissionDenied("该巡河记录不在您的范围内。") from None
    errors = {}
    description = (description or "").strip()
    if len(description) < 5:
        errors["description"] = "请写明发现的问题（至少 5 个字）。"
    if outfall is not None and not Outfall.objects.visible_to(user).filter(pk=outfall.pk).exists():
        errors["outfall"] = "该排污口不在您的范围内。"
    if outfall is None and (lon is None or lat is None):
        errors["outfall"] = "请填写排污口编码，或不在台账中的位置（经纬度）。"
    if lon is not None and lat is not None:
        try:
            validate_lon_lat(lon, lat)
        except CoordinateError as error:
            errors["lon"] = error.message
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_PHOTOS} 张照片。"
    if errors:
        raise ValidationError(errors)
    finding = PatrolFinding(patrol=patrol, outfall=outfall, lon=lon, lat=lat, description=description)
    finding.full_clean()
    finding.save()
    for upload in photos:
        add_photo(finding, upload, user=user, kind=AttachmentKind.PHOTO_CLOSE)
    record_status_change(
        finding, user=user, from_value="", to_value="found", field="action", reason="巡河发现"
    )
    return finding


# Coverage ------------------------------------------------------------------------------------------------------
@dataclass
class RiverMonths:
    """One river's patrols in a year: per month (1-12) the patrols, findings and river km walked."""

    water_body: object
    river_km: float | None
    patrols: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)
    walked_km: dict = field(default_factory=dict)

    def percent(self, month):
        walked = self.walked_km.get(month)
        if walked is None or not self.river_km:
            return None
        return min(100.0, 100.0 * walked / self.river_km)

    def months(self):
        return [
            (m, self.patrols.get(m, 0), self.findings.get(m, 0), self.walked_km.get(m), self.percent(m))
            for m in range(1, 13)
        ]


def coverage(user, year):
    """Patrol coverage per river and month of `year`, over the patrols the user sees: [RiverMonths], the rivers
    patrolled that year. Walked km is the union of the month's tracks projected on the river line (within
    BUFFER_M), so walking the same stretch twice counts once."""
    patrols = Patrol.objects.visible_to(user).filter(
        patrolled_on__gte=date(year, 1, 1), patrolled_on__lte=date(year, 12, 31)
    )
    rows = {}
    tracks = {}
    for p in patrols.annotate(found=Count("findings")).only("id", "water_body_id", "patrolled_on", "track"):
        month = p.patrolled_on.month
        row = rows.setdefault(p.water_body_id, {"patrols": {}, "findings": {}})
        row["patrols"][month] = row["patrols"].get(month, 0) + 1
        row["findings"][month] = row["findings"].get(month, 0) + p.found
        if p.track:
            tracks.setdefault((p.water_body_id, month), []).append(p.track)
    result = []
    for water in WaterBody.objects.filter(pk__in=rows).order_by("code"):
        river = None
        try:
            river = RiverLine(shape_of(water.geometry)) if water.geometry else None
        except (ValueError, TypeError):
            river = None
        walked = {}
        for month in range(1, 13):
            geometries = tracks.get((water.pk, month))
            if geometries and river is not None:
                walked[month] = round(iv.length(tracks_geo.covered(river, geometries, buffer_m=BUFFER_M)), 3)
        result.append(
            RiverMonths(
                water_body=water,
                river_km=round(river.length_km, 3) if river is not None else None,
                patrols=rows[water.pk]["patrols"],
                findings=rows[water.pk]["findings"],
                walked_km=walked,
            )
        )
    return result
