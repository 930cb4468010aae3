"""What the setup review and monitoring publish on the portal through portal/providers.py: the decision and
the monitoring status on a disclosed outfall's public page, decisions and published 双随机 results among the
notices; withholding a decision takes it off the (cached) pages at once."""

import pytest
from django.urls import reverse
from django.utils import timezone

from outfalls.monitoring.choices import DrawStatus, FindingKind
from outfalls.monitoring.models import Draw, Finding, Sample
from outfalls.permits import services as permit_services
from outfalls.permits.models import Decision
from outfalls.registry.services import set_disclosure

pytestmark = pytest.mark.django_db


def page(client, name, *args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_a_public_decision_shows_on_its_outfall_and_in_the_notices_until_withheld(
    client, demo_user, settings
):
    settings.PORTAL_CACHE_SECONDS = 300
    bureau = demo_user("bureau")
    decision = (
        Decision.objects.filter(public=True, application__outfall__isnull=False)
        .exclude(number="")
        .order_by("pk")
        .first()
    )
    assert decision is not None, "the demo has a public decision on a ledger outfall"
    outfall = decision.application.outfall
    set_disclosure([outfall.pk], user=bureau, disclose=True, reason="公开")
    outfall.refresh_from_db()
    assert outfall.disclosed

    shown = page(client, "portal:outfall", outfall.code)
    assert "决定机关" in shown and decision.get_outcome_display() in shown
    assert decision.number in shown
    notices = page(client, "portal:notices")
    assert "设置审核决定" in notices and decision.number in notices
    assert reverse("portal:outfall", args=[outfall.code]) in notices
    assert decision.application.applicant.name in notices

    # Withheld: gone from both pages at once, although they were cached.
    permit_services.withhold(decision, user=bureau, reason="涉及国家秘密")
    # (The ledger's own 审批或登记文号 stays among the outfall's public fields; the decision's panel goes.)
    assert "决定机关" not in page(client, "portal:outfall", outfall.code)
    assert decision.number not in page(client, "portal:notices")


def test_the_monitoring_status_and_published_draws_are_public(client, demo_user, settings):
    settings.PORTAL_CACHE_SECONDS = 300
    over = Finding.objects.filter(kind=FindingKind.EXCEEDANCE, outfall__isnull=False).order_by("pk").first()
    assert over is not None, "the demo has an exceedance"
    outfall = over.outfall
    set_disclosure([outfall.pk], user=demo_user("bureau"), disclose=True, reason="公开")
    latest = Sample.objects.filter(outfall=outfall).order_by("-sampled_at").first()
    shown = page(client, "portal:outfall", outfall.code)
    assert "监测与超标" in shown
    assert f"{timezone.localtime(latest.sampled_at):%Y-%m-%d}" in shown
    assert over.parameter.name in shown and "未发现超标" not in shown

    notices = page(client, "portal:notices")
    published = Draw.objects.filter(status=DrawStatus.PUBLISHED)
    for draw in Draw.objects.all():
        assert (f"{draw.name}（{draw.period}）" in notices) == published.filter(pk=draw.pk).exists()
    # The seed of a draw is never on the public side.
    for draw in Draw.objects.all():
        assert draw.seed not in notices
