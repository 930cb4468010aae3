"""The 溯源 demo data (survey/demo_tracing.py): consistent with the ledger, and a second load adds nothing."""

import io

from outfalls.registry.choices import LifecycleStatus, ResponsibilityBasis, UnitKind
from outfalls.registry.models import OutfallUnitLink
from outfalls.survey import demo_tracing
from outfalls.survey.choices import CaseStatus
from outfalls.survey.models import TracingCase


def test_demo_cases_are_consistent_with_their_outfalls(db):
    cases = list(TracingCase.objects.select_related("outfall", "responsible_entity"))
    assert len(cases) >= 24
    statuses = {(c.status, c.basis) for c in cases}
    assert (CaseStatus.OPEN, "") in statuses
    assert (CaseStatus.CONCLUDED, ResponsibilityBasis.TRACED) in statuses
    assert (CaseStatus.CONCLUDED, ResponsibilityBasis.GOVERNMENT_FALLBACK) in statuses
    links = set(OutfallUnitLink.objects.values_list("outfall_id", "unit_id"))
    for case in cases:
        assert case.steps.exists()
        if case.status == CaseStatus.OPEN:
            assert case.outfall.status == LifecycleStatus.VERIFIED
            continue
        outfall = case.outfall
        assert outfall.status not in (LifecycleStatus.SUSPECTED, LifecycleStatus.VERIFIED)
        assert (outfall.responsible_entity_id, outfall.responsibility_basis) == (
            case.responsible_entity_id,
            case.basis,
        )
        if case.basis == ResponsibilityBasis.TRACED:
            assert (outfall.pk, case.responsible_entity_id) in links
        else:
            assert case.conclusion
    fallback_kinds = {
        c.responsible_entity.kind for c in cases if c.basis == ResponsibilityBasis.GOVERNMENT_FALLBACK
    }
    assert UnitKind.GOVERNMENT in fallback_kinds
    # Some demo outfall is borrowed through a concluded case run by the services.
    assert any(c.outfall.is_borrowed for c in cases if c.status == CaseStatus.CONCLUDED)


def test_a_second_load_creates_nothing(db):
    before = TracingCase.objects.count()
    assert demo_tracing.load_demo(io.StringIO()) == {"live": 0, "record": 0}
    assert TracingCase.objects.count() == before
