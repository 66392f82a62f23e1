"""How an event's time and place read on a page, an email or a calendar, in its own time zone."""

from urllib.parse import urlencode

from babel.dates import format_date
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from stallapp.display import time_span
from stallapp.events.models import Event, EventKind, EventStatus, RegistrationStatus
from stallapp.times import utc_to_local

OPENSTREETMAP_SEARCH = "https://www.openstreetmap.org/search"

KIND_LABELS = {
    EventKind.STALL: _l("Stall"),
    EventKind.PUBLIC_MEETING: _l("Public meeting"),
    EventKind.ONLINE_MEETING: _l("Online meeting"),
    EventKind.DISCUSSION: _l("Discussion"),
    EventKind.INTERVENTION: _l("Intervention"),
    EventKind.OTHER: _l("Other"),
}

STATUS_LABELS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.PUBLISHED: _l("Published"),
    EventStatus.CANCELLED: _l("Cancelled"),
}

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.REGISTERED: _l("Registered"),
    RegistrationStatus.WAITING: _l("Waiting list"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


def event_when(event: Event) -> str:
    """Say when an event is, in its own zone: "Saturday, 19 October 2024, 10:00–17:00"."""
    return time_span(event.starts_at, event.ends_at, event.timezone)


def event_day(event: Event) -> str:
    """Return the event's local start day, short: "19 Oct 2024"."""
    return format_date(utc_to_local(event.starts_at, event.timezone), "medium", locale=get_locale())


def event_place(event: Event) -> str:
    """Return the venue, address and postcode on one line (empty for an online-only event)."""
    return ", ".join(part for part in (event.venue_name, event.address, event.postcode) if part)


#: What public pages, feeds and calendar files say instead of a private meeting link.
PRIVATE_LINK_NOTE = _l("Online — the link is sent to people who register")
#: The same when the event takes no registrations: the group hands the link out itself.
PRIVATE_LINK_NO_REGISTRATION_NOTE = _l("Online — ask the organisers for the link")


def is_online(event: Event) -> bool:
    """Tell whether people take part online: an online meeting, or any event with a link."""
    return event.kind == EventKind.ONLINE_MEETING or bool(event.online_url)


def published_online_url(event: Event) -> str:
    """Return the meeting link when the organiser chose to publish it, else an empty string.

    Public pages, feeds, embeds and structured data use this, never ``online_url`` itself:
    by default only registrants get the link.
    """
    return event.online_url if event.online_link_public else ""


def online_note(event: Event) -> str:
    """Return what a public surface says about taking part online: the published link, or
    where the link comes from; empty for an event that is not online."""
    if not is_online(event):
        return ""
    published = published_online_url(event)
    if published:
        return published
    if event.registration_required:
        return str(PRIVATE_LINK_NOTE)
    return str(PRIVATE_LINK_NO_REGISTRATION_NOTE)


def osm_search_url(event: Event) -> str:
    """Return an OpenStreetMap search for the event's address (empty when it has none).

    An online event with no address gets none: its "venue" is a word like "Online" or "Zoom",
    which the map would find somewhere irrelevant.
    """
    query = ", ".join(part for part in (event.address, event.postcode) if part)
    if not query:
        query = (
            "" if event.kind == EventKind.ONLINE_MEETING or event.online_url else event.venue_name
        )
    return f"{OPENSTREETMAP_SEARCH}?{urlencode({'query': query})}" if query else ""
