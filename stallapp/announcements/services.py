"""Announcements: write, preview, test and send to the group's mailing list, through the outbox.

Only the group's confirmed subscribers who have not unsubscribed receive one (a forgotten
contact no longer exists). Each message carries the subscriber's own unsubscribe link and the
RFC 8058 one-click headers; the worker sends them at MAIL_RATE_PER_MINUTE. Links carry the
announcement's code, so the event report can count the registrations it brought and the
announcement the unsubscribes.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group, User
from stallapp.announcements.models import Announcement, AnnouncementStatus
from stallapp.contacts.models import Contact
from stallapp.contacts.services import mailing_list
from stallapp.database import utcnow
from stallapp.errors import StallError, ValidationFailed
from stallapp.events.models import Event, EventStatus
from stallapp.i18n import group_locale
from stallapp.mail import MailPurpose
from stallapp.outbox.services import enqueue
from stallapp.urls import absolute_url

#: The query parameter that carries an announcement's code on its links.
SOURCE_PARAMETER = "from"


class AlreadySent(StallError):
    code = "already_sent"

    def __init__(self):
        super().__init__(_("This announcement has already been sent."))


class NobodyToSendTo(StallError):
    code = "no_subscribers"

    def __init__(self):
        super().__init__(_("Nobody has confirmed a subscription to the mailing list yet."))


@dataclass(frozen=True)
class AnnouncementText:
    subject: str
    body: str
    reply_to: str = ""
    event_id: int | None = None


def announceable_events(session: Session, group: Group) -> list[Event]:
    """Return the group's published events that have not ended, soonest first."""
    return list(
        session.scalars(
            sa.select(Event)
            .where(
                Event.group_id == group.id,
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at >= utcnow(),
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def _event_of_group(session: Session, group: Group, event_id: int | None) -> Event | None:
    if event_id is None:
        return None
    event = session.scalar(
        sa.select(Event).where(
            Event.id == event_id,
            Event.group_id == group.id,
            Event.status == EventStatus.PUBLISHED,
        )
    )
    if event is None:
        raise ValidationFailed(_("Choose one of the group's published events."), "invalid_event")
    return event


def save_draft(
    session: Session,
    group: Group,
    author: User,
    text: AnnouncementText,
    announcement: Announcement | None = None,
) -> Announcement:
    """Create a draft announcement, or change one not yet sent.

    :raises AlreadySent: when ``announcement`` was sent already.
    :raises ValidationFailed: (code ``invalid_event``) when the event is not the group's or
        not published.
    """
    event = _event_of_group(session, group, text.event_id)
    if announcement is None:
        announcement = Announcement(group_id=group.id, group=group, created_by_id=author.id)
        session.add(announcement)
    elif announcement.status != AnnouncementStatus.DRAFT:
        raise AlreadySent()
    announcement.subject = text.subject.strip()
    announcement.body = text.body.strip()
    announcement.reply_to = text.reply_to.strip()
    announcement.event_id = event.id if event is not None else None
    announcement.event = event
    session.flush()
    return announcement


def announcements_of(session: Session, group: Group) -> list[Announcement]:
    """Return the group's announcements, latest first."""
    return list(
        session.scalars(
            sa.select(Announcement)
            .where(Announcement.group_id == group.id)
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
        )
    )


def subscriber_count(session: Session, group: Group) -> int:
    """Count the subscribers an announcement would go to now."""
    return len(mailing_list(session, group))


def event_link(announcement: Announcement) -> str:
    """Return the public link of the announcement's event, marked as coming from it."""
    return absolute_url(
        "public_events.event_page",
        event_code=announcement.event.public_code,
        **{SOURCE_PARAMETER: announcement.code},
    )


def unsubscribe_links(announcement: Announcement, contact: Contact) -> tuple[str, str]:
    """Return the subscriber's unsubscribe page link and its one-click (RFC 8058) link."""
    marked = {SOURCE_PARAMETER: announcement.code}
    return (
        absolute_url("public_contacts.unsubscribe", token=contact.unsubscribe_token, **marked),
        absolute_url(
            "public_contacts.unsubscribe_one_click", token=contact.unsubscribe_token, **marked
        ),
    )


def render_body(announcement: Announcement, unsubscribe_link: str | None) -> str:
    """Return the email's text: the message, the event's time, place and link, the footer.

    ``unsubscribe_link`` None: a preview or test, where each subscriber's own link goes.
    """
    with force_locale(group_locale(announcement.group)):
        return render_template(
            "email/announcement.txt",
            announcement=announcement,
            group=announcement.group,
            event=announcement.event,
            event_link=event_link(announcement) if announcement.event is not None else "",
            unsubscribe_link=unsubscribe_link,
            group_link=absolute_url("public_events.group_page", group_slug=announcement.group.slug),
        )


def send_test(session: Session, announcement: Announcement, user: User) -> None:
    """Email the announcement to its author alone, as subscribers will see it."""
    enqueue(
        session,
        current_app.config["MAIL_DEFAULT_SENDER"],
        to=user.email,
        subject=_("[Test] %(subject)s", subject=announcement.subject),
        body=render_body(announcement, None),
        purpose=MailPurpose.ANNOUNCEMENT_TEST,
        group_id=announcement.group_id,
        reply_to=announcement.reply_to,
    )
    session.flush()


def send(session: Session, announcement: Announcement, user: User) -> int:
    """Put one message per subscriber in the outbox and mark the announcement sent.

    Marking it sent is a conditional update, so two clicks (or two organisers) at once send it
    once. Returns how many messages were written.

    :raises AlreadySent: when it was sent already.
    :raises NobodyToSendTo: when the group has no confirmed subscriber.
    """
    subscribers = mailing_list(session, announcement.group)
    if not subscribers:
        raise NobodyToSendTo()
    now = utcnow()
    marked = session.execute(
        sa.update(Announcement)
        .where(Announcement.id == announcement.id, Announcement.status == AnnouncementStatus.DRAFT)
        .values(
            status=AnnouncementStatus.SENT,
            sent_at=now,
            sent_by_id=user.id,
            recipient_count=len(subscribers),
        )
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if marked != 1:
        raise AlreadySent()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    for contact in subscribers:
        page_link, one_click_link = unsubscribe_links(announcement, contact)
        enqueue(
            session,
            sender,
            to=contact.email,
            subject=announcement.subject,
            body=render_body(announcement, page_link),
            purpose=MailPurpose.ANNOUNCEMENT,
            group_id=announcement.group_id,
            reply_to=announcement.reply_to,
            headers={
                "List-Unsubscribe": f"<{one_click_link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            announcement_id=announcement.id,
            contact_id=contact.id,
        )
    session.flush()
    return len(subscribers)


def count_unsubscribe(session: Session, contact: Contact, code: str | None) -> None:
    """Count an unsubscribe on the announcement whose link was used, if it is the contact's
    group's."""
    if not code:
        return
    session.execute(
        sa.update(Announcement)
        .where(
            Announcement.code == code,
            Announcement.group_id == contact.group_id,
            Announcement.status == AnnouncementStatus.SENT,
        )
        .values(unsubscribed_count=Announcement.unsubscribed_count + 1)
    )


def source_announcement_id(session: Session, event: Event, code: str | None) -> int | None:
    """Return the announcement a registration came from: its code, for this event's group."""
    if not code:
        return None
    return session.scalar(
        sa.select(Announcement.id).where(
            Announcement.code == code,
            Announcement.group_id == event.group_id,
            Announcement.status == AnnouncementStatus.SENT,
        )
    )
