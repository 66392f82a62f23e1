"""An event's till: its sale settings, the lock every write at the event takes, and whether the
event is closed out.

Whether an event is closed is stored once, in ``EventTill.closed_at``: the close-out sets it and a
reopen clears it, both under the till lock, so a sale or undo that holds the lock reads the truth.
"""

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from stallapp.errors import EventClosed, ValidationFailed
from stallapp.events.models import Event
from stallapp.money import is_valid_currency
from stallapp.sales.models import EventTill, PaymentMethod


def till_of(session: Session, event: Event) -> EventTill | None:
    """Return the event's till settings, or None before the first sale or set-up."""
    return session.scalar(sa.select(EventTill).where(EventTill.event_id == event.id))


def default_till(event: Event) -> EventTill:
    """Return unsaved settings with the defaults, for showing a sale screen before any sale."""
    return EventTill(
        event_id=event.id,
        group_id=event.group_id,
        main_currency=event.group.currency,
        default_payment_method=PaymentMethod.CASH,
    )


def lock_till(session: Session, event: Event) -> EventTill:
    """Return the event's till, created if needed, locked until the commit (PostgreSQL).

    Every write at one event takes this lock first, so operations at one stall are applied one
    after the other and a replay always sees the first copy's stored result.
    """
    till = _locked_till(session, event)
    if till is not None:
        return till
    try:
        with session.begin_nested():
            session.add(default_till(event))
            session.flush()
    except sa.exc.IntegrityError:
        pass  # another request created it first; lock theirs
    return _locked_till(session, event)


def _locked_till(session: Session, event: Event) -> EventTill | None:
    # populate_existing: a till this session loaded before the lock must show what is true now.
    return session.scalar(
        sa.select(EventTill)
        .where(EventTill.event_id == event.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def save_till_settings(
    session: Session, event: Event, main_currency: str, payment_method: PaymentMethod
) -> EventTill:
    """Set the event's main currency and default payment method.

    :raises ValidationFailed: on an unknown currency.
    """
    if not is_valid_currency(main_currency):
        raise ValidationFailed(_("Unknown currency code."), "currency")
    till = lock_till(session, event)
    till.main_currency = main_currency
    till.default_payment_method = payment_method
    session.flush()
    return till


def is_closed(session: Session, event: Event) -> bool:
    """Tell whether the event is closed out now (and not reopened)."""
    closed_at = session.scalar(sa.select(EventTill.closed_at).where(EventTill.event_id == event.id))
    return closed_at is not None


def ensure_event_open(session: Session, event: Event) -> EventTill:
    """Lock the event's till and refuse to go on when the event is closed out.

    Every service that writes sales, undos or stock at an event calls this first.

    :raises EventClosed: when the event is closed out and not reopened.
    """
    till = lock_till(session, event)
    if till.closed_at is not None:
        raise EventClosed(_("This event is closed out: reopen it to record or undo sales."))
    return till
