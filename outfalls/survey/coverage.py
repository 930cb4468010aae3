"""排查覆盖 and 不重不漏: how much bank was walked, how many suspected points ended, and what does not add up.

Coverage of a campaign, per river and per reach (the pure maths is geo/intervals.py):

- total bank length: each reach's length (to_km − from_km) times its number of banks (两岸 = 2), reaches on
  the same river and bank unioned first (an overlap is counted once);
- covered bank length: the recorded tracks projected onto the river line (kept where within BUFFER_M of
  it), as chainage intervals per bank (a track recorded for 两岸 covers both), together with the reaches
  marked checked, clipped to the reaches;
- suspected points: total, checked (a final outcome), per outcome;
- outfalls found: distinct outfalls of the points confirmed or found to duplicate one (an outfall seen
  on the walk), and per km of river surveyed (reach length, not bank length).

A county's figures add up its campaigns. Everything starts from Campaign.objects.visible_to(user).
"""

from collections import defaultdict
from dataclasses import dataclass, field

import shapely.geometry
from django.db.models import Count

from outfalls.geo import intervals as iv
from outfalls.geo import tracks as tracks_geo
from outfalls.geo.linref import RiverLine
from outfalls.geo.shapes import shape_of

from .choices import FINAL_OUTCOMES, Bank, PointOutcome
from .models import Campaign, FieldCheck, SuspectedPoint

BUFFER_M = 200.0
SIDES = (Bank.LEFT, Bank.RIGHT)


def sides_of(bank):
    return SIDES if bank == Bank.BOTH else (bank,)


@dataclass
class Figures:
    total_bank_km: float = 0.0
    covered_bank_km: float = 0.0
    river_km: float = 0.0
    points_total: int = 0
    points_checked: int = 0
    by_outcome: dict = field(default_factory=lambda: {o: 0 for o in PointOutcome.values})
    outfalls_found: int = 0

    @property
    def covered_percent(self):
        return 100 * self.covered_bank_km / self.total_bank_km if self.total_bank_km else None

    @property
    def checked_percent(self):
        return 100 * self.points_checked / self.points_total if self.points_total else None

    @property
    def outfalls_per_km(self):
        return self.outfalls_found / self.river_km if self.river_km else None

    @property
    def points_open(self):
        return self.points_total - self.points_checked

    def add(self, other):
        self.total_bank_km += other.total_bank_km
        self.covered_bank_km += other.covered_bank_km
        self.river_km += other.river_km
        self.points_total += other.points_total
        self.points_checked += other.points_checked
        for key, value in other.by_outcome.items():
            self.by_outcome[key] = self.by_outcome.get(key, 0) + value
        self.outfalls_found += other.outfalls_found
        return self


@dataclass
class ReachRow:
    reach: object
    length_km: float
    total_bank_km: float
    covered_bank_km: float

    @property
    def covered_percent(self):
        return 100 * self.covered_bank_km / self.total_bank_km if self.total_bank_km else None


@dataclass
class RiverRow:
    water_body: object
    figures: Figures


@dataclass
class CampaignCoverage:
    campaign: object
    figures: Figures
    rivers: list
    reaches: list


def _river_line(water_body, cache):
    if water_body.pk not in cache:
        try:
            cache[water_body.pk] = RiverLine(shape_of(water_body.geometry)) if water_body.geometry else None
        except (ValueError, TypeError):
            cache[water_body.pk] = None
    return cache[water_body.pk]


def _covered_by_tracks(tracks, river, buffer_m):
    """{side: intervals} from the tracks on one river."""
    covered = defaultdict(list)
    for track in tracks:
        pieces = tracks_geo.covered(river, [track.geometry], buffer_m=buffer_m)
        for side in sides_of(track.bank):
            covered[side] = iv.union(covered[side], pieces)
    return covered


def _point_counts(campaign_ids):
    """{(campaign id, water body id): (by outcome, outfall ids found)}."""
    by_outcome = defaultdict(lambda: defaultdict(int))
    rows = (
        SuspectedPoint.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id", "water_body_id", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        by_outcome[(row["campaign_id"], row["water_body_id"])][row["outcome"]] += row["n"]
    found = defaultdict(set)
    pairs = (
        SuspectedPoint.objects.filter(
            campaign_id__in=campaign_ids,
            outcome__in=(PointOutcome.CONFIRMED, PointOutcome.DUPLICATE),
            outfall__isnull=False,
        )
        .values_list("campaign_id", "water_body_id", "outfall_id")
        .order_by()
    )
    for campaign_id, water_body_id, outfall_id in pairs:
        found[(campaign_id, water_body_id)].add(outfall_id)
    return by_outcome, found


def _point_figures(figures, outcomes, outfall_ids):
    for outcome, n in outcomes.items():
        figures.by_outcome[outcome] = figures.by_outcome.get(outcome, 0) + n
        figures.points_total += n
        if outcome in FINAL_OUTCOMES:
            figures.points_checked += n
    figures.outfalls_found += len(outfall_ids)


def campaigns_for(user):
    return (
        Campaign.objects.visible_to(user)
        .select_related("county")
        .prefetch_related("reaches__water_body", "tracks")
        .order_by("county__code", "-created_at", "-id")
    )


def coverage_of(campaigns, *, buffer_m=BUFFER_M):
    """[CampaignCoverage] for campaigns (with reaches__water_body and tracks prefetched)."""
    campaigns = list(campaigns)
    by_outcome, found = _point_counts([c.pk for c in campaigns])
    river_cache = {}
    result = []
    for campaign in campaigns:
        reaches_by_water = defaultdict(list)
        waters = {}
        for reach in campaign.reaches.all():
            reaches_by_water[reach.water_body_id].append(reach)
            waters[reach.water_body_id] = reach.water_body
        tracks_by_water = defaultdict(list)
        for track in campaign.tracks.all():
            tracks_by_water[track.water_body_id].append(track)
        rivers, reach_rows = [], []
        total = Figures()
        for water_id, reaches in reaches_by_water.items():
            water = waters[water_id]
            river = _river_line(water, river_cache)
            walked = _covered_by_tracks(tracks_by_water.get(water_id, ()), river, buffer_m)
            planned = defaultdict(list)
            checked = defaultdict(list)
            for reach in reaches:
                span = [(reach.from_km, reach.to_km)]
                for side in sides_of(reach.bank):
                    planned[side] = iv.union(planned[side], span)
                    if reach.checked:
                        checked[side] = iv.union(checked[side], span)
            figures = Figures()
            for side in SIDES:
                covered = iv.intersect(iv.union(walked[side], checked[side]), planned[side])
                figures.total_bank_km += iv.length(planned[side])
                figures.covered_bank_km += iv.length(covered)
            figures.river_km = iv.length(iv.union(*planned.values()))
            _point_figures(
                figures, by_outcome.get((campaign.pk, water_id), {}), found.get((campaign.pk, water_id), ())
            )
            rivers.append(RiverRow(water, figures))
            for reach in reaches:
                length_km = abs(reach.to_km - reach.from_km)
                sides = sides_of(reach.bank)
                covered_km = length_km * len(sides) if reach.checked else 0.0
                if not reach.checked:
                    for side in sides:
                        covered_km += iv.length(iv.clip(walked[side], reach.from_km, reach.to_km))
                reach_rows.append(ReachRow(reach, length_km, length_km * len(sides), covered_km))
            total.add(figures)
        # Points on no reach's river (or with no river set) still count for the campaign.
        for (campaign_id, water_id), outcomes in by_outcome.items():
            if campaign_id == campaign.pk and water_id not in reaches_by_water:
                _point_figures(total, outcomes, found.get((campaign_id, water_id), ()))
        rivers.sort(key=lambda r: r.water_body.name)
        result.append(CampaignCoverage(campaign, total, rivers, reach_rows))
    return result


def by_county(coverages):
    """[(county, Figures)] adding up the campaigns of each county, in county code order."""
    totals = {}
    for cov in coverages:
        county = cov.campaign.county
        totals.setdefault(county.pk, (county, Figures()))[1].add(cov.figures)
    return sorted(totals.values(), key=lambda pair: pair[0].code)


def open_points(campaigns):
    """Points still pending or escalated, for the map: [{id, number, lon, lat, outcome (label), escalated,
    campaign}]."""
    rows = (
        SuspectedPoint.objects.filter(
            campaign__in=campaigns, outcome__in=(PointOutcome.PENDING, PointOutcome.ESCALATED)
        )
        .values("id", "number", "lon", "lat", "outcome", "campaign__name")
        .order_by("campaign_id", "number")
    )
    labels = dict(PointOutcome.choices)
    return [
        {
            "id": r["id"],
            "number": r["number"],
            "lon": r["lon"],
            "lat": r["lat"],
            "outcome": labels[r["outcome"]],
            "escalated": r["outcome"] == PointOutcome.ESCALATED,
            "campaign": r["campaign__name"],
        }
        for r in rows
    ]


# 不重不漏 ------------------------------------------------------------------------------------------------


@dataclass
class Anomaly:
    kind: str
    label: str
    campaign: object
    point: object = None
    outfall: object = None
    detail: str = ""


ANOMALY_LABELS = {
    "confirmed_without_outfall": "确认为排口但未关联台账排口",
    "duplicate_without_outfall": "判为重复但未指明已有排口",
    "outfall_confirmed_twice": "同一排口被多个疑似点确认",
    "final_without_check": "已有结论但无现场核查记录或专家研判",
    "not_outfall_with_outfall": "判为非排口却关联了台账排口",
}


@dataclass
class Balance:
    campaign: object
    by_outcome: dict
    total: int

    @property
    def balanced(self):
        """Every point has exactly one of the PointOutcome values: the columns add up to the total."""
        return sum(self.by_outcome.get(o, 0) for o in PointOutcome.values) == self.total

    @property
    def counts(self):
        """The counts in PointOutcome order (for tables)."""
        return [self.by_outcome.get(o, 0) for o in PointOutcome.values]

    @property
    def open(self):
        return self.by_outcome.get(PointOutcome.PENDING, 0) + self.by_outcome.get(PointOutcome.ESCALATED, 0)


def reconcile(campaigns):
    """(balances per campaign, anomalies) for the campaigns (a queryset already scoped to the user)."""
    campaigns = list(campaigns)
    ids = [c.pk for c in campaigns]
    by_id = {c.pk: c for c in campaigns}
    counts = defaultdict(lambda: {o: 0 for o in PointOutcome.values})
    totals = defaultdict(int)
    for row in (
        SuspectedPoint.objects.filter(campaign_id__in=ids)
        .values("campaign_id", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    ):
        totals[row["campaign_id"]] += row["n"]
        # A stored value outside PointOutcome (a raw import, a removed choice) is in the total but in no
        # column, so the campaign shows as 不平衡.
        if row["outcome"] in counts[row["campaign_id"]]:
            counts[row["campaign_id"]][row["outcome"]] += row["n"]
    balances = [Balance(c, counts[c.pk], totals[c.pk]) for c in campaigns]

    anomalies = []
    points = (
        SuspectedPoint.objects.filter(campaign_id__in=ids)
        .select_related("outfall")
        .order_by("campaign_id", "number")
    )
    missing = points.filter(outcome=PointOutcome.CONFIRMED, outfall=None)
    for p in missing:
        anomalies.append(
            Anomaly(
                "confirmed_without_outfall",
                ANOMALY_LABELS["confirmed_without_outfall"],
                by_id[p.campaign_id],
                p,
            )
        )
    for p in points.filter(outcome=PointOutcome.DUPLICATE, outfall=None):
        anomalies.append(
            Anomaly(
                "duplicate_without_outfall",
                ANOMALY_LABELS["duplicate_without_outfall"],
                by_id[p.campaign_id],
                p,
            )
        )
    for p in points.filter(outcome=PointOutcome.NOT_OUTFALL).exclude(outfall=None):
        anomalies.append(
            Anomaly(
                "not_outfall_with_outfall",
                ANOMALY_LABELS["not_outfall_with_outfall"],
                by_id[p.campaign_id],
                p,
                p.outfall,
            )
        )
    twice = (
        SuspectedPoint.objects.filter(campaign_id__in=ids, outcome=PointOutcome.CONFIRMED)
        .exclude(outfall=None)
        .values("outfall_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("outfall_id")
    )
    repeated = list(points.filter(outcome=PointOutcome.CONFIRMED, outfall_id__in=twice))
    numbers = defaultdict(list)
    for p in repeated:
        numbers[p.outfall_id].append(p.number)
    for p in repeated:
        others = [n for n in numbers[p.outfall_id] if n != p.number]
        anomalies.append(
            Anomaly(
                "outfall_confirmed_twice",
                ANOMALY_LABELS["outfall_confirmed_twice"],
                by_id[p.campaign_id],
                p,
                p.outfall,
                "另见疑似点 " + "、".join(others),
            )
        )
    with_checks = FieldCheck.objects.filter(point__campaign_id__in=ids).values("point_id")
    for p in points.filter(outcome__in=FINAL_OUTCOMES).exclude(pk__in=with_checks).exclude(decided_level=3):
        anomalies.append(
            Anomaly(
                "final_without_check",
                ANOMALY_LABELS["final_without_check"],
                by_id[p.campaign_id],
                p,
                p.outfall,
            )
        )
    return balances, anomalies


def balance_by_county(balances):
    """[(county, {outcome: n}, total)] adding the campaigns of each county."""
    result = {}
    for b in balances:
        county = b.campaign.county
        entry = result.setdefault(county.pk, [county, {o: 0 for o in PointOutcome.values}, 0])
        for key, value in b.by_outcome.items():
            entry[1][key] += value
        entry[2] += b.total
    return [tuple(v) for v in sorted(result.values(), key=lambda v: v[0].code)]


def reach_features(campaign):
    """The campaign's reaches as GeoJSON features drawn along their rivers (for the campaign's map); reaches
    on a river without a line are left out."""
    cache, features = {}, []
    for reach in campaign.reaches.select_related("water_body").order_by("water_body__name", "from_km"):
        river = _river_line(reach.water_body, cache)
        line = river.stretch(reach.from_km, reach.to_km) if river is not None else None
        if line is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(line),
                "properties": {
                    "id": reach.pk,
                    "name": str(reach),
                    "bank": reach.get_bank_display(),
                    "checked": reach.checked,
                    "km": round(abs(reach.to_km - reach.from_km), 2),
                },
            }
        )
    return features
