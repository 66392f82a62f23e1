"""Builders shared by the rota tests: events made directly (not through the events services)."""

import secrets
from datetime import datetime, timedelta

from stallapp.database import utcnow
from stallapp.events.models import Event, EventKind, EventStatus
from stallapp.times import local_to_utc


def create_event(
    session,
    group,
    *,
    title="Peterborough Radical Bookfair",
    starts_at=None,
    ends_at=None,
    local=None,
    hours=7,
    timezone=None,
    venue_name="The George Alcock Centre",
    address="Whittlesey Rd, Stanground, Peterborough",
):
    """Create an event of ``group``; ``local`` is a naive wall-clock start in ``timezone``."""
    timezone = timezone or group.timezone
    if local is not None:
        starts_at = local_to_utc(local, timezone)
    if starts_at is None:
        day = (utcnow() + timedelta(days=10)).date()
        starts_at = local_to_utc(datetime(day.year, day.month, day.day, 10), timezone)
    ends_at = ends_at or starts_at + timedelta(hours=hours)
    event = Event(
        group_id=group.id,
        public_code=secrets.token_urlsafe(8),
        kind=EventKind.STALL,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        venue_name=venue_name,
        address=address,
        status=EventStatus.PUBLISHED,
    )
    session.add(event)
    session.flush()
    return event
