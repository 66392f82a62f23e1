"""Builders for the contacts tests: events and registrations made as plain rows, so these tests
do not depend on the events package's services."""

import secrets
from datetime import timedelta

from stallapp.database import utcnow
from stallapp.events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus


def add_event(db, group, *, title="Public meeting", ends_ago=None, starts_in=timedelta(days=7)):
    """Add a published meeting; ``ends_ago`` puts it in the past."""
    now = utcnow()
    if ends_ago is not None:
        ends_at = now - ends_ago
        starts_at = ends_at - timedelta(hours=2)
    else:
        starts_at = now + starts_in
        ends_at = starts_at + timedelta(hours=2)
    event = Event(
        group_id=group.id,
        public_code=secrets.token_urlsafe(6),
        kind=EventKind.PUBLIC_MEETING,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=group.timezone,
        status=EventStatus.PUBLISHED,
        registration_required=True,
    )
    db.session.add(event)
    db.session.flush()
    return event


def add_registration(db, event, *, email, name="Reg Istrant", contact=None, note="vegetarian"):
    """Add a registration, as the events package would (with a cancel-link hash)."""
    registration = Registration(
        event_id=event.id,
        contact_id=contact.id if contact is not None else None,
        status=RegistrationStatus.REGISTERED,
        name=name,
        email=email,
        note=note,
        consent_text="I agree to be contacted about this event.",
        cancel_token_hash=secrets.token_hex(32),
    )
    db.session.add(registration)
    db.session.flush()
    return registration
