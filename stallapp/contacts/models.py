"""Contacts of a group and where they came from, their messages, and the group's retention rules."""

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group
from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.extensions import db

if TYPE_CHECKING:
    from stallapp.events.models import Event
    from stallapp.qr.models import QrCode


def new_unsubscribe_token() -> str:
    """Return a fresh unguessable token for a contact's unsubscribe link."""
    return secrets.token_urlsafe(24)


class Contact(TimestampMixin, db.Model):
    """A member of the public known to one group: one row per group and email address."""

    __tablename__ = "contact"
    __table_args__ = (sa.UniqueConstraint("group_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    #: Stored lower-cased.
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    interests: Mapped[str] = mapped_column(sa.String(500), default="")
    #: When the person agreed to receive mailings (None: no consent to mailings).
    mailing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The consent wording the person agreed to, kept with the answer.
    mailing_consent_text: Mapped[str] = mapped_column(sa.Text, default="")
    #: When the person confirmed the address by the link in the opt-in email.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Last sign-up, registration or message; retention counts from here.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Where the contact first came from, for an event's report.
    source_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    source_qr_code_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("qr_code.id", ondelete="SET NULL"), index=True
    )
    #: Carried by every mailing's unsubscribe link (``/u/<token>``). Kept in clear, unlike
    #: single-use tokens, because each new mailing must print it again; it can only unsubscribe.
    unsubscribe_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_unsubscribe_token
    )

    group: Mapped[Group] = relationship()
    source_event: Mapped["Event | None"] = relationship("Event")
    source_qr_code: Mapped["QrCode | None"] = relationship("QrCode")

    @property
    def awaiting_confirmation(self) -> bool:
        """Whether the person asked for mailings and has not yet clicked the emailed link."""
        return self.mailing_consent_at is not None and self.confirmed_at is None

    @property
    def subscribed(self) -> bool:
        """Whether mailings may be sent: consent given, confirmed, not unsubscribed."""
        return (
            self.mailing_consent_at is not None
            and self.confirmed_at is not None
            and self.unsubscribed_at is None
        )

    def __repr__(self) -> str:
        return f"<Contact {self.id}>"


class MailingConfirmation(db.Model):
    """A link sent to confirm a mailing-list sign-up (double opt-in); deleted once used."""

    __tablename__ = "mailing_confirmation"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    contact: Mapped[Contact] = relationship()


class ErasureRequest(db.Model):
    """A "forget me" link sent to an address the group knows; deleted once used or expired.

    It names the address rather than a contact: registrations may carry the address too.
    """

    __tablename__ = "erasure_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    #: Lower-cased; the row (and so the address) is deleted when the link is used or expires.
    email: Mapped[str] = mapped_column(sa.String(254))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    group: Mapped[Group] = relationship()


class MessageStatus(enum.StrEnum):
    UNREAD = "unread"
    READ = "read"
    ARCHIVED = "archived"


class ContactMessage(TimestampMixin, db.Model):
    """A message sent through a group's public contact form: the organisers' inbox."""

    __tablename__ = "contact_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[MessageStatus] = mapped_column(
        string_enum(MessageStatus), default=MessageStatus.UNREAD, index=True
    )

    group: Mapped[Group] = relationship()
    contact: Mapped[Contact] = relationship()


#: Used when a group has not chosen its own retention periods.
DEFAULT_CONTACT_MONTHS = 24
DEFAULT_REGISTRATION_MONTHS = 6


class RetentionPolicy(db.Model):
    """How long a group keeps personal data; a group without a row uses the defaults."""

    __tablename__ = "retention_policy"

    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True
    )
    #: A contact with no sign-up, registration or message for this many months is deleted.
    contact_months: Mapped[int] = mapped_column(default=DEFAULT_CONTACT_MONTHS)
    #: Registrations are anonymised this many months after their event ended.
    registration_months: Mapped[int] = mapped_column(default=DEFAULT_REGISTRATION_MONTHS)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[Group] = relationship()
