"""The shared-outfall finding (实施方案（七）：共用排污口 each unit's share "在排污许可证中载明"): an outfall several units
share is a finding until a permit in force of every linked unit covers it with the unit's share stated."""

from datetime import timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from outfalls.permits.models import DischargePermit, PermitOutfall
from outfalls.permits.permit_services import save_permit, shared_outfalls_without_share
from outfalls.registry.choices import LinkRole
from outfalls.registry.models import Outfall, OutfallUnitLink

pytestmark = pytest.mark.django_db


def a_shared_outfall():
    """A demo outfall with an owner and a sharing unit, each with a credit code; its permit entries removed."""
    candidates = (
        Outfall.objects.filter(unit_links__role=LinkRole.SHARES)
        .annotate(units=Count("unit_links"))
        .filter(units__gte=2)
        .order_by("code")
    )
    for outfall in candidates:
        links = list(
            OutfallUnitLink.objects.filter(outfall=outfall, role__in=(LinkRole.OWNER, LinkRole.SHARES))
            .select_related("unit")
            .order_by("role", "unit__credit_code")
        )
        if len(links) >= 2 and all(link.unit.credit_code for link in links):
            PermitOutfall.objects.filter(outfall=outfall).delete()
            return outfall, [link.unit for link in links]
    raise AssertionError("the demo has no shared outfall with two coded units")


def permit_for(unit, outfall, serial, **share):
    today = timezone.localdate()
    DischargePermit.objects.filter(unit=unit, number__endswith=serial).delete()
    fields = {
        "number": f"{unit.credit_code}{serial}",
        "unit": unit,
        "valid_from": today - timedelta(days=10),
        "valid_until": today + timedelta(days=1000),
    }
    return save_permit(fields, [{"outfall": outfall, "outlet_code": "DW009", **share}], user=None)


def missing(user, outfall):
    found = {f.outfall.pk: f for f in shared_outfalls_without_share(user)}
    if outfall.pk not in found:
        return None
    return {(unit.pk, why) for unit, why in found[outfall.pk].missing}


def test_a_shared_outfall_is_a_finding_until_every_unit_states_its_share(demo_user):
    bureau = demo_user("bureau")
    outfall, units = a_shared_outfall()
    first, second = units[0], units[1]
    assert missing(bureau, outfall) >= {
        (first.pk, "无有效许可证覆盖该排口"),
        (second.pk, "无有效许可证覆盖该排口"),
    }

    permit_for(first, outfall, "801P", share_percent=70)
    permit_for(second, outfall, "802P")  # covers it, states no share
    assert (first.pk, "无有效许可证覆盖该排口") not in missing(bureau, outfall)
    assert (second.pk, "许可证未载明份额") in missing(bureau, outfall)

    for extra in units[2:]:
        permit_for(extra, outfall, "803P", share_note="按排水量分担")
    permit_for(second, outfall, "802P", share_note="按排水量分担 30%")
    assert missing(bureau, outfall) is None


def test_the_findings_page_is_scoped(client_for, demo_user):
    outfall, _ = a_shared_outfall()
    for username in ("bureau", "pingcheng", "yunzhou", "enterprise"):
        user = demo_user(username)
        page = client_for(username).get(reverse("permits:shared_findings"))
        assert page.status_code == 200
        rows = page.context["rows"]
        seen = set(Outfall.objects.visible_to(user).values_list("pk", flat=True))
        assert {f.outfall.pk for f in rows} <= seen, username
        assert (outfall.pk in {f.outfall.pk for f in rows}) == (outfall.pk in seen), username
