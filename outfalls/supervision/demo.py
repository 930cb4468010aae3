"""Demo data of enforcement (after the ledger, the survey's tracing and the monitoring demo), made through the
same services as the pages:

- a case from a concluded tracing case, taken through every step to 结案 with a penalty;
- a case from an exceedance, told to the party (告知) and waiting for the city bureau's decision;
- a case opened directly in 平城区 for a hidden pipe (私设暗管), under investigation;
- a 借道排污 report by the demo enterprise (山橡集团) at its own outfall, waiting in its county's to-do list;
- patrols of 御河 by its river chief over the last three months, with walked tracks along the river line and
  a finding at an outfall.

Dates are relative to the day of loading. A second load changes nothing (it stops when a case exists).
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from outfalls.core.models import Jurisdiction
from outfalls.core.scopes import scope_of
from outfalls.geo import tracks as tracks_geo
from outfalls.registry.models import DischargeUnit, Outfall

from . import patrols, services
from .choices import SOURCE_MODELS, CaseKind, CaseSource, CaseStatus, Outcome
from .models import EnforcementCase

WATER_LAW_84 = "《中华人民共和国水污染防治法》第八十四条第一款"


def _first(source):
    model = ContentType.objects.get_by_natural_key(*SOURCE_MODELS[source]).model_class()
    return model._default_manager.order_by("pk")


def load_demo(stdout):
    if EnforcementCase.objects.exists():
        return
    users = get_user_model().objects
    bureau = users.filter(username="bureau").first()
    if bureau is None:
        return
    today = timezone.localdate()
    made = []
    with transaction.atomic():
        tracing = _first(CaseSource.TRACING).exclude(concluded_at=None).first()
        if tracing is not None:
            facts = services.source_facts(CaseSource.TRACING, tracing)
            case = services.open_case(
                user=bureau,
                kind=CaseKind.ILLEGAL_SETUP,
                county=Jurisdiction.objects.get(pk=facts["county_id"]),
                summary=f"{facts['summary']}。排口未经审核设置，向河道排放生产废水。",
                opened_on=today - timedelta(days=60),
                outfalls=facts["outfalls"],
                units=facts["units"],
                source=CaseSource.TRACING,
                source_obj=tracing,
            )
            steps = [
                (
                    CaseStatus.INVESTIGATED,
                    45,
                    {"findings": "现场检查、询问笔录两份、采样一次，查明排口为该单位私自设置。"},
                ),
                (CaseStatus.NOTIFIED, 38, {"notice": "拟处罚款，当事人享有陈述、申辩和要求听证的权利。"}),
                (
                    CaseStatus.DECIDED,
                    25,
                    {
                        "outcome": Outcome.PENALTY,
                        "decision_number": f"同环罚〔{today.year}〕1号",
                        "penalty_amount": Decimal("100000"),
                        "legal_basis": WATER_LAW_84,
                    },
                ),
                (CaseStatus.ENFORCED, 10, {"enforcement": "罚款已缴纳，排口已封堵，责令补办设置审核手续。"}),
                (CaseStatus.CLOSED, 5, {"closing_note": "处罚决定执行完毕，整改到位，结案。"}),
            ]
            for status, days_ago, fields in steps:
                case = services.record_step(
                    case, status, user=bureau, on=today - timedelta(days=days_ago), **fields
                )
            made.append(case)
        finding = _first(CaseSource.EXCEEDANCE).filter(kind="exceedance").first()
        if finding is not None:
            facts = services.source_facts(CaseSource.EXCEEDANCE, finding)
            case = services.open_case(
                user=bureau,
                kind=CaseKind.OVER_LIMIT,
                county=Jurisdiction.objects.get(pk=facts["county_id"]),
                summary=facts["summary"],
                opened_on=today - timedelta(days=20),
                outfalls=facts["outfalls"],
                units=facts["units"],
                source=CaseSource.EXCEEDANCE,
                source_obj=finding,
            )
            case = services.record_step(
                case, CaseStatus.INVESTIGATED, user=bureau, on=today - timedelta(days=12),
                findings="调取在线监测数据和手工监测报告，确认超标排放。",
            )  # fmt: skip
            case = services.record_step(
                case, CaseStatus.NOTIFIED, user=bureau, on=today - timedelta(days=4),
                notice="拟责令改正并处罚款，当事人可在五个工作日内陈述申辩。",
            )  # fmt: skip
            made.append(case)
        county_officer = users.filter(username="pingcheng").first()
        pingcheng = next(iter(scope_of(county_officer).county_ids), None) if county_officer else None
        if pingcheng is not None:
            outfall = Outfall.objects.filter(county_id=pingcheng).order_by("code").first()
            case = services.open_case(
                user=county_officer,
                kind=CaseKind.HIDDEN_PIPE,
                county=Jurisdiction.objects.get(pk=pingcheng),
                summary="河长巡河发现排口旁新埋设暗管一处，雨后有浑浊污水排出，来源待查。",
                opened_on=today - timedelta(days=3),
                outfalls=[outfall] if outfall else [],
            )
            made.append(case)
        enterprise = users.filter(username="enterprise").first()
        if enterprise is not None:
            unit_ids = scope_of(enterprise).unit_ids
            outfall = services.reportable_outfalls(enterprise).order_by("code").first()
            if unit_ids and outfall is not None:
                services.submit_entity_report(
                    user=enterprise,
                    unit=DischargeUnit.objects.get(pk=min(unit_ids)),
                    outfall=outfall,
                    suspect="相邻洗车场（名称不详）",
                    description="夜间巡查发现本单位雨水排口有泡沫污水排出，本单位当时未生产，管网上游有外接管线。",
                    found_on=today - timedelta(days=1),
                )
        walked = _patrols(users.filter(username="river_chief").first(), today)
    stdout.write(f"执法监督：案件 {len(made)} 件，借道排污报告 1 件，巡河 {walked} 次\n")


def _patrols(chief, today):
    """Three patrols of the river chief's river, a month apart, each walking a different stretch."""
    if chief is None:
        return 0
    river = patrols.rivers_for(chief).exclude(geometry=None).order_by("code").first()
    county = Jurisdiction.objects.filter(code="140213").first() or patrols.counties_for(chief).first()
    if river is None or county is None:
        return 0
    lines = tracks_geo.track_lines(river.geometry)
    coords = max(lines, key=len) if lines else []
    if len(coords) < 4:
        return 0
    step = max(2, len(coords) // 3)
    made = 0
    for i, days_ago in enumerate((75, 45, 12)):
        piece = [[round(c[0], 7), round(c[1], 7)] for c in coords[i * step : (i + 1) * step + 1]]
        patrol = patrols.record_patrol(
            user=chief,
            water_body=river,
            county=county,
            patrolled_on=today - timedelta(days=days_ago),
            participants="孙工、河道巡查员王师傅",
            lines=[piece] if len(piece) >= 2 else None,
            note="沿河徒步巡查，查看排口出水和标识牌。",
        )
        made += 1
        if i == 2:
            outfall = Outfall.objects.filter(water_body=river).order_by("code").first()
            if outfall is not None:
                patrols.add_finding(
                    patrol,
                    user=chief,
                    outfall=outfall,
                    description="排口出水浑浊、有异味，标识牌缺失。",
                )
    return made
