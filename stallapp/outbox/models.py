"""One row per email to send: written with the action that causes it, delivered by a worker."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.extensions import db


class OutgoingStatus(enum.StrEnum):
    #: Waiting for its first or next attempt (``next_attempt_at``).
    PENDING = "pending"
    #: Claimed by a worker that is talking to the mail server until ``lease_expires_at``.
    SENDING = "sending"
    SENT = "sent"
    #: Given up: refused for good by the server, or still failing after MAIL_GIVE_UP_AFTER.
    FAILED = "failed"


class OutgoingMessage(TimestampMixin, db.Model):
    """A plain-text email waiting for, or done with, delivery."""

    __tablename__ = "outgoing_message"
    __table_args__ = (sa.Index("ix_outgoing_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The group the mail is about (None: a site-wide mail such as a password reset).
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(500))
    #: Blanked once sent for purposes whose body holds a secret link (see mail.SECRET_PURPOSES).
    body: Mapped[str] = mapped_column(sa.Text)
    #: Extra headers, name to value: Message-ID, Reply-To, List-Unsubscribe...
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: What the mail is for ("password_reset", "announcement"...): decides whether its body is
    #: kept after sending and whether it waits for the mailing rate.
    purpose: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[OutgoingStatus] = mapped_column(
        string_enum(OutgoingStatus), default=OutgoingStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: While SENDING: when another worker may take the message over (its worker died).
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    #: One line per attempt that failed or was interrupted, oldest first.
    attempt_log: Mapped[str] = mapped_column(sa.Text, default="")
    #: An attempt was interrupted after the server may have accepted the message, so the
    #: recipient may have received it twice.
    possible_duplicate: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When an admin asked for it to be tried again: the time before giving up restarts here.
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    announcement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("announcement.id", ondelete="SET NULL"), index=True
    )
    #: The mailing-list contact it goes to; erasing the contact deletes the message.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )

    def __repr__(self) -> str:
        return f"<OutgoingMessage {self.id} {self.status}>"
