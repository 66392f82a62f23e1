"""What happens at a stall's till: sales and their lines, donations, subscriptions, and the
client operation ids that make offline syncing idempotent."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stallapp.accounts.models import Group, User
from stallapp.database import TimestampMixin, UTCDateTime, string_enum
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.stock.models import Publication, SubscriptionOffer


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    OTHER = "other"


class SaleKind(enum.StrEnum):
    SALE = "sale"
    #: Free titles handed out: counted, no money.
    GIVEAWAY = "giveaway"
    DONATION = "donation"
    SUBSCRIPTION = "subscription"


class EventTill(TimestampMixin, db.Model):
    """An event's sale settings, and the row sales at the event lock on PostgreSQL.

    Created on the first sale or when an organiser sets it up; the close-out (counting the float
    and the cash) adds its columns here.
    """

    __tablename__ = "event_till"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="CASCADE"), unique=True
    )
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    #: ISO 4217 code prices are shown in on the sale screen (the group's by default).
    main_currency: Mapped[str] = mapped_column(sa.String(3))
    default_payment_method: Mapped[PaymentMethod] = mapped_column(
        string_enum(PaymentMethod), default=PaymentMethod.CASH
    )
    #: Set when the event is closed out; no sale can be recorded or synced after it.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()


class Sale(TimestampMixin, db.Model):
    """One thing recorded at the till: a sale of titles, a give-away, a donation or a subscription.

    ``amount`` is what was taken, in ``currency`` (never converted). An undo is a new row with
    ``reverses_id`` set, counted negatively in totals; each sale can be undone once.
    """

    __tablename__ = "sale"
    __table_args__ = (sa.CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[SaleKind] = mapped_column(string_enum(SaleKind))
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: Minor units taken; 0 for a give-away.
    amount: Mapped[int] = mapped_column()
    #: None for a give-away (no money).
    payment_method: Mapped[PaymentMethod | None] = mapped_column(string_enum(PaymentMethod))
    subscription_offer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscription_offer.id", ondelete="RESTRICT")
    )
    #: The subscriber, stored only with their consent and only when the network was there.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: When the member tapped (the phone's clock, bounded), which may be long before it synced.
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reverses_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sale.id", ondelete="RESTRICT"), unique=True
    )

    group: Mapped[Group] = relationship()
    event: Mapped[Event] = relationship()
    created_by: Mapped[User | None] = relationship()
    subscription_offer: Mapped[SubscriptionOffer | None] = relationship()
    lines: Mapped[list["SaleLine"]] = relationship(
        back_populates="sale", cascade="all", order_by="SaleLine.id"
    )
    reverses: Mapped["Sale | None"] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by"
    )
    reversed_by: Mapped["Sale | None"] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False
    )

    def __repr__(self) -> str:
        return f"<Sale {self.id} {self.kind} {self.amount} {self.currency}>"


class SaleLine(db.Model):
    """Copies of one title in a sale (or a give-away), with the list price and what was taken."""

    __tablename__ = "sale_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("sale.id", ondelete="CASCADE"), index=True)
    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("publication.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column()
    #: List price per copy in the sale's currency when sold (None: the title had no price there).
    unit_price: Mapped[int | None] = mapped_column()
    #: What was taken for the line ("pay what you can" may differ from quantity × unit price).
    amount: Mapped[int] = mapped_column()

    sale: Mapped[Sale] = relationship(back_populates="lines")
    publication: Mapped[Publication] = relationship()


class ClientOperation(TimestampMixin, db.Model):
    """Every operation id a phone (or a sale-screen form) ever sent, kept for good.

    A replay of the same id answers ``result`` and changes nothing; the same id with another
    payload (``payload_hash`` differs) is refused. The unique constraint makes the database
    decide when two copies arrive at once.
    """

    __tablename__ = "client_operation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client-generated UUID, lower-case canonical form.
    operation_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: SHA-256 of the canonical payload (with the user and event), hex.
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The sale it recorded (or, for an undo, the reversing sale); None when it was refused or
    #: is held as a late sale. Indexed: the sale screen looks up the operation of each sale.
    sale_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sale.id", ondelete="RESTRICT"), index=True
    )
    #: The JSON answer given the first time, answered again on every replay.
    result: Mapped[str] = mapped_column(sa.Text)

    sale: Mapped[Sale | None] = relationship()


class LateSaleStatus(enum.StrEnum):
    HELD = "held"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class LateSale(TimestampMixin, db.Model):
    """An operation a phone recorded before its event was closed out, synced after it.

    It happened, so it is kept rather than refused; but the close-out's counts were already
    booked, so it waits, not booked, until an organiser accepts it (booked then through the
    usual sale services, the close-out's count squared with it) or rejects it with a note.
    ``created_at`` is when it reached the server.
    """

    __tablename__ = "late_sale"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"), index=True
    )
    client_operation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("client_operation.id", ondelete="RESTRICT"), unique=True
    )
    #: Who recorded it on their phone.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: The operation as parsed from the phone (JSON, never the subscriber's details).
    payload: Mapped[str] = mapped_column(sa.Text)
    #: When the member tapped, by the phone's clock (bounded as for any sale).
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[LateSaleStatus] = mapped_column(
        string_enum(LateSaleStatus), default=LateSaleStatus.HELD
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it was rejected (required then), or a remark on accepting.
    note: Mapped[str] = mapped_column(sa.Text, default="")
    #: The sale booked when it was accepted.
    sale_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sale.id", ondelete="RESTRICT"))

    client_operation: Mapped[ClientOperation] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    sale: Mapped[Sale | None] = relationship()
