"""The planner's second pass: statuses, responsibility, rectification, paperwork, outlets, unit links
and duplicate numbers, drawn from the same random.Random after every unit and outfall is placed."""

from datetime import date, timedelta

from ..choices import (
    FINISHED,
    Conveyance,
    EntryMode,
    LifecycleStatus,
    LinkRole,
    OutletPosition,
    RectificationMeasure,
    RectificationStatus,
    ResponsibilityBasis,
    UnitKind,
)
from ..classification import TypeCode
from .data import (
    APPROVAL_TYPES,
    CATEGORIES,
    DEFAULT_MEASURES,
    LOOSE_STATUSES,
    MEASURES,
    ROADS,
    RURAL_ENTRY,
    SEWAGE_ENTRY,
    STORM_ENTRY,
    UNDETERMINED_STATUSES,
    UNIT_STATUSES,
)


def _weighted(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class StatesMixin:
    """Planner methods run by ``Planner.build`` once every unit and outfall is placed.

    They use the planner's rng, units, outfalls, river_names and section_interval.
    """

    def _assign_states(self):
        units = {u.credit_code: u for u in self.units}
        self.national_seq, self.approvals = {}, 0
        for plan in self.outfalls:
            type_code, level2, level3 = CATEGORIES[plan.category]
            plan.fields.update(type_code=type_code, type_level2=level2, type_level3=level3)
            fixed = plan.fields.pop("_fixed", None)
            self._responsibility(plan, fixed, units)
            self._rectification(plan, fixed, level2)
            self._paperwork(plan, units.get(plan.responsible), type_code, level2)
            self._outlet(plan)

    def _responsibility(self, plan, fixed, units):
        f, rng = plan.fields, self.rng
        government, municipal = f.pop("_government", None), f.pop("_municipal", None)
        if fixed:
            status = fixed["status"]
        elif plan.category == "undetermined":
            status = _weighted(rng, UNDETERMINED_STATUSES)
        else:
            status = _weighted(rng, UNIT_STATUSES if plan.responsible else LOOSE_STATUSES)
        if status == LifecycleStatus.REMOVED:
            status = (
                LifecycleStatus.CLOSED
            )  # a removal's close-out leaves the outfall closed (CLOSEOUT_STATUS)
        if plan.category == "urban_storm" and status in FINISHED:
            status = LifecycleStatus.KEPT  # storm outfalls are never merged or blocked
        f["status"] = status
        if status in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED):
            plan.responsible = None  # not traced yet
            f["responsibility_basis"] = ResponsibilityBasis.UNKNOWN
        elif plan.responsible:
            weights = {ResponsibilityBasis.TRACED: 6, ResponsibilityBasis.DECLARED: 4}
            f["responsibility_basis"] = _weighted(rng, weights)
        elif municipal and rng.random() < 0.75:
            plan.responsible = municipal
            f["responsibility_basis"] = ResponsibilityBasis.DECLARED
        else:
            plan.responsible = government
            f["responsibility_basis"] = ResponsibilityBasis.GOVERNMENT_FALLBACK
            f["responsibility_note"] = f"未查明排污单位，由{units[government].name}兜底负责"
        if plan.responsible and f["responsibility_basis"] != ResponsibilityBasis.GOVERNMENT_FALLBACK:
            plan.links.append((plan.responsible, LinkRole.OWNER, "", ""))

    def _rectification(self, plan, fixed, level2):
        status = plan.fields["status"]
        measure = fixed["measure"] if fixed else _weighted(self.rng, MEASURES.get(level2, DEFAULT_MEASURES))
        rect = RectificationStatus.NOT_STARTED
        if status in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED, LifecycleStatus.TRACED):
            measure = ""
        elif status == LifecycleStatus.RECTIFYING:
            rect = RectificationStatus.IN_PROGRESS
        elif status == LifecycleStatus.KEPT and not fixed and self.rng.random() < 0.25:
            measure, rect = RectificationMeasure.NONE, RectificationStatus.NOT_NEEDED
        elif status == LifecycleStatus.KEPT:
            measure, rect = RectificationMeasure.REGULARISE, RectificationStatus.COMPLETED
        elif status == LifecycleStatus.MERGED:
            measure, rect = RectificationMeasure.MERGE, RectificationStatus.COMPLETED
        elif status == LifecycleStatus.REMOVED:
            measure, rect = RectificationMeasure.REMOVE, RectificationStatus.COMPLETED
        elif status == LifecycleStatus.CLOSED:
            measure, rect = RectificationMeasure.REMOVE, RectificationStatus.COMPLETED
        plan.fields.update(rectification_measure=measure, rectification_status=rect)

    def _paperwork(self, plan, unit, type_code, level2):
        """Registration, approval, permit number, sign and national code."""
        f, rng, status = plan.fields, self.rng, plan.fields["status"]
        retained = f["rectification_measure"] in (RectificationMeasure.REGULARISE, RectificationMeasure.NONE)
        rates = {"kept": 0.85, "closed": 0.9 * retained, "rectifying": 0.25, "classified": 0.1}
        f["registered"] = rng.random() < rates.get(status, 0.0)
        if f["registered"]:
            self.approvals += 1
            approval_date = date(2019, 1, 1) + timedelta(days=rng.randint(0, 6 * 365))
            word = "审" if level2 in APPROVAL_TYPES else "登"
            f["approval_date"] = approval_date
            f["approval_number"] = f"同环排口{word}〔{approval_date.year}〕{self.approvals}号"
        if unit and unit.permit_number and type_code in (TypeCode.GY, TypeCode.SH, TypeCode.NY):
            f["permit_number"] = unit.permit_number
        rates = {"kept": 0.8, "closed": 0.7 * retained, "rectifying": 0.25}
        f["sign_installed"] = rng.random() < rates.get(status, 0.0)
        untraced = (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED, LifecycleStatus.TRACED)
        if status not in untraced and type_code != TypeCode.UNDETERMINED and rng.random() < 0.36:
            key = (plan.county, type_code)
            self.national_seq[key] = self.national_seq.get(key, 0) + 1
            f["national_code"] = f"{plan.county}{type_code}{self.national_seq[key]:04d}"

    def _outlet(self, plan):
        """Entry mode, conveyance, outlet description and section interval."""
        f, rng = plan.fields, self.rng
        rural = plan.category in (
            "rural_domestic_scattered",
            "irrigation",
            "livestock_small",
            "aquaculture_small",
        )
        entry = _weighted(
            rng, STORM_ENTRY if "storm" in plan.category else RURAL_ENTRY if rural else SEWAGE_ENTRY
        )
        f["entry_mode"] = entry
        if entry == EntryMode.SUBMERGED:
            f["outlet_position"] = OutletPosition.RIVER_BED
        conveyance = {"pipe": 50, "culvert": 20, "open_channel": 20, "direct": 10}
        f["conveyance"] = Conveyance.DITCH if rural and rng.random() < 0.5 else _weighted(rng, conveyance)
        bank = {"left_bank": "左岸", "right_bank": "右岸", "river_bed": "河床"}[f["outlet_position"]]
        if entry in ("pipe", "submerged", "pump_station"):
            size = f"DN{rng.choice([300, 400, 500, 600, 800, 1000])}"
        else:
            size = f"宽约{rng.choice([0.6, 0.8, 1.0, 1.5, 2.0])}米"
        outlet = f"{EntryMode(entry).label}出口" if entry != EntryMode.OTHER else "自然冲沟出口"
        f["outlet_description"] = f"{self.river_names[plan.river]}{bank}，{outlet}，{size}"
        f["section_interval"] = self.section_interval(plan.river, plan.lon, plan.lat)

    def _assign_links(self):
        units = {u.credit_code: u for u in self.units}
        partner_kinds = {
            UnitKind.INDUSTRIAL,
            UnitKind.COMMERCIAL,
            UnitKind.RESIDENTIAL,
            UnitKind.HOSPITAL,
            UnitKind.LIVESTOCK,
        }
        share_categories = {
            "industrial",
            "industrial_storm",
            "urban_domestic_scattered",
            "other",
            "livestock_small",
            "livestock_scale",
        }
        candidates = [
            p
            for p in self.outfalls
            if p.category in share_categories
            and p.responsible
            and p.fields["responsibility_basis"] != ResponsibilityBasis.GOVERNMENT_FALLBACK
        ]
        shared = 0
        for plan in self.rng.sample(candidates, len(candidates)):
            pool = [
                u
                for u in self.units
                if u.county == plan.county and u.kind in partner_kinds and u.credit_code != plan.responsible
            ]
            if shared >= 20 or len(pool) < 2:
                continue
            partners = self.rng.sample(pool, self.rng.choice((1, 2)))
            owner = units[plan.responsible]
            share = self.rng.choice((50, 60, 70))
            others = "、".join(p.short for p in partners)
            note = f"共用排口：{owner.short}约{share}%，{others}合计约{100 - share}%（按排水量分担）"
            for partner in partners:
                plan.links.append(
                    (partner.credit_code, LinkRole.SHARES, self.rng.choice(["厂区排水管", "污水支管"]), note)
                )
            shared += 1
        storms = [p for p in self.outfalls if p.category == "urban_storm" and p.links]
        borrowers = {UnitKind.INDUSTRIAL, UnitKind.COMMERCIAL, UnitKind.HOSPITAL}
        borrowed = 0
        for plan in self.rng.sample(storms, len(storms)):
            pool = [u for u in self.units if u.county == plan.county and u.kind in borrowers]
            if borrowed >= 8 or not pool:
                continue
            unit = self.rng.choice(pool)
            via = f"{self.rng.choice(ROADS)}雨水管网"
            plan.links.append(
                (unit.credit_code, LinkRole.BORROWS, via, f"溯源发现{unit.short}借道{via}排放废水")
            )
            borrowed += 1

    def _number_duplicates(self):
        groups = {}
        for plan in self.outfalls:
            key = (plan.county, plan.town, plan.village, plan.landmark, plan.category)
            groups.setdefault(key, []).append(plan)
        for group in groups.values():
            if len(group) > 1:
                for i, plan in enumerate(group, start=1):
                    plan.number = str(i)
