"""Time zones: store UTC, show local; refuse local times that do not exist."""

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class NonexistentLocalTime(ValueError):
    """The local time falls in a daylight-saving gap (e.g. 01:30 on the spring-forward night)."""


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    """Tell whether ``name`` is an IANA time zone this machine knows."""
    if not isinstance(name, str) or name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_to_utc(local: datetime, zone_name: str) -> datetime:
    """Turn a naive wall-clock time in ``zone_name`` into an aware UTC instant.

    An ambiguous time (the hour repeated when clocks go back) takes its first occurrence.

    :raises NonexistentLocalTime: when the wall-clock time is skipped by a DST change.
    """
    zone = ZoneInfo(zone_name)
    aware = local.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local:
        raise NonexistentLocalTime(f"{local:%Y-%m-%d %H:%M} does not exist in {zone_name}")
    return aware.astimezone(UTC)


def utc_to_local(instant: datetime, zone_name: str) -> datetime:
    """Return the aware local time in ``zone_name`` for a UTC instant."""
    return instant.astimezone(ZoneInfo(zone_name))
