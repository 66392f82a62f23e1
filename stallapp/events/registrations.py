"""Registrations: signing up for an event, the waiting list, cancel links and the door list.

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no. Places at an event are decided with
the event's row locked (:func:`lock_event`, ``SELECT ... FOR UPDATE``), so two people going for
the last place cannot both get it. :mod:`stallapp.events.services` imports from here (a change
of capacity frees places), never the other way round.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from stallapp.contacts.services import record_contact
from stallapp.database import utcnow
from stallapp.errors import InvalidToken, StallError, ValidationFailed
from stallapp.events.models import Event, EventStatus, Registration, RegistrationStatus
from stallapp.qr.services import own_code_id
from stallapp.text import normalise_email
from stallapp.times import utc_to_local
from stallapp.tokens import hash_token, new_token

#: The statuses that hold a place or wait for one (everything but cancelled).
ACTIVE_STATUSES = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITING)


class RegistrationClosed(StallError):
    code = "registration_closed"


@dataclass(frozen=True)
class PlaceOffer:
    """A person moved up from the waiting list, with a fresh cancel link to email them."""

    registration: Registration
    cancel_token: str


def lock_event(session: Session, event_id: int) -> Event:
    """Lock the event's row until the commit and re-read it (places are decided under it)."""
    return session.scalars(
        sa.select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def registration_open(event: Event, now: datetime | None = None) -> bool:
    """Tell whether the public may register: published, registration on, not yet ended."""
    now = now or utcnow()
    return (
        event.status == EventStatus.PUBLISHED
        and event.registration_required
        and event.ends_at > now
    )


def _registered_count(session: Session, event: Event) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    )


@dataclass(frozen=True)
class RegistrationResult:
    registration: Registration
    #: A fresh cancel link's token, to email now (the previous link of a repeat stops working).
    cancel_token: str
    #: False when this address had already registered (or was waiting) for the event.
    created: bool


def register(
    session: Session,
    event: Event,
    *,
    name: str,
    email: str,
    note: str = "",
    consent_text: str,
    source_qr_code_id: int | None = None,
    source_announcement_id: int | None = None,
) -> RegistrationResult:
    """Register someone for ``event``: a place while there is one, else the waiting list.

    The same address registering again gets its existing registration back (with a fresh cancel
    link), never a second one. The person becomes (or stays) a contact of the group.

    :raises RegistrationClosed: when the event is not open for registration.
    """
    event = lock_event(session, event.id)
    if not registration_open(event):
        raise RegistrationClosed(_("Registration for this event is closed."))
    address = normalise_email(email)
    source_qr_code_id = own_code_id(session, event.group, source_qr_code_id)
    contact = record_contact(
        session,
        event.group,
        email=address,
        name=name,
        source_event_id=event.id,
        source_qr_code_id=source_qr_code_id,
    )
    token, token_hash = new_token()
    existing = session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id,
            Registration.email == address,
            Registration.status.in_(ACTIVE_STATUSES),
        )
    )
    if existing is not None:
        existing.cancel_token_hash = token_hash
        session.flush()
        return RegistrationResult(existing, token, created=False)
    full = event.capacity is not None and _registered_count(session, event) >= event.capacity
    registration = Registration(
        event_id=event.id,
        event=event,
        contact_id=contact.id,
        status=RegistrationStatus.WAITING if full else RegistrationStatus.REGISTERED,
        name=name.strip(),
        email=address,
        note=note.strip(),
        consent_text=consent_text,
        cancel_token_hash=token_hash,
        source_qr_code_id=source_qr_code_id,
        source_announcement_id=source_announcement_id,
    )
    session.add(registration)
    session.flush()
    return RegistrationResult(registration, token, created=True)


def waiting_position(session: Session, registration: Registration) -> int:
    """Return the registration's place in its event's waiting list (1 is next), 0 if not waiting."""
    if registration.status != RegistrationStatus.WAITING:
        return 0
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITING,
            Registration.id <= registration.id,
        )
    )


def fill_free_places(session: Session, event: Event) -> list[PlaceOffer]:
    """Move people up from the waiting list, first come first served, while there are places.

    The caller holds the event's lock (:func:`lock_event`). Anonymised registrations (the person
    asked to be forgotten) are skipped: nobody could tell them.
    """
    if event.status == EventStatus.CANCELLED or event.ends_at <= utcnow():
        return []
    waiting = sa.select(Registration).where(
        Registration.event_id == event.id,
        Registration.status == RegistrationStatus.WAITING,
        Registration.anonymised_at.is_(None),
    )
    if event.capacity is not None:
        free = event.capacity - _registered_count(session, event)
        if free <= 0:
            return []
        waiting = waiting.limit(free)
    offers = []
    for registration in session.scalars(waiting.order_by(Registration.id)).all():
        token, token_hash = new_token()
        registration.status = RegistrationStatus.REGISTERED
        registration.cancel_token_hash = token_hash
        offers.append(PlaceOffer(registration, token))
    session.flush()
    return offers


def registration_for_cancel_token(session: Session, token: str) -> Registration:
    """Return the live registration a cancel link is for.

    :raises InvalidToken: when the link is unknown or was used already.
    """
    registration = session.scalar(
        sa.select(Registration)
        .where(Registration.cancel_token_hash == hash_token(token))
        .options(joinedload(Registration.event).joinedload(Event.group))
    )
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        raise InvalidToken()
    return registration


@dataclass(frozen=True)
class Cancellation:
    registration: Registration
    #: The people the freed place moved up, to email.
    moved_up: list[PlaceOffer]


def cancel_registration(session: Session, token: str) -> Cancellation:
    """Cancel the registration a cancel link is for; the link stops working.

    A freed place goes to the first person on the waiting list.

    :raises InvalidToken: when the link is unknown or was used already.
    """
    registration = registration_for_cancel_token(session, token)
    event = lock_event(session, registration.event_id)
    # Re-read under the lock: another request may have used the link meanwhile.
    registration = session.scalars(
        sa.select(Registration)
        .where(Registration.id == registration.id)
        .execution_options(populate_existing=True)
    ).one()
    if (
        registration.cancel_token_hash != hash_token(token)
        or registration.status == RegistrationStatus.CANCELLED
    ):
        raise InvalidToken()
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = utcnow()
    registration.cancel_token_hash = None
    session.flush()
    return Cancellation(registration, fill_free_places(session, event))


@dataclass(frozen=True)
class EventRegistrations:
    registered: list[Registration]
    waiting: list[Registration]
    cancelled: int


def registrations_of(session: Session, event: Event) -> EventRegistrations:
    """Return the event's registrations: places and waiting list in order, and a cancelled count."""
    rows = session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    ).all()
    return EventRegistrations(
        registered=[row for row in rows if row.status == RegistrationStatus.REGISTERED],
        waiting=[row for row in rows if row.status == RegistrationStatus.WAITING],
        cancelled=sum(1 for row in rows if row.status == RegistrationStatus.CANCELLED),
    )


def set_checked_in(session: Session, registration: Registration, checked_in: bool) -> None:
    """Mark someone as arrived at the door, or undo it; doing it twice changes nothing.

    :raises ValidationFailed: code ``not_registered`` for someone without a place.
    """
    if registration.status != RegistrationStatus.REGISTERED:
        raise ValidationFailed(
            _("Only people with a place can be checked in."), code="not_registered"
        )
    if checked_in and registration.checked_in_at is None:
        registration.checked_in_at = utcnow()
    elif not checked_in:
        registration.checked_in_at = None
    session.flush()


#: The registrations export's columns: stable names, the same in every language.
REGISTRATION_COLUMNS = (
    "status",
    "name",
    "email",
    "note",
    "registered_at",
    "checked_in_at",
    "cancelled_at",
    "consent",
)


def registrations_table(
    session: Session, event: Event
) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    """Return the event's registrations as a header and rows, oldest first, for a CSV export.

    Times are aware datetimes in the event's zone (None when not set); the writer in
    :mod:`stallapp.csv_export` formats them and guards text a spreadsheet would run as a formula.
    """

    def local(instant: datetime | None) -> datetime | None:
        return None if instant is None else utc_to_local(instant, event.timezone)

    registrations = session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    )
    rows = [
        (
            row.status.value,
            row.name,
            row.email,
            row.note,
            local(row.created_at),
            local(row.checked_in_at),
            local(row.cancelled_at),
            row.consent_text,
        )
        for row in registrations
    ]
    return REGISTRATION_COLUMNS, rows
