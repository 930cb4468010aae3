"""In two real Chromium contexts: the bureau and a county officer open the same outfall's form; the bureau
saves first; the officer's save is refused with what the bureau changed, keeping what the officer typed;
the officer's second save, after looking, goes through."""

import pytest
from django.conf import settings

from outfalls.registry.models import Outfall

from .browser import DESKTOP, chromium_contexts, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_second_save_over_a_change_made_meanwhile_is_refused_and_loses_nothing(demo_db, live_server):
    outfall = Outfall.objects.filter(county__code="140213").order_by("id").first()
    base = live_server.url
    edit = f"{base}/ledger/outfalls/{outfall.pk}/edit/"
    with chromium_contexts(2, **DESKTOP) as (bureau_context, county_context):
        bureau, county = bureau_context.new_page(), county_context.new_page()
        for page, name in ((bureau, "bureau"), (county, "pingcheng")):
            page.set_default_timeout(15000)
            login(page, base, name, settings.DEMO_PASSWORD)
            page.goto(edit)
        bureau.fill("#id_notes", "市局刚刚核实的备注")
        bureau.click("button:has-text('保存')")
        bureau.wait_for_selector("text=已保存")

        county.fill("#id_notes", "县区填写的备注")
        county.fill("#id_outlet_description", "县区补充的口门说明")
        county.click("button:has-text('保存')")
        county.wait_for_selector("text=保存未完成")
        alert = county.inner_text(".alert-danger")
        assert "您打开本页后" in alert and "备注：现为“市局刚刚核实的备注”" in alert
        assert county.input_value("#id_notes") == "县区填写的备注"  # nothing typed is lost
        assert county.input_value("#id_outlet_description") == "县区补充的口门说明"
        assert Outfall.objects.get(pk=outfall.pk).notes == "市局刚刚核实的备注"

        county.click("button:has-text('保存')")  # after looking: the officer's version stands
        county.wait_for_selector("text=已保存")
        saved = Outfall.objects.get(pk=outfall.pk)
        assert (saved.notes, saved.outlet_description) == ("县区填写的备注", "县区补充的口门说明")
