"""The in-memory, deterministic planner: every unit and outfall of the demo data, from the seed and the
geometry alone (nothing here reads or writes the database)."""

import json
from dataclasses import dataclass, field
from random import Random

from shapely.geometry import LineString, Point, Polygon

from outfalls.geo import shapes

from ..choices import LifecycleStatus, OutletPosition, RectificationMeasure, SectionLevel, UnitKind
from ..validators import CREDIT_ALPHABET, make_credit_code
from .data import (
    CITY_SPOTS,
    COMMUNITY_NAMES,
    DEMO_NOTE,
    DIVISIONS_FILE,
    HOSPITAL_WORDS,
    INDUSTRIES,
    PARKS,
    PINGCHENG,
    PROFILES,
    RIVER_SPOTS,
    RIVERS,
    SECTIONS,
    SEED,
    SHOP_KINDS,
    SURNAMES,
    TEMPLATES,
    TOWNS,
    VILLAGE_NAMES,
    VILLAGE_SPOTS,
    WORDS,
    ZONE,
)
from .states import StatesMixin, _weighted


@dataclass
class UnitPlan:
    credit_code: str
    name: str
    short: str
    kind: str
    county: str
    town: str
    lon: float
    lat: float
    river: str
    village: str | None = None  # where its outfalls are named after (units have no village column)
    industry: str = ""
    park: str = ""
    address: str = ""
    permit_number: str = ""
    notes: str = DEMO_NOTE


@dataclass
class OutfallPlan:
    key: str
    county: str
    town: str
    village: str | None
    lon: float
    lat: float
    river: str
    category: str
    landmark: str
    fields: dict = field(default_factory=dict)
    responsible: str | None = None  # credit code
    links: list = field(default_factory=list)  # (credit code, role, via_channel, share_note)
    number: str = ""
    notes: str = DEMO_NOTE


class Planner(StatesMixin):
    """Builds the whole demo data set in memory, from the seed and the geometry alone."""

    def __init__(self, seed=SEED):
        self.rng = Random(seed)
        data = json.loads(DIVISIONS_FILE.read_text(encoding="utf-8"))
        self.features = data["features"]
        self.county_geom = {}
        for feature in self.features:
            if feature["properties"]["level"] == "county":
                self.county_geom[feature["properties"]["adcode"]] = shapes.shape_of(feature["geometry"])
        self.county_names = {f["properties"]["adcode"]: f["properties"]["name"] for f in self.features}
        self.county_names[ZONE["code"]] = ZONE["name"]
        zone = Polygon(ZONE["coords"])
        self.county_geom[ZONE["code"]] = zone
        # Where 平城区's own points go: the district without the zone inside it.
        self.place_geom = dict(self.county_geom)
        self.place_geom[PINGCHENG] = self.county_geom[PINGCHENG].difference(zone)
        self.lines = {code: LineString(coords) for code, _, _, _, coords in RIVERS}
        self.river_names = {code: name for code, name, _, _, _ in RIVERS}
        self.county_rivers = {}
        for county, geom in self.place_geom.items():
            weights = {}
            for code, line in self.lines.items():
                km = shapes.length_km(line.intersection(geom))
                if km >= 2:
                    weights[code] = km**0.5  # short reaches still get a fair share of outfalls
            self.county_rivers[county] = weights
        self.towns, self.villages = self._plan_places()
        self.sections = self._plan_sections()
        self.word_pools = {}
        self.credit_codes = set()
        self.units = []
        self.outfalls = []

    # Places -----------------------------------------------------------------------------------------
    def _plan_places(self):
        towns, villages = {}, {}
        for county, names in TOWNS.items():
            counters = {"0": 0, "1": 100, "2": 200}
            towns[county] = []
            village_pool = list(VILLAGE_NAMES)
            community_pool = list(COMMUNITY_NAMES)
            self.rng.shuffle(village_pool)
            self.rng.shuffle(community_pool)
            for name in names:
                band = "0" if name.endswith(("街道", "片区")) else "2" if name.endswith("乡") else "1"
                counters[band] += 1
                town_code = f"{county}{counters[band]:03d}"
                towns[county].append((town_code, name))
                urban = band == "0"
                villages[town_code] = []
                for i in range(self.rng.choice((2, 3))):
                    if urban:
                        villages[town_code].append((f"{town_code}{i + 1:03d}", community_pool.pop() + "社区"))
                    else:
                        villages[town_code].append((f"{town_code}{201 + i:03d}", village_pool.pop() + "村"))
        return towns, villages

    def county_of(self, lon, lat):
        for code in [ZONE["code"], *self.county_geom]:
            if shapes.contains(self.county_geom[code], lon, lat):
                return code
        return None

    def _plan_sections(self):
        result = []
        for code, name, fraction, national in SECTIONS:
            lon, lat = shapes.point_at_fraction(self.lines[code], fraction)
            result.append(
                {
                    "water": code,
                    "name": name,
                    "lon": round(lon, 6),
                    "lat": round(lat, 6),
                    "level": SectionLevel.NATIONAL if national else SectionLevel.PROVINCIAL,
                    "chainage_km": round(shapes.project_point_to_line(self.lines[code], lon, lat), 3),
                    "county": self.county_of(lon, lat),
                }
            )
        return result

    def section_interval(self, river, lon, lat):
        chainage = shapes.project_point_to_line(self.lines[river], lon, lat)
        ordered = sorted((s for s in self.sections if s["water"] == river), key=lambda s: s["chainage_km"])
        upstream = [s["name"] for s in ordered if s["chainage_km"] <= chainage]
        downstream = [s["name"] for s in ordered if s["chainage_km"] > chainage]
        if upstream and downstream:
            return f"{upstream[-1]}—{downstream[0]}"
        if upstream:
            return f"{upstream[-1]}断面下游"
        return f"{downstream[0]}断面上游" if downstream else ""

    # Geometry -------------------------------------------------------------------------------------
    def pick_river(self, county):
        return _weighted(self.rng, self.county_rivers[county])

    def near_river(self, county, river, offset=(20, 300), around=None):
        """(lon, lat, side): a point offset metres from river, inside the county even once rounded.

        With around, the point is first sought within about 3 km of it (a unit and its outfalls).
        """
        polygon = self.place_geom[county]
        areas = [polygon.intersection(Point(around).buffer(0.03)), polygon] if around else [polygon]
        for area in areas:
            for _ in range(20):
                try:
                    point = shapes.point_near_line_inside(self.lines[river], area, self.rng, offset)
                except ValueError:
                    break
                lon, lat = round(point.lon, 6), round(point.lat, 6)
                if shapes.contains(polygon, lon, lat):
                    return lon, lat, point.side
        raise ValueError(f"No place near {river} inside {county}.")

    # Identity ---------------------------------------------------------------------------------------
    def credit_code(self, prefix, county):
        while True:
            org = "".join(self.rng.choice(CREDIT_ALPHABET) for _ in range(8))
            code = make_credit_code(f"{prefix}{county}{org}")
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def word(self, family, words=WORDS):
        """A trade-name word not yet used for this family of units (names stay unique)."""
        if family not in self.word_pools:
            self.word_pools[family] = self.rng.sample(words, len(words))
        return self.word_pools[family].pop()

    def town_and_village(self, county, village_rate=0.8):
        town_code, _ = self.rng.choice(self.towns[county])
        village = self.rng.choice(self.villages[town_code])[0] if self.rng.random() < village_rate else None
        return town_code, village

    def place_name(self, code):
        for county_towns in self.towns.values():
            for town_code, name in county_towns:
                if town_code == code:
                    return name
        for town_villages in self.villages.values():
            for village_code, name in town_villages:
                if village_code == code:
                    return name
        return ""

    # Units ----------------------------------------------------------------------------------------
    def add_unit(
        self,
        county,
        template,
        *,
        name=None,
        short=None,
        river=None,
        prefix=None,
        kind=None,
        industry="",
        park="",
        notes=DEMO_NOTE,
        town=None,
    ):
        t_kind, t_prefix, _, permit_rate = TEMPLATES.get(template, (UnitKind.OTHER, "91", [], 0))
        county_name = self.county_names[county]
        head = "大同市" if county_name.endswith("区") else county_name
        river = river or self.pick_river(county)
        if town is None:
            town, _ = self.town_and_village(county, 0)
        village_code, village = self.rng.choice(self.villages[town])
        if name is None:
            name, short, industry, park = self._unit_name(template, county, head, river, village)
        lon, lat, _ = self.near_river(county, river, offset=(300, 1500))
        unit = UnitPlan(
            credit_code=self.credit_code(prefix or t_prefix, county),
            name=name,
            short=short or name,
            kind=kind or t_kind,
            county=county,
            town=town,
            lon=lon,
            lat=lat,
            river=river,
            village=village_code,
            industry=industry,
            park=park,
            notes=notes,
            address=f"山西省大同市{county_name}{self.place_name(town)}{village}",
        )
        if self.rng.random() < permit_rate:
            unit.permit_number = f"{unit.credit_code}{self.rng.randint(1, 3):03d}{self.rng.choice('PPPPVQ')}"
        self.units.append(unit)
        return unit

    def _unit_name(self, template, county, head, river, village):
        county_name = self.county_names[county]
        park = PARKS.get(county, "") if template in ("industrial", "park_wwtp") else ""
        if template == "industrial":
            word, (trade, industry) = self.word(template), self.rng.choice(INDUSTRIES)
            return f"{head}{word}{trade}有限公司", f"{word}{trade}", industry, park
        if template == "mine":
            word = self.word(template)
            return f"{head}{word}煤业有限公司", f"{word}煤业", "煤炭开采和洗选业", ""
        if template == "metal_mine":
            word = self.word(template)
            return f"{head}{word}矿业有限公司", f"{word}矿业", "有色金属矿采选业", ""
        if template == "park_wwtp":
            short = "经开区污水处理厂" if county == ZONE["code"] else "园区污水处理厂"
            return f"{park}污水处理厂", short, "污水处理及其再生利用", park
        if template == "municipal_wwtp":
            word = self.word(f"{template}{county}", ["城东", "城南", "城西", "城北"])
            return f"{county_name}{word}污水处理厂", f"{word}污水处理厂", "污水处理及其再生利用", ""
        if template == "livestock":
            word, animal = (
                self.word(template),
                self.rng.choice(["牧业有限公司", "奶牛养殖场", "生猪养殖场", "肉羊养殖场"]),
            )
            short = f"{word}{animal.removesuffix('有限公司')}"
            return f"{county_name}{word}{animal}", short, "畜牧业", ""
        if template == "aquaculture":
            word = self.word(template)
            return f"{county_name}{word}水产养殖有限公司", f"{word}水产", "渔业", ""
        if template in ("small_livestock", "small_aquaculture"):
            surname = self.rng.choice(SURNAMES)
            short = f"{surname}家{'养殖场' if template == 'small_livestock' else '鱼塘'}"
            return (
                f"{county_name}{village}{short}",
                short,
                "畜牧业" if template == "small_livestock" else "渔业",
                "",
            )
        if template == "hospital":
            word = self.word(f"{template}{county}", HOSPITAL_WORDS)
            return f"{county_name}{word}医院", f"{word}医院", "卫生", ""
        if template == "commercial":
            word, (shop, industry) = self.word(template), self.rng.choice(SHOP_KINDS)
            return f"{county_name}{word}{shop}", f"{word}{shop}", industry, ""
        if template == "residential":
            word = self.word(template)
            return f"{head}{word}家园物业服务有限公司", f"{word}家园小区", "物业管理", ""
        if template == "rural_facility":
            return f"{county_name}{village}污水处理站", f"{village}污水处理站", "污水处理及其再生利用", ""
        if template == "irrigation":
            name = self.river_names[river]
            return f"{county_name}{name}灌区管理站", f"{name}灌区", "水利管理业", ""
        raise ValueError(template)

    # Outfalls -------------------------------------------------------------------------------------
    def add_outfall(
        self, county, river, category, *, landmark=None, unit=None, town=None, village=None, around=None
    ):
        if town is None:
            town, village = self.town_and_village(county)
        lon, lat, side = self.near_river(county, river, around=around)
        if landmark is None:
            spots = CITY_SPOTS.get(county) if category == "urban_storm" and self.rng.random() < 0.7 else None
            if spots:
                landmark = self.rng.choice(spots)
            elif (
                village
                and self.place_name(village).endswith("村")
                and category in ("rural_domestic_scattered", "undetermined")
                and self.rng.random() < 0.6
            ):
                landmark = self.rng.choice(VILLAGE_SPOTS)
            else:
                landmark = self.river_names[river] + self.rng.choice(RIVER_SPOTS)
        plan = OutfallPlan(
            key=f"DEMO-{len(self.outfalls) + 1:04d}",
            county=county,
            town=town,
            village=village,
            lon=lon,
            lat=lat,
            river=river,
            category=category,
            landmark=landmark,
        )
        plan.fields["outlet_position"] = (
            OutletPosition.LEFT_BANK if side == "left" else OutletPosition.RIGHT_BANK
        )
        if unit is not None:
            plan.responsible = unit.credit_code
        self.outfalls.append(plan)
        return plan

    def unit_outfalls(self, unit, template):
        village = unit.village if self.rng.random() < 0.7 or template == "rural_facility" else None
        made = []
        for category, probability in TEMPLATES[template][2]:
            if category == "other" and made and template == "commercial":
                continue  # a shop has one outfall: domestic sewage or other
            if self.rng.random() < probability:
                place = {"town": unit.town, "village": village, "around": (unit.lon, unit.lat)}
                made.append(
                    self.add_outfall(
                        unit.county, unit.river, category, landmark=unit.short, unit=unit, **place
                    )
                )
        return made

    def build(self):
        for county, (unit_counts, loose) in PROFILES.items():
            county_name = self.county_names[county]
            government = self.add_unit(
                county,
                "government",
                kind=UnitKind.GOVERNMENT,
                prefix="11",
                industry="国家机构",
                name="大同经济技术开发区管理委员会" if county == ZONE["code"] else f"{county_name}人民政府",
            )
            municipal = self.add_unit(
                county,
                "municipal",
                kind=UnitKind.INSTITUTION,
                prefix="12",
                industry="市政设施管理",
                name=f"{'大同经济技术开发区' if county == ZONE['code'] else county_name}市政设施服务中心",
            )
            if county == PINGCHENG:
                self._real_examples()
            for template, count in unit_counts.items():
                for _ in range(count):
                    unit = self.add_unit(county, template)
                    self.unit_outfalls(unit, template)
            for category, count in loose.items():
                for _ in range(count):
                    river = self.pick_river(county)
                    owner = municipal if category == "urban_storm" else None
                    plan = self.add_outfall(county, river, category)
                    plan.fields["_government"] = government.credit_code
                    if owner:
                        plan.fields["_municipal"] = owner.credit_code
        self._assign_states()
        self._assign_links()
        self._number_duplicates()
        return self

    def _real_examples(self):
        """The two named outfalls from 平城区's first sealed batch (2018), their units and a storm outfall."""
        note = "演示数据：名称取自平城区2018年首批封堵入河排污口公开信息，其余信息为虚构"
        closed = {"status": LifecycleStatus.CLOSED, "measure": RectificationMeasure.REMOVE}
        kept = {"status": LifecycleStatus.KEPT, "measure": RectificationMeasure.REGULARISE}
        examples = [
            # name, river, town index (北关街道, 新建南路街道), unit overrides, outfalls (category, fixed state)
            ("山橡集团", "YUH01", 1, {"industry": "橡胶和塑料制品业"},
             [("industrial", closed), ("industrial_storm", kept)]),
            ("七零研究所", "SLH01", 2, {"industry": "研究和试验发展", "kind": UnitKind.INSTITUTION, "prefix": "12"},
             [("industrial", closed)]),
        ]  # fmt: skip
        for name, river, town_index, overrides, outfalls in examples:
            town = self.towns[PINGCHENG][town_index][0]
            unit = self.add_unit(
                PINGCHENG, "industrial", name=name, river=river, notes=note, town=town, **overrides
            )
            unit.permit_number = f"{unit.credit_code}001P"
            for category, fixed in outfalls:
                plan = self.add_outfall(
                    PINGCHENG,
                    river,
                    category,
                    landmark=name,
                    unit=unit,
                    town=town,
                    around=(unit.lon, unit.lat),
                )
                plan.fields["_fixed"] = fixed
                if fixed is closed:
                    plan.notes = f"{note}。2018 年封堵"
