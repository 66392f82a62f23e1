"""An organiser's announcement to the group's mailing list, with its counts."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group, User
from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.events.models import Event
from stallapp.extensions import db


def new_announcement_code() -> str:
    """Return the short unguessable code an announcement's links carry (``?from=...``)."""
    return secrets.token_urlsafe(9)


class AnnouncementStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"


class Announcement(TimestampMixin, db.Model):
    """A plain-text message to the group's confirmed subscribers, optionally about an event."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    #: Carried by the announcement's event and unsubscribe links, to count what it brought.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_announcement_code)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    #: Where replies go (Reply-To); empty: no Reply-To header.
    reply_to: Mapped[str] = mapped_column(sa.String(254), default="")
    status: Mapped[AnnouncementStatus] = mapped_column(
        string_enum(AnnouncementStatus), default=AnnouncementStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Counts kept here, not derived from the outbox, because sent mail is purged after a while.
    recipient_count: Mapped[int] = mapped_column(default=0)
    delivered_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    #: Subscribers who left the list through this announcement's unsubscribe link.
    unsubscribed_count: Mapped[int] = mapped_column(default=0)

    group: Mapped[Group] = relationship()
    event: Mapped[Event | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])

    @property
    def is_draft(self) -> bool:
        return self.status == AnnouncementStatus.DRAFT

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.status}>"
