"""Publications and their prices, stores, and the append-only stock movement ledger."""

import enum
from datetime import date
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from stallapp.accounts.models import Group, User, new_catalogue_stamp
from stallapp.database import TimestampMixin, string_enum
from stallapp.events.models import Event
from stallapp.extensions import db


class PublicationKind(enum.StrEnum):
    JOURNAL_ISSUE = "journal_issue"
    PAMPHLET = "pamphlet"
    BOOK = "book"
    BROADSHEET = "broadsheet"
    LEAFLET = "leaflet"
    OTHER = "other"


class Publication(TimestampMixin, db.Model):
    """A title in a group's catalogue (one issue of a journal is one title)."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its old value is loaded when it is set, so the group it leaves gets a new catalogue stamp.
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), index=True, active_history=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[PublicationKind] = mapped_column(string_enum(PublicationKind))
    #: Language code of the text, e.g. ``en`` or ``fr``.
    language: Mapped[str] = mapped_column(sa.String(10))
    issue_number: Mapped[str] = mapped_column(sa.String(40), default="")
    issue_date: Mapped[date | None] = mapped_column(sa.Date)
    isbn: Mapped[str] = mapped_column(sa.String(20), default="")
    #: Given away, never sold: no prices, a tap at the stall counts a copy given away.
    is_free: Mapped[bool] = mapped_column(default=False)
    #: Below this many copies in all stores the title shows up as "to reprint".
    reorder_level: Mapped[int] = mapped_column(default=0)
    #: Retired titles stay in the ledger and reports but leave the sale screen and public page.
    active: Mapped[bool] = mapped_column(default=True)
    #: The title of another group this one was copied from (no live link: prices differ).
    copied_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("publication.id", ondelete="SET NULL")
    )

    group: Mapped[Group] = relationship()
    prices: Mapped[list["PublicationPrice"]] = relationship(
        back_populates="publication",
        cascade="all, delete-orphan",
        order_by="PublicationPrice.currency",
    )

    @property
    def full_title(self) -> str:
        """The title with its issue, so two issues never look alike: "Revolutionary
        Perspectives No. 24" (the reports' SQL label says the same)."""
        return f"{self.title} {self.issue_number}" if self.issue_number else self.title

    def price_in(self, currency: str) -> int | None:
        """Return the list price in ``currency`` (minor units), or None when it has none."""
        for price in self.prices:
            if price.currency == currency:
                return price.amount
        return None

    def __repr__(self) -> str:
        return f"<Publication {self.id} {self.title!r}>"


class PublicationPrice(db.Model):
    """The list price of a title in one currency."""

    __tablename__ = "publication_price"
    __table_args__ = (
        sa.UniqueConstraint("publication_id", "currency"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its old value is loaded when it is set, so the title it leaves gets a new catalogue stamp.
    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("publication.id", ondelete="CASCADE"), index=True, active_history=True
    )
    #: ISO 4217 code.
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: Minor units (pence, cents).
    amount: Mapped[int] = mapped_column()

    publication: Mapped[Publication] = relationship(back_populates="prices")


class Store(TimestampMixin, db.Model):
    """A place where a group keeps stock: a comrade's spare room, a lock-up."""

    __tablename__ = "store"
    __table_args__ = (sa.UniqueConstraint("group_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    note: Mapped[str] = mapped_column(sa.String(300), default="")

    group: Mapped[Group] = relationship()

    def __repr__(self) -> str:
        return f"<Store {self.id} {self.name!r}>"


class Place(enum.StrEnum):
    """Where copies come from or go to in a movement."""

    STORE = "store"
    EVENT = "event"
    #: From outside the group's stock: a print run, a delivery from the printer.
    OUTSIDE = "outside"
    SOLD = "sold"
    GIVEN_AWAY = "given_away"
    WRITTEN_OFF = "written_off"
    #: A stock count's difference: copies that turned up (from) or went missing (to).
    ADJUSTMENT = "adjustment"


#: Places that hold stock, whose level is the sum of what came in minus what went out.
HOLDING_PLACES = (Place.STORE, Place.EVENT)


class StockMovement(TimestampMixin, db.Model):
    """One row of the append-only ledger: ``quantity`` copies of a title moved from one place to
    another. Rows are never updated or deleted; a correction is a new row going the other way,
    pointing at the row it reverses (each row can be reversed once).
    """

    __tablename__ = "stock_movement"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint(
            "(from_place = 'store') = (from_store_id IS NOT NULL)", name="from_store_given"
        ),
        sa.CheckConstraint(
            "(from_place = 'event') = (from_event_id IS NOT NULL)", name="from_event_given"
        ),
        sa.CheckConstraint(
            "(to_place = 'store') = (to_store_id IS NOT NULL)", name="to_store_given"
        ),
        sa.CheckConstraint(
            "(to_place = 'event') = (to_event_id IS NOT NULL)", name="to_event_given"
        ),
        sa.Index("ix_stock_movement_from_event", "from_event_id", "publication_id"),
        sa.Index("ix_stock_movement_to_event", "to_event_id", "publication_id"),
        sa.Index("ix_stock_movement_from_store", "from_store_id", "publication_id"),
        sa.Index("ix_stock_movement_to_store", "to_store_id", "publication_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    publication_id: Mapped[int] = mapped_column(
        sa.ForeignKey("publication.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column()
    from_place: Mapped[Place] = mapped_column(string_enum(Place))
    from_store_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("store.id", ondelete="RESTRICT")
    )
    from_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT")
    )
    to_place: Mapped[Place] = mapped_column(string_enum(Place))
    to_store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("store.id", ondelete="RESTRICT"))
    to_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: Why: "print run from the printer", "water damage", the reason given for a count.
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The sale line this movement belongs to (sold or given away at a stall).
    sale_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sale_line.id", ondelete="RESTRICT"), index=True
    )
    #: The movement this one undoes; unique, so nothing is reversed twice.
    reverses_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stock_movement.id", ondelete="RESTRICT"), unique=True
    )

    publication: Mapped[Publication] = relationship()
    from_store: Mapped[Store | None] = relationship(foreign_keys=[from_store_id])
    to_store: Mapped[Store | None] = relationship(foreign_keys=[to_store_id])
    from_event: Mapped[Event | None] = relationship(foreign_keys=[from_event_id])
    to_event: Mapped[Event | None] = relationship(foreign_keys=[to_event_id])
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return (
            f"<StockMovement {self.id} {self.quantity}× {self.publication_id} "
            f"{self.from_place}→{self.to_place}>"
        )


@sa.event.listens_for(StockMovement, "before_update")
@sa.event.listens_for(StockMovement, "before_delete")
def _refuse_changes(mapper, connection, target) -> None:
    """The ledger is append-only: the ORM refuses to change or delete a movement."""
    raise RuntimeError("stock movements are append-only; add a reversing movement instead")


class CatalogueSettings(db.Model):
    """A group's settings for its public catalogue page."""

    __tablename__ = "catalogue_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), unique=True
    )
    #: Plain text shown on the public page: how to order by post, pay, postage.
    how_to_order: Mapped[str] = mapped_column(sa.Text, default="")

    group: Mapped[Group] = relationship()


class SubscriptionOffer(TimestampMixin, db.Model):
    """A subscription a group sells, e.g. 3 journal issues + 4 broadsheets."""

    __tablename__ = "subscription_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its old value is loaded when it is set, so the group it leaves gets a new catalogue stamp.
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), index=True, active_history=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)

    group: Mapped[Group] = relationship()
    prices: Mapped[list["SubscriptionPrice"]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="SubscriptionPrice.currency"
    )

    def price_in(self, currency: str) -> int | None:
        """Return the price in ``currency`` (minor units), or None when it has none."""
        for price in self.prices:
            if price.currency == currency:
                return price.amount
        return None


class SubscriptionPrice(db.Model):
    """The price of a subscription offer in one currency."""

    __tablename__ = "subscription_price"
    __table_args__ = (
        sa.UniqueConstraint("offer_id", "currency"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Its old value is loaded when it is set, so the offer it leaves gets a new catalogue stamp.
    offer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscription_offer.id", ondelete="CASCADE"), index=True, active_history=True
    )
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int] = mapped_column()

    offer: Mapped[SubscriptionOffer] = relationship(back_populates="prices")


# The catalogue's stamp ---------------------------------------------------------------------

#: What the sale screen keeps in memory between requests (``stock.sale_catalogue``).
CATALOGUE_MODELS = (Publication, PublicationPrice, SubscriptionOffer, SubscriptionPrice)
_CATALOGUE_TABLES = frozenset(model.__table__ for model in CATALOGUE_MODELS)


def _catalogue_group_ids(session: Session, changed) -> set[int]:
    """Return the ids of the groups whose catalogue ``changed`` (a title, offer or price) is in,
    or was in before this flush (no service moves one to another group, but both would show)."""
    state = sa.inspect(changed)
    if isinstance(changed, Publication | SubscriptionOffer):
        owners = (changed.group, *state.attrs.group.history.deleted)
        ids = {changed.group_id, *state.attrs.group_id.history.deleted}
        return {*ids, *(group.id for group in owners if group is not None)} - {None}
    if isinstance(changed, PublicationPrice):
        key, owner_model = "publication", Publication
    else:
        key, owner_model = "offer", SubscriptionOffer
    owners = {getattr(changed, key), *state.attrs[key].history.deleted} - {None}
    group_ids = set().union(*(_catalogue_group_ids(session, owner) for owner in owners))
    # A price taken out of its title's list is deleted without it; its column still names it.
    unseen = {getattr(changed, f"{key}_id"), *state.attrs[f"{key}_id"].history.deleted}
    unseen -= {owner.id for owner in owners} | {None}
    if unseen:
        group_ids.update(
            session.scalars(sa.select(owner_model.group_id).where(owner_model.id.in_(unseen)))
        )
    return group_ids


@sa.event.listens_for(Session, "before_flush")
def _restamp_changed_catalogues(session: Session, flush_context, instances) -> None:
    """Give a new stamp to every group whose titles, prices or offers this flush changes.

    In the same flush, so the stamp and the change are committed, or rolled back, together.
    """
    with session.no_autoflush:
        group_ids: set[int] = set()
        for changed in chain(session.new, session.dirty, session.deleted):
            if isinstance(changed, CATALOGUE_MODELS) and (
                changed not in session.dirty or session.is_modified(changed)
            ):
                group_ids |= _catalogue_group_ids(session, changed)
        for group_id in group_ids:
            group = session.get(Group, group_id)
            if group is not None and group not in session.deleted:
                group.catalogue_stamp = new_catalogue_stamp()


@sa.event.listens_for(Session, "do_orm_execute")
def _restamp_after_bulk_changes(state: ORMExecuteState) -> None:
    """An UPDATE, DELETE or INSERT statement on a catalogue table bypasses the flush above:
    give every group a new stamp with it, rather than let one group's screens show old prices."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    if state.statement.table not in _CATALOGUE_TABLES:
        return
    state.session.execute(sa.update(Group).values(catalogue_stamp=new_catalogue_stamp()))
