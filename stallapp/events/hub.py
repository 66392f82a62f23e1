"""What an event's page leads to: its rota, packing, sale screen, QR codes, close-out and report,
each with the one figure that says how far along it is.

The event page is the hub of an event; this module gathers, from the other packages' services,
what the page shows, so the view stays thin and the page's statement count stays fixed.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from stallapp.accounts.models import User
from stallapp.database import utcnow
from stallapp.events.models import Event, EventKind, EventStatus, Registration
from stallapp.qr.models import QrCode
from stallapp.rota import lists as rota
from stallapp.rota.models import Shift
from stallapp.sales import till
from stallapp.stock import services as stock

#: The sale screen opens to members from the day before an event until three days after its end,
#: the window of the "Sell at a stall" list.
SALE_OPENS_BEFORE = timedelta(days=1)
SALE_CLOSES_AFTER = timedelta(days=3)
#: Registrations shown per page at the door.
REGISTRATIONS_PER_PAGE = 25


@dataclass
class Gap:
    """A shift still short of people: "needs 2 more for pack-down"."""

    shift: Shift
    missing: int


@dataclass
class RotaSummary:
    shifts: int = 0
    filled: int = 0
    needed: int = 0
    gaps: list[Gap] = field(default_factory=list)


@dataclass
class EventHub:
    """Where an event stands, for its page."""

    started: bool
    ended: bool
    closed: bool
    rota: RotaSummary
    #: Copies at the event now (packed less sold, given away and returned) and their titles.
    copies_packed: int
    titles_packed: int
    qr_codes: list[QrCode]
    #: The member's own shifts at the event.
    my_shifts: list[Shift]
    sale_on: bool
    #: Whether copies are sold or handed out at it (not at an online meeting).
    sells: bool


def rota_summary(shifts: list[Shift]) -> RotaSummary:
    """Add up the live shifts' places and list the short ones, soonest first."""
    summary = RotaSummary()
    for shift in sorted(shifts, key=lambda s: (s.starts_at, s.id)):
        if shift.cancelled_at is not None:
            continue
        summary.shifts += 1
        filled = min(shift.filled, shift.people_needed)
        summary.filled += filled
        summary.needed += shift.people_needed
        if filled < shift.people_needed:
            summary.gaps.append(Gap(shift, shift.people_needed - filled))
    return summary


def sale_screen_on(event: Event, now: datetime) -> bool:
    """Tell whether members are offered the event's sale screen now."""
    return (
        event.status != EventStatus.CANCELLED
        and event.kind != EventKind.ONLINE_MEETING
        and event.starts_at - SALE_OPENS_BEFORE <= now <= event.ends_at + SALE_CLOSES_AFTER
    )


def event_hub(session: Session, event: Event, user: User, now: datetime | None = None) -> EventHub:
    """Gather where ``event`` stands for ``user``'s view of its page."""
    now = now or utcnow()
    shifts = rota.event_rota(session, event)
    levels = stock.event_levels(session, event)
    closed = till.is_closed(session, event)
    codes = list(
        session.scalars(
            sa.select(QrCode)
            .where(QrCode.event_id == event.id)
            .order_by(QrCode.created_at, QrCode.id)
        )
    )
    mine = [
        shift
        for shift in shifts
        if shift.cancelled_at is None
        and any(assignment.user_id == user.id for assignment in shift.active_assignments)
    ]
    return EventHub(
        started=event.starts_at <= now,
        ended=event.ends_at <= now,
        closed=closed,
        rota=rota_summary(shifts),
        copies_packed=sum(copies for copies in levels.values() if copies > 0),
        titles_packed=sum(1 for copies in levels.values() if copies > 0),
        qr_codes=codes,
        my_shifts=sorted(mine, key=lambda s: (s.starts_at, s.id)),
        sale_on=not closed and sale_screen_on(event, now),
        sells=event.kind != EventKind.ONLINE_MEETING,
    )


def event_state(event: Event, hub: EventHub) -> str:
    """Say in a sentence where the event stands and what comes next."""
    if event.status == EventStatus.CANCELLED:
        return _("Cancelled: it shows as cancelled and the people registered were told.")
    if hub.closed:
        return _("Closed out: what came back and the cash are counted; the report is final.")
    if event.status == EventStatus.DRAFT:
        return _("A draft: the public does not see it until it is published.")
    if hub.ended:
        if hub.sells:
            return _("Over: count what came back and the cash to close it out.")
        return _("Over.")
    if hub.started:
        return _("Under way now.")
    return _("Published: on the group’s public page and calendar.")


@dataclass
class RegistrationPage:
    """One page of the door list, filtered by a name or address."""

    rows: list[Registration]
    page: int
    pages: int
    total: int
    query: str


def registration_page(
    registered: list[Registration], query: str = "", page: int = 1
) -> RegistrationPage:
    """Return page ``page`` of ``registered``, keeping those whose name or email holds ``query``."""
    needle = query.strip().casefold()
    if needle:
        registered = [
            row
            for row in registered
            if needle in (row.name or "").casefold() or needle in (row.email or "").casefold()
        ]
    pages = max(1, -(-len(registered) // REGISTRATIONS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * REGISTRATIONS_PER_PAGE
    return RegistrationPage(
        rows=registered[start : start + REGISTRATIONS_PER_PAGE],
        page=page,
        pages=pages,
        total=len(registered),
        query=query.strip(),
    )
