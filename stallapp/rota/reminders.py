"""The rota's scheduled work: reminders the day before a shift, and gaps told to organisers.

Run by ``flask send-reminders`` (see :mod:`stallapp.rota.commands`); each reminder and each
shortage is claimed in the database before anything is sent, so it goes out once.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from stallapp.database import utcnow
from stallapp.rota.lists import shifts_with_people
from stallapp.rota.models import Assignment, ReminderSent, Shift

#: A member is reminded of shifts starting between 24 and 48 hours from the run.
REMINDER_FROM = timedelta(hours=24)
REMINDER_UNTIL = timedelta(hours=48)
#: Organisers are told of shifts still short that start within this.
SHORTAGE_WINDOW = timedelta(hours=72)


def claim_due_reminders(session: Session, now: datetime | None = None) -> list[Assignment]:
    """Record and return the reminders due: places on shifts starting 24–48 hours from now.

    A :class:`ReminderSent` row is inserted for each before anything is sent; its unique
    ``assignment_id`` means a rerun, or a second run at the same time, finds nothing to send.
    """
    now = now or utcnow()
    already = sa.select(ReminderSent.assignment_id)
    due = session.scalars(
        sa.select(Assignment)
        .join(Shift, Shift.id == Assignment.shift_id)
        .where(
            Assignment.withdrawn_at.is_(None),
            Shift.cancelled_at.is_(None),
            Shift.starts_at >= now + REMINDER_FROM,
            Shift.starts_at < now + REMINDER_UNTIL,
            Assignment.id.not_in(already),
        )
        .options(
            selectinload(Assignment.user),
            selectinload(Assignment.shift).selectinload(Shift.event),
            selectinload(Assignment.shift)
            .selectinload(Shift.active_assignments)
            .selectinload(Assignment.user),
        )
        .order_by(Shift.starts_at, Assignment.id)
    ).all()
    claimed = []
    for assignment in due:
        try:
            with session.begin_nested():
                session.add(ReminderSent(assignment_id=assignment.id, sent_at=now))
        except sa.exc.IntegrityError:
            continue  # another run claimed it in the meantime
        claimed.append(assignment)
    return claimed


def claim_shortages(session: Session, now: datetime | None = None) -> dict[int, list[Shift]]:
    """Mark and return, per group, live shifts starting within 72 hours that are still short.

    Each shift is reported once (``shortage_notified_at``).
    """
    now = now or utcnow()
    taken = (
        sa.select(sa.func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == Shift.id, Assignment.withdrawn_at.is_(None))
        .scalar_subquery()
    )
    candidates = session.scalars(
        shifts_with_people()
        .where(
            Shift.cancelled_at.is_(None),
            Shift.shortage_notified_at.is_(None),
            Shift.starts_at > now,
            Shift.starts_at < now + SHORTAGE_WINDOW,
            taken < Shift.people_needed,
        )
        .order_by(Shift.starts_at, Shift.id)
    ).all()
    by_group: dict[int, list[Shift]] = {}
    for shift in candidates:
        marked = session.execute(
            sa.update(Shift)
            .where(Shift.id == shift.id, Shift.shortage_notified_at.is_(None))
            .values(shortage_notified_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount == 1:
            by_group.setdefault(shift.group_id, []).append(shift)
    return by_group
