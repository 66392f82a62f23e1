"""Shifts and who is on them: adding, changing, copying and cancelling shifts; signing up,
assigning and withdrawing; the clashes and warnings that come with them.

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no. Where two people can race for the same
place (the last place on a shift, a shift offered for cover) the database decides: the shift row
is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the view began the transaction with
``BEGIN IMMEDIATE``, see :func:`stallapp.database.begin_write`) before anything is counted.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Membership, User
from stallapp.database import utcnow
from stallapp.errors import StallError, ValidationFailed
from stallapp.events.models import Event
from stallapp.rota.models import Assignment, Shift, ShiftRole, Unavailability
from stallapp.times import utc_to_local


class ShiftFull(StallError):
    code = "shift_full"
    default_message = _l("That shift has just been filled.")


class ShiftOverlap(StallError):
    code = "shift_overlap"


class AlreadyOnShift(StallError):
    code = "already_on_shift"
    default_message = _l("You are already on that shift.")


class ShiftClosed(StallError):
    code = "shift_closed"
    default_message = _l("That shift is cancelled or has already started.")


class NotInGroup(StallError):
    code = "not_in_group"
    default_message = _l("That person is not a member of this group.")


ROLE_LABELS = {
    ShiftRole.SETUP: _l("Set-up"),
    ShiftRole.STAFFING: _l("Staffing"),
    ShiftRole.PACKDOWN: _l("Pack-down"),
    ShiftRole.SPEAKER: _l("Speaker"),
    ShiftRole.CHAIR: _l("Chair"),
    ShiftRole.DRIVER: _l("Driver / transport"),
    ShiftRole.CUSTOM: _l("Other (give it a name)"),
}

#: How far a shift may start before its event or end after it (loading the van, the drive home).
AROUND_EVENT = timedelta(hours=12)
#: Shifts at different venues closer than this get a warning: people need time to get there.
TRAVEL_GAP = timedelta(hours=1)
#: Withdrawing later than this before the start tells the organisers.
LATE_WITHDRAWAL = timedelta(hours=24)


def role_name(shift: Shift) -> str:
    """Name a shift's role in the reader's language ("Staffing", or the custom name)."""
    if shift.role == ShiftRole.CUSTOM:
        return shift.custom_role
    return str(ROLE_LABELS[shift.role])


def shift_title(shift: Shift) -> str:
    """Name a shift with its event: "Staffing · Peterborough Radical Bookfair"."""
    return f"{role_name(shift)} · {shift.event.title}"


# Shifts


def _check_times(event: Event, starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValidationFailed(_("The shift must end after it starts."), code="ends_before_start")
    if starts_at < event.starts_at - AROUND_EVENT or ends_at > event.ends_at + AROUND_EVENT:
        raise ValidationFailed(
            _("A shift must be within 12 hours of its event."), code="shift_outside_event"
        )


def _check_role(role: ShiftRole, custom_role: str) -> str:
    custom_role = (custom_role or "").strip()
    if role == ShiftRole.CUSTOM and not custom_role:
        raise ValidationFailed(_("Give the role a name."), code="custom_role_missing")
    return custom_role if role == ShiftRole.CUSTOM else ""


def add_shift(
    session: Session,
    event: Event,
    role: ShiftRole,
    starts_at: datetime,
    ends_at: datetime,
    *,
    people_needed: int = 1,
    notes: str = "",
    custom_role: str = "",
) -> Shift:
    """Add a shift to an event.

    :raises ValidationFailed: when the times are backwards or far from the event, or a custom
        role has no name.
    """
    custom_role = _check_role(role, custom_role)
    _check_times(event, starts_at, ends_at)
    if people_needed < 1:
        raise ValidationFailed(_("At least one person."), code="nobody_needed")
    shift = Shift(
        event=event,
        group_id=event.group_id,
        role=role,
        custom_role=custom_role,
        starts_at=starts_at,
        ends_at=ends_at,
        people_needed=people_needed,
        notes=(notes or "").strip(),
    )
    session.add(shift)
    session.flush()
    return shift


@dataclass(frozen=True)
class PlannedShift:
    role: ShiftRole
    starts_at: datetime
    ends_at: datetime
    people_needed: int


def plan_stall_day(
    event: Event,
    *,
    block: timedelta,
    setup: timedelta = timedelta(hours=1),
    packdown: timedelta = timedelta(minutes=30),
    staffing_people: int = 2,
    setup_people: int = 2,
    packdown_people: int = 2,
) -> list[PlannedShift]:
    """Plan a stall day: set-up before opening, staffing in blocks, pack-down after closing.

    Blocks are real durations from the opening instant; the last one ends at closing, so it is
    shorter when the day does not divide evenly. A zero set-up or pack-down is left out.

    :raises ValidationFailed: when the block length is not positive.
    """
    if block <= timedelta(0):
        raise ValidationFailed(_("Blocks must be at least a minute long."), code="bad_block")
    plan = []
    if setup > timedelta(0):
        plan.append(
            PlannedShift(ShiftRole.SETUP, event.starts_at - setup, event.starts_at, setup_people)
        )
    start = event.starts_at
    while start < event.ends_at:
        end = min(start + block, event.ends_at)
        plan.append(PlannedShift(ShiftRole.STAFFING, start, end, staffing_people))
        start = end
    if packdown > timedelta(0):
        plan.append(
            PlannedShift(
                ShiftRole.PACKDOWN, event.ends_at, event.ends_at + packdown, packdown_people
            )
        )
    return plan


def fill_stall_day(session: Session, event: Event, **template) -> list[Shift]:
    """Add the shifts :func:`plan_stall_day` plans for ``event`` (same keyword arguments).

    :raises ValidationFailed: as :func:`plan_stall_day` and :func:`add_shift`.
    """
    return [
        add_shift(
            session,
            event,
            planned.role,
            planned.starts_at,
            planned.ends_at,
            people_needed=planned.people_needed,
        )
        for planned in plan_stall_day(event, **template)
    ]


def update_shift(
    session: Session,
    shift: Shift,
    role: ShiftRole,
    starts_at: datetime,
    ends_at: datetime,
    *,
    people_needed: int,
    notes: str,
    custom_role: str = "",
) -> bool:
    """Change a shift; return whether its time or place of work changed (people should be told).

    :raises ValidationFailed: as :func:`add_shift`.
    :raises ShiftOverlap: when the new times clash with another shift of someone on it.
    """
    custom_role = _check_role(role, custom_role)
    _check_times(shift.event, starts_at, ends_at)
    if people_needed < 1:
        raise ValidationFailed(_("At least one person."), code="nobody_needed")
    moved = (starts_at, ends_at) != (shift.starts_at, shift.ends_at)
    if moved:
        for assignment in shift.active_assignments:
            clash = _overlapping(session, assignment.user, starts_at, ends_at, exclude=shift)
            if clash is not None:
                raise ShiftOverlap(_clash_message(assignment.user, clash, shift))
    changed = moved or role != shift.role or custom_role != shift.custom_role
    changed = changed or (notes or "").strip() != shift.notes
    shift.role = role
    shift.custom_role = custom_role
    shift.starts_at = starts_at
    shift.ends_at = ends_at
    shift.people_needed = people_needed
    shift.notes = (notes or "").strip()
    session.flush()
    return changed


def cancel_shift(session: Session, shift: Shift) -> list[User]:
    """Cancel a shift and return the people who were on it (to be told)."""
    people = [assignment.user for assignment in shift.active_assignments]
    if shift.cancelled_at is None:
        shift.cancelled_at = utcnow()
    session.flush()
    return people


def copy_rota(session: Session, source: Event, target: Event) -> list[Shift]:
    """Copy ``source``'s shifts (not the people) to ``target``, at the same offsets from its start.

    A shift the target already has (same role and times) is not added twice.

    :raises ValidationFailed: when the events are the same or of different groups, or a copied
        shift would fall far outside the target event.
    """
    if source.id == target.id or source.group_id != target.group_id:
        raise ValidationFailed(_("Choose another event of this group."), code="bad_source")
    existing = {
        (shift.role, shift.custom_role, shift.starts_at, shift.ends_at)
        for shift in session.scalars(
            sa.select(Shift).where(Shift.event_id == target.id, Shift.cancelled_at.is_(None))
        )
    }
    offset = target.starts_at - source.starts_at
    copied = []
    for shift in session.scalars(
        sa.select(Shift)
        .where(Shift.event_id == source.id, Shift.cancelled_at.is_(None))
        .order_by(Shift.starts_at, Shift.id)
    ):
        starts_at, ends_at = shift.starts_at + offset, shift.ends_at + offset
        if (shift.role, shift.custom_role, starts_at, ends_at) in existing:
            continue
        copied.append(
            add_shift(
                session,
                target,
                shift.role,
                starts_at,
                ends_at,
                people_needed=shift.people_needed,
                notes=shift.notes,
                custom_role=shift.custom_role,
            )
        )
    return copied


# Who is on a shift


def lock_shift(session: Session, shift_id: int) -> Shift:
    """Reload the shift with its row locked (PostgreSQL) so counting its people is safe."""
    return session.scalars(
        sa.select(Shift)
        .where(Shift.id == shift_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def _active_count(session: Session, shift: Shift) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == shift.id, Assignment.withdrawn_at.is_(None))
    )


def _others_of(user: User, exclude: Shift | None) -> sa.Select:
    statement = (
        sa.select(Shift)
        .join(Assignment, Assignment.shift_id == Shift.id)
        .where(
            Assignment.user_id == user.id,
            Assignment.withdrawn_at.is_(None),
            Shift.cancelled_at.is_(None),
        )
        .options(selectinload(Shift.event))
        .order_by(Shift.starts_at)
    )
    if exclude is not None:
        statement = statement.where(Shift.id != exclude.id)
    return statement


def _overlapping(
    session: Session, user: User, starts_at: datetime, ends_at: datetime, exclude: Shift | None
) -> Shift | None:
    """Return one of the user's shifts, in any group, that overlaps the span (UTC instants)."""
    return session.scalars(
        _others_of(user, exclude)
        .where(Shift.starts_at < ends_at, Shift.ends_at > starts_at)
        .limit(1)
    ).first()


def shifts_overlap(first: Shift, second: Shift) -> bool:
    """Tell whether two shifts share any instant; touching ends do not overlap."""
    return first.starts_at < second.ends_at and second.starts_at < first.ends_at


def _clash_message(user: User, clash: Shift, shift: Shift) -> str:
    """Say what the clash is; another group's event is not named (it is that group's business)."""
    if clash.group_id != shift.group_id:
        return _("%(name)s is on a shift of another group at that time.", name=user.name)
    return _(
        "%(name)s is already on “%(other)s” at that time.",
        name=user.name,
        other=shift_title(clash),
    )


def _venue(event: Event) -> tuple[str, str]:
    return (event.venue_name.strip().lower(), event.address.strip().lower())


def local_days(shift: Shift) -> set[date]:
    """Return the local dates (in the event's zone) a shift touches."""
    start = utc_to_local(shift.starts_at, shift.event.timezone)
    end = utc_to_local(shift.ends_at - timedelta(microseconds=1), shift.event.timezone)
    days, day = set(), start.date()
    while day <= end.date():
        days.add(day)
        day += timedelta(days=1)
    return days


def assignment_warnings(session: Session, shift: Shift, user: User) -> list[str]:
    """Return what an organiser should know before putting ``user`` on ``shift``.

    Nothing here forbids it: another shift at a different venue less than an hour before or
    after, and days the member said they are unavailable.
    """
    warnings = []
    near = session.scalars(
        _others_of(user, shift).where(
            Shift.starts_at < shift.ends_at + TRAVEL_GAP,
            Shift.ends_at > shift.starts_at - TRAVEL_GAP,
        )
    )
    for other in near:
        if other.event_id == shift.event_id or _venue(other.event) == _venue(shift.event):
            continue
        if other.group_id != shift.group_id:
            what = _("a shift of another group")
        else:
            what = f"“{shift_title(other)}”"
        warnings.append(
            _(
                "%(name)s is on %(other)s at another venue less than an hour apart.",
                name=user.name,
                other=what,
            )
        )
    days = local_days(shift)
    for unavailable in session.scalars(
        sa.select(Unavailability)
        .where(Unavailability.user_id == user.id, Unavailability.day.in_(sorted(days)))
        .order_by(Unavailability.day)
    ):
        text = _(
            "%(name)s said they are unavailable on %(day)s.",
            name=user.name,
            day=unavailable.day.isoformat(),
        )
        if unavailable.note:
            text += f" ({unavailable.note})"
        warnings.append(text)
    return warnings


def _is_member(session: Session, user: User, group_id: int) -> bool:
    return (
        session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id, Membership.group_id == group_id
            )
        )
        is not None
    )


def place(session: Session, shift: Shift, user: User, *, allow_over: bool) -> Assignment:
    """Put ``user`` on the locked ``shift`` after every check; the caller locked the row."""
    if shift.cancelled_at is not None or shift.starts_at <= utcnow():
        raise ShiftClosed()
    if not _is_member(session, user, shift.group_id):
        raise NotInGroup()
    on_it = session.scalar(
        sa.select(Assignment.id).where(
            Assignment.shift_id == shift.id,
            Assignment.user_id == user.id,
            Assignment.withdrawn_at.is_(None),
        )
    )
    if on_it is not None:
        raise AlreadyOnShift()
    if not allow_over and _active_count(session, shift) >= shift.people_needed:
        raise ShiftFull()
    clash = _overlapping(session, user, shift.starts_at, shift.ends_at, exclude=shift)
    if clash is not None:
        raise ShiftOverlap(_clash_message(user, clash, shift))
    assignment = Assignment(shift=shift, user=user)
    session.add(assignment)
    session.flush()
    return assignment


def lock_user(session: Session, user: User) -> None:
    """Serialise one member's sign-ups, so two at once cannot both pass the overlap check."""
    session.execute(sa.select(User.id).where(User.id == user.id).with_for_update(key_share=True))


def sign_up(session: Session, shift: Shift, user: User) -> Assignment:
    """Put a member on an open shift of their group, if a place is still free.

    :raises ShiftFull: when the last place went to someone else ("that shift has just been
        filled"); decided under the shift's row lock.
    :raises ShiftOverlap: when they are on another shift at the same time, in any group.
    :raises AlreadyOnShift: when they are on it already.
    :raises ShiftClosed: when the shift is cancelled or has started.
    :raises NotInGroup: when they are not a member of the shift's group.
    """
    shift = lock_shift(session, shift.id)
    lock_user(session, user)
    return place(session, shift, user, allow_over=False)


def assign(session: Session, shift: Shift, user: User, assigned_by: User) -> Assignment:
    """Put a member on a shift (an organiser's decision, so it may go over the number needed).

    :raises ShiftOverlap: when they are on another shift at the same time, in any group.
    :raises AlreadyOnShift, ShiftClosed, NotInGroup: as :func:`sign_up`.
    """
    shift = lock_shift(session, shift.id)
    lock_user(session, user)
    assignment = place(session, shift, user, allow_over=True)
    assignment.assigned_by = assigned_by
    session.flush()
    return assignment


def withdraw(session: Session, assignment: Assignment, reason: str) -> bool:
    """Take a member off a shift with their reason; return whether it is late (under 24 hours).

    :raises ValidationFailed: when they already withdrew.
    """
    if assignment.withdrawn_at is not None:
        raise ValidationFailed(_("You are no longer on that shift."), code="already_withdrawn")
    now = utcnow()
    assignment.withdrawn_at = now
    assignment.withdrawal_reason = (reason or "").strip()
    session.flush()
    return assignment.shift.starts_at - now < LATE_WITHDRAWAL


def unassign(session: Session, assignment: Assignment, by: User) -> None:
    """Take a member off a shift (an organiser's decision).

    :raises ValidationFailed: when they are no longer on it.
    """
    withdraw(session, assignment, _("Taken off the rota by %(name)s.", name=by.name))


# Finding one


def own_assignment(session: Session, assignment_id: int, user: User) -> Assignment | None:
    """Return the member's current place with this id, or None (not theirs, or withdrawn)."""
    return session.scalar(
        sa.select(Assignment).where(
            Assignment.id == assignment_id,
            Assignment.user_id == user.id,
            Assignment.withdrawn_at.is_(None),
        )
    )


def assignment_in_group(session: Session, assignment_id: int, group_id: int) -> Assignment | None:
    """Return the place with this id on one of the group's shifts, or None."""
    return session.scalar(
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(Assignment.id == assignment_id, Shift.group_id == group_id)
    )


def group_member(session: Session, group_id: int, user_id: int) -> User | None:
    """Return the user with this id if they are a member of the group, or None."""
    return session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.group_id == group_id)
    )
