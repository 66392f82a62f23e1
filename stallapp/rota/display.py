"""How shifts read on a page, in an email or in a calendar: always in the event's own time zone."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from stallapp.display import time_span
from stallapp.events.display import event_place
from stallapp.rota.lists import fill_state
from stallapp.rota.models import Shift

FILL_LABELS = {
    "short": _l("short"),
    "full": _l("full"),
    "over": _l("over"),
}


#: Short day names suit the rota's lists: "Sat 19 Oct 2024, 10:00–12:00".
SHORT_DAY = "EEE d MMM yyyy"
SHORT_END_DAY = "EEE d MMM"


def shift_when(shift: Shift) -> str:
    """Say when a shift is in its event's zone: "Sat 19 Oct 2024, 10:00–12:00"."""
    return time_span(
        shift.starts_at,
        shift.ends_at,
        shift.event.timezone,
        day_format=SHORT_DAY,
        end_day_format=SHORT_END_DAY,
    )


def event_when(event) -> str:
    """Say when an event is in its own zone: "Sat 19 Oct 2024, 10:00–17:00"."""
    return time_span(
        event.starts_at,
        event.ends_at,
        event.timezone,
        day_format=SHORT_DAY,
        end_day_format=SHORT_END_DAY,
    )


def shift_place(shift: Shift) -> str:
    """Return the event's venue and address on one line, or its online link."""
    return event_place(shift.event) or shift.event.online_url


def fill_label(shift: Shift) -> str:
    """Say how full a shift is in words, e.g. "1 of 2 · short"."""
    state = fill_state(shift.filled, shift.people_needed)
    return _(
        "%(filled)d of %(needed)d · %(state)s",
        filled=shift.filled,
        needed=shift.people_needed,
        state=FILL_LABELS[state],
    )
