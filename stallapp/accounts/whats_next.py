"""What a group's home page says comes next: the coming events and their gaps, the member's next
shift and, for organisers, what waits for them (messages, reprints, close-outs) and the month's
sign-ups. Gathered from the other packages' services in a fixed number of statements."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group, User
from stallapp.contacts.models import Contact, ContactMessage, MessageStatus
from stallapp.database import utcnow
from stallapp.events.hub import RotaSummary, rota_summary
from stallapp.events.models import Event, EventKind, EventStatus
from stallapp.rota.models import Assignment, Shift
from stallapp.sales.models import EventTill, Sale
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, StockMovement
from stallapp.times import local_to_utc, utc_to_local

#: Coming events shown on the home page.
NEXT_EVENTS = 3


@dataclass
class ComingEvent:
    event: Event
    rota: RotaSummary


@dataclass
class WhatsNext:
    coming: list[ComingEvent]
    my_next_shift: Shift | None
    #: Organisers only (empty or zero for members).
    unread_messages: int = 0
    to_reprint: list[tuple[Publication, int]] = field(default_factory=list)
    sign_ups_this_month: int = 0
    to_close_out: list[Event] = field(default_factory=list)


def coming_events(session: Session, group: Group, now: datetime) -> list[ComingEvent]:
    """Return the group's next events that have not ended, with their rota's gaps."""
    events = list(
        session.scalars(
            sa.select(Event)
            .where(
                Event.group_id == group.id,
                Event.status != EventStatus.CANCELLED,
                Event.ends_at > now,
            )
            .order_by(Event.starts_at, Event.id)
            .limit(NEXT_EVENTS)
        )
    )
    shifts: dict[int, list[Shift]] = {event.id: [] for event in events}
    for shift in session.scalars(
        sa.select(Shift)
        .where(Shift.event_id.in_(list(shifts)))
        .options(selectinload(Shift.active_assignments), selectinload(Shift.event))
    ):
        shifts[shift.event_id].append(shift)
    return [ComingEvent(event, rota_summary(shifts[event.id])) for event in events]


def my_next_shift(session: Session, group: Group, user: User, now: datetime) -> Shift | None:
    """Return the member's next live shift in ``group`` that has not ended."""
    return session.scalar(
        sa.select(Shift)
        .join(Assignment, Assignment.shift_id == Shift.id)
        .where(
            Shift.group_id == group.id,
            Shift.cancelled_at.is_(None),
            Shift.ends_at > now,
            Assignment.user_id == user.id,
            Assignment.withdrawn_at.is_(None),
        )
        .options(selectinload(Shift.event), selectinload(Shift.active_assignments))
        .order_by(Shift.starts_at, Shift.id)
        .limit(1)
    )


def titles_to_reprint(session: Session, group: Group) -> list[tuple[Publication, int]]:
    """Return the active titles to reprint (the catalogue's rule) with their copies in stores."""
    totals = stock.totals_by_publication(stock.store_levels(session, group))
    return [
        (publication, totals.get(publication.id, 0))
        for publication in stock.publications_of(session, group, active_only=True)
        if stock.needs_reprint(totals.get(publication.id, 0), publication.reorder_level)
    ]


def month_start(group: Group, now: datetime) -> datetime:
    """Return the UTC instant the group's current calendar month began, in its own zone."""
    local = utc_to_local(now, group.timezone)
    return local_to_utc(datetime(local.year, local.month, 1), group.timezone)


def sign_ups_since(session: Session, group: Group, since: datetime) -> int:
    """Count the group's mailing-list sign-ups confirmed since ``since`` (confirmed ones only,
    as the event report counts them)."""
    return session.scalar(
        sa.select(sa.func.count(Contact.id)).where(
            Contact.group_id == group.id, Contact.confirmed_at >= since
        )
    )


def unread_messages(session: Session, group: Group) -> int:
    """Count the group's unread messages from the public."""
    return session.scalar(
        sa.select(sa.func.count(ContactMessage.id)).where(
            ContactMessage.group_id == group.id, ContactMessage.status == MessageStatus.UNREAD
        )
    )


def waiting_for_close_out(session: Session, group: Group, now: datetime) -> list[Event]:
    """Return the group's started events that took stock or money and are not closed out."""
    had_stock = sa.select(StockMovement.id).where(StockMovement.to_event_id == Event.id)
    had_sales = sa.select(Sale.id).where(Sale.event_id == Event.id)
    closed = sa.select(EventTill.id).where(
        EventTill.event_id == Event.id, EventTill.closed_at.is_not(None)
    )
    return list(
        session.scalars(
            sa.select(Event)
            .where(
                Event.group_id == group.id,
                Event.status != EventStatus.CANCELLED,
                Event.kind != EventKind.ONLINE_MEETING,
                Event.starts_at <= now,
                sa.or_(had_stock.exists(), had_sales.exists()),
                ~closed.exists(),
            )
            .order_by(Event.starts_at.desc(), Event.id.desc())
        )
    )


def whats_next(
    session: Session, group: Group, user: User, *, organiser: bool, now: datetime | None = None
) -> WhatsNext:
    """Gather the home page of ``group`` for ``user``."""
    now = now or utcnow()
    found = WhatsNext(
        coming=coming_events(session, group, now),
        my_next_shift=my_next_shift(session, group, user, now),
    )
    if organiser:
        found.unread_messages = unread_messages(session, group)
        found.to_reprint = titles_to_reprint(session, group)
        found.sign_ups_this_month = sign_ups_since(session, group, month_start(group, now))
        found.to_close_out = waiting_for_close_out(session, group, now)
    return found
