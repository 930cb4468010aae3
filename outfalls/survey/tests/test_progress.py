"""Progress per jurisdiction (survey/progress.py) on constructed data: found, traced, fixed, overdue."""

import datetime
import io

import pytest
from openpyxl import load_workbook

from outfalls.core.choices import JurisdictionLevel, Milestone
from outfalls.core.models import Deadline, Jurisdiction
from outfalls.registry.choices import LifecycleStatus, ResponsibilityBasis
from outfalls.registry.models import DischargeUnit, Outfall, WaterBody
from outfalls.survey import progress
from outfalls.survey.choices import CaseStatus, PointOutcome
from outfalls.survey.models import Campaign, SuspectedPoint, TracingCase

D = datetime.date


@pytest.fixture
def county(db):
    city = Jurisdiction.objects.get(level=JurisdictionLevel.CITY)
    county = Jurisdiction.objects.create(
        code="140299", name="测试县", level=JurisdictionLevel.COUNTY, parent=city
    )
    water = WaterBody.objects.first()
    unit = DischargeUnit.objects.create(name="测试县某厂", county=county)

    def outfall(status, entity=None, basis=ResponsibilityBasis.UNKNOWN):
        return Outfall.objects.create(
            county=county,
            water_body=water,
            lon=113.3,
            lat=40.1,
            status=status,
            responsible_entity=entity,
            responsibility_basis=basis,
        )

    outfall(LifecycleStatus.VERIFIED)  # found only
    TracingCase.objects.create(outfall=outfall(LifecycleStatus.VERIFIED), status=CaseStatus.OPEN)
    outfall(LifecycleStatus.TRACED, unit, ResponsibilityBasis.TRACED)  # traced, fixed
    outfall(LifecycleStatus.KEPT, unit, ResponsibilityBasis.DECLARED)  # traced, fixed
    # A concluded case on an outfall still marked verified counts as traced, not as fixed.
    TracingCase.objects.create(outfall=outfall(LifecycleStatus.VERIFIED), status=CaseStatus.CONCLUDED)
    outfall(
        LifecycleStatus.SUSPECTED, unit, ResponsibilityBasis.UNKNOWN
    )  # an entity without basis: not fixed

    late = Campaign.objects.create(name="逾期任务", county=county, deadline=D(2023, 10, 31))
    SuspectedPoint.objects.create(
        campaign=late, number="1", lon=113.3, lat=40.1, outcome=PointOutcome.PENDING
    )
    SuspectedPoint.objects.create(
        campaign=late, number="2", lon=113.3, lat=40.1, outcome=PointOutcome.CONFIRMED
    )
    done = Campaign.objects.create(name="已结束任务", county=county, deadline=D(2023, 10, 31))
    SuspectedPoint.objects.create(
        campaign=done, number="1", lon=113.3, lat=40.1, outcome=PointOutcome.NOT_OUTFALL
    )
    future = Campaign.objects.create(name="未到期任务", county=county, deadline=D(2024, 6, 30))
    SuspectedPoint.objects.create(
        campaign=future, number="1", lon=113.3, lat=40.1, outcome=PointOutcome.ESCALATED
    )
    return county


def row_for(user, county, today):
    (row,) = [r for r in progress.progress_rows(user, today=today) if r.county == county]
    return row


def test_figures_before_and_after_the_baseline_deadline(county, demo_user):
    bureau = demo_user("bureau")
    # The city's default deadline applies (the demo loads the plan's 2023-12-31).
    before = row_for(bureau, county, D(2023, 9, 1))
    assert before.baseline_due == D(2023, 12, 31)
    assert (before.outfalls, before.traced, before.fixed, before.unfixed) == (6, 3, 2, 4)
    assert before.confirmed_points == 1
    assert before.open_cases == 1
    assert (before.overdue_outfalls, before.overdue_campaigns) == (0, 0)
    assert not before.overdue

    on_the_day = row_for(bureau, county, D(2023, 12, 31))
    assert on_the_day.overdue_outfalls == 0
    assert on_the_day.overdue_campaigns == 1  # the late campaign still has a pending point

    after = row_for(bureau, county, D(2024, 1, 1))
    assert after.overdue_outfalls == 4
    assert after.overdue

    # A county's own deadline wins over the city's default.
    Deadline.objects.create(milestone=Milestone.BASELINE, jurisdiction=county, due_date=D(2024, 3, 31))
    extended = row_for(bureau, county, D(2024, 1, 1))
    assert extended.baseline_due == D(2024, 3, 31)
    assert extended.overdue_outfalls == 0
    assert row_for(bureau, county, D(2024, 7, 1)).overdue_campaigns == 2


def test_county_officers_see_only_their_row(county, demo_user):
    rows = progress.progress_rows(demo_user("pingcheng"), today=D(2024, 1, 1))
    assert [r.county.code for r in rows] == ["140213"]
    expected = Outfall.objects.filter(county__code="140213").count()
    assert rows[0].outfalls == expected
    assert len(progress.progress_rows(demo_user("bureau"))) >= 12  # 10 counties, 经开区 and the test county


def test_exports(county, demo_user):
    rows = progress.progress_rows(demo_user("bureau"), today=D(2024, 1, 1))
    text = progress.as_csv(rows).decode("utf-8")
    assert text.startswith("\ufeff县区,台账排口数")
    assert "测试县,6,1,3,2,4,1,2023-12-31,4,1," in text
    assert text.strip().splitlines()[-1].startswith("合计,")
    wb = load_workbook(io.BytesIO(progress.as_xlsx(rows, today=D(2024, 1, 1))))
    ws = wb.active
    assert ws["A1"].value == "大同市入河排污口排查溯源工作进度（截至2024-01-01）"
    assert ws["A2"].value == "县区"
    # The counties, the total, a blank row, the sign-off line; printed with rows 1–2 on every page.
    names = [ws.cell(row=r, column=1).value for r in range(3, ws.max_row - 1)]
    assert "测试县" in names and names[-1] == "合计"
    assert ws.cell(row=ws.max_row, column=1).value.startswith("填报单位（盖章）：")
    assert ws.print_title_rows == "$1:$2" and ws.page_setup.orientation == "landscape"
    assert ws.cell(row=ws.max_row - 2, column=1).font.b  # the total


def test_query_count_does_not_grow_with_counties(county, demo_user, django_assert_max_num_queries):
    user = demo_user("bureau")
    with django_assert_max_num_queries(12):
        progress.progress_rows(user, today=D(2024, 1, 1))
