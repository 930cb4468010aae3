"""Online stations: which are online, which are offline, and the gaps in their hour data."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .choices import StationKind
from .models import HourValue


@dataclass
class StationStatus:
    station: object
    state: str  # "online", "offline", "never", "manual", "inactive"
    minutes_since: int | None = None

    LABELS = {
        "online": "在线",
        "offline": "离线",
        "never": "从未上报",
        "manual": "手工采样点",
        "inactive": "已停用",
    }
    CSS = {
        "online": "text-bg-success",
        "offline": "text-bg-danger",
        "never": "text-bg-secondary",
        "manual": "text-bg-light",
        "inactive": "text-bg-light",
    }

    @property
    def label(self):
        return self.LABELS[self.state]

    @property
    def css(self):
        return self.CSS[self.state]


def status_of(station, now=None):
    now = now or timezone.now()
    if not station.active:
        return StationStatus(station, "inactive")
    if station.kind == StationKind.MANUAL:
        return StationStatus(station, "manual")
    if station.last_seen_at is None:
        return StationStatus(station, "never")
    minutes = int((now - station.last_seen_at).total_seconds() // 60)
    state = "offline" if minutes > station.offline_after_minutes else "online"
    return StationStatus(station, state, minutes)


def station_statuses(stations, now=None):
    now = now or timezone.now()
    return [status_of(s, now) for s in stations]


def gaps(station, *, days=7, now=None):
    """[(start, end, hours)] of the hours without any hour value at the station in the last `days` days
    (complete hours only), longest first. A station that never reported has none listed (it is "never")."""
    if station.kind != StationKind.ONLINE or station.last_seen_at is None:
        return []
    now = timezone.localtime(now or timezone.now())
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    seen = set(
        HourValue.objects.filter(station=station, at__gte=start, at__lt=end)
        .values_list("at", flat=True)
        .distinct()
    )
    seen = {timezone.localtime(at).replace(minute=0, second=0, microsecond=0) for at in seen}
    found, gap_start, hour = [], None, start
    while hour < end:
        if hour not in seen:
            gap_start = gap_start or hour
        elif gap_start is not None:
            found.append((gap_start, hour, int((hour - gap_start).total_seconds() // 3600)))
            gap_start = None
        hour += timedelta(hours=1)
    if gap_start is not None:
        found.append((gap_start, end, int((end - gap_start).total_seconds() // 3600)))
    return sorted(found, key=lambda g: -g[2])
