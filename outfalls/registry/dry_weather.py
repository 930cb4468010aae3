"""Dry-weather flow at storm outfalls (城镇雨洪排口旱天污水直排, 实施方案（十）): evidence from any app, and the
request that opens (or adds to) a tracing case, without registry or those apps importing each other.

- An app config's ``dry_weather_observations(outfall_ids, since)`` returns ``[Observation]``: flow seen in dry
  weather at those outfalls (the survey app: field checks; the monitoring app: samples and online flow).
- An app config's ``request_tracing(outfall, *, user, reason, evidence)`` opens a tracing case with the evidence,
  or adds it to the outfall's case (the survey app), and returns a ``TracingRequest``; ``user`` None means the
  platform itself (a scheduled scan).

``observations`` and ``request_tracing`` here ask them; the monitoring app's scan (monitoring/dry_weather.py)
puts the two together.
"""

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class Observation:
    outfall_id: int
    observed_at: object  # aware datetime
    source: str  # "field_check", "sample", "online"
    key: str  # stable identity of the evidence, e.g. "field_check:12"
    evidence: str  # Chinese text for the case


@dataclass(frozen=True)
class TracingRequest:
    opened: bool  # a new case was opened (False: evidence added to an existing one)
    text: str  # what was done, in Chinese
    url: str = ""  # the case's page


def observations(outfall_ids, since=None):
    """Every provider's observations for these outfalls (since a time, if given), oldest first."""
    ids = sorted({int(i) for i in outfall_ids})
    found = []
    if not ids:
        return found
    for config in apps.get_app_configs():
        hook = getattr(config, "dry_weather_observations", None)
        if callable(hook):
            found.extend(hook(ids, since) or [])
    return sorted(found, key=lambda o: (o.observed_at, o.key))


def request_tracing(outfall, *, user, reason, evidence):
    """Ask the app that keeps tracing cases to open one (or add to it); None when no app does."""
    for config in apps.get_app_configs():
        hook = getattr(config, "request_tracing", None)
        if callable(hook):
            return hook(outfall, user=user, reason=reason, evidence=evidence)
    return None
