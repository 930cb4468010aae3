"""Permitted limits and self-monitoring duties per outfall, from whichever app knows them (the permits app),
without registry importing it.

A provider is any object with one or both of these methods; app configs are providers when they define them
(discovery, as registry/panels.py does), and ``register(provider)`` adds another (tests, a data feed):

- ``outfall_limits(outfall_ids)`` → ``{outfall_id: [Limit, ...]}``: the limits a permit (or a setup approval)
  sets for an outfall's parameters;
- ``outfall_monitoring_duties(outfall_ids)`` → ``{outfall_id: [MonitoringDuty, ...]}``: the self-monitoring the
  responsible entity must do (parameter and frequency), e.g. from its discharge permit.

Parameters are named by the monitoring library's codes (``COD``, ``NH3N``, ``TP``, ``TN``, ``pH``, ``BOD5``,
``SS``, ``DO``, ``CODMn``, ``FLOW``, ``TEMP``; docs/monitoring.md lists them). The monitoring app applies a
permit's limit where one exists and the standard that fits the outfall's type and receiving water otherwise
(monitoring/limits.py); an outfall with duties and too few self-monitoring samples is a finding.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps


class LimitKind:
    """How a value is compared with a limit (the monitoring app's LimitKind has the same values)."""

    MAX = "max"  # value ≤ upper
    MIN = "min"  # value ≥ lower (dissolved oxygen)
    RANGE = "range"  # lower ≤ value ≤ upper (pH)
    DAILY_MEAN = "daily_mean"  # the day's mean ≤ upper


class Frequency:
    """How often a self-monitoring duty asks for a sample (the monitoring app's DutyFrequency)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"
    ONLINE = "online"  # automatic monitoring: a value every hour


@dataclass(frozen=True)
class Limit:
    parameter: str  # the monitoring library's parameter code
    kind: str  # LimitKind
    upper: float | None = None
    lower: float | None = None
    unit: str = "mg/L"
    averaging: str = ""  # e.g. "日均值", "瞬时值"
    source: str = ""  # where it comes from, in Chinese: "排污许可证 91…001P"


@dataclass(frozen=True)
class MonitoringDuty:
    parameter: str
    frequency: str  # Frequency
    source: str = ""


_REGISTERED = []


def register(provider):
    """Add a provider that is not an app config; returns it."""
    _REGISTERED.append(provider)
    return provider


def unregister(provider):
    if provider in _REGISTERED:
        _REGISTERED.remove(provider)


@contextmanager
def registered(provider):
    """Use a provider for the duration of a block (tests)."""
    register(provider)
    try:
        yield provider
    finally:
        unregister(provider)


def _providers(method):
    for config in apps.get_app_configs():
        if callable(getattr(config, method, None)):
            yield getattr(config, method)
    for provider in list(_REGISTERED):
        if callable(getattr(provider, method, None)):
            yield getattr(provider, method)


def _collect(method, outfall_ids):
    ids = [int(i) for i in outfall_ids]
    found = {}
    if not ids:
        return found
    for hook in _providers(method):
        for outfall_id, items in (hook(ids) or {}).items():
            found.setdefault(outfall_id, []).extend(items)
    return found


def permit_limits(outfall_ids):
    """{outfall_id: {parameter code: Limit}} from every provider; the first provider's limit for a parameter wins
    (providers come in app order, then registration order)."""
    limits = {}
    for outfall_id, items in _collect("outfall_limits", outfall_ids).items():
        per_parameter = limits.setdefault(outfall_id, {})
        for limit in items:
            per_parameter.setdefault(limit.parameter, limit)
    return limits


def monitoring_duties(outfall_ids):
    """{outfall_id: [MonitoringDuty]} from every provider (one duty per parameter and frequency)."""
    duties = {}
    for outfall_id, items in _collect("outfall_monitoring_duties", outfall_ids).items():
        seen, kept = set(), []
        for duty in items:
            key = (duty.parameter, duty.frequency)
            if key not in seen:
                seen.add(key)
                kept.append(duty)
        duties[outfall_id] = kept
    return duties
