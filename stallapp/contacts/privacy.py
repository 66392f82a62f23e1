"""Forgetting contacts: the public "forget me" link, and the group's retention policy with the
purge that applies it (contacts, messages and registration details past their time, unconfirmed
sign-ups and expired links).

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no.
"""

import calendar
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from stallapp.accounts.models import Group
from stallapp.contacts.models import (
    DEFAULT_CONTACT_MONTHS,
    DEFAULT_REGISTRATION_MONTHS,
    Contact,
    ContactMessage,
    ErasureRequest,
    MailingConfirmation,
    RetentionPolicy,
)
from stallapp.contacts.services import CONFIRMATION_LIFETIME, RESEND_AFTER
from stallapp.database import utcnow
from stallapp.errors import InvalidToken, ValidationFailed
from stallapp.events.models import Event, Registration
from stallapp.outbox.services import forget_address
from stallapp.text import normalise_email
from stallapp.tokens import hash_token, new_token

#: How long the link in a "forget me" email works.
ERASURE_LINK_LIFETIME = timedelta(hours=24)
MAX_RETENTION_MONTHS = 120


# Forgetting


def anonymise_registrations(session: Session, condition: sa.ColumnElement[bool]) -> int:
    """Blank the personal fields of the registrations matching ``condition``; return how many.

    The rows stay, with their status, so an event's figures stay right.
    """
    result = session.execute(
        sa.update(Registration)
        .where(condition, Registration.anonymised_at.is_(None))
        .values(
            name="",
            email="",
            note="",
            contact_id=None,
            cancel_token_hash=None,
            anonymised_at=utcnow(),
        )
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def _group_events(group_id: int) -> sa.Select:
    return sa.select(Event.id).where(Event.group_id == group_id)


@dataclass
class Erased:
    contacts: int = 0
    messages: int = 0
    registrations: int = 0


def _delete_contacts(session: Session, contact_ids: list[int], erased: Erased) -> None:
    """Delete contacts with everything hanging off them; their registrations are anonymised."""
    if not contact_ids:
        return
    erased.registrations += anonymise_registrations(
        session, Registration.contact_id.in_(contact_ids)
    )
    erased.messages += session.execute(
        sa.delete(ContactMessage).where(ContactMessage.contact_id.in_(contact_ids))
    ).rowcount
    session.execute(
        sa.delete(MailingConfirmation).where(MailingConfirmation.contact_id.in_(contact_ids))
    )
    erased.contacts += session.execute(
        sa.delete(Contact).where(Contact.id.in_(contact_ids))
    ).rowcount


def erase_address(session: Session, group: Group, email: str) -> Erased:
    """Erase everything ``group`` holds about an address: the contact, its messages, and the
    personal fields of its registrations (the rows stay as anonymous counts)."""
    address = normalise_email(email)
    erased = Erased()
    erased.registrations += anonymise_registrations(
        session,
        sa.and_(Registration.email == address, Registration.event_id.in_(_group_events(group.id))),
    )
    contact_ids = list(
        session.scalars(
            sa.select(Contact.id).where(Contact.group_id == group.id, Contact.email == address)
        )
    )
    _delete_contacts(session, contact_ids, erased)
    # The group's mail to the address goes too, sent or waiting (announcements, registrations).
    forget_address(session, group.id, address)
    session.flush()
    return erased


def group_knows_address(session: Session, group: Group, email: str) -> bool:
    """Tell whether ``group`` holds a contact or a registration with this address."""
    address = normalise_email(email)
    as_contact = sa.select(Contact.id).where(Contact.group_id == group.id, Contact.email == address)
    as_registrant = sa.select(Registration.id).where(
        Registration.email == address, Registration.event_id.in_(_group_events(group.id))
    )
    return bool(session.scalar(sa.select(sa.or_(as_contact.exists(), as_registrant.exists()))))


def request_erasure(session: Session, group: Group, email: str) -> str | None:
    """Create a "forget me" link for an address the group knows, and return its token.

    Returns None when the group does not know the address, or a link went out moments ago;
    the caller answers the same either way.
    """
    address = normalise_email(email)
    token, token_hash = new_token()
    if not group_knows_address(session, group, address):
        return None
    now = utcnow()
    recent = session.scalar(
        sa.select(sa.func.count())
        .select_from(ErasureRequest)
        .where(
            ErasureRequest.group_id == group.id,
            ErasureRequest.email == address,
            ErasureRequest.created_at > now - RESEND_AFTER,
        )
    )
    if recent:
        return None
    session.add(
        ErasureRequest(
            group_id=group.id,
            email=address,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + ERASURE_LINK_LIFETIME,
        )
    )
    session.flush()
    return token


def live_erasure_request(session: Session, token: str) -> ErasureRequest:
    """Return the "forget me" request a link is for.

    :raises InvalidToken: when the link is unknown, used or expired.
    """
    request = session.scalar(
        sa.select(ErasureRequest)
        .where(ErasureRequest.token_hash == hash_token(token))
        .options(joinedload(ErasureRequest.group))
    )
    if request is None or request.expires_at <= utcnow():
        raise InvalidToken()
    return request


def erase_by_request(session: Session, token: str) -> Erased:
    """Use a "forget me" link: erase what its group holds about its address.

    :raises InvalidToken: when the link is unknown, used or expired.
    """
    request = live_erasure_request(session, token)
    group, address = request.group, request.email
    used = session.execute(sa.delete(ErasureRequest).where(ErasureRequest.id == request.id))
    if used.rowcount != 1:
        raise InvalidToken()
    erased = erase_address(session, group, address)
    # Other links for the same address would only find nothing; they go, and the address with them.
    session.execute(
        sa.delete(ErasureRequest).where(
            ErasureRequest.group_id == group.id, ErasureRequest.email == address
        )
    )
    session.flush()
    return erased


# Retention


def retention_policy(session: Session, group: Group) -> RetentionPolicy:
    """Return the group's retention policy; an unsaved one with the defaults if it has none."""
    policy = session.get(RetentionPolicy, group.id)
    if policy is None:
        policy = RetentionPolicy(
            group_id=group.id,
            contact_months=DEFAULT_CONTACT_MONTHS,
            registration_months=DEFAULT_REGISTRATION_MONTHS,
        )
    return policy


def save_retention_policy(
    session: Session, group: Group, *, contact_months: int, registration_months: int
) -> RetentionPolicy:
    """Set how long the group keeps contacts and registrations.

    :raises ValidationFailed: code ``bad_months`` when a period is not 1 to 120 months.
    """
    for months in (contact_months, registration_months):
        if not 1 <= months <= MAX_RETENTION_MONTHS:
            raise ValidationFailed(
                _("Choose between 1 and %(max)d months.", max=MAX_RETENTION_MONTHS),
                code="bad_months",
            )
    policy = session.get(RetentionPolicy, group.id)
    if policy is None:
        try:
            with session.begin_nested():
                policy = RetentionPolicy(group_id=group.id)
                session.add(policy)
                session.flush()
        except sa.exc.IntegrityError:
            policy = session.get(RetentionPolicy, group.id, populate_existing=True)
    policy.contact_months = contact_months
    policy.registration_months = registration_months
    policy.updated_at = utcnow()
    session.flush()
    return policy


def months_before(instant: datetime, months: int) -> datetime:
    """Return the same time ``months`` calendar months earlier (31 March - 1 month: 28/29 Feb)."""
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


@dataclass
class PurgeReport:
    """What a purge did, in counts only: it never names anyone."""

    unconfirmed_deleted: int = 0
    unconfirmed_withdrawn: int = 0
    inactive_deleted: int = 0
    messages_deleted: int = 0
    registrations_anonymised: int = 0
    expired_links_deleted: int = 0

    def lines(self) -> list[str]:
        labels = {
            "unconfirmed_deleted": "Unconfirmed sign-ups deleted",
            "unconfirmed_withdrawn": "Unconfirmed sign-ups withdrawn (contact kept for other"
            " activity)",
            "inactive_deleted": "Inactive contacts deleted",
            "messages_deleted": "Messages deleted with them",
            "registrations_anonymised": "Registrations anonymised",
            "expired_links_deleted": "Expired confirmation and erasure links deleted",
        }
        return [f"{labels[field.name]}: {getattr(self, field.name)}" for field in fields(self)]


def _purge_unconfirmed(session: Session, now: datetime, report: PurgeReport) -> None:
    """Drop sign-ups never confirmed within the confirmation time.

    A contact that is nothing but that sign-up goes; one that also registered, wrote, or was
    once confirmed keeps everything except the unconfirmed consent.
    """
    pending = sa.and_(
        Contact.mailing_consent_at < now - CONFIRMATION_LIFETIME,
        Contact.confirmed_at.is_(None),
    )
    has_other_activity = sa.or_(
        sa.select(Registration.id).where(Registration.contact_id == Contact.id).exists(),
        sa.select(ContactMessage.id).where(ContactMessage.contact_id == Contact.id).exists(),
        Contact.unsubscribed_at.is_not(None),
    )
    only_a_sign_up = list(
        session.scalars(sa.select(Contact.id).where(pending, ~has_other_activity))
    )
    erased = Erased()
    _delete_contacts(session, only_a_sign_up, erased)
    report.unconfirmed_deleted += erased.contacts
    keep_ids = list(session.scalars(sa.select(Contact.id).where(pending)))
    if keep_ids:
        session.execute(
            sa.delete(MailingConfirmation).where(MailingConfirmation.contact_id.in_(keep_ids))
        )
        report.unconfirmed_withdrawn += session.execute(
            sa.update(Contact)
            .where(Contact.id.in_(keep_ids))
            .values(mailing_consent_at=None, mailing_consent_text="")
            .execution_options(synchronize_session="fetch")
        ).rowcount


def purge_expired(session: Session, now: datetime | None = None) -> PurgeReport:
    """Apply every group's retention policy and drop unconfirmed sign-ups and expired links."""
    now = now or utcnow()
    report = PurgeReport()
    report.expired_links_deleted += session.execute(
        sa.delete(MailingConfirmation).where(MailingConfirmation.expires_at <= now)
    ).rowcount
    report.expired_links_deleted += session.execute(
        sa.delete(ErasureRequest).where(ErasureRequest.expires_at <= now)
    ).rowcount
    _purge_unconfirmed(session, now, report)

    policies = session.execute(
        sa.select(
            Group.id,
            sa.func.coalesce(RetentionPolicy.contact_months, DEFAULT_CONTACT_MONTHS),
            sa.func.coalesce(RetentionPolicy.registration_months, DEFAULT_REGISTRATION_MONTHS),
        ).outerjoin(RetentionPolicy, RetentionPolicy.group_id == Group.id)
    ).all()
    for group_id, contact_months, registration_months in policies:
        inactive = list(
            session.scalars(
                sa.select(Contact.id).where(
                    Contact.group_id == group_id,
                    Contact.last_activity_at < months_before(now, contact_months),
                )
            )
        )
        erased = Erased()
        _delete_contacts(session, inactive, erased)
        report.inactive_deleted += erased.contacts
        report.messages_deleted += erased.messages
        report.registrations_anonymised += erased.registrations
        ended = sa.select(Event.id).where(
            Event.group_id == group_id,
            Event.ends_at < months_before(now, registration_months),
        )
        report.registrations_anonymised += anonymise_registrations(
            session, Registration.event_id.in_(ended)
        )
    session.flush()
    return report
