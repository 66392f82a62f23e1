"""Contact rules: who signed up, registered or wrote, their consent, and their messages.

Forgetting contacts again (on request, or when the group's retention period runs out) lives in
:mod:`stallapp.contacts.privacy`.

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from stallapp.accounts.models import Group
from stallapp.contacts.models import (
    Contact,
    ContactMessage,
    MailingConfirmation,
    MessageStatus,
)
from stallapp.database import utcnow
from stallapp.errors import InvalidToken
from stallapp.events.models import Registration
from stallapp.qr.services import own_code_id
from stallapp.text import normalise_email
from stallapp.times import utc_to_local
from stallapp.tokens import hash_token, new_token

#: How long the link in a sign-up's confirmation email works; unconfirmed sign-ups are
#: deleted after the same time.
CONFIRMATION_LIFETIME = timedelta(days=7)
#: A second request for the same address within this time sends no second email, so a double
#: submission sends one and nobody can flood an address through the public forms.
RESEND_AFTER = timedelta(minutes=2)
#: The same message from the same address within this time is a double submission.
DUPLICATE_MESSAGE_WINDOW = timedelta(minutes=10)


def record_contact(
    session: Session,
    group: Group,
    *,
    email: str,
    name: str = "",
    source_event_id: int | None = None,
    source_qr_code_id: int | None = None,
) -> Contact:
    """Return the group's contact for ``email``, creating it on first sight.

    A known contact gets its activity time refreshed (and a name if it had none); where it came
    from is kept from its first appearance: ``source_qr_code_id`` is the QR code the person
    scanned to get to a public form (the view reads it from their session), kept when it is one
    of the group's. Two requests at once for the same address meet the ``(group_id, email)``
    unique constraint, so the loser re-reads the winner's row.
    """
    address = normalise_email(email)
    now = utcnow()
    existing = session.scalar(
        sa.select(Contact).where(Contact.group_id == group.id, Contact.email == address)
    )
    if existing is None:
        source_qr_code_id = own_code_id(session, group, source_qr_code_id)
        try:
            with session.begin_nested():
                existing = Contact(
                    group_id=group.id,
                    email=address,
                    name=name.strip(),
                    last_activity_at=now,
                    source_event_id=source_event_id,
                    source_qr_code_id=source_qr_code_id,
                )
                session.add(existing)
                session.flush()
            return existing
        except sa.exc.IntegrityError:
            existing = session.scalar(
                sa.select(Contact).where(Contact.group_id == group.id, Contact.email == address)
            )
    existing.last_activity_at = now
    if name.strip() and not existing.name:
        existing.name = name.strip()
    session.flush()
    return existing


def _lock(session: Session, contact: Contact) -> Contact:
    """Lock the contact's row until the commit and re-read it.

    Two submissions for one address at once then run one after the other, and the second sees
    what the first did (its confirmation link, its message).
    """
    return session.scalars(
        sa.select(Contact)
        .where(Contact.id == contact.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


# Mailing-list sign-up with double opt-in


@dataclass(frozen=True)
class SignUp:
    contact: Contact
    #: The token for a confirmation link to email now; None when no email should go out.
    confirmation_token: str | None


def sign_up(
    session: Session,
    group: Group,
    *,
    email: str,
    name: str,
    consent_text: str,
    city: str = "",
    interests: str = "",
    source_event_id: int | None = None,
    source_qr_code_id: int | None = None,
) -> SignUp:
    """Record a mailing-list sign-up, pending until the emailed link is opened.

    What the caller answers must not depend on the result: a confirmed subscriber gets nothing
    new, anyone else a fresh confirmation link (unless one went out moments ago). Details
    already on file are never overwritten from a public form.
    """
    contact = record_contact(
        session,
        group,
        email=email,
        name=name,
        source_event_id=source_event_id,
        source_qr_code_id=source_qr_code_id,
    )
    contact = _lock(session, contact)
    if contact.subscribed:
        return SignUp(contact, None)
    now = utcnow()
    if city.strip() and not contact.city:
        contact.city = city.strip()
    if interests.strip() and not contact.interests:
        contact.interests = interests.strip()
    contact.mailing_consent_at = now
    contact.mailing_consent_text = consent_text
    contact.confirmed_at = None
    recent = session.scalar(
        sa.select(sa.func.count())
        .select_from(MailingConfirmation)
        .where(
            MailingConfirmation.contact_id == contact.id,
            MailingConfirmation.created_at > now - RESEND_AFTER,
        )
    )
    if recent:
        session.flush()
        return SignUp(contact, None)
    token, token_hash = new_token()
    session.add(
        MailingConfirmation(
            contact_id=contact.id,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + CONFIRMATION_LIFETIME,
        )
    )
    session.flush()
    return SignUp(contact, token)


def _live_confirmation(session: Session, token: str) -> MailingConfirmation:
    confirmation = session.scalar(
        sa.select(MailingConfirmation)
        .where(MailingConfirmation.token_hash == hash_token(token))
        .options(joinedload(MailingConfirmation.contact))
    )
    if confirmation is None or confirmation.expires_at <= utcnow():
        raise InvalidToken()
    return confirmation


def contact_to_confirm(session: Session, token: str) -> Contact:
    """Return the contact a confirmation link is for.

    :raises InvalidToken: when the link is unknown, used or expired.
    """
    return _live_confirmation(session, token).contact


def confirm_mailing(session: Session, token: str) -> Contact:
    """Use a confirmation link: the sign-up counts from now on.

    :raises InvalidToken: when the link is unknown, used or expired.
    """
    confirmation = _live_confirmation(session, token)
    used = session.execute(
        sa.delete(MailingConfirmation).where(MailingConfirmation.id == confirmation.id)
    )
    if used.rowcount != 1:
        raise InvalidToken()
    contact = _lock(session, confirmation.contact)
    if contact.mailing_consent_at is None:
        raise InvalidToken()
    now = utcnow()
    contact.confirmed_at = now
    contact.unsubscribed_at = None
    contact.last_activity_at = now
    # Other links sent for the same sign-up have done their job too.
    session.execute(
        sa.delete(MailingConfirmation).where(MailingConfirmation.contact_id == contact.id)
    )
    session.flush()
    return contact


def contact_for_unsubscribe(session: Session, token: str) -> Contact:
    """Return the contact an unsubscribe link is for.

    :raises InvalidToken: when no contact has this token (never had, or was erased).
    """
    contact = session.scalar(sa.select(Contact).where(Contact.unsubscribe_token == token))
    if contact is None:
        raise InvalidToken()
    return contact


def unsubscribe(session: Session, token: str) -> Contact:
    """Stop mailings to the contact with this unsubscribe token; doing it twice changes nothing.

    :raises InvalidToken: when no contact has this token.
    """
    contact = contact_for_unsubscribe(session, token)
    if contact.unsubscribed_at is None:
        contact.unsubscribed_at = utcnow()
    # A confirmation link still in the inbox must not sign the person up again by accident.
    session.execute(
        sa.delete(MailingConfirmation).where(MailingConfirmation.contact_id == contact.id)
    )
    session.flush()
    return contact


# Messages from the public contact form


@dataclass(frozen=True)
class MessageReceived:
    message: ContactMessage
    #: Set when the writer also asked for mailings.
    sign_up: SignUp | None


def _clean_body(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def receive_message(
    session: Session,
    group: Group,
    *,
    email: str,
    name: str,
    body: str,
    consent_text: str | None = None,
    source_qr_code_id: int | None = None,
) -> MessageReceived:
    """Record a message for the group's organisers, and a mailing sign-up if ``consent_text``.

    The same text from the same address within :data:`DUPLICATE_MESSAGE_WINDOW` is the same
    message sent twice: the existing one is returned.
    """
    body = _clean_body(body)
    signed_up = None
    if consent_text:
        signed_up = sign_up(
            session,
            group,
            email=email,
            name=name,
            consent_text=consent_text,
            source_qr_code_id=source_qr_code_id,
        )
        contact = signed_up.contact
    else:
        contact = _lock(
            session,
            record_contact(
                session, group, email=email, name=name, source_qr_code_id=source_qr_code_id
            ),
        )
    now = utcnow()
    message = session.scalar(
        sa.select(ContactMessage)
        .where(
            ContactMessage.contact_id == contact.id,
            ContactMessage.body == body,
            ContactMessage.created_at > now - DUPLICATE_MESSAGE_WINDOW,
        )
        .limit(1)
    )
    if message is None:
        message = ContactMessage(
            group_id=group.id, contact_id=contact.id, body=body, created_at=now
        )
        session.add(message)
        session.flush()
    return MessageReceived(message, signed_up)


def inbox(session: Session, group: Group, status: MessageStatus) -> list[ContactMessage]:
    """Return the group's messages with ``status``, newest first, with their contacts."""
    return list(
        session.scalars(
            sa.select(ContactMessage)
            .where(ContactMessage.group_id == group.id, ContactMessage.status == status)
            .order_by(ContactMessage.created_at.desc(), ContactMessage.id.desc())
            .options(joinedload(ContactMessage.contact))
        )
    )


def inbox_counts(session: Session, group: Group) -> dict[str, int]:
    """Return how many of the group's messages are in each status, by the status's value."""
    counts = {status.value: 0 for status in MessageStatus}
    rows = session.execute(
        sa.select(ContactMessage.status, sa.func.count())
        .where(ContactMessage.group_id == group.id)
        .group_by(ContactMessage.status)
    )
    for status, count in rows:
        counts[MessageStatus(status).value] = count
    return counts


def open_message(session: Session, message: ContactMessage) -> None:
    """Mark an unread message read, as an organiser opens it."""
    if message.status == MessageStatus.UNREAD:
        message.status = MessageStatus.READ
        session.flush()


def set_message_status(session: Session, message: ContactMessage, status: MessageStatus) -> None:
    """Archive a message, put it back in the inbox, or mark it unread."""
    message.status = status
    session.flush()


# The organisers' view of contacts


@dataclass(frozen=True)
class ContactRow:
    contact: Contact
    registrations: int
    messages: int


CONTACTS_PER_PAGE = 100
#: Pages past this are clamped to it: no group has 10 million contacts, and a huge page number
#: would overflow the database's OFFSET.
MAX_CONTACTS_PAGE = 100_000


def clamp_page(page: int) -> int:
    """Return ``page`` within 1..:data:`MAX_CONTACTS_PAGE`."""
    return min(max(page, 1), MAX_CONTACTS_PAGE)


def contacts_of(
    session: Session, group: Group, *, search: str = "", page: int = 1
) -> tuple[list[ContactRow], bool]:
    """Return a page of the group's contacts, latest activity first, and whether more follow.

    Each comes with how many registrations and messages it has and where it came from, all
    loaded in one statement. ``page`` is clamped to 1..:data:`MAX_CONTACTS_PAGE`.
    """
    page = clamp_page(page)
    registrations = (
        sa.select(sa.func.count())
        .where(Registration.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    messages = (
        sa.select(sa.func.count())
        .where(ContactMessage.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    statement = (
        sa.select(Contact, registrations, messages)
        .where(Contact.group_id == group.id)
        .options(joinedload(Contact.source_event), joinedload(Contact.source_qr_code))
        .order_by(Contact.last_activity_at.desc(), Contact.id.desc())
        .offset((page - 1) * CONTACTS_PER_PAGE)
        .limit(CONTACTS_PER_PAGE + 1)
    )
    search = search.strip()
    if search:
        statement = statement.where(
            sa.or_(
                Contact.name.icontains(search, autoescape=True),
                Contact.email.icontains(search, autoescape=True),
                Contact.city.icontains(search, autoescape=True),
            )
        )
    rows = [ContactRow(contact, regs, msgs) for contact, regs, msgs in session.execute(statement)]
    return rows[:CONTACTS_PER_PAGE], len(rows) > CONTACTS_PER_PAGE


def mailing_list(session: Session, group: Group) -> list[Contact]:
    """Return the contacts mailings may go to: consented, confirmed, not unsubscribed."""
    return list(
        session.scalars(
            sa.select(Contact)
            .where(
                Contact.group_id == group.id,
                Contact.mailing_consent_at.is_not(None),
                Contact.confirmed_at.is_not(None),
                Contact.unsubscribed_at.is_(None),
            )
            .order_by(Contact.email)
        )
    )


#: The mailing list's CSV columns: stable names, the same in every language.
MAILING_LIST_HEADER = (
    "name",
    "email",
    "city",
    "interests",
    "consented_at",
    "consent_wording",
)


def mailing_list_export(
    session: Session, group: Group
) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    """Return the header and one row per subscriber of the group's mailing list, for
    :func:`stallapp.csv_export.csv_response`; consent times are in the group's zone."""
    rows = [
        (
            contact.name,
            contact.email,
            contact.city,
            contact.interests,
            utc_to_local(contact.mailing_consent_at, group.timezone),
            contact.mailing_consent_text,
        )
        for contact in mailing_list(session, group)
    ]
    return MAILING_LIST_HEADER, rows
