"""How times read on a page, in an email or in a calendar: always in a named zone (the event's
or the group's), in the reader's language. Every template and email uses these."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_timezone_name
from flask_babel import get_locale

from stallapp.times import utc_to_local


def time_span(
    starts_at: datetime,
    ends_at: datetime,
    zone_name: str,
    *,
    day_format: str = "full",
    end_day_format: str = "full",
) -> str:
    """Say when something runs, in ``zone_name``: "Saturday, 19 October 2024, 10:00–17:00"; the
    end's day is named only when it differs from the start's."""
    locale = get_locale()
    start = utc_to_local(starts_at, zone_name)
    end = utc_to_local(ends_at, zone_name)
    day = format_date(start, day_format, locale=locale)
    start_time = format_time(start, "short", locale=locale)
    end_time = format_time(end, "short", locale=locale)
    if start.date() == end.date():
        return f"{day}, {start_time}–{end_time}"
    return f"{day}, {start_time} – {format_date(end, end_day_format, locale=locale)}, {end_time}"


def local_time(instant: datetime, zone_name: str) -> str:
    """Return the time of day of a UTC instant in ``zone_name``: "10:42"."""
    return format_time(utc_to_local(instant, zone_name), "short", locale=get_locale())


def zone_label(zone_name: str, at: datetime | None = None) -> str:
    """Name a time zone the way people say it, as it is in force at the UTC instant ``at``:
    "Greenwich Mean Time" in January, "British Summer Time" in July, "heure normale de l’Est"
    for Montreal in winter. Without ``at``, the zone's name for all seasons ("Eastern Time")."""
    zone = ZoneInfo(zone_name)
    if at is None:
        return get_timezone_name(zone, "long", zone_variant="generic", locale=get_locale())
    return get_timezone_name(utc_to_local(at, zone_name), "long", locale=get_locale())


def local_moment(instant: datetime, zone_name: str) -> str:
    """Show a UTC instant in ``zone_name``, short: "19 Oct 2024, 17:32"."""
    return format_datetime(instant, "medium", tzinfo=ZoneInfo(zone_name), locale=get_locale())


def local_day(instant: datetime, zone_name: str) -> str:
    """Show the local day of a UTC instant: "19 Oct 2024"."""
    return format_date(utc_to_local(instant, zone_name).date(), "medium", locale=get_locale())


def local_day_and_time(instant: datetime, zone_name: str) -> str:
    """Show a UTC instant in ``zone_name`` with its day: "Saturday, 19 October 2024, 10:00"."""
    local = utc_to_local(instant, zone_name)
    locale = get_locale()
    return (
        f"{format_date(local, 'full', locale=locale)}, {format_time(local, 'short', locale=locale)}"
    )


def date_range(first: date, last: date) -> str:
    """Say a range of days: "1 Nov 2025 – 25 Nov 2026"."""
    locale = get_locale()
    first_day = format_date(first, "medium", locale=locale)
    return f"{first_day} – {format_date(last, 'medium', locale=locale)}"
