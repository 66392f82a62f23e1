"""Events as data for other sites: the JSON feed, the Atom feed and schema.org structured data.

The JSON shape is documented in ``docs/feeds.md`` and versioned by :data:`JSON_FEED_VERSION`:
fields are only ever added within a version; renaming or removing one makes a new version.
A private meeting link appears in none of them (see
:func:`stallapp.events.display.published_online_url`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.events.calendar import event_uid
from stallapp.events.display import (
    event_place,
    event_when,
    is_online,
    online_note,
    published_online_url,
)
from stallapp.events.models import Event, EventStatus
from stallapp.times import utc_to_local

JSON_FEED_VERSION = 1
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
SCHEMA_ORG = "https://schema.org"

EventUrl = Callable[[Event], str]


def local_iso(instant: datetime, zone_name: str) -> str:
    """Return a UTC instant as local ISO 8601 with its offset: ``2024-10-19T10:00:00+01:00``."""
    return utc_to_local(instant, zone_name).isoformat()


def _last_change(event: Event) -> datetime:
    return (event.updated_at or event.created_at).replace(microsecond=0)


# JSON


def event_json(event: Event, url: str, group_url: str) -> dict:
    """Return one event in the feed's documented shape (version :data:`JSON_FEED_VERSION`)."""
    published_link = published_online_url(event)
    return {
        "id": event_uid(event),
        "title": event.title,
        "kind": event.kind.value,
        "status": event.status.value,
        "start": local_iso(event.starts_at, event.timezone),
        "end": local_iso(event.ends_at, event.timezone),
        "time_zone": event.timezone,
        "venue": event.venue_name,
        "address": event.address,
        "postcode": event.postcode,
        "online": is_online(event),
        "online_url": published_link or None,
        "online_note": online_note(event) if is_online(event) and not published_link else "",
        "registration_required": event.registration_required,
        "description": event.description,
        "url": url,
        "language": event.group.language,
        "group": {"slug": event.group.slug, "name": event.group.name, "url": group_url},
        "updated": _last_change(event).isoformat(),
    }


def events_json(
    *,
    title: str,
    home_url: str,
    feed_url: str,
    events: Iterable[Event],
    event_url: EventUrl,
    group_url: Callable[[Group], str],
) -> dict:
    """Return a whole JSON feed: what it is, and its events soonest first."""
    return {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": home_url,
        "feed_url": feed_url,
        "events": [event_json(event, event_url(event), group_url(event.group)) for event in events],
    }


# Atom (RFC 4287)


def _summary(event: Event) -> str:
    """Say when, where and how to take part, in the current locale."""
    lines = [f"{event_when(event)} ({event.timezone})"]
    place = event_place(event)
    if place:
        lines.append(place)
    if is_online(event):
        lines.append(online_note(event))
    if event.description:
        lines.append(event.description)
    return "\n".join(lines)


def atom_bytes(
    *,
    title: str,
    feed_url: str,
    home_url: str,
    events: list[Event],
    event_url: EventUrl,
    cancelled_label: str,
) -> bytes:
    """Return an Atom feed with one entry per event (its public page as the entry's link)."""
    ElementTree.register_namespace("", ATOM_NAMESPACE)

    def add(parent, tag: str, text: str | None = None, **attributes) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM_NAMESPACE}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM_NAMESPACE}}}feed")
    add(feed, "id", feed_url)
    add(feed, "title", title)
    updated = max((_last_change(event) for event in events), default=None)
    updated = updated or utcnow().replace(microsecond=0)
    add(feed, "updated", updated.isoformat())
    add(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    add(feed, "link", rel="alternate", type="text/html", href=home_url)
    add(feed, "generator", "stallapp")
    for event in events:
        url = event_url(event)
        entry = add(feed, "entry")
        add(entry, "id", url)
        heading = event.title
        if event.status == EventStatus.CANCELLED:
            heading = f"{cancelled_label}: {event.title}"
        add(entry, "title", heading)
        add(entry, "updated", _last_change(event).isoformat())
        add(entry, "published", event.created_at.replace(microsecond=0).isoformat())
        add(entry, "link", rel="alternate", type="text/html", href=url)
        author = add(entry, "author")
        add(author, "name", event.group.name)
        add(entry, "summary", _summary(event), type="text")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


# schema.org structured data (JSON-LD) and link previews


def _attendance_mode(event: Event) -> str:
    online, in_person = is_online(event), bool(event_place(event))
    if online and in_person:
        return f"{SCHEMA_ORG}/MixedEventAttendanceMode"
    if online:
        return f"{SCHEMA_ORG}/OnlineEventAttendanceMode"
    return f"{SCHEMA_ORG}/OfflineEventAttendanceMode"


def _locations(event: Event, url: str) -> list[dict]:
    locations = []
    if event_place(event):
        address = {"@type": "PostalAddress", "streetAddress": event.address}
        if event.postcode:
            address["postalCode"] = event.postcode
        locations.append(
            {"@type": "Place", "name": event.venue_name or event.address, "address": address}
        )
    if is_online(event):
        # The meeting itself only when published; otherwise the page where people register.
        locations.append({"@type": "VirtualLocation", "url": published_online_url(event) or url})
    return locations


def event_structured_data(event: Event, url: str, group_url: str) -> dict:
    """Return the event as a schema.org ``Event`` (for a JSON-LD block)."""
    data = {
        "@context": SCHEMA_ORG,
        "@type": "Event",
        "name": event.title,
        "startDate": local_iso(event.starts_at, event.timezone),
        "endDate": local_iso(event.ends_at, event.timezone),
        "eventStatus": f"{SCHEMA_ORG}/"
        + ("EventCancelled" if event.status == EventStatus.CANCELLED else "EventScheduled"),
        "eventAttendanceMode": _attendance_mode(event),
        "organizer": {"@type": "Organization", "name": event.group.name, "url": group_url},
        "url": url,
        "inLanguage": event.group.language,
    }
    locations = _locations(event, url)
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
    if event.description:
        data["description"] = event.description
    return data


def group_structured_data(
    group: Group, group_url: str, events: list[Event], event_url: EventUrl
) -> dict:
    """Return the group as a schema.org ``Organization`` with its coming events."""
    listed = []
    for event in events:
        data = event_structured_data(event, event_url(event), group_url)
        del data["@context"]
        listed.append(data)
    return {
        "@context": SCHEMA_ORG,
        "@type": "Organization",
        "name": group.name,
        "url": group_url,
        "event": listed,
    }


def link_preview_description(event: Event) -> str:
    """Return the Open Graph description: when and where, then the start of the description."""
    parts = [event_when(event)]
    place = event_place(event)
    if place:
        parts.append(place)
    if is_online(event):
        parts.append(online_note(event))
    text = " · ".join(parts)
    if event.description:
        text = f"{text}. {event.description}"
    return text if len(text) <= 300 else text[:299].rstrip() + "…"


@dataclass(frozen=True)
class LinkPreview:
    """What a shared link shows in a messaging app (Open Graph)."""

    title: str
    description: str
    url: str
    site_name: str
    #: ``en_GB``: Open Graph's spelling of a locale.
    locale: str


def event_link_preview(event: Event, url: str, site_name: str, locale: str) -> LinkPreview:
    """Return the preview of an event's page: its title, then when, where and what."""
    return LinkPreview(
        title=f"{event.title} · {event.group.name}",
        description=link_preview_description(event),
        url=url,
        site_name=site_name or event.group.name,
        locale=locale,
    )


def group_link_preview(
    group: Group, url: str, events: list[Event], site_name: str, locale: str, next_label: str
) -> LinkPreview:
    """Return the preview of a group's page: the group, and its next event when it has one."""
    coming = [event for event in events if event.status != EventStatus.CANCELLED]
    description = ""
    if coming:
        description = f"{next_label}: {coming[0].title} · {link_preview_description(coming[0])}"
    return LinkPreview(
        title=group.name,
        description=description[:300],
        url=url,
        site_name=site_name or group.name,
        locale=locale,
    )
