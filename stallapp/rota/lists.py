"""What the rota pages list: an event's or a group's shifts (gaps first), a member's places and
the open shifts they could take, the organisers to tell and the events to plan.

Read-only: each function takes the session and returns rows, loading what the page shows in the
same query so a page's statement count does not grow with the data.
"""

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group, Membership, Role, User
from stallapp.database import utcnow
from stallapp.events.models import Event
from stallapp.rota.models import Assignment, Shift


def fill_state(filled: int, needed: int) -> str:
    """Say whether a shift is ``short``, ``full`` or ``over``."""
    if filled < needed:
        return "short"
    return "full" if filled == needed else "over"


def shifts_with_people() -> sa.Select:
    """Select shifts with their event and the people on them, loaded in the same round trip."""
    return sa.select(Shift).options(
        selectinload(Shift.event),
        selectinload(Shift.active_assignments).selectinload(Assignment.user),
    )


def gaps_first(shifts: Iterable[Shift]) -> list[Shift]:
    """Order shifts short ones first, then full, then over; by time within each."""
    order = {"short": 0, "full": 1, "over": 2}
    return sorted(
        shifts,
        key=lambda shift: (
            shift.cancelled_at is not None,
            order[fill_state(shift.filled, shift.people_needed)],
            shift.starts_at,
            shift.id,
        ),
    )


def event_rota(session: Session, event: Event) -> list[Shift]:
    """Return an event's shifts with their people, gaps first, cancelled ones last."""
    return gaps_first(session.scalars(shifts_with_people().where(Shift.event_id == event.id)))


def group_rota(session: Session, group: Group, start: datetime, end: datetime) -> list[Shift]:
    """Return the group's live shifts starting in ``[start, end)``, gaps first."""
    return gaps_first(
        session.scalars(
            shifts_with_people().where(
                Shift.group_id == group.id,
                Shift.cancelled_at.is_(None),
                Shift.starts_at >= start,
                Shift.starts_at < end,
            )
        )
    )


def places_of(user: User) -> sa.Select:
    """Select the member's places they have not withdrawn from, with each shift's event and the
    people on it loaded: My shifts and the calendar feed narrow it down."""
    return (
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(Assignment.user_id == user.id, Assignment.withdrawn_at.is_(None))
        .options(
            selectinload(Assignment.shift).selectinload(Shift.event),
            selectinload(Assignment.shift)
            .selectinload(Shift.active_assignments)
            .selectinload(Assignment.user),
        )
    )


def my_assignments(session: Session, user: User) -> list[Assignment]:
    """Return the member's places on live shifts that have not ended, soonest first."""
    return list(
        session.scalars(
            places_of(user)
            .where(Shift.cancelled_at.is_(None), Shift.ends_at > utcnow())
            .options(selectinload(Assignment.shift).selectinload(Shift.group))
            .order_by(Shift.starts_at, Shift.id)
        )
    )


def open_shifts(session: Session, user: User) -> list[Shift]:
    """Return the live, future shifts of the member's groups with a free place they could take."""
    taken = (
        sa.select(sa.func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == Shift.id, Assignment.withdrawn_at.is_(None))
        .scalar_subquery()
    )
    mine = sa.select(Assignment.shift_id).where(
        Assignment.user_id == user.id, Assignment.withdrawn_at.is_(None)
    )
    groups = sa.select(Membership.group_id).where(Membership.user_id == user.id)
    return list(
        session.scalars(
            sa.select(Shift)
            .where(
                Shift.group_id.in_(groups),
                Shift.cancelled_at.is_(None),
                Shift.starts_at > utcnow(),
                taken < Shift.people_needed,
                Shift.id.not_in(mine),
            )
            .options(
                selectinload(Shift.event),
                selectinload(Shift.group),
                selectinload(Shift.active_assignments).selectinload(Assignment.user),
            )
            .order_by(Shift.starts_at, Shift.id)
            .limit(50)
        )
    )


def organisers_by_group(session: Session, group_ids: Iterable[int]) -> dict[int, list[User]]:
    """Return each group's organisers, in one query."""
    found: dict[int, list[User]] = {group_id: [] for group_id in group_ids}
    if not found:
        return found
    rows = session.execute(
        sa.select(Membership.group_id, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id.in_(list(found)), Membership.role == Role.ORGANISER)
        .order_by(User.name)
    )
    for group_id, user in rows:
        found[group_id].append(user)
    return found


def organisers_of(session: Session, group_id: int) -> list[User]:
    """Return the organisers of a group, by name."""
    return list(
        session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id, Membership.role == Role.ORGANISER)
            .order_by(User.name)
        )
    )


def people_on_event(session: Session, event: Event) -> list[User]:
    """Return everyone on a live shift of the event, once each, by name."""
    return list(
        session.scalars(
            sa.select(User)
            .join(Assignment, Assignment.user_id == User.id)
            .join(Shift, Shift.id == Assignment.shift_id)
            .where(
                Shift.event_id == event.id,
                Shift.cancelled_at.is_(None),
                Assignment.withdrawn_at.is_(None),
            )
            .distinct()
            .order_by(User.name)
        )
    )


def events_between(session: Session, group: Group, start: datetime, end: datetime) -> list[Event]:
    """Return the group's events that overlap ``[start, end]``, soonest first."""
    return list(
        session.scalars(
            sa.select(Event)
            .where(Event.group_id == group.id, Event.ends_at >= start, Event.starts_at < end)
            .order_by(Event.starts_at)
        )
    )


def rotas_to_copy(session: Session, event: Event) -> list[Event]:
    """Return the group's other events that have shifts, latest first (the last 100)."""
    with_shifts = (
        sa.select(Shift.event_id)
        .where(Shift.group_id == event.group_id)
        .distinct()
        .scalar_subquery()
    )
    return list(
        session.scalars(
            sa.select(Event)
            .where(
                Event.group_id == event.group_id,
                Event.id != event.id,
                Event.id.in_(with_shifts),
            )
            .order_by(Event.starts_at.desc())
            .limit(100)
        )
    )
