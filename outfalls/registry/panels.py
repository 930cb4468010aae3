"""What other apps add to the registry's pages and readers, without registry (or another workflow app) importing
them: discovery through AppConfig hooks, as registry sits below the workflow apps (DESIGN.md, Layout).

- ``outfall_panel(outfall, user)``: None or a dict with a ``template`` key (and whatever that template needs);
  the outfall's file (一口一档) renders each in app order.
- ``supervision_panel(user, today)``: None or such a dict for the supervision page (督办): follow-ups of a
  workflow (the setup review's overdue applications and expiring conditions); the page renders each.

Limits and self-monitoring duties have their own hook, registry/limits.py (read by the monitoring app).
"""

from django.apps import apps


def _hooks(name):
    for config in apps.get_app_configs():
        hook = getattr(config, name, None)
        if hook is not None:
            yield hook


def outfall_panels(outfall, user):
    return [panel for hook in _hooks("outfall_panel") if (panel := hook(outfall, user))]


def supervision_panels(user, today):
    return [panel for hook in _hooks("supervision_panel") if (panel := hook(user, today))]
