"""iCalendar (RFC 5545) files: a group's feed and single events, with their time zones.

Each event's UID is ``event-<public_code>@stallapp``, so a subscribed calendar updates the same
entry when an event changes, and a cancelled one shows as cancelled rather than vanishing.
"""

from collections.abc import Callable, Iterable
from datetime import timedelta

import icalendar

from stallapp.database import utcnow
from stallapp.events.display import event_place, online_note
from stallapp.events.models import Event, EventStatus
from stallapp.times import utc_to_local

PRODUCT_ID = "-//stallapp//events//EN"


def event_uid(event: Event) -> str:
    """Return the event's stable iCalendar UID."""
    return f"event-{event.public_code}@stallapp"


def _component(event: Event, url: str, reveal_online_link: bool) -> icalendar.Event:
    entry = icalendar.Event()
    entry.add("uid", event_uid(event))
    entry.add("dtstamp", utcnow())
    # Local times with their zone (DTSTART;TZID=Europe/London:...), as organisers entered them.
    entry.add("dtstart", utc_to_local(event.starts_at, event.timezone))
    entry.add("dtend", utc_to_local(event.ends_at, event.timezone))
    entry.add("summary", event.title)
    # The meeting link only in a registrant's own file, or when the organiser published it.
    online = event.online_url if reveal_online_link and event.online_url else online_note(event)
    description = "\n\n".join(part for part in (event.description, online, url) if part)
    entry.add("description", description)
    location = event_place(event) or online
    if location:
        entry.add("location", location)
    entry.add("url", url)
    entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    return entry


def calendar_bytes(
    events: Iterable[Event],
    url_for_event: Callable[[Event], str],
    name: str = "",
    *,
    reveal_online_link: bool = False,
) -> bytes:
    """Return an iCalendar file holding ``events`` (drafts are left out), with VTIMEZONEs.

    A private meeting link is left out unless ``reveal_online_link`` (a registrant's own file).
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if name:
        calendar.add("x-wr-calname", name)
    shown = [event for event in events if event.status != EventStatus.DRAFT]
    for event in shown:
        calendar.add_component(_component(event, url_for_event(event), reveal_online_link))
    if shown:
        # Zone rules only for the years the events span: a feed stays a few kilobytes.
        calendar.add_missing_timezones(
            first_date=min(event.starts_at for event in shown).date() - timedelta(days=366),
            last_date=max(event.ends_at for event in shown).date() + timedelta(days=366),
        )
    return calendar.to_ical()
