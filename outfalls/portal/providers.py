"""What other apps add to the public pages, found through their AppConfigs (as registry/panels.py does for the
outfall's file), so that the setup decisions (设置审核, issue 12) and the 双随机 results and monitoring (issue
13) appear on the portal when those apps are installed, without the portal knowing them in advance.

- ``public_outfall_panel(outfall)``: None or {"title": str, "rows": [(label, text), ...]} shown on the
  outfall's public page (e.g. the setup decision, the latest monitoring and exceedance status). Only text
  the public may read: the provider answers for it.
- ``public_data_version()``: a short string that changes whenever what the app publishes changes (the
  portal's cache key includes it: portal/caching.py).
- ``public_notices()``: an iterable of dicts {"kind": str (e.g. 设置审核决定, 双随机抽查结果), "title": str,
  "date": date, "body": str, "outfall_code": str or ""} published by that app, newest first.

The portal itself provides the approved close-outs (销号) of disclosed outfalls (remediation), which exist
today.
"""

from django.apps import apps

from outfalls.registry.disclosure import public_outfalls
from outfalls.remediation.choices import PlanStatus
from outfalls.remediation.models import RectificationPlan


def outfall_panels(outfall):
    panels = []
    for config in apps.get_app_configs():
        hook = getattr(config, "public_outfall_panel", None)
        if hook is not None:
            panel = hook(outfall)
            if panel:
                panels.append(panel)
    return panels


def closeout_notices(limit=100):
    plans = (
        RectificationPlan.objects.filter(
            status=PlanStatus.APPROVED, outfall__in=public_outfalls().values("pk")
        )
        .select_related("outfall")
        .order_by("-approved_at")[:limit]
    )
    return [
        {
            "kind": "整治销号",
            "title": f"{plan.outfall.name}（{plan.get_measure_display()}）销号",
            "date": plan.approved_at.date(),
            "body": "",
            "outfall_code": plan.outfall.code,
        }
        for plan in plans
    ]


def notices(limit=100):
    """Every published notice, newest first: the close-outs and what installed apps publish."""
    items = closeout_notices(limit)
    for config in apps.get_app_configs():
        hook = getattr(config, "public_notices", None)
        if hook is not None:
            items.extend(hook())
    items.sort(key=lambda item: item["date"], reverse=True)
    return items[:limit]


def data_versions():
    """Each installed app's ``public_data_version()``, in app order."""
    return [
        str(config.public_data_version())
        for config in apps.get_app_configs()
        if getattr(config, "public_data_version", None) is not None
    ]
