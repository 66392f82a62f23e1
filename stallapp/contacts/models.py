"""Contacts of a group and where they came from."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group
from stallapp.database import TimestampMixin, UTCDateTime
from stallapp.extensions import db


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

    group: Mapped[Group] = relationship()
