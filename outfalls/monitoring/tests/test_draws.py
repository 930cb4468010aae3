"""双随机一公开: pools from the ledger (class × county, a higher rate where a section fails its target), a draw
that anyone holding the audit file can redo (here with hashlib alone, as docs/monitoring.md shows), exclusions
never broken, the result secret until the inspection date (pages and API), then results and publication."""

import hashlib
import math
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from outfalls.core.choices import Role
from outfalls.core.models import Jurisdiction, Membership
from outfalls.core.services import issue_token
from outfalls.monitoring import draws
from outfalls.monitoring.choices import DrawStatus, SampleSource
from outfalls.monitoring.models import Draw, DrawItem, InspectorExclusion
from outfalls.registry.choices import ACTIVE
from outfalls.registry.models import DischargeUnit, Outfall, Section

from .helpers import record

COUNTY = "140213"  # 平城区
RATES = ["industrial_mining:0.25", "park_wwtp:0.25", "municipal_wwtp:0.5", "rural_facility:0.1"]


@pytest.fixture
def inspectors(db):
    """Three staff of the county (its roster, with the demo county user) and two of the city bureau."""
    county = Jurisdiction.objects.get(code=COUNTY)
    made = []
    for i in range(3):
        user = get_user_model().objects.create_user(f"inspector{i}", password="x", first_name=f"检查员{i}")
        Membership.objects.create(user=user, role=Role.COUNTY, jurisdiction=county)
        made.append(user)
    return county, made


@pytest.fixture
def rates(settings):
    settings.MONITORING_DRAW_RATES = RATES
    settings.MONITORING_DRAW_POOR_FACTOR = 2
    return settings


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def make(user, county, seed="公开的种子-2024Q2", **kwargs):
    return draws.create_draw(
        user=user,
        name="2024年第二季度抽查",
        period="2024年第二季度",
        inspection_date=tomorrow(),
        county=county,
        seed=seed,
        **kwargs,
    )


def test_pools_come_from_the_ledger_with_their_rates(inspectors, rates):
    county, _ = inspectors
    pools = draws.build_pools(county)
    for pool in pools:
        ledger = Outfall.objects.filter(county=county, type_level2=pool["class"], status__in=ACTIVE)
        assert sorted(pool["members"]) == sorted(ledger.values_list("pk", flat=True))
        rate = {"industrial_mining": 0.25, "park_wwtp": 0.25, "municipal_wwtp": 0.5, "rural_facility": 0.1}
        assert pool["count"] == max(math.ceil(rate[pool["class"]] * len(pool["members"])), 1)
    assert {p["class"] for p in pools} <= {
        "industrial_mining",
        "park_wwtp",
        "municipal_wwtp",
        "rural_facility",
    }


def test_a_county_with_a_failing_section_gets_a_higher_rate(inspectors, rates, demo_user):
    county, _ = inspectors
    before = {p["class"]: p for p in draws.build_pools(county)}
    section = Section.objects.filter(county=county, target_class__in=["II", "III"]).first()
    record(
        None,
        timezone.now() - timedelta(days=3),
        {"COD": 300, "NH3N": 20},
        source=SampleSource.SUPERVISORY,
        section=section,
    )
    after = {p["class"]: p for p in draws.build_pools(county)}
    industrial = after["industrial_mining"]
    assert industrial["rate"] == 0.5 and before["industrial_mining"]["rate"] == 0.25
    assert section.name in industrial["rate_reason"] and "提高至 50%" in industrial["rate_reason"]
    assert after["municipal_wwtp"]["rate"] == 1.0  # at most 100 %


def test_the_draw_is_reproducible_and_auditable(inspectors, rates, client_for, demo_user):
    county, _ = inspectors
    organiser = demo_user("pingcheng")
    draw = make(organiser, county)
    again = make(organiser, county)
    assert again.result == draw.result and again.digest == draw.digest
    other = make(organiser, county, seed="另一个种子")
    assert [i["outfall"] for i in other.result] != [i["outfall"] for i in draw.result]
    assert draws.verify(draw) == (True, [])
    assert (
        DrawItem.objects.filter(draw=draw).count() == len(draw.result) == sum(p["count"] for p in draw.pools)
    )

    # Anyone with the audit file redoes the targets with hashlib alone (the documented ranking).
    audit = client_for("pingcheng").get(f"/monitoring/draws/{draw.pk}/audit.json").json()
    redone = []
    for pool in sorted(audit["pools"], key=lambda p: (p["class"], p["county"])):

        def key(o, pool=pool):
            text = f"{audit['seed']}|target|{pool['class']}|{pool['county']}|{o}"
            return hashlib.sha256(text.encode()).hexdigest()

        redone += sorted(pool["members"], key=key)[: pool["count"]]
    assert redone == [item["outfall"] for item in audit["result"]]
    assert audit["digest"] == draws.digest_of({k: audit[k] for k in draws.audit_record(draw)})

    # A changed result or seed no longer verifies.
    Draw.objects.filter(pk=draw.pk).update(result=list(reversed(draw.result)))
    draw.refresh_from_db()
    ok, problems = draws.verify(draw)
    assert not ok and "按随机种子重新抽取的结果与保存的结果不一致。" in problems
    page = client_for("pingcheng").get(f"/monitoring/draws/{draw.pk}/").content.decode()
    assert "按随机种子重新抽取的结果与保存的结果不一致" in page


def test_an_inspector_never_meets_a_unit_they_are_excluded_from(inspectors, rates, demo_user):
    county, (first, second, third) = inspectors
    rates.MONITORING_DRAW_RATES = ["industrial_mining:1", "municipal_wwtp:1"]
    units = draws.units_behind(
        Outfall.objects.filter(county=county, type_level2__in=["industrial_mining", "municipal_wwtp"])
        .filter(status__in=ACTIVE)
        .values_list("pk", flat=True)
    )
    assert units, "the demo county has outfalls with units behind them"
    behind = {unit for ids in units.values() for unit in ids}
    for unit in DischargeUnit.objects.filter(pk__in=behind):
        InspectorExclusion.objects.create(inspector=first, unit=unit, reason="亲属在该单位工作")
    draw = make(demo_user("pingcheng"), county)
    for item in draw.result:
        assert len(item["inspectors"]) == 2
        if str(item["outfall"]) in units:
            assert first.pk not in item["inspectors"]
    assert [first.pk, min(behind)] in draw.exclusions
    # Excluding a second inspector leaves too few for those outfalls: the draw is refused and says why.
    for unit in DischargeUnit.objects.filter(pk__in=behind):
        InspectorExclusion.objects.create(inspector=second, unit=unit, reason="曾在该单位任职")
        InspectorExclusion.objects.create(
            inspector=demo_user("pingcheng"), unit=unit, reason="曾在该单位任职"
        )
    with pytest.raises(ValidationError) as error:
        make(demo_user("pingcheng"), county)
    assert "因回避关系凑不足 2 名检查人员" in error.value.message_dict["inspectors"][0]


def test_the_result_is_secret_until_the_inspection_date(inspectors, rates, client, demo_user):
    county, (first, _, _) = inspectors
    bureau = demo_user("bureau")
    for i in range(2):
        staff = get_user_model().objects.create_user(f"city{i}", password="x")
        Membership.objects.create(user=staff, role=Role.BUREAU)
    city_draw = draws.create_draw(
        user=bureau, name="全市抽查", period="2024年", inspection_date=tomorrow(), seed="s1"
    )
    item = DrawItem.objects.filter(draw=city_draw, outfall__county=county).first()
    item.inspectors.set([first])
    drawn_here = DrawItem.objects.filter(draw=city_draw, outfall__county=county).count()
    yunzhou = Jurisdiction.objects.get(code="140215")

    def seen(user):
        client.force_login(user)
        page = client.get(f"/monitoring/draws/{city_draw.pk}/").content.decode()
        token = issue_token(user, name="t")[1]
        api = (
            client.__class__(HTTP_AUTHORIZATION=f"Token {token}").get(f"/api/v1/draws/{city_draw.pk}/").json()
        )
        return page, api

    page, api = seen(demo_user("pingcheng"))  # county staff: the draw and its own pools, no target, no seed
    assert "抽取结果保密至检查日期" in page and 'data-testid="items"' not in page
    assert api["items"] == [] and api["seed"] == "" and api["confidential"]
    assert {p["county_name"] for p in api["pools"]} == {"平城区"} and "云州区" not in page
    assert client.get(f"/monitoring/draws/{city_draw.pk}/audit.json").status_code == 404
    page, api = seen(first)  # an inspector: only their own item
    assert [i["outfall"] for i in api["items"]] == [item.outfall.code] and api["seed"] == ""
    page, api = seen(bureau)  # the organiser: everything
    assert len(api["items"]) == len(city_draw.result) and api["seed"] == "s1" and api["verified"]
    assert {p["county_name"] for p in api["pools"]} >= {"平城区", yunzhou.name}
    client.force_login(demo_user("enterprise"))
    assert client.get(f"/monitoring/draws/{city_draw.pk}/").status_code == 404
    with pytest.raises(ValidationError):
        draws.publish(city_draw, user=bureau)

    # The date comes: county staff see the items in their county; results, then publication.
    Draw.objects.filter(pk=city_draw.pk).update(inspection_date=timezone.localdate())
    city_draw.refresh_from_db()
    page, api = seen(demo_user("pingcheng"))
    assert len(api["items"]) == drawn_here and api["seed"] == ""
    assert {i["outfall"] for i in api["items"]} <= set(
        Outfall.objects.filter(county=county).values_list("code", flat=True)
    )
    with pytest.raises(ValidationError) as error:
        draws.publish(city_draw, user=bureau)
    assert "未记录检查结果" in error.value.messages[0]
    sample, _ = record(
        item.outfall,
        timezone.now() - timedelta(minutes=5),
        {"COD": 20},
        source=SampleSource.RANDOM,
        draw_item=item,
        user=first,
    )
    for each in city_draw.items.all():
        draws.record_result(each, user=bureau, result="compliant", note="现场检查正常")
    draws.publish(city_draw, user=bureau)
    city_draw.refresh_from_db()
    assert city_draw.status == DrawStatus.PUBLISHED
    public = [
        r for r in draws.published_results() if r.draw == "全市抽查" and r.outfall_code == item.outfall.code
    ]
    assert public[0].result == "达标" and public[0].values.startswith("化学需氧量 20")


def test_draws_over_the_page_and_the_api(inspectors, rates, client_for, demo_user):
    county, _ = inspectors
    client = client_for("pingcheng")
    response = client.post(
        "/monitoring/draws/",
        {
            "name": "平城区抽查",
            "period": "2024年",
            "inspection_date": tomorrow().isoformat(),
            "county": county.pk,
        },
    )
    assert response.status_code == 302
    draw = Draw.objects.get(name="平城区抽查")
    assert draw.county == county and len(draw.seed) == 32  # a generated seed
    assert "复核通过" in client.get(response.url).content.decode()
    past = client.post(
        "/monitoring/draws/",
        {
            "name": "x",
            "inspection_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "county": county.pk,
        },
    )
    assert past.status_code == 400 and "检查日期不能早于今天" in past.content.decode()
    token = issue_token(demo_user("yunzhou"), name="t")[1]
    api = client.__class__(HTTP_AUTHORIZATION=f"Token {token}")
    refused = api.post(
        "/api/v1/draws/",
        {"name": "越权", "inspection_date": tomorrow().isoformat(), "county": COUNTY},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert draw.pk not in [d["id"] for d in api.get("/api/v1/draws/").json()["results"]]
    token = issue_token(demo_user("pingcheng"), name="t")[1]
    api = client.__class__(HTTP_AUTHORIZATION=f"Token {token}")
    made = api.post(
        "/api/v1/draws/",
        {"name": "接口抽查", "inspection_date": tomorrow().isoformat(), "county": COUNTY, "seed": "abc"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["seed"] == "abc" and made.json()["verified"]
