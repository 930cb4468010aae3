"""One row of an attachment-1 table, judged: names resolved against the database, values parsed, and the row
matched with the ledger (by code, then name, then distance). Used by ledger_import."""

import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from outfalls.core.choices import COUNTY_LEVELS, JurisdictionLevel
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo import coords
from outfalls.geo.shapes import distance_m, metres_per_degree

from . import checks, ledger_values
from .choices import UnitKind
from .classification import TypeCode
from .models import DischargeUnit, Outfall, WaterBody
from .validators import permit_number_errors


class Action:
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    ERROR = "error"
    SKIP = "skip"

    LABELS = {
        "new": "新增",
        "update": "更新",
        "unchanged": "无变化",
        "duplicate": "疑似重复",
        "error": "错误",
        "skip": "跳过",
    }


# What a person may decide for a possible duplicate.
DECISIONS = {"new": "作为新排口导入", "update": "更新已有排口", "skip": "跳过本行"}


# Columns of the approval fields (是否完成登记建档, 设置审批或排污许可批准时间): the city bureau's to write.
APPROVAL_COLUMNS = ("registered", "approval_date")


class LedgerImportError(Exception):
    """An import that cannot go ahead; the message is Chinese and meant for the user."""


# Fields an attachment-1 row can set, with the labels used in change lists.
FIELD_LABELS = {name: str(Outfall._meta.get_field(name).verbose_name) for name in (
    "water_body", "section_interval", "county", "town", "village", "name", "lon", "lat", "entry_mode",
    "outlet_position", "outlet_description", "conveyance", "responsible_entity", "responsibility_note",
    "type_code", "type_level2", "type_level3", "rectification_status", "registered", "approval_date",
    "permit_number", "national_code",
)}  # fmt: skip


def _norm(text):
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split())


def _variants(name, suffixes, prefixes=()):
    """A place name and the shorter forms people write (平城区 → 平城; 大同经开区 → 经开区)."""
    name = _norm(name)
    forms = {name}
    for prefix in prefixes:
        if prefix and name.startswith(prefix) and len(name) > len(prefix):
            forms.add(name[len(prefix) :])
    for form in list(forms):
        for suffix in suffixes:
            if form.endswith(suffix) and len(form) > len(suffix) + 1:
                forms.add(form[: -len(suffix)])
    return forms


COUNTY_SUFFIXES = ("区", "县", "市", "旗")
TOWN_SUFFIXES = ("街道办事处", "办事处", "街道", "镇", "乡")
VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "社区", "村")


class ProximityIndex:
    """Outfalls on a grid of cells at least SPATIAL_DUPLICATE_M wide, to find those within that distance of a
    point in the 3 x 3 cells around it."""

    MIN_CELL = 0.0001  # degrees (about 10 m): the grid stays coarse enough for a tiny distance setting

    def __init__(self):
        self.cells = {}
        self.metres = checks.duplicate_m()  # read once per import
        # 60 km a degree: a degree of longitude is longer up to latitude 57 degrees, so a cell is never
        # narrower than the distance. (Cells of 0.001 degrees held four times the points to measure.)
        self.cell = max(self.MIN_CELL, self.metres / 60_000)

    def _key(self, lon, lat):
        return (int(lon // self.cell), int(lat // self.cell))

    def add(self, item, lon, lat):
        self.cells.setdefault(self._key(lon, lat), []).append((item, lon, lat))

    def near(self, lon, lat):
        """[(metres, item)] within the distance, nearest first; measured with shapes.distance_m (the
        platform's one distance) after a cheap bound with the scale at the point's own latitude."""
        metres = self.metres
        kx, ky = self._key(lon, lat)
        per_lon, per_lat = metres_per_degree(lat)
        bound = (metres * 1.01) ** 2  # the scales at lat and at the middle latitude differ by about 1e-5
        found = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for item, x, y in self.cells.get((kx + dx, ky + dy), ()):
                    east, north = (x - lon) * per_lon, (y - lat) * per_lat
                    if east * east + north * north <= bound:
                        d = distance_m(lon, lat, x, y)
                        if d <= metres:
                            found.append((d, item))
        found.sort(key=lambda pair: pair[0])
        return found


# Up to this many outfalls in the ledger the import reads them all at once (one query, then dictionaries);
# above, only those the file needs (Resolver). The whole-ledger read cost most of a 100,000-row dry run's
# 199 s into a million-outfall ledger.
LOAD_WHOLE_LEDGER_UP_TO = 200_000
LOAD_BLOCK = 0.05  # degrees (about 5 km): the blocks of outfalls read around a row's point, 3 x 3 at a time
EXISTING_FIELDS = ("id", "code", "national_code", "name", "type_code", "county_id", "lon", "lat")


@dataclass(slots=True)  # a province's ledger holds a million of them
class Existing:
    id: int
    code: str
    national_code: str | None
    name: str
    type_code: str
    county_id: int
    lon: float
    lat: float


def check_can_import(user):
    """PermissionDenied unless the user may import ledger tables (city-level users and county officers)."""
    if not scope_of(user).can_import:
        raise PermissionDenied("您的角色不能导入台账：只有市级用户和县区/分局用户可以导入。")


class Resolver:
    """Names in a file resolved against the database, loaded once per import."""

    def __init__(self, user):
        check_can_import(user)
        scope = scope_of(user)
        self.allowed_counties = None if scope.can_edit_citywide else set(scope.county_ids)
        places = list(Jurisdiction.objects.defer("boundary"))
        self.places = {j.pk: j for j in places}
        city = next((j for j in places if j.level == JurisdictionLevel.CITY), None)
        prefixes = (city.name, city.name.removesuffix("市")) if city else ()
        self.counties, self.towns, self.villages = {}, {}, {}
        for j in places:
            if j.level in COUNTY_LEVELS:
                for form in _variants(j.name, COUNTY_SUFFIXES, prefixes):
                    self.counties.setdefault(form, j)
                if j.name.endswith("经开区"):
                    self.counties.setdefault(_norm(j.name.replace("经开区", "经济技术开发区")), j)
                    self.counties.setdefault("经济技术开发区", j)
            elif j.level == JurisdictionLevel.TOWN:
                for form in _variants(j.name, TOWN_SUFFIXES):
                    self.towns.setdefault((j.county_id, form), j)
            elif j.level == JurisdictionLevel.VILLAGE:
                for form in _variants(j.name, VILLAGE_SUFFIXES):
                    self.villages.setdefault((j.parent_id, form), j)
        self.city = checks.city_bounds()
        self.can_set_approval = scope.can_set_approval
        self.waters = {}
        for water in WaterBody.objects.defer("geometry"):
            self.waters.setdefault(_norm(water.name), water)
            self.waters.setdefault(_norm(water.code), water)
        self.units = {}
        for unit in DischargeUnit.objects.only("id", "name", "kind", "lon", "lat", "county_id").order_by(
            "id"
        ):
            self.units.setdefault(_norm(unit.name), unit)
        # The ledger's outfalls the file is matched against: all of them, read at once, up to
        # LOAD_WHOLE_LEDGER_UP_TO; above, as the file needs them (a county's when a row names it, the
        # outfalls in a block of LOAD_BLOCK degrees when a row's point falls in it, a code or national code
        # from elsewhere on its own), so that a city's file into a province's ledger reads the city.
        self.by_code, self.by_national, self.by_name = {}, {}, {}
        self.index = ProximityIndex()
        self._ids, self._counties, self._blocks, self._asked = set(), set(), set(), set()
        self.whole = Outfall.objects.count() <= LOAD_WHOLE_LEDGER_UP_TO
        if self.whole:
            self._add(Outfall.objects.all())

    def _add(self, queryset):
        rows = queryset.order_by().values_list(*EXISTING_FIELDS)
        for row in rows.iterator(chunk_size=5000):
            if row[0] in self._ids:
                continue
            self._ids.add(row[0])
            item = Existing(*row)
            self.by_code[item.code] = item
            if item.national_code:
                self.by_national[item.national_code] = item
            self.by_name.setdefault((item.county_id, _norm(item.name)), []).append(item)
            self.index.add(item, item.lon, item.lat)

    def _county_loaded(self, county_id):
        if not self.whole and county_id not in self._counties:
            self._counties.add(county_id)
            self._add(Outfall.objects.filter(county_id=county_id))

    def by_code_of(self, code, county_id=None):
        """The outfall with this local code, or None (county_id: the row's county, read first)."""
        return self._by_key(self.by_code, "code", code, county_id)

    def by_national_of(self, code, county_id=None):
        """The outfall with this national code, or None."""
        return self._by_key(self.by_national, "national_code", code, county_id)

    def _by_key(self, found, field, value, county_id):
        if county_id is not None:
            self._county_loaded(county_id)
        if not self.whole and value not in found and (field, value) not in self._asked:
            self._asked.add((field, value))
            self._add(Outfall.objects.filter(**{field: value}))
        return found.get(value)

    def by_name_of(self, county_id, name):
        """The county's outfalls of this (normalised) name."""
        self._county_loaded(county_id)
        return self.by_name.get((county_id, name), [])

    def near(self, lon, lat):
        """[(metres, existing outfall)] within the duplicate distance of the point, nearest first."""
        if not self.whole:
            bx, by = int(lon // LOAD_BLOCK), int(lat // LOAD_BLOCK)
            for kx, ky in ((bx + dx, by + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)):
                if (kx, ky) not in self._blocks:
                    self._blocks.add((kx, ky))
                    # Half-open blocks, each edge computed as its neighbour's: no gap between them.
                    west, east = kx * LOAD_BLOCK, (kx + 1) * LOAD_BLOCK
                    south, north = ky * LOAD_BLOCK, (ky + 1) * LOAD_BLOCK
                    self._add(
                        Outfall.objects.filter(lon__gte=west, lon__lt=east, lat__gte=south, lat__lt=north)
                    )
        return self.index.near(lon, lat)

    def county(self, text):
        return self.counties.get(_norm(text))

    def town(self, county, text):
        return self.towns.get((county.pk, _norm(text)))

    def village(self, town, text):
        return self.villages.get((town.pk, _norm(text)))

    def water(self, text):
        return self.waters.get(_norm(text))

    def unit(self, text):
        return self.units.get(_norm(text))

    def in_scope(self, existing):
        """True when the user may update this existing outfall (a county user: only in their counties)."""
        return self.allowed_counties is None or existing.county_id in self.allowed_counties


@dataclass(slots=True)  # one per row of the file, all held until the commit
class RowResult:
    number: int
    action: str = Action.NEW
    name: str = ""
    messages: list = field(default_factory=list)
    values: dict = field(default_factory=dict)  # Outfall field -> value (model instances for relations)
    unit: dict | None = None  # a unit to create: name, kind, lon, lat
    match: Existing | None = None
    candidates: list = field(default_factory=list)  # [(distance_m, Existing or row number)]
    changes: list = field(default_factory=list)  # [(label, old, new)]
    # Cells of state the file reports but the import does not write: Outfall field -> value (see reported_notes).
    reported: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)  # what the reader should know, not errors
    outfall: object = None  # after the commit: the outfall this row created or updated

    def error(self, message):
        self.messages.append(message)
        self.action = Action.ERROR

    def as_json(self):
        return {
            "row": self.number,
            "action": self.action,
            "name": self.name,
            "messages": self.messages,
            "match": {"id": self.match.id, "code": self.match.code, "name": self.match.name}
            if self.match
            else None,
            "candidates": [
                {"distance_m": round(d, 1), "id": c.id, "code": c.code, "name": c.name}
                if isinstance(c, Existing)
                else {"distance_m": round(d, 1), "row": c}
                for d, c in self.candidates
            ],
            "changes": [list(change) for change in self.changes],
            "notes": self.notes,
            "outfall": {"id": self.outfall.pk, "code": self.outfall.code, "name": self.outfall.name}
            if self.outfall is not None
            else None,
        }


@dataclass
class Preview:
    results: list
    counts: dict
    table: object

    @property
    def errors(self):
        return [r for r in self.results if r.action == Action.ERROR]

    @property
    def duplicates(self):
        return [r for r in self.results if r.action == Action.DUPLICATE]


def _display(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


class RowReader:
    """Turns one RawRow into a RowResult."""

    def __init__(self, table, resolver, crs):
        self.table = table
        self.resolver = resolver
        self.crs = crs
        self.seen_codes, self.seen_names = {}, {}
        self.new_rows = ProximityIndex()
        self._parsed = {}
        self.memo = {}  # services.validate_outfall's field checks, per value
        self._permit_errors = {}  # permit numbers repeat over a unit's outfalls

    def parse(self, key, value):
        """A choice cell through its ledger_values parser, remembered per text (columns repeat a few values)."""
        try:
            return self._parsed[key, value]
        except KeyError:
            result = self._parsed[key, value] = ledger_values.PARSERS[key](value)
            return result
        except TypeError:  # an unhashable cell value
            return ledger_values.PARSERS[key](value)

    def where(self, number, key):
        return f"第 {number} 行 {self.table.column_label(key)}"

    def read(self, raw):
        self._current = raw.values
        values, result = raw.values, RowResult(raw.number)
        r = self.resolver
        get = values.get
        v = result.values

        def text(key):
            value = get(key)
            return (
                _norm(value)
                if key in ("code", "national_code", "permit_number") and value is not None
                else (str(value).strip() if value is not None else "")
            )

        # Places.
        county = None
        if get("county") is None:
            result.error(f"{self.where(raw.number, 'county')}：县区为空。")
        else:
            county = r.county(get("county"))
            if county is None:
                result.error(f"{self.where(raw.number, 'county')}：找不到县区“{text('county')}”。")
            elif r.allowed_counties is not None and county.pk not in r.allowed_counties:
                own = "、".join(r.places[c].name for c in sorted(r.allowed_counties))
                result.error(
                    f"{self.where(raw.number, 'county')}：{county.name}不在您的管辖范围（{own}）内，不能导入本行。"
                )
            else:
                v["county"] = county
        town = None
        if county is not None and get("town") is not None:
            town = r.town(county, get("town"))
            if town is None:
                result.error(
                    f"{self.where(raw.number, 'town')}：{county.name}下找不到乡镇（街道）“{text('town')}”，"
                    "请先在辖区中维护。"
                )
            else:
                v["town"] = town
        if town is not None and get("village") is not None:
            village = r.village(town, get("village"))
            if village is None:
                result.error(
                    f"{self.where(raw.number, 'village')}：{town.name}下找不到村（社区）“{text('village')}”。"
                )
            else:
                v["village"] = village
        elif get("village") is not None and county is not None and town is None and get("town") is None:
            result.error(f"{self.where(raw.number, 'village')}：填写村（社区）时须填写乡镇（街道）。")

        # Receiving water.
        if get("water_body") is None:
            result.error(f"{self.where(raw.number, 'water_body')}：受纳河流名称为空。")
        else:
            water = r.water(get("water_body"))
            if water is None:
                result.error(
                    f"{self.where(raw.number, 'water_body')}：找不到受纳水体“{text('water_body')}”。"
                )
            else:
                v["water_body"] = water
        if get("section_interval") is not None:
            v["section_interval"] = text("section_interval")

        # Coordinates.
        point = self.point(raw.number, result, "location", "lon", "lat", required=True)
        if point:
            v["lon"], v["lat"] = point
        unit_point = self.point(raw.number, result, "unit_location", "unit_lon", "unit_lat", required=False)

        # Choice columns.
        for key in ("entry_mode", "outlet", "conveyance", "classification", "rectification", "registered",
                    "approval_date", "unit_kind"):  # fmt: skip
            if key not in self.table.columns or get(key) is None:
                continue
            parsed, error = self.parse(key, get(key))
            if error:
                result.error(f"{self.where(raw.number, key)}：{error}")
                continue
            if key == "outlet":
                v["outlet_position"], v["outlet_description"] = parsed
            elif key == "classification":
                v["type_code"], v["type_level2"], v["type_level3"] = parsed
            elif key == "rectification":
                result.reported["rectification_status"] = parsed  # the workflows' to set (reported_notes)
            elif key in APPROVAL_COLUMNS and not r.can_set_approval:
                result.reported[key] = parsed  # the city's to set (reported_notes)
            elif key != "unit_kind":
                v[key] = parsed
        if get("permit_number") is not None:
            number = text("permit_number").upper()
            problems = self._permit_errors.get(number)
            if problems is None:
                problems = self._permit_errors[number] = permit_number_errors(number)
            if problems:
                result.error(f"{self.where(raw.number, 'permit_number')}：{problems[0]}")
            else:
                v["permit_number"] = number

        # Responsible entity.
        if get("responsible_entity") is not None:
            name = text("responsible_entity")
            unit = r.unit(name)
            if unit is not None:
                v["responsible_entity"] = unit
            else:
                kind, _ = ledger_values.parse_unit_kind(get("unit_kind"))
                result.unit = {
                    "name": name,
                    "kind": kind or UnitKind.OTHER,
                    "lon": unit_point[0] if unit_point else None,
                    "lat": unit_point[1] if unit_point else None,
                }
                v["responsibility_note"] = name

        # Name and codes.
        result.name = text("name")
        if result.name:
            v["name"] = result.name
        code = text("code")
        national = text("national_code")
        if national:
            v["national_code"] = national
        self.match(raw.number, result, code, national)
        return result

    def point(self, number, result, one, lon_key, lat_key, *, required):
        columns = self.table.columns
        try:
            if one in columns and self._current.get(one) is not None:
                lon, lat = coords.parse_point(self._current[one])
            elif lon_key in columns or lat_key in columns:
                lon_value, lat_value = self._current.get(lon_key), self._current.get(lat_key)
                if lon_value is None and lat_value is None:
                    raise coords.CoordinateError("坐标为空", code="empty")
                lon, lat = coords.parse_lon_lat(lon_value, lat_value)
            else:
                raise coords.CoordinateError("坐标为空", code="empty")
            lon, lat = coords.to_cgcs2000(lon, lat, self.crs)
        except coords.CoordinateError as error:
            if error.code == "empty" and not required:
                return None
            key = one if one in columns else (lon_key if lon_key in columns else one)
            result.error(f"{self.where(number, key)}：{error.message}")
            return None
        if required:
            problem = checks.outside_city(lon, lat, self.resolver.city)
            if problem:
                key = one if one in columns else lon_key
                result.error(f"{self.where(number, key)}：{problem}")
                return None
        return round(lon, 7), round(lat, 7)

    def match(self, number, result, code, national):
        r = self.resolver
        v = result.values
        if result.action == Action.ERROR:
            return
        county = v.get("county")
        if code:
            if code in self.seen_codes:
                result.error(f"第 {number} 行：编码 {code} 与第 {self.seen_codes[code]} 行重复。")
                return
            self.seen_codes[code] = number
            existing = r.by_code_of(code, county.pk if county is not None else None)
            if existing is None:
                result.error(
                    f"{self.where(number, 'code')}：平台中没有编码为 {code} 的入河排污口；新排口请留空编码。"
                )
                return
            result.match = existing
        elif national and r.by_national_of(national, county.pk if county is not None else None):
            result.match = r.by_national_of(national)
        elif result.name:
            key = (county.pk, _norm(result.name))
            if key in self.seen_names:
                result.error(f"第 {number} 行：与第 {self.seen_names[key]} 行的入河排污口名称相同。")
                return
            self.seen_names[key] = number
            same = r.by_name_of(*key)
            if len(same) == 1:
                result.match = same[0]
            elif len(same) > 1:
                near = sorted((distance_m(v["lon"], v["lat"], e.lon, e.lat), e) for e in same if "lon" in v)
                if near and near[0][0] <= checks.duplicate_m():
                    result.match = near[0][1]
                else:
                    result.error(
                        f"第 {number} 行：平台中有 {len(same)} 个同名排口，请填写编码以确定是哪一个。"
                    )
                    return
        if result.match is not None:
            existing = result.match
            if not r.in_scope(existing):
                # Named by nothing the reader may not see (another county's code, name or place).
                how = "国家统一编码" if national and not code else "编码" if code else "名称"
                result.error(
                    f"第 {number} 行：按{how}匹配到的排口属于其他辖区，不在您的管辖范围内，不能导入本行。"
                )
                result.match = None
                return
            return
        # No match by code or name: look around for an outfall of the same type that the user may update
        # (another county's outfall is neither shown nor offered; the spatial checks flag it citywide).
        type_code = v.get("type_code", TypeCode.UNDETERMINED)
        if "lon" in v:
            for distance, existing in r.near(v["lon"], v["lat"]):
                if _same_type(type_code, existing.type_code) and r.in_scope(existing):
                    result.candidates.append((distance, existing))
            for distance, (row, row_type) in self.new_rows.near(v["lon"], v["lat"]):
                if _same_type(type_code, row_type):
                    result.candidates.append((distance, row))
            self.new_rows.add((number, type_code), v["lon"], v["lat"])
        if result.candidates:
            result.action = Action.DUPLICATE


def reported_notes(reader, result, outfall=None):
    """Notes for the cells of state a row reports but the import does not write, where they differ from the
    platform (outfall: the one it updates; None for a new outfall): 整治进展 changes only through plans and
    close-outs, and the approval fields only by the city bureau. Shown on the row; the rest of it imports."""
    for name, value in result.reported.items():
        current = (
            getattr(outfall, name) if outfall is not None else Outfall._meta.get_field(name).get_default()
        )
        if value == current or (value in (None, "") and current in (None, "")):
            continue
        key = "rectification" if name == "rectification_status" else name
        if name == "rectification_status":
            why = "整治进展由一口一策方案和销号审核产生"
        else:
            why = "登记建档和批准时间只能由市生态环境局填写"
        result.notes.append(
            f"{reader.where(result.number, key)}：{why}，平台中为“{_field_display(name, current)}”，"
            f"本列“{_field_display(name, value)}”不导入。"
        )


def _field_display(name, value):
    field = Outfall._meta.get_field(name)
    if field.choices and value:
        return dict(field.choices).get(value, value)
    return _display(value)


def _same_type(a, b):
    undetermined = (TypeCode.UNDETERMINED, "")
    return a == b or a in undetermined or b in undetermined


def _compare(result, outfall):
    """The changes a row would make to an existing outfall (only cells the file fills)."""
    changes = []
    for name, new in result.values.items():
        if name == "responsibility_note" and outfall.responsible_entity_id is None:
            if outfall.responsibility_note == new:
                continue
        elif name == "responsibility_note":
            continue  # a unit of that name will be created and set below
        if name in ("county", "town", "village", "water_body", "responsible_entity"):
            old_id = getattr(outfall, f"{name}_id")
            if old_id != new.pk:
                changes.append((FIELD_LABELS[name], _related_name(outfall, name), new.name))
            continue
        old = getattr(outfall, name)
        if name in ("lon", "lat"):
            if old is not None and abs(old - new) < 5e-7:
                continue
        elif old == new or (old in (None, "") and new in (None, "")):
            continue
        changes.append((FIELD_LABELS[name], _display(old), _display(new)))
    if result.unit is not None and not (
        outfall.responsible_entity_id is None and outfall.responsibility_note == result.unit["name"]
    ):
        changes.append(
            (
                FIELD_LABELS["responsible_entity"],
                _related_name(outfall, "responsible_entity"),
                result.unit["name"],
            )
        )
    return changes


def _related_name(outfall, name):
    related = getattr(outfall, name)
    return related.name if related is not None else "—"
