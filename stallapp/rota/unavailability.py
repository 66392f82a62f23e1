"""Days a member cannot do shifts: they mark them, organisers see them when building the rota."""

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group, Membership, User
from stallapp.accounts.services import members_of
from stallapp.database import utcnow
from stallapp.errors import ValidationFailed
from stallapp.events.models import Event
from stallapp.rota.models import Shift, Unavailability
from stallapp.rota.shifts import local_days, lock_user
from stallapp.times import LATEST_DAY, utc_to_local


def mark_unavailable(session: Session, user: User, day: date, note: str = "") -> Unavailability:
    """Record a day the member cannot do shifts.

    :raises ValidationFailed: when the day is already marked, in the past (``day_past``) or
        after 2100 (``date_out_of_range``).
    """
    if day < utcnow().date() - timedelta(days=1):
        raise ValidationFailed(_("Choose today or a later day."), code="day_past")
    if day > LATEST_DAY:
        raise ValidationFailed(
            _("Choose a day no later than %(last)s.", last=LATEST_DAY.isoformat()),
            code="date_out_of_range",
        )
    lock_user(session, user)  # a double tap waits, then finds the day already marked
    exists = session.scalar(
        sa.select(Unavailability.id).where(
            Unavailability.user_id == user.id, Unavailability.day == day
        )
    )
    if exists is not None:
        raise ValidationFailed(_("You have already marked that day."), code="already_unavailable")
    unavailable = Unavailability(user=user, day=day, note=(note or "").strip())
    session.add(unavailable)
    session.flush()
    return unavailable


def unavailable_days(session: Session, user: User) -> list[Unavailability]:
    """Return the member's unavailable days from yesterday on (a day is local somewhere)."""
    return list(
        session.scalars(
            sa.select(Unavailability)
            .where(
                Unavailability.user_id == user.id,
                Unavailability.day >= utcnow().date() - timedelta(days=1),
            )
            .order_by(Unavailability.day)
        )
    )


def unavailable_members(
    session: Session, group_id: int, days: Iterable[date]
) -> list[Unavailability]:
    """Return the group's members' unavailable days among ``days``, by day then name."""
    return list(
        session.scalars(
            sa.select(Unavailability)
            .join(User, User.id == Unavailability.user_id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id, Unavailability.day.in_(sorted(set(days))))
            .options(selectinload(Unavailability.user))
            .order_by(Unavailability.day, User.name)
        )
    )


def unavailable_day(session: Session, user: User, unavailability_id: int) -> Unavailability | None:
    """Return the member's own unavailable day with this id, or None."""
    return session.scalar(
        sa.select(Unavailability).where(
            Unavailability.id == unavailability_id, Unavailability.user_id == user.id
        )
    )


def forget_unavailable(session: Session, unavailable: Unavailability) -> None:
    """Forget an unavailable day: the member is open for shifts that day again."""
    session.delete(unavailable)
    session.flush()


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def unavailable_between(
    session: Session, group_id: int, first: date, last: date
) -> list[Unavailability]:
    """Return the group's members' unavailable days from ``first`` to ``last`` (both included)."""
    return unavailable_members(session, group_id, _days(first, last))


def unavailable_during(session: Session, event: Event) -> list[Unavailability]:
    """Return the group's members' unavailable days among the local days the event touches."""
    first = utc_to_local(event.starts_at, event.timezone).date()
    last = utc_to_local(event.ends_at, event.timezone).date()
    return unavailable_between(session, event.group_id, first, last)


def members_to_assign(session: Session, group: Group, shift: Shift) -> list[tuple[User, bool]]:
    """Return the group's enabled members not on the shift, each with whether they said they are
    unavailable on a day it touches."""
    on_shift = {a.user_id for a in shift.active_assignments}
    unavailable = {u.user_id for u in unavailable_members(session, group.id, local_days(shift))}
    return [
        (membership.user, membership.user_id in unavailable)
        for membership in members_of(session, group)
        if membership.user_id not in on_shift and membership.user.is_enabled
    ]
