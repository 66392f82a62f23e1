"""Builders for the events tests: events made through the events services."""

from datetime import datetime, timedelta

from stallapp.database import utcnow
from stallapp.events import services
from stallapp.events.models import EventKind
from stallapp.times import utc_to_local


def details(group, *, start=None, hours=2, **overrides) -> services.EventDetails:
    """Return event details; ``start`` is a naive local time (default: a week from now, 18:00)."""
    if start is None:
        day = utc_to_local(utcnow(), group.timezone).date() + timedelta(days=7)
        start = datetime.combine(day, datetime.min.time()).replace(hour=18)
    values = {
        "kind": EventKind.PUBLIC_MEETING,
        "title": "Public meeting",
        "timezone": group.timezone,
        "start": start,
        "end": start + timedelta(hours=hours),
        "venue_name": "Peculier Pub",
        "address": "145 Bleecker St, New York",
        "postcode": "10012",
    }
    values.update(overrides)
    return services.EventDetails(**values)


def add_event(db, group, *, publish=True, start=None, hours=2, **overrides):
    """Create (and by default publish) an event of ``group`` and commit."""
    event = services.create_event(
        db.session, group, details(group, start=start, hours=hours, **overrides), publish=publish
    )
    db.session.commit()
    return event


def add_meeting(db, group, *, capacity=2, **overrides):
    """A published meeting with registration on and ``capacity`` places."""
    return add_event(db, group, registration_required=True, capacity=capacity, **overrides)


def register(db, event, email, name="Reg Istrant", note=""):
    """Register through the service and commit; return the result (with its cancel token)."""
    result = services.register(
        db.session,
        event,
        name=name,
        email=email,
        note=note,
        consent_text="I agree.",
    )
    db.session.commit()
    return result
