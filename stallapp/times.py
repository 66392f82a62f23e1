"""Time zones: store UTC, show local; refuse local times that do not exist."""

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: Events, shifts, sales and other dated things fall between these days. Outside them a date is a
#: typo, and near year 1 or 9999 moving it to another zone overflows Python's datetime.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)


def day_in_range(day: date) -> bool:
    """Tell whether ``day`` (or a datetime's day) lies between EARLIEST_DAY and LATEST_DAY."""
    if isinstance(day, datetime):
        day = day.date()
    return EARLIEST_DAY <= day <= LATEST_DAY


class NonexistentLocalTime(ValueError):
    """The local time falls in a daylight-saving gap (e.g. 01:30 on the spring-forward night)."""


#: Zones in the database that are no place's time: the server's own, a build placeholder, and
#: the old POSIX-style rules (``EST5EDT``) kept for compatibility.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _zone_names() -> frozenset[str]:
    """Area/Location names (``Europe/London``) and UTC: the zones a group or event can be in."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_PLACES
        and ("/" in name or name == "UTC")
        and not name.startswith(("Etc/", "posix/", "right/", "SystemV/"))
    )


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


def local_day_start(day: date, zone_name: str) -> datetime:
    """Return when ``day`` begins in ``zone_name``, as an aware UTC instant.

    That is local midnight, or 01:00 where a clock change skips midnight (as Chile's and Cuba's
    spring-forward nights do).
    """
    try:
        return local_to_utc(datetime(day.year, day.month, day.day), zone_name)
    except NonexistentLocalTime:
        return local_to_utc(datetime(day.year, day.month, day.day, 1), zone_name)
