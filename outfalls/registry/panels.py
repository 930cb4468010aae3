"""Panels other apps add to an outfall's file (一口一档) without registry importing them.

An app's AppConfig may define ``outfall_panel(outfall, user)`` returning None or a dict with a ``template`` key
(and whatever that template needs). The outfall page renders each in app order. Discovery, not imports:
registry sits below the workflow apps (DESIGN.md, Layout).
"""

from django.apps import apps


def outfall_panels(outfall, user):
    panels = []
    for config in apps.get_app_configs():
        hook = getattr(config, "outfall_panel", None)
        if hook is not None:
            panel = hook(outfall, user)
            if panel:
                panels.append(panel)
    return panels
