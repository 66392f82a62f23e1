"""Printed QR codes and their scans."""

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group
from stallapp.database import TimestampMixin, string_enum
from stallapp.events.models import Event
from stallapp.extensions import db


class QrPurpose(enum.StrEnum):
    JOIN = "join"
    CONTACT = "contact"
    EVENT = "event"
    GROUP_PAGE = "group_page"
    CATALOGUE = "catalogue"


class QrCode(TimestampMixin, db.Model):
    """One printed code: ``/q/<code>`` counts the scan and redirects to the purpose's page."""

    __tablename__ = "qr_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    #: Short unguessable code in the printed URL.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    purpose: Mapped[QrPurpose] = mapped_column(string_enum(QrPurpose))
    #: The event, when the purpose is an event's page.
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    #: What the organiser calls it, e.g. "table card Peterborough".
    label: Mapped[str] = mapped_column(sa.String(120))
    #: Scans counted by an atomic UPDATE ... SET scan_count = scan_count + 1.
    scan_count: Mapped[int] = mapped_column(default=0)

    group: Mapped[Group] = relationship()
    event: Mapped[Event | None] = relationship()
