"""Cover: a member offers their place on a shift to the group, and the first to answer takes it.

Functions take the session, flush rather than commit, and raise a
:class:`~stallapp.errors.StallError` when a rule says no; taking cover locks the shift row as
signing up does (see :mod:`stallapp.rota.shifts`).
"""

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from stallapp.accounts.models import Membership, User
from stallapp.database import utcnow
from stallapp.errors import StallError, ValidationFailed
from stallapp.rota.models import Assignment, CoverRequest, CoverStatus, Shift
from stallapp.rota.shifts import ShiftClosed, lock_shift, lock_user, place


class CoverTaken(StallError):
    code = "cover_taken"
    default_message = _l("Someone has just taken that shift over.")


def ask_for_cover(
    session: Session, assignment: Assignment, message: str
) -> tuple[CoverRequest, list[User]]:
    """Offer a place on a shift to the group; return the request and the members to tell.

    :raises ValidationFailed: when the place was already offered or is no longer held.
    :raises ShiftClosed: when the shift is cancelled or has started.
    """
    if assignment.withdrawn_at is not None:
        raise ValidationFailed(_("You are no longer on that shift."), code="already_withdrawn")
    shift = assignment.shift
    if shift.cancelled_at is not None or shift.starts_at <= utcnow():
        raise ShiftClosed()
    # A double tap must not make two requests: the second waits here, then finds the first.
    session.execute(
        sa.select(Assignment.id).where(Assignment.id == assignment.id).with_for_update()
    )
    already = session.scalar(
        sa.select(CoverRequest.id).where(CoverRequest.assignment_id == assignment.id)
    )
    if already is not None:
        raise ValidationFailed(_("You have already asked for cover."), code="cover_asked")
    request = CoverRequest(assignment=assignment, message=(message or "").strip())
    session.add(request)
    session.flush()
    on_shift = {a.user_id for a in shift.active_assignments}
    members = session.scalars(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == shift.group_id, User.is_enabled.is_(True))
        .order_by(User.name)
    )
    return request, [member for member in members if member.id not in on_shift]


def open_cover_request(session: Session, assignment: Assignment) -> CoverRequest | None:
    """Return the open cover request for an assignment, if any."""
    return session.scalar(
        sa.select(CoverRequest).where(
            CoverRequest.assignment_id == assignment.id,
            CoverRequest.status == CoverStatus.OPEN,
        )
    )


def cover_wanted(session: Session, user: User) -> list[CoverRequest]:
    """Return the open cover requests of the member's groups that they could take, soonest first."""
    groups = sa.select(Membership.group_id).where(Membership.user_id == user.id)
    mine = sa.select(Assignment.shift_id).where(
        Assignment.user_id == user.id, Assignment.withdrawn_at.is_(None)
    )
    return list(
        session.scalars(
            sa.select(CoverRequest)
            .join(Assignment, Assignment.id == CoverRequest.assignment_id)
            .join(Shift, Shift.id == Assignment.shift_id)
            .where(
                CoverRequest.status == CoverStatus.OPEN,
                Assignment.withdrawn_at.is_(None),
                Assignment.user_id != user.id,
                Shift.group_id.in_(groups),
                Shift.cancelled_at.is_(None),
                Shift.starts_at > utcnow(),
                Shift.id.not_in(mine),
            )
            .options(
                selectinload(CoverRequest.assignment).selectinload(Assignment.user),
                selectinload(CoverRequest.assignment)
                .selectinload(Assignment.shift)
                .selectinload(Shift.event),
                selectinload(CoverRequest.assignment)
                .selectinload(Assignment.shift)
                .selectinload(Shift.group),
            )
            .order_by(Shift.starts_at, CoverRequest.id)
        )
    )


def take_cover(session: Session, request: CoverRequest, user: User) -> Assignment:
    """Take over an offered place: the first to ask gets it.

    The request is claimed by a conditional UPDATE (``status = 'open'``), which only one of
    two simultaneous takers can win; the loser's transaction changes nothing.

    :raises CoverTaken: when someone else took it first, or it is your own.
    :raises ShiftOverlap, AlreadyOnShift, ShiftClosed, NotInGroup: as :func:`sign_up`.
    """
    original = request.assignment
    if original.user_id == user.id:
        raise CoverTaken(_("This is your own shift."), code="own_cover")
    shift = lock_shift(session, original.shift_id)
    lock_user(session, user)
    claimed = session.execute(
        sa.update(CoverRequest)
        .where(CoverRequest.id == request.id, CoverRequest.status == CoverStatus.OPEN)
        .values(status=CoverStatus.TAKEN, taken_by_id=user.id, taken_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise CoverTaken()
    session.refresh(request)
    session.refresh(original)
    if original.withdrawn_at is not None:
        raise CoverTaken(_("That place is no longer on offer."))
    original.withdrawn_at = utcnow()
    original.withdrawal_reason = _("Covered by %(name)s.", name=user.name)
    session.flush()
    return place(session, shift, user, allow_over=True)


def cover_request_in_group(
    session: Session, cover_request_id: int, group_id: int
) -> CoverRequest | None:
    """Return the cover request with this id on one of the group's shifts, with the shift's
    people, or None."""
    return session.scalar(
        sa.select(CoverRequest)
        .join(Assignment, Assignment.id == CoverRequest.assignment_id)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(CoverRequest.id == cover_request_id, Shift.group_id == group_id)
        .options(
            joinedload(CoverRequest.assignment)
            .joinedload(Assignment.shift)
            .selectinload(Shift.active_assignments)
            .joinedload(Assignment.user)
        )
    )


def cover_asked_for(session: Session, assignments: list[Assignment]) -> set[int]:
    """Return the ids of those places that have an open cover request."""
    return set(
        session.scalars(
            sa.select(CoverRequest.assignment_id).where(
                CoverRequest.assignment_id.in_([a.id for a in assignments]),
                CoverRequest.status == CoverStatus.OPEN,
            )
        )
    )
