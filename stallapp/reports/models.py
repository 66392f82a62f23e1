"""What an organiser recorded when closing out an event: the stock count, the cash count, and
a log of every close and reopen."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import User
from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.sales.models import SaleKind
from stallapp.stock.models import Publication, StockMovement, Store


class EventCloseOut(TimestampMixin, db.Model):
    """An event's close-out: one row per event, written again at each close-out after a reopen.

    Whether the event is closed now, and since when, is the till's to say
    (``EventTill.closed_at``, see :mod:`stallapp.sales.till`); every close and reopen, by whom,
    when and why, is kept in :class:`CloseOutLogEntry`.
    """

    __tablename__ = "event_close_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"), unique=True
    )
    #: The store the counted copies went back to.
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("store.id", ondelete="RESTRICT"))
    #: Who made the latest close-out (the log has every one).
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    event: Mapped[Event] = relationship()
    store: Mapped[Store | None] = relationship()
    closed_by: Mapped[User | None] = relationship()
    stock_counts: Mapped[list["StockCount"]] = relationship(
        back_populates="close_out", cascade="all, delete-orphan", order_by="StockCount.id"
    )
    cash_counts: Mapped[list["CashCount"]] = relationship(
        back_populates="close_out", cascade="all, delete-orphan", order_by="CashCount.currency"
    )

    def __repr__(self) -> str:
        return f"<EventCloseOut event={self.event_id}>"


class StockCount(db.Model):
    """What came back of one title: the ledger's figure, the count, and the movements booked.

    The movements are reversed (never deleted) when the event is reopened; the row stays.
    """

    __tablename__ = "stock_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    close_out_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_close_out.id", ondelete="CASCADE"), index=True
    )
    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("publication.id", ondelete="RESTRICT")
    )
    #: Copies the ledger said were left at the event when it was counted (may be below 0).
    expected: Mapped[int] = mapped_column()
    counted: Mapped[int] = mapped_column()
    #: event → store, for the counted copies (None when nothing came back).
    return_movement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stock_movement.id", ondelete="RESTRICT")
    )
    #: event → adjustment (missing) or adjustment → event (more came back than the ledger had).
    adjustment_movement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stock_movement.id", ondelete="RESTRICT")
    )
    #: False once the count's movements were reversed by a reopen.
    current: Mapped[bool] = mapped_column(default=True)

    close_out: Mapped[EventCloseOut] = relationship(back_populates="stock_counts")
    publication: Mapped[Publication] = relationship()
    return_movement: Mapped[StockMovement | None] = relationship(foreign_keys=[return_movement_id])
    adjustment_movement: Mapped[StockMovement | None] = relationship(
        foreign_keys=[adjustment_movement_id]
    )


class CashCount(db.Model):
    """The cash count in one currency: the float taken, what the ledger expects, what was
    counted, and a note on any difference. All amounts in minor units of ``currency``."""

    __tablename__ = "cash_count"
    __table_args__ = (
        sa.UniqueConstraint("close_out_id", "currency"),
        sa.CheckConstraint("float_amount >= 0", name="float_not_negative"),
        sa.CheckConstraint("counted_amount >= 0", name="counted_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    close_out_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_close_out.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(sa.String(3))
    float_amount: Mapped[int] = mapped_column()
    #: Float + cash sales + cash donations + cash subscriptions, at the time of the count.
    expected_amount: Mapped[int] = mapped_column()
    counted_amount: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    close_out: Mapped[EventCloseOut] = relationship(back_populates="cash_counts")

    @property
    def difference(self) -> int:
        """Counted minus expected: above 0 is cash over, below 0 cash short."""
        return self.counted_amount - self.expected_amount


class CloseOutAction(enum.StrEnum):
    CLOSED = "closed"
    REOPENED = "reopened"


class CloseOutLogEntry(db.Model):
    """One close or reopen of an event, by whom and when: the log is only ever appended to."""

    __tablename__ = "close_out_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[CloseOutAction] = mapped_column(string_enum(CloseOutAction))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Why it was reopened, or the close-out's note.
    note: Mapped[str] = mapped_column(sa.Text, default="")

    user: Mapped[User | None] = relationship()


class EventTitleSummary(db.Model):
    """A closed-out event's sale lines added up per title and currency (sales not undone).

    Written by the close-out (which holds the event's till lock, so no sale can slip in),
    removed by a reopen, written again when a late sale is accepted. The group report reads
    these for closed events instead of their sale lines, so a year's report grows with the
    events rather than the lines; open events are added up live.
    """

    __tablename__ = "event_title_summary"
    __table_args__ = (sa.UniqueConstraint("event_id", "publication_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("publication.id", ondelete="RESTRICT"), index=True
    )
    currency: Mapped[str] = mapped_column(sa.String(3))
    sold: Mapped[int] = mapped_column()
    given_away: Mapped[int] = mapped_column()
    #: Money taken for the copies sold, in minor units of ``currency``.
    amount: Mapped[int] = mapped_column()


class EventMoneySummary(db.Model):
    """A closed-out event's money per kind of sale and currency (undos subtracted), kept as
    :class:`EventTitleSummary` is."""

    __tablename__ = "event_money_summary"
    __table_args__ = (sa.UniqueConstraint("event_id", "kind", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"))
    kind: Mapped[SaleKind] = mapped_column(string_enum(SaleKind))
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: Minor units of ``currency``.
    amount: Mapped[int] = mapped_column()
