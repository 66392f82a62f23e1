"""Contact rules: who signed up, registered or wrote, their consent, their messages, and
forgetting them again (on request, or when the group's retention period runs out).

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
    MessageStatus,
    RetentionPolicy,
)
from stallapp.database import utcnow
from stallapp.errors import InvalidToken, ValidationFailed
from stallapp.events.models import Event, Registration
from stallapp.outbox.services import forget_address
from stallapp.qr.services import own_code_id
from stallapp.text import normalise_email
from stallapp.times import utc_to_local
from stallapp.tokens import hash_token, new_token

#: How long the link in a sign-up's confirmation email works; unconfirmed sign-ups are
#: deleted after the same time.
CONFIRMATION_LIFETIME = timedelta(days=7)
#: How long the link in a "forget me" email works.
ERASURE_LINK_LIFETIME = timedelta(hours=24)
#: A second request for the same address within this time sends no second email, so a double
#: submission sends one and nobody can flood an address through the public forms.
RESEND_AFTER = timedelta(minutes=2)
#: The same message from the same address within this time is a double submission.
DUPLICATE_MESSAGE_WINDOW = timedelta(minutes=10)
MAX_RETENTION_MONTHS = 120


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
