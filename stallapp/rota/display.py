"""How shifts read on a page, in an email or in a calendar: always in the event's own time zone."""

from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_location
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from stallapp.rota.models import Shift
from stallapp.rota.services import fill_state, role_name, shift_title
from stallapp.times import utc_to_local

FILL_LABELS = {
    "short": _l("short"),
    "full": _l("full"),
    "over": _l("over"),
}


def shift_when(shift: Shift) -> str:
    """Say when a shift is in its event's zone: "Sat, 19 Oct 2024, 10:00–12:00"."""
    locale = get_locale()
    zone = shift.event.timezone
    start = utc_to_local(shift.starts_at, zone)
    end = utc_to_local(shift.ends_at, zone)
    day = format_date(start, "EEE d MMM yyyy", locale=locale)
    start_time = format_time(start, "short", locale=locale)
    end_time = format_time(end, "short", locale=locale)
    if start.date() == end.date():
        return f"{day}, {start_time}–{end_time}"
    return f"{day}, {start_time} – {format_date(end, 'EEE d MMM', locale=locale)}, {end_time}"


def event_when(event) -> str:
    """Say when an event is in its own zone: "Sat 19 Oct 2024, 10:00–17:00"."""
    locale = get_locale()
    start = utc_to_local(event.starts_at, event.timezone)
    end = utc_to_local(event.ends_at, event.timezone)
    day = format_date(start, "EEE d MMM yyyy", locale=locale)
    start_time = format_time(start, "short", locale=locale)
    end_time = format_time(end, "short", locale=locale)
    if start.date() == end.date():
        return f"{day}, {start_time}–{end_time}"
    return f"{day}, {start_time} – {format_date(end, 'EEE d MMM', locale=locale)}, {end_time}"


def zone_label(zone_name: str) -> str:
    """Name a time zone the way people say it: "United Kingdom Time"."""
    return get_timezone_location(ZoneInfo(zone_name), locale=get_locale())


def shift_place(shift: Shift) -> str:
    """Return the event's venue and address on one line, or its online link."""
    event = shift.event
    place = ", ".join(part for part in (event.venue_name, event.address, event.postcode) if part)
    return place or event.online_url


def fill_label(shift: Shift) -> str:
    """Say how full a shift is in words, e.g. "1 of 2 · short"."""
    state = fill_state(shift.filled, shift.people_needed)
    return _(
        "%(filled)d of %(needed)d · %(state)s",
        filled=shift.filled,
        needed=shift.people_needed,
        state=FILL_LABELS[state],
    )


def register(bp) -> None:
    """Make the helpers available in every template."""
    for helper in (shift_when, shift_place, fill_label, role_name, shift_title):
        bp.add_app_template_global(helper)
    bp.add_app_template_global(fill_state, "fill_state")
    bp.add_app_template_global(zone_label, "shift_zone_label")
    bp.add_app_template_global(event_when, "rota_event_when")
