"""Disclosure decided in the platform: the rules by status and type, the bureau's decisions (who, when, why,
with history and status-change rows), the ledger's bulk action and who may use it, the rules followed when the
state changes, and the one public-field list that never holds private fields."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from outfalls.core.models import StatusChange
from outfalls.core.services import status_changes_for
from outfalls.maps import gis_features
from outfalls.registry import disclosure, services
from outfalls.registry.choices import DisclosureBasis, DisclosureState, LifecycleStatus
from outfalls.registry.demo.apply import DEMO_PUBLISHED_REASON, DEMO_WITHHELD_REASON
from outfalls.registry.models import Outfall

pytestmark = pytest.mark.django_db
S = LifecycleStatus
PINGCHENG = "140213"


def test_demo_discloses_by_the_rules_and_a_few_decisions():
    rule = Outfall.objects.filter(disclosure_basis=DisclosureBasis.RULE)
    public_states = {S.KEPT, S.RECTIFYING}
    assert rule.filter(status__in=public_states, disclosed=False).count() == 0
    assert rule.exclude(status__in=public_states).filter(disclosed=True).count() == 0
    total = Outfall.objects.count()
    public = Outfall.objects.filter(disclosed=True).count()
    assert 0.1 * total < public < 0.9 * total  # a realistic part of the ledger, not all, not none
    decided = Outfall.objects.filter(disclosure_basis=DisclosureBasis.DECISION)
    assert decided.filter(disclosed=False, status__in=public_states, disclosure_reason=DEMO_WITHHELD_REASON)
    assert decided.filter(disclosed=True, status=S.VERIFIED, disclosure_reason=DEMO_PUBLISHED_REASON)
    assert not decided.filter(disclosure_decided_by=None).exists()


def test_bureau_decides_with_reason_history_and_status_change(demo_user):
    bureau = demo_user("bureau")
    outfall = Outfall.objects.filter(disclosed=False, disclosure_basis=DisclosureBasis.RULE).first()
    with pytest.raises(ValidationError) as error:
        services.set_disclosure([outfall.pk], user=bureau, disclose=True, reason=" ")
    assert "理由" in str(error.value)
    version = outfall.version
    assert services.set_disclosure([outfall.pk], user=bureau, disclose=True, reason="公众关注") == 1
    outfall.refresh_from_db()
    assert outfall.disclosed and outfall.disclosure_basis == DisclosureBasis.DECISION
    assert outfall.disclosure_decided_by == bureau and outfall.disclosure_decided_at is not None
    assert outfall.version == version + 1
    row = status_changes_for(outfall).filter(field="disclosed").first()
    assert (row.from_value, row.to_value, row.changed_by, row.reason) == (
        DisclosureState.WITHHELD,
        DisclosureState.PUBLIC,
        bureau,
        "公众关注",
    )
    latest = outfall.history.first()
    assert latest.history_user == bureau and latest.disclosed
    # Back to the rules: a verified outfall is not public by them.
    services.set_disclosure([outfall.pk], user=bureau, disclose=None)
    outfall.refresh_from_db()
    assert outfall.disclosure_basis == DisclosureBasis.RULE
    assert outfall.disclosed == disclosure.rule_discloses(outfall.status, outfall.type_code)


@pytest.mark.parametrize("username", ["pingcheng", "chengguan", "enterprise", "river_chief", "auditor"])
def test_only_the_city_bureau_decides(demo_user, username):
    outfall = Outfall.objects.filter(county__code=PINGCHENG).first()
    with pytest.raises(PermissionDenied):
        services.set_disclosure([outfall.pk], user=demo_user(username), disclose=True, reason="x")


def test_a_state_change_follows_the_rules_unless_decided(demo_user, settings):
    settings.DISCLOSURE_STATUSES = ["verified"]
    bureau = demo_user("bureau")
    first, second = Outfall.objects.filter(status=S.SUSPECTED, disclosed=False)[:2]
    services.set_disclosure([second.pk], user=bureau, disclose=False, reason="暂不公开")
    for outfall in (first, second):
        services.change_status(outfall, S.VERIFIED, user=bureau, reason="现场核实")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.disclosed and first.disclosure_basis == DisclosureBasis.RULE
    assert not second.disclosed  # a decision stays
    assert status_changes_for(first).filter(field="disclosed", to_value=DisclosureState.PUBLIC).exists()
    # Type rules: only these type codes.
    settings.DISCLOSURE_TYPE_CODES = ["GY"]
    assert disclosure.rule_discloses("verified", "GY") and not disclosure.rule_discloses("verified", "SH")
    services.apply_disclosure_rules(Outfall.objects.filter(pk=first.pk))
    first.refresh_from_db()
    assert first.disclosed == (first.type_code == "GY")


def test_ledger_bulk_action_ticked_rows_and_current_filter(client_for):
    client = client_for("bureau")
    page = client.get(reverse("registry:outfall_list"), {"county": PINGCHENG})
    assert 'data-testid="disclosure-form"' in page.content.decode()
    ids = list(
        Outfall.objects.filter(county__code=PINGCHENG, disclosed=False).values_list("pk", flat=True)[:3]
    )
    response = client.post(
        reverse("registry:outfall_disclosure"),
        {
            "action": "public",
            "target": "selected",
            "reason": "批量公开",
            "ids": ids,
            "filter": "county=140213",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?county=140213")
    assert Outfall.objects.filter(pk__in=ids, disclosed=True).count() == 3
    # The whole filter: 平城区's 雨洪排口 withheld, nothing else touched.
    others_before = set(Outfall.objects.exclude(county__code=PINGCHENG).values_list("pk", "disclosed"))
    client.post(
        reverse("registry:outfall_disclosure"),
        {
            "action": "withheld",
            "target": "filter",
            "reason": "核实中",
            "filter": "county=140213&type_code=YH",
        },
    )
    chosen = Outfall.objects.filter(county__code=PINGCHENG, type_code="YH")
    assert chosen.exists() and not chosen.filter(disclosed=True).exists()
    assert (
        set(Outfall.objects.exclude(county__code=PINGCHENG).values_list("pk", "disclosed")) == others_before
    )
    assert StatusChange.objects.filter(field="disclosed", reason="核实中").count() > 0
    # No reason for a decision: nothing changes, a Chinese message says why.
    response = client.post(
        reverse("registry:outfall_disclosure"),
        {"action": "public", "target": "filter", "reason": "", "filter": "county=140213&type_code=YH"},
        follow=True,
    )
    assert "请填写公开或不公开的理由" in response.content.decode()
    assert not chosen.filter(disclosed=True).exists()


@pytest.mark.parametrize("username", ["pingcheng", "auditor"])
def test_ledger_bulk_action_refused_to_others(client_for, username):
    client = client_for(username)
    page = client.get(reverse("registry:outfall_list"))
    assert 'data-testid="disclosure-form"' not in page.content.decode()
    outfall = Outfall.objects.filter(county__code=PINGCHENG, disclosed=False).first()
    response = client.post(
        reverse("registry:outfall_disclosure"),
        {"action": "public", "target": "selected", "reason": "x", "ids": [outfall.pk]},
    )
    assert response.status_code == 403
    outfall.refresh_from_db()
    assert not outfall.disclosed


def test_one_public_field_list_for_every_public_use():
    never = set(disclosure.NEVER_PUBLIC["outfall"])
    assert not disclosure.PUBLIC_FIELD_NAMES & never
    # The anonymous OGC attributes read only public fields, and every public field that the GIS layer has.
    for key in gis_features.PUBLIC_KEYS:
        assert set(gis_features.SOURCES[key]) <= disclosure.PUBLIC_FIELD_NAMES
    assert {"entity", "outlet", "resp_basis", "disclosed"}.isdisjoint(gis_features.PUBLIC_KEYS)
    outfall = disclosure.public_queryset().first()
    assert list(disclosure.public_record(outfall)) == [name for name, _ in disclosure.PUBLIC_FIELDS]


def test_outfall_page_shows_who_decided(client_for, demo_user):
    outfall = Outfall.objects.filter(disclosure_basis=DisclosureBasis.DECISION).first()
    page = (
        client_for("city_admin").get(reverse("registry:outfall_detail", args=[outfall.pk])).content.decode()
    )
    assert "人工决定" in page and outfall.disclosure_reason in page
