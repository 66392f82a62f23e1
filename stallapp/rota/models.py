"""Shifts at events, the members on them, their unavailable days, cover and reminders."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group, User
from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.events.models import Event
from stallapp.extensions import db


class ShiftRole(enum.StrEnum):
    SETUP = "setup"
    STAFFING = "staffing"
    PACKDOWN = "packdown"
    SPEAKER = "speaker"
    CHAIR = "chair"
    DRIVER = "driver"
    CUSTOM = "custom"


class Shift(TimestampMixin, db.Model):
    """A role at an event for a span of time, needing some number of people."""

    __tablename__ = "shift"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("people_needed >= 1", name="needs_someone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    #: The event's group, kept here so permission checks need no join (events never move group).
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    role: Mapped[ShiftRole] = mapped_column(string_enum(ShiftRole))
    #: The role's name when ``role`` is custom, e.g. "Bring the urn".
    custom_role: Mapped[str] = mapped_column(sa.String(80), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    people_needed: Mapped[int] = mapped_column(default=1)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the organisers were told the shift was still short (send-reminders tells them once).
    shortage_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    group: Mapped[Group] = relationship()
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="shift", cascade="all, delete-orphan"
    )
    #: Who is on the shift now (not withdrawn), oldest first; read-only.
    active_assignments: Mapped[list["Assignment"]] = relationship(
        primaryjoin="and_(Assignment.shift_id == Shift.id, Assignment.withdrawn_at.is_(None))",
        order_by="Assignment.id",
        viewonly=True,
    )

    @property
    def filled(self) -> int:
        return len(self.active_assignments)

    def __repr__(self) -> str:
        return f"<Shift {self.id} {self.role} event={self.event_id}>"


class Assignment(TimestampMixin, db.Model):
    """A member on a shift. Withdrawing keeps the row (with the reason) for the record."""

    __tablename__ = "assignment"
    __table_args__ = (
        # A member holds a shift at most once; after withdrawing they may sign up again.
        sa.Index(
            "uq_assignment_active_member",
            "shift_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(sa.ForeignKey("shift.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: The organiser who put the member on the shift; None when they signed up themselves.
    assigned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str] = mapped_column(sa.Text, default="")

    shift: Mapped[Shift] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])

    def __repr__(self) -> str:
        return f"<Assignment {self.id} shift={self.shift_id} user={self.user_id}>"


class Unavailability(TimestampMixin, db.Model):
    """A day a member cannot do any shift, in the local calendar of wherever the shift is."""

    __tablename__ = "unavailability"
    __table_args__ = (sa.UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User] = relationship()


class CoverStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"


class CoverRequest(TimestampMixin, db.Model):
    """A member's offer of their place on a shift to the rest of the group."""

    __tablename__ = "cover_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The place offered; one request per assignment.
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[CoverStatus] = mapped_column(string_enum(CoverStatus), default=CoverStatus.OPEN)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    assignment: Mapped[Assignment] = relationship()
    taken_by: Mapped[User | None] = relationship()


class ReminderSent(db.Model):
    """The day-before reminder for one assignment; the unique row makes it go out once."""

    __tablename__ = "reminder_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), unique=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarFeed(TimestampMixin, db.Model):
    """A member's personal calendar feed; the secret URL holds the token, this row its hash.

    Regenerating replaces the hash, so the old URL stops working at once.
    """

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    user: Mapped[User] = relationship()
