"""Small builders for the setup-review tests, on the session's demo data."""

from shapely.geometry import shape

from outfalls.core.models import Jurisdiction, Membership
from outfalls.geo.linref import RiverLine
from outfalls.permits.choices import ApplicationKind, DischargeMode
from outfalls.permits.models import SetupApplication
from outfalls.registry.choices import EntryMode
from outfalls.registry.classification import Level2
from outfalls.registry.models import WaterBody


def water(code):
    return WaterBody.objects.get(code=code)


def point_on(code, km, offset_m=30):
    """A point `offset_m` east and north of the demo river line at chainage km."""
    river = RiverLine(shape(water(code).geometry))
    line_m = river.frame.geometry(shape(water(code).geometry))
    point = line_m.interpolate(km * 1000)
    lon, lat = river.frame.lonlat(point.x + offset_m, point.y + offset_m)
    return float(lon), float(lat)


def enterprise_unit():
    return Membership.objects.get(user__username="enterprise").unit


def application(river="NYH01", km=60, **fields):
    """An unsaved application by the demo enterprise for a new industrial outfall at a point of a river (the
    defaults: 南洋河 at 60 km, far from every work, in a zone that meets its target)."""
    lon, lat = point_on(river, km)
    values = {
        "kind": ApplicationKind.NEW,
        "applicant": enterprise_unit(),
        "county": Jurisdiction.objects.get(code="140213"),
        "type_level2": Level2.INDUSTRIAL_MINING,
        "type_code": "GY",
        "lon": lon,
        "lat": lat,
        "water_body": water(river),
        "entry_mode": EntryMode.PIPE,
        "discharge_mode": DischargeMode.CONTINUOUS,
        "daily_volume_m3": 100,
    }
    values.update(fields)
    return SetupApplication(**values)
