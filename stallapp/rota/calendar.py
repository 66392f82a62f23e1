"""A member's shifts as a private iCalendar feed (RFC 5545): the secret link that serves it, and
the file itself, with reminders the phone shows itself.

The link's token is derived from the secret key, the member and when it was issued, so the
current link can be shown again while only its hash is stored.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import icalendar
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import User
from stallapp.database import utcnow
from stallapp.rota.display import shift_place
from stallapp.rota.lists import places_of
from stallapp.rota.models import Assignment, CalendarFeed, Shift
from stallapp.rota.shifts import shift_title
from stallapp.tokens import hash_token

#: Calendar apps raise these before each shift (VALARM), independent of our emails.
ALARMS = (timedelta(days=-1), timedelta(hours=-2))
#: Domain part of the UIDs; fixed so a calendar app recognises the same shift on every refresh.
UID_DOMAIN = "rota.stallapp"


def shift_uid(assignment: Assignment) -> str:
    """Return the event's UID: stable for the shift, distinct per member."""
    return f"shift-{assignment.shift_id}-member-{assignment.user_id}@{UID_DOMAIN}"


def build_feed(user_name: str, assignments: list[Assignment], link: str) -> bytes:
    """Return the iCalendar file of these places; times are UTC instants (``...Z``)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//stallapp//rota//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Shifts of %(name)s", name=user_name))
    # Ask calendar apps to refresh a few times a day, not once a week.
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    now = utcnow()
    for assignment in assignments:
        shift = assignment.shift
        event = icalendar.Event()
        event.add("uid", shift_uid(assignment))
        event.add("dtstamp", now)
        event.add("dtstart", shift.starts_at)
        event.add("dtend", shift.ends_at)
        event.add("summary", shift_title(shift))
        place = shift_place(shift)
        if place:
            event.add("location", place)
        others = [a.user.name for a in shift.active_assignments if a.user_id != assignment.user_id]
        lines = []
        if shift.notes:
            lines.append(shift.notes)
        if others:
            lines.append(_("With: %(names)s", names=", ".join(others)))
        lines.append(link)
        event.add("description", "\n\n".join(lines))
        event.add("url", link)
        if shift.cancelled_at is not None:
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED")
            for trigger in ALARMS:
                alarm = icalendar.Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("trigger", trigger)
                alarm.add("description", shift_title(shift))
                event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def _feed_token(secret: str, user_id: int, issued_at: datetime) -> str:
    """Derive the token of a feed issued at ``issued_at``: the same inputs give the same token,
    so the current link can be shown again while only its hash is stored."""
    message = f"calendar-feed:{user_id}:{issued_at.isoformat()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def ensure_feed_token(session: Session, user: User, secret: str) -> str | None:
    """Give the member a calendar feed URL token if they have none; keep an existing one.

    Returns the current token, or None when the existing link cannot be shown again (made before
    links were derived, or under another secret key): it still works, and replacing shows a new
    one.
    """
    feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        return regenerate_feed_token(session, user, secret)
    return current_feed_token(feed, secret)


def current_feed_token(feed: CalendarFeed, secret: str) -> str | None:
    """Return the token of ``feed``'s working link, or None when it cannot be derived again."""
    token = _feed_token(secret, feed.user_id, feed.created_at)
    return token if hmac.compare_digest(hash_token(token), feed.token_hash) else None


def feed_link(session: Session, user: User, secret: str) -> tuple[bool, str | None]:
    """Say whether the member has a calendar feed, and return its link's token if it can be
    shown again (None for a link made before links were derived, or under another key)."""
    feed = feed_of(session, user)
    if feed is None:
        return False, None
    return True, current_feed_token(feed, secret)


def regenerate_feed_token(session: Session, user: User, secret: str) -> str:
    """Give the member a new calendar feed URL token; any earlier URL stops working."""
    issued_at = utcnow().replace(microsecond=0)
    feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is not None and feed.created_at.replace(microsecond=0) >= issued_at:
        # Replaced twice within a second: move on a second so the token changes.
        issued_at = feed.created_at.replace(microsecond=0) + timedelta(seconds=1)
    token = _feed_token(secret, user.id, issued_at)
    if feed is None:
        session.add(CalendarFeed(user=user, token_hash=hash_token(token), created_at=issued_at))
    else:
        feed.token_hash = hash_token(token)
        feed.created_at = issued_at
    session.flush()
    return token


def feed_of(session: Session, user: User) -> CalendarFeed | None:
    """Return the member's calendar feed, if they made one."""
    return session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def user_for_feed_token(session: Session, token: str) -> User | None:
    """Return the enabled user whose feed URL holds ``token``, or None."""
    feed = session.scalar(
        sa.select(CalendarFeed)
        .where(CalendarFeed.token_hash == hash_token(token))
        .options(selectinload(CalendarFeed.user))
    )
    if feed is None or not feed.user.is_enabled:
        return None
    return feed.user


def feed_assignments(session: Session, user: User) -> list[Assignment]:
    """Return the member's places for the feed: the last 60 days and everything ahead.

    Places on cancelled shifts stay in the feed (marked cancelled) so calendars drop them.
    """
    return list(
        session.scalars(
            places_of(user)
            .where(Shift.ends_at > utcnow() - timedelta(days=60))
            .order_by(Shift.starts_at)
        )
    )
