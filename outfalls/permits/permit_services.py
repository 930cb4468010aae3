"""The permit register (排污许可证): saving a permit with the outfalls it covers, their limits and duties (the
import, the API and the demo call ``save_permit``), and the finding about shared outfalls whose permits do not
state each unit's share (实施方案（七）：共用排污口 "在排污许可证中载明")."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outfalls.core.scopes import scope_of
from outfalls.registry.choices import LinkRole
from outfalls.registry.models import Outfall, OutfallUnitLink

from .models import DischargePermit, MonitoringDuty, PermitLimit, PermitOutfall

PERMIT_FIELDS = (
    "number",
    "unit",
    "valid_from",
    "valid_until",
    "issued_by",
    "issued_on",
    "self_monitoring",
    "disclosure",
    "source",
)


def check_can_keep(user):
    if user is not None and not scope_of(user).can_decide_setup:
        raise PermissionDenied("只有市生态环境局可以登记和修改排污许可证。")


def _model_errors(obj, exclude, label):
    try:
        obj.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        names = {f.name: str(f.verbose_name) for f in type(obj)._meta.fields}
        return [f"{label}{names.get(k, k)}：{' '.join(v)}" for k, v in error.message_dict.items()]
    return []


def permit_errors(permit, entries, label=""):
    """Chinese lines for everything wrong with a permit and its entries (empty: it may be saved)."""
    errors = _model_errors(permit, ["unit"], label)
    if permit.unit_id is None:
        errors.append(f"{label}排污单位：请指定持证的排污单位。")
    else:
        credit = permit.unit.credit_code
        if credit and permit.number and not permit.number.upper().startswith(credit):
            errors.append(
                f"{label}许可证编号：前 18 位应为持证单位“{permit.unit.name}”的统一社会信用代码 {credit}。"
            )
    if permit.valid_from and permit.valid_until and permit.valid_until < permit.valid_from:
        errors.append(f"{label}有效期至：不能早于有效期起。")
    seen = set()
    for entry in entries:
        outfall = entry["outfall"]
        where = f"{label}排口 {outfall.code}："
        if outfall.pk in seen:
            errors.append(f"{where}同一许可证中重复。")
        seen.add(outfall.pk)
        row = PermitOutfall(
            outlet_code=entry.get("outlet_code", ""),
            share_percent=entry.get("share_percent"),
            share_note=entry.get("share_note", ""),
        )
        errors += _model_errors(row, ["permit", "outfall"], where)
        for limit in entry.get("limits", ()):
            item = PermitLimit(**limit)
            errors += _model_errors(item, ["entry"], f"{where}{limit.get('parameter', '')} ")
            if (
                item.lower_value is not None
                and item.limit_value is not None
                and item.lower_value > item.limit_value
            ):
                errors.append(f"{where}{item.parameter}：限值下限不能大于许可限值。")
        for duty in entry.get("monitoring", ()):
            errors += _model_errors(MonitoringDuty(**duty), ["entry"], f"{where}{duty.get('parameter', '')} ")
    return errors


@transaction.atomic
def save_permit(fields, entries, *, user, permit=None):
    """Create or replace a permit: fields (PERMIT_FIELDS; unit a DischargeUnit) and entries, a list of dicts
    {outfall, outlet_code, share_percent, share_note, limits: [PermitLimit fields], monitoring: [MonitoringDuty
    fields]} that replace the covered outfalls. user None is the system (the demo, a command)."""
    check_can_keep(user)
    unknown = set(fields) - set(PERMIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown permit fields: {sorted(unknown)}")
    if permit is None:
        permit = DischargePermit.objects.filter(number=(fields.get("number") or "").strip().upper()).first()
    permit = permit or DischargePermit()
    for name, value in fields.items():
        setattr(permit, name, value.strip() if isinstance(value, str) else value)
    permit.number = (permit.number or "").upper()
    errors = permit_errors(permit, entries)
    clash = DischargePermit.objects.filter(number=permit.number).exclude(pk=permit.pk).exists()
    if clash:
        errors.append(f"许可证编号：{permit.number} 已登记。")
    if errors:
        raise ValidationError(errors)
    if user is not None:
        permit._history_user = user
    permit.save()
    permit.covered.all().delete()
    for entry in entries:
        row = PermitOutfall.objects.create(
            permit=permit,
            outfall=entry["outfall"],
            outlet_code=entry.get("outlet_code", ""),
            share_percent=entry.get("share_percent"),
            share_note=entry.get("share_note", ""),
        )
        PermitLimit.objects.bulk_create(
            [PermitLimit(entry=row, **limit) for limit in entry.get("limits", ())]
        )
        MonitoringDuty.objects.bulk_create(
            [MonitoringDuty(entry=row, **d) for d in entry.get("monitoring", ())]
        )
    return permit


# Shared outfalls without their shares in a permit ---------------------------------------------------------------
@dataclass
class SharedFinding:
    outfall: Outfall
    units: list  # [(unit, role label)] linked as owner or sharing
    missing: list = field(default_factory=list)  # [(unit, why)]

    @property
    def message(self):
        parts = [f"{unit.name}（{why}）" for unit, why in self.missing]
        return "共用排口，下列单位的排污许可证未载明其责任份额：" + "；".join(parts) + "。"


def shared_outfalls_without_share(user, today=None):
    """Outfalls the user sees that several units share (a 共用 link) where a linked unit (owner or sharing) has
    no permit in force covering the outfall with its share stated (a percentage or a note)."""
    today = today or timezone.localdate()
    shared = Outfall.objects.visible_to(user).filter(unit_links__role=LinkRole.SHARES).distinct()
    links = (
        OutfallUnitLink.objects.filter(outfall__in=shared, role__in=(LinkRole.OWNER, LinkRole.SHARES))
        .select_related("unit", "outfall", "outfall__county")
        .defer("outfall__county__boundary")
        .order_by("outfall__code", "unit__name")
    )
    entries = PermitOutfall.objects.filter(
        outfall__in=shared, permit__valid_from__lte=today, permit__valid_until__gte=today
    ).values_list("outfall_id", "permit__unit_id", "share_percent", "share_note")
    stated, covered = set(), set()
    for outfall_id, unit_id, percent, note in entries:
        covered.add((outfall_id, unit_id))
        if percent is not None or (note or "").strip():
            stated.add((outfall_id, unit_id))
    findings = {}
    for link in links:
        finding = findings.setdefault(link.outfall_id, SharedFinding(link.outfall, []))
        finding.units.append((link.unit, link.get_role_display()))
        key = (link.outfall_id, link.unit_id)
        if key not in stated:
            why = "许可证未载明份额" if key in covered else "无有效许可证覆盖该排口"
            finding.missing.append((link.unit, why))
    return [f for f in findings.values() if f.missing]
