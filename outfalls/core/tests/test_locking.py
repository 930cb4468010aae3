"""Optimistic locking (core.locking): a second person's save over a record changed meanwhile is refused with
what changed, keeping what they typed; a second save after looking is deliberate and goes through."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from outfalls.core.locking import STALE, claim_version
from outfalls.registry import services
from outfalls.registry.models import DischargeUnit, Outfall
from outfalls.registry.tests.test_pages import form_data as outfall_data

pytestmark = pytest.mark.django_db


def pingcheng_outfall():
    return Outfall.objects.filter(county__code="140213", status="verified").order_by("id").first()


def test_claim_is_one_conditional_update(demo_user):
    outfall = pingcheng_outfall()
    version = outfall.version
    claim_version(outfall, version)
    assert Outfall.objects.get(pk=outfall.pk).version == version + 1 == outfall.version
    with pytest.raises(ValidationError) as refusal:
        claim_version(Outfall.objects.get(pk=outfall.pk), version, sent={"notes": "x"})
    assert refusal.value.code == STALE
    assert Outfall.objects.get(pk=outfall.pk).version == version + 1  # nothing changed


def test_a_stale_service_save_names_who_and_what_and_saves_nothing(demo_user):
    bureau, county = demo_user("bureau"), demo_user("pingcheng")
    outfall = pingcheng_outfall()
    opened = outfall.version
    first = Outfall.objects.get(pk=outfall.pk)
    first.notes = "第一人的备注"
    services.save_outfall(first, user=bureau, expected_version=opened, sent={"notes": "第一人的备注"})
    second = Outfall.objects.get(pk=outfall.pk)
    second.notes, second.section_interval = "第二人的备注", "第二人的区间"
    with pytest.raises(ValidationError) as refusal:
        services.save_outfall(
            second,
            user=county,
            expected_version=opened,
            sent={"notes": "第二人的备注", "section_interval": "第二人的区间"},
        )
    message = refusal.value.messages[0]
    assert "bureau" in message or bureau.get_full_name() in message
    assert "备注：现为“第一人的备注”" in message
    assert Outfall.objects.get(pk=outfall.pk).notes == "第一人的备注"


def test_every_other_writer_makes_an_open_form_stale(demo_user):
    """A workflow step (set_outfall_state) or an import's update bumps the version like a form does."""
    from outfalls.registry.choices import LifecycleStatus, Workflow

    outfall = Outfall.objects.filter(county__code="140213", status=LifecycleStatus.SUSPECTED).first()
    opened = outfall.version
    services.change_status(outfall, LifecycleStatus.VERIFIED, user=demo_user("pingcheng"), reason="核实")
    assert Outfall.objects.get(pk=outfall.pk).version == opened + 1
    assert Workflow.LEDGER  # the generic step is a workflow write too
    stale = Outfall.objects.get(pk=outfall.pk)
    with pytest.raises(ValidationError):
        services.save_outfall(stale, user=demo_user("pingcheng"), expected_version=opened, sent={})


def post_twice(client_a, client_b, url, data_a, data_b):
    """Both open the form, A saves, then B saves what B typed."""
    page_a, page_b = client_a.get(url), client_b.get(url)
    version = page_a.context["form"]["version"].value()
    assert page_b.context["form"]["version"].value() == version
    first = client_a.post(url, {**data_a, "version": version})
    assert first.status_code == 302
    return client_b.post(url, {**data_b, "version": version})


def clients(client_for, django_client_factory, first, second):
    from django.contrib.auth import get_user_model

    a = client_for(first)
    b = django_client_factory()
    b.force_login(get_user_model().objects.get(username=second))
    return a, b


@pytest.fixture
def django_client_factory():
    from django.test import Client

    return Client


def test_two_people_on_the_outfall_form(client_for, django_client_factory):
    a, b = clients(client_for, django_client_factory, "bureau", "pingcheng")
    outfall = pingcheng_outfall()
    url = reverse("registry:outfall_edit", args=[outfall.pk])
    stale = post_twice(
        a, b, url, outfall_data(outfall, notes="市局改的"), outfall_data(outfall, notes="县区改的")
    )
    assert stale.status_code == 400
    body = stale.content.decode()
    assert "保存未完成：您打开本页后" in body and "备注：现为“市局改的”" in body
    assert "县区改的" in body  # what B typed is kept
    assert Outfall.objects.get(pk=outfall.pk).notes == "市局改的"
    form = stale.context["form"]
    current = Outfall.objects.get(pk=outfall.pk).version
    assert str(form["version"].value()) == str(current)  # the next save is deliberate
    again = b.post(url, {**outfall_data(outfall, notes="县区改的"), "version": form["version"].value()})
    assert again.status_code == 302
    assert Outfall.objects.get(pk=outfall.pk).notes == "县区改的"


def test_two_people_on_the_unit_form(client_for, django_client_factory):
    from outfalls.maps.tests.test_forms import unit_data

    a, b = clients(client_for, django_client_factory, "bureau", "pingcheng")
    unit = DischargeUnit.objects.filter(county__code="140213").order_by("id").first()
    url = reverse("registry:unit_edit", args=[unit.pk])
    stale = post_twice(a, b, url, unit_data(unit, contact="张三"), unit_data(unit, contact="李四"))
    assert stale.status_code == 400 and "联系人：现为“张三”" in stale.content.decode()
    assert DischargeUnit.objects.get(pk=unit.pk).contact == "张三"


def test_two_people_on_the_plan_form(client_for, django_client_factory, demo_user):
    from outfalls.remediation.choices import PlanStatus
    from outfalls.remediation.models import RectificationPlan

    a, b = clients(client_for, django_client_factory, "bureau", "pingcheng")
    plan = (
        RectificationPlan.objects.filter(outfall__county__code="140213", status=PlanStatus.IN_PROGRESS)
        .order_by("id")
        .first()
    )
    url = reverse("remediation:plan_edit", args=[plan.pk])
    page = a.get(url)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None and k != "version"}
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    stale = post_twice(a, b, url, {**data, "actions": "市局改的措施"}, {**data, "actions": "县区改的措施"})
    assert stale.status_code == 400 and "现为“市局改的措施”" in stale.content.decode()
    assert RectificationPlan.objects.get(pk=plan.pk).actions == "市局改的措施"


def test_two_people_on_the_campaign_form(client_for, django_client_factory):
    from outfalls.survey.models import Campaign

    a, b = clients(client_for, django_client_factory, "bureau", "pingcheng")
    campaign = Campaign.objects.filter(county__code="140213").order_by("id").first()
    url = reverse("survey:campaign_edit", args=[campaign.pk])
    form = a.get(url).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name == "version" or value in (None, ""):
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    stale = post_twice(a, b, url, {**data, "name": "市局改的名称"}, {**data, "name": "县区改的名称"})
    assert stale.status_code == 400 and "现为“市局改的名称”" in stale.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).name == "市局改的名称"
