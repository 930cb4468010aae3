"""Services for the rules' proposals: run the rules, accept or override a proposal.

- ``run_rules(user=, county=)`` evaluates the rules (rules.py) over the outfalls the user may edit (a city
  editor: the whole city or one county; a county officer: their county only; ``user=None``: the system,
  the whole city) and refreshes the proposals: pending ones are replaced (one saying exactly what the
  rules say again is kept, moved to the new run); a decided (accepted or
  overridden) one whose proposed measure the rules still give is left alone; when the rules now give a
  different measure, the decided one becomes superseded and a new pending proposal appears. Pending
  proposals of outfalls the rules no longer consider (removed, merged, closed out) become superseded.
- ``accept_proposal`` and ``override_proposal`` decide a pending proposal; both set
  ``Outfall.rectification_measure`` and write status-change rows (the outfall's ``rectification_measure``
  and the proposal's ``status``). An override needs a reason.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from outfalls.core.models import Jurisdiction, StatusChange
from outfalls.core.scopes import scope_of
from outfalls.core.services import record_status_change
from outfalls.registry.choices import RectificationMeasure
from outfalls.registry.models import Outfall
from outfalls.registry.services import set_rectification_measure

from . import rules
from .choices import ProposalStatus
from .models import MeasureProposal, RuleRun

DECIDED = (ProposalStatus.ACCEPTED, ProposalStatus.OVERRIDDEN)
BATCH = 1000


def can_run_rules(user):
    return scope_of(user).can_run_rules


def _county(county):
    if county is None or isinstance(county, Jurisdiction):
        return county
    found = Jurisdiction.objects.filter(code=str(county)).first()
    if found is None or found.county_id != found.pk:
        raise ValidationError({"county": f"县区代码“{county}”不存在。"})
    return found


def run_rules(*, user, county=None):
    """Evaluate the rules for the user's scope (optionally one county) and refresh the proposals."""
    county = _county(county)
    outfalls = Outfall.objects.all()
    if user is not None:
        scope = scope_of(user)
        if not can_run_rules(user):
            raise PermissionDenied("只有市级管理员、市生态环境局和县区可以运行整治规则。")
        if not scope.can_edit_citywide:
            if county is not None and county.pk not in scope.county_ids:
                raise PermissionDenied(f"无权对{county.name}运行整治规则。")
            if county is None and len(scope.county_ids) == 1:
                county = Jurisdiction.objects.get(pk=next(iter(scope.county_ids)))
        outfalls = Outfall.objects.editable_by(user)
    if county is not None:
        outfalls = outfalls.filter(county=county)
    with transaction.atomic():
        evaluation = rules.evaluate(rules.load_context(outfalls))
        run = RuleRun.objects.create(
            run_by=user if user is not None and user.is_authenticated else None,
            county=county,
            outfalls_checked=evaluation.checked,
            hits=evaluation.counts,
        )
        _refresh(run, outfalls, evaluation, user)
    return run


def _refresh(run, outfalls, evaluation, user):
    """Apply an evaluation to the proposals of the run's outfalls (see the module docstring).

    A pending proposal whose measure, reason and hits are what the rules give again is kept (and moved to
    the new run) rather than deleted and created again: a re-run over 100,000 unchanged outfalls writes
    little.
    """
    proposals = evaluation.proposals
    in_scope = MeasureProposal.objects.filter(outfall__in=outfalls)
    pending, stale, obsolete = {}, [], []
    rows = in_scope.filter(status=ProposalStatus.PENDING).order_by("-created_at", "-id")
    for pk, outfall_id, measure, reason, hits in rows.values_list(
        "id", "outfall_id", "measure", "reason", "hits"
    ).iterator(chunk_size=BATCH):
        if outfall_id not in proposals:
            stale.append(pk)  # the outfall is no longer considered (removed, merged, closed out)
        elif outfall_id in pending:
            obsolete.append(pk)
        else:
            pending[outfall_id] = (pk, (measure, reason, hits))
    decided = {
        outfall_id: (pk, measure)
        for outfall_id, pk, measure in in_scope.filter(status__in=DECIDED)
        .order_by("created_at", "id")
        .values_list("outfall_id", "id", "measure")
    }
    keep, superseded, fresh = [], [], []
    for outfall_id, proposal in proposals.items():
        old = pending.get(outfall_id)
        current = decided.get(outfall_id)
        if current is not None:
            if current[1] == proposal.measure:  # the decision stands
                if old is not None:
                    obsolete.append(old[0])
                continue
            superseded.append(current[0])
        if old is not None:
            if old[1] == (proposal.measure, proposal.reason, proposal.hits):
                keep.append(old[0])
                continue
            obsolete.append(old[0])
        fresh.append(
            MeasureProposal(
                outfall_id=outfall_id,
                run=run,
                measure=proposal.measure,
                reason=proposal.reason,
                hits=proposal.hits,
            )
        )
    _supersede(stale, user, "排口已不在整治规则范围内（已取缔、合并或销号）。")
    _supersede(superseded, user, "整治规则的建议已改变，已生成新的待确认建议。")
    for start in range(0, len(obsolete), BATCH):
        MeasureProposal.objects.filter(pk__in=obsolete[start : start + BATCH]).delete()
    for start in range(0, len(keep), BATCH):
        MeasureProposal.objects.filter(pk__in=keep[start : start + BATCH]).update(run=run)
    MeasureProposal.objects.bulk_create(fresh, batch_size=BATCH)


def _supersede(ids, user, reason):
    if not ids:
        return
    content_type = ContentType.objects.get_for_model(MeasureProposal)
    changed_by = user if user is not None and user.is_authenticated else None
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        old = dict(MeasureProposal.objects.filter(pk__in=batch).values_list("id", "status"))
        MeasureProposal.objects.filter(pk__in=batch).update(status=ProposalStatus.SUPERSEDED)
        StatusChange.objects.bulk_create(
            [
                StatusChange(
                    content_type=content_type,
                    object_id=pk,
                    field="status",
                    from_value=old[pk],
                    to_value=ProposalStatus.SUPERSEDED,
                    reason=reason,
                    changed_by=changed_by,
                )
                for pk in batch
                if pk in old
            ]
        )


# ---------------------------------------------------------------------------------------------------------
# Reading: reasons without outfalls the reader may not see
# ---------------------------------------------------------------------------------------------------------
HIDDEN_OUTFALL = "另一排口（不在您的查看范围内）"


def scoped_reasons(proposals, user):
    """Give each proposal `shown_reason` and `shown_hits`: its reason and hits with every outfall a rule named
    (hit["mentions"]) that the user may not see replaced by HIDDEN_OUTFALL. One query for the whole list.

    A rule grouping an enterprise's or a park's outfalls names the others in the county; a river chief or a
    unit may see the proposal but not every outfall it names."""
    proposals = list(proposals)
    mentioned = {pk for p in proposals for hit in p.hits for pk in hit.get("mentions", ())}
    hidden = set()
    if mentioned:
        visible = Outfall.objects.visible_to(user).filter(pk__in=mentioned).values_list("pk", flat=True)
        hidden = mentioned - set(visible)
    labels = {}
    if hidden:
        for pk, code, name in Outfall.objects.filter(pk__in=hidden).values_list("pk", "code", "name"):
            # Longest first: "名称（编码）" before the code or the name alone.
            labels[pk] = sorted({f"{name}（{code}）" if name and code else "", code, name} - {""}, key=len)[
                ::-1
            ]

    def scrub(text, mentions):
        for pk in mentions:
            for label in labels.get(pk, ()):
                text = text.replace(label, HIDDEN_OUTFALL)
        return text

    for proposal in proposals:
        named = [pk for hit in proposal.hits for pk in hit.get("mentions", ()) if pk in labels]
        proposal.shown_reason = scrub(proposal.reason, named)
        proposal.shown_hits = [
            {**hit, "reason": scrub(hit["reason"], hit.get("mentions", ()))} for hit in proposal.hits
        ]
    return proposals


# ---------------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------------


def _check_decidable(proposal, user):
    if user is not None and not Outfall.objects.editable_by(user).filter(pk=proposal.outfall_id).exists():
        raise PermissionDenied("无权处理该排口的整治措施建议。")
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(f"该建议{proposal.get_status_display()}，不能再处理。")


def _decide(proposal, *, user, status, measure, reason):
    with transaction.atomic():
        proposal = MeasureProposal.objects.select_for_update().get(pk=proposal.pk)
        _check_decidable(proposal, user)
        outfall = Outfall.objects.select_for_update().get(pk=proposal.outfall_id)
        proposal.status = status
        proposal.decided_measure = measure
        proposal.override_reason = reason if status == ProposalStatus.OVERRIDDEN else ""
        proposal.decided_by = user if user is not None and user.is_authenticated else None
        proposal.decided_at = timezone.now()
        proposal.save(
            update_fields=["status", "decided_measure", "override_reason", "decided_by", "decided_at"]
        )
        record_status_change(
            proposal,
            user=user,
            from_value=ProposalStatus.PENDING,
            to_value=status,
            reason=reason or f"采纳建议：{RectificationMeasure(measure).label}",
        )
        # The outfall's history names the proposal, not its reason (which may name other outfalls).
        set_rectification_measure(
            outfall, measure, user=user, reason=reason or f"采纳整治规则建议 #{proposal.pk}"
        )
    return proposal


def accept_proposal(proposal, *, user):
    """Take the proposed measure as the outfall's rectification measure."""
    return _decide(proposal, user=user, status=ProposalStatus.ACCEPTED, measure=proposal.measure, reason="")


def override_proposal(proposal, *, user, measure, reason):
    """Set a different measure than proposed; the reason is required."""
    errors = {}
    if measure not in RectificationMeasure.values:
        errors["measure"] = "请选择改定的整治措施。"
    elif measure == proposal.measure:
        errors["measure"] = "改定的措施与建议相同，请直接采纳。"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "改定整治措施须填写理由。"
    if errors:
        raise ValidationError(errors)
    return _decide(proposal, user=user, status=ProposalStatus.OVERRIDDEN, measure=measure, reason=reason)


def accept_many(proposals, *, user):
    """Accept several pending proposals (the list's bulk action); returns (accepted, skipped) counts."""
    accepted = skipped = 0
    for proposal in proposals:
        try:
            accept_proposal(proposal, user=user)
        except (PermissionDenied, ValidationError):
            skipped += 1
        else:
            accepted += 1
    return accepted, skipped
