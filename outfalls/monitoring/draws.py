"""双随机一公开: random inspections of outfalls' water quality (实施方案（十）), seeded, reproducible and auditable.

**Pools** come from the ledger: the active outfalls of the four classes the plan names (工矿企业排污口,
工业及其他各类园区污水处理厂排污口, 城镇污水处理厂排污口, 农村污水处理设施排污口 as 集中式农村生活污水处理设施), one pool per
class and county. Each pool's rate is MONITORING_DRAW_RATES' for its class, times MONITORING_DRAW_POOR_FACTOR
(at most 100 %) in a county with a section worse than its target (assessment.poor_counties); a pool draws
ceil(rate × size) outfalls (at least one from a pool that is not empty).

**Inspectors** are the staff: active users with a 市生态环境局 membership for a city-wide draw, with a 县区
membership of that county for a county's draw. MONITORING_DRAW_INSPECTORS of them go to each drawn outfall,
never one with an exclusion (回避, InspectorExclusion) for a unit behind it (its responsible entity or a linked
unit); the load is spread evenly.

**The draw** ranks by SHA-256 (``ALGORITHM``): a pool's members by ``sha256("{seed}|target|{class}|{county}|
{outfall}")``, lowest first; a target's inspectors by how many targets they have so far, then by
``sha256("{seed}|inspector|{outfall}|{user}")``. Everything it used is kept on the Draw (the pools with their
members and rates, the roster, the exclusions, the units behind each member, the seed) with the result and a
SHA-256 of all of it; ``verify(draw)`` redoes it from what is kept, and ``redo(...)`` is the same function for
anyone holding the audit file (docs/monitoring.md shows it in a few lines of Python).

**Secrecy and disclosure**: until the inspection date only the organiser, the city admin and each item's own
inspectors see the drawn outfalls (DrawItem.objects.visible_to); from that date results are recorded (and a
sample taken, source 双随机抽查监测), and ``publish`` discloses the draw: ``published_results()`` gives the
public fields for the portal.
"""

import hashlib
import json
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outfalls.core.choices import Role
from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.registry.choices import ACTIVE
from outfalls.registry.models import Outfall, OutfallUnitLink

from .assessment import poor_counties
from .choices import DrawStatus, InspectionClass, InspectionResult
from .models import Draw, DrawItem, InspectorExclusion

ALGORITHM = "sha256-rank-v1"


def rates():
    """{class: rate} from MONITORING_DRAW_RATES ("class:rate,..."); classes not named there draw nothing."""
    found = {}
    for part in settings.MONITORING_DRAW_RATES:
        name, _, value = part.partition(":")
        if name in InspectionClass.values:
            found[name] = min(max(float(value), 0.0), 1.0)
    return found


def rank(seed, *parts):
    return hashlib.sha256("|".join([str(seed), *map(str, parts)]).encode("utf-8")).hexdigest()


def digest_of(record):
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redo(*, seed, pools, roster, exclusions, units, per_target):
    """The result of a draw from what it used (the same function makes it and checks it).

    pools: [{"class", "county", "members": [ids], "count"}]; roster: [{"id", ...}]; exclusions: [[user, unit]];
    units: {str(outfall id): [unit ids]}. Returns [{"outfall", "class", "county", "inspectors": [user ids]}]."""
    excluded = {}
    for user_id, unit_id in exclusions:
        excluded.setdefault(user_id, set()).add(unit_id)
    load = {person["id"]: 0 for person in roster}
    result = []
    for pool in sorted(pools, key=lambda p: (p["class"], p["county"])):
        ordered = sorted(
            pool["members"], key=lambda o: rank(seed, "target", pool["class"], pool["county"], o)
        )
        for outfall in ordered[: pool["count"]]:
            behind = set(units.get(str(outfall), []))
            candidates = [p["id"] for p in roster if not (excluded.get(p["id"], set()) & behind)]
            candidates.sort(key=lambda u: (load[u], rank(seed, "inspector", outfall, u)))
            chosen = sorted(candidates[:per_target])
            for user_id in chosen:
                load[user_id] += 1
            result.append(
                {"outfall": outfall, "class": pool["class"], "county": pool["county"], "inspectors": chosen}
            )
    return result


def sees_whole(draw, user):
    """Who sees every pool of a draw (the city's pools name every county's counts): citywide roles, the
    organiser, and for a county's draw that county's staff. Others see the pools of their own counties."""
    scope = scope_of(user)
    return scope.citywide or draw.created_by_id == user.pk or (draw.county_id in scope.county_ids)


def visible_pools(draw, user):
    if sees_whole(draw, user):
        return draw.pools
    return [pool for pool in draw.pools if pool["county"] in scope_of(user).county_ids]


def audit_record(draw):
    """Everything a redo needs, and the result: what the digest covers and the audit file holds."""
    return {
        "algorithm": draw.algorithm,
        "seed": draw.seed,
        "per_target": draw.inspectors_per_target,
        "pools": draw.pools,
        "roster": draw.roster,
        "exclusions": draw.exclusions,
        "units": draw.units_behind,
        "result": draw.result,
    }


def verify(draw):
    """(ok, [problems]): the kept result is the one the seed gives, and the digest matches."""
    problems = []
    again = redo(
        seed=draw.seed,
        pools=draw.pools,
        roster=draw.roster,
        exclusions=draw.exclusions,
        units=draw.units_behind,
        per_target=draw.inspectors_per_target,
    )
    if again != draw.result:
        problems.append("按随机种子重新抽取的结果与保存的结果不一致。")
    if digest_of(audit_record(draw)) != draw.digest:
        problems.append("抽取记录的摘要不符，记录可能被改动。")
    return not problems, problems


# Building a draw ---------------------------------------------------------------------------------------------
def can_draw(user, county=None):
    scope = scope_of(user)
    if county is None:
        return scope.can_edit_citywide
    return scope.can_edit_citywide or county.pk in scope.county_ids


def build_pools(county=None, *, until=None):
    """[pool dicts] from the ledger now."""
    class_rates = rates()
    poor = poor_counties(until=until)
    factor = float(settings.MONITORING_DRAW_POOR_FACTOR)
    outfalls = Outfall.objects.filter(type_level2__in=InspectionClass.values, status__in=ACTIVE)
    if county is not None:
        outfalls = outfalls.filter(county=county)
    members = {}
    for pk, level2, county_id in outfalls.order_by("pk").values_list("pk", "type_level2", "county_id"):
        members.setdefault((level2, county_id), []).append(pk)
    names = dict(Jurisdiction.objects.filter(pk__in={c for _, c in members}).values_list("pk", "name"))
    pools = []
    for (level2, county_id), ids in sorted(
        members.items(), key=lambda item: (item[0][0], names.get(item[0][1], ""))
    ):
        base = class_rates.get(level2, 0.0)
        rate, reason = base, f"{InspectionClass(level2).label}抽查比例 {base:.0%}"
        if county_id in poor and base:
            rate = min(base * factor, 1.0)
            reason += f"；断面水质未达目标（{'、'.join(poor[county_id][:3])}），提高至 {rate:.0%}"
        count = math.ceil(rate * len(ids) - 1e-9) if rate > 0 else 0
        pools.append(
            {
                "class": level2,
                "label": InspectionClass(level2).label,
                "county": county_id,
                "county_name": names.get(county_id, ""),
                "rate": round(rate, 4),
                "rate_reason": reason,
                "members": ids,
                "count": max(count, 1) if rate > 0 and ids else 0,
            }
        )
    return pools


def build_roster(county=None):
    roles = {"role": Role.BUREAU} if county is None else {"role": Role.COUNTY, "jurisdiction": county}
    users = (
        get_user_model()
        .objects.filter(is_active=True, memberships__role=roles["role"])
        .filter(**({"memberships__jurisdiction": county} if county is not None else {}))
        .distinct()
        .order_by("pk")
    )
    return [{"id": u.pk, "name": u.get_full_name() or u.username} for u in users]


def units_behind(outfall_ids):
    """{str(outfall id): sorted unit ids}: the responsible entity and every linked unit."""
    found = {str(pk): set() for pk in outfall_ids}
    for pk, entity in (
        Outfall.objects.filter(pk__in=outfall_ids)
        .exclude(responsible_entity=None)
        .values_list("pk", "responsible_entity_id")
    ):
        found[str(pk)].add(entity)
    for pk, unit in OutfallUnitLink.objects.filter(outfall_id__in=outfall_ids).values_list(
        "outfall_id", "unit_id"
    ):
        found[str(pk)].add(unit)
    return {pk: sorted(units) for pk, units in found.items() if units}


@transaction.atomic
def create_draw(*, user, name, period, inspection_date, county=None, seed=None, per_target=None):
    """Draw now from the ledger; the result stays confidential until inspection_date."""
    if not can_draw(user, county):
        raise PermissionDenied("只有市生态环境局（全市）或本县区（本县区）可以组织抽查。")
    per_target = per_target or int(settings.MONITORING_DRAW_INSPECTORS)
    errors = {}
    if not (name or "").strip():
        errors["name"] = "请填写抽查名称。"
    if inspection_date is None or inspection_date < timezone.localdate():
        errors["inspection_date"] = "检查日期不能早于今天（抽取结果在检查日期前保密）。"
    seed = (seed or "").strip() or secrets.token_hex(16)
    if len(seed) > 64:
        errors["seed"] = "随机种子不超过 64 个字符。"
    pools = build_pools(county)
    roster = build_roster(county)
    if len(roster) < per_target:
        errors["inspectors"] = f"检查人员名录只有 {len(roster)} 人，每个对象需要 {per_target} 人。"
    if not any(pool["count"] for pool in pools):
        errors["pools"] = "抽取池中没有可抽取的入河排污口。"
    if errors:
        raise ValidationError(errors)
    members = sorted({m for pool in pools for m in pool["members"]})
    roster_ids = [person["id"] for person in roster]
    exclusions = sorted(
        [u, unit]
        for u, unit in InspectorExclusion.objects.filter(inspector_id__in=roster_ids).values_list(
            "inspector_id", "unit_id"
        )
    )
    behind = units_behind(members)
    result = redo(
        seed=seed, pools=pools, roster=roster, exclusions=exclusions, units=behind, per_target=per_target
    )
    short = [item["outfall"] for item in result if len(item["inspectors"]) < per_target]
    if short:
        raise ValidationError(
            {
                "inspectors": f"有 {len(short)} 个抽中对象因回避关系凑不足 {per_target} 名检查人员，请补充检查人员名录。"
            }
        )
    draw = Draw(
        name=name.strip()[:100],
        county=county,
        period=(period or "").strip()[:32],
        inspection_date=inspection_date,
        seed=seed,
        algorithm=ALGORITHM,
        inspectors_per_target=per_target,
        pools=pools,
        roster=roster,
        exclusions=exclusions,
        units_behind=behind,
        result=result,
        created_by=user,
    )
    draw.digest = digest_of(audit_record(draw))
    draw.save()
    for entry in result:
        item = DrawItem.objects.create(draw=draw, outfall_id=entry["outfall"], pool_class=entry["class"])
        item.inspectors.set(entry["inspectors"])
    return draw


# After the inspection date -----------------------------------------------------------------------------------
@transaction.atomic
def record_result(item, *, user, result, note="", inspected_on=None):
    if not DrawItem.objects.editable_by(user).filter(pk=item.pk).exists():
        raise PermissionDenied("检查日期前不能记录结果，或您不是该对象的检查人员或组织者。")
    if result not in InspectionResult.values or not result:
        raise ValidationError({"result": "请选择检查结果。"})
    item.result, item.result_note = result, (note or "").strip()
    item.inspected_on = inspected_on or timezone.localdate()
    if item.inspected_on < item.draw.inspection_date:
        raise ValidationError({"inspected_on": "检查日期不能早于抽查的检查日期。"})
    item.recorded_by = user
    item.save()
    return item


@transaction.atomic
def publish(draw, *, user):
    """一公开: disclose the draw and its results (from the inspection date)."""
    if not Draw.objects.editable_by(user).filter(pk=draw.pk).exists():
        raise PermissionDenied("只有抽查的组织单位可以公开结果。")
    if draw.confidential:
        raise ValidationError({"status": f"检查日期（{draw.inspection_date:%Y-%m-%d}）前不能公开。"})
    pending = draw.items.filter(result="").count()
    if pending:
        raise ValidationError({"status": f"还有 {pending} 个抽查对象未记录检查结果。"})
    draw.status = DrawStatus.PUBLISHED
    draw.published_at = timezone.now()
    draw.save(update_fields=["status", "published_at"])
    return draw


@dataclass
class PublicResult:
    draw: str
    period: str
    inspection_date: object
    county: str
    outfall_code: str
    outfall_name: str
    category: str
    result: str
    note: str
    values: str  # the inspection sample's values as a report writes them


def published_results():
    """The public fields of every published draw's items, for the portal (一公开)."""
    items = (
        DrawItem.objects.filter(draw__status=DrawStatus.PUBLISHED)
        .select_related("draw", "outfall", "outfall__county")
        .prefetch_related("samples__values__parameter")
        .order_by("-draw__inspection_date", "outfall__code")
    )
    found = []
    for item in items:
        values = "；".join(
            f"{v.parameter.name} {v.shown} {v.parameter.unit}"
            for s in item.samples.all()
            for v in s.values.all()
        )
        found.append(
            PublicResult(
                draw=item.draw.name,
                period=item.draw.period,
                inspection_date=item.draw.inspection_date,
                county=item.outfall.county.name,
                outfall_code=item.outfall.code,
                outfall_name=item.outfall.name,
                category=item.get_pool_class_display(),
                result=item.get_result_display(),
                note=item.result_note,
                values=values,
            )
        )
    return found
