"""Titles, stores and subscription offers, and the stock ledger: moving copies, and levels.

Stock only ever moves by inserting :class:`StockMovement` rows; levels are SQL sums over them,
and a correction is a reversing row (:mod:`stallapp.stock.corrections`). Flush, never commit.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group, User
from stallapp.accounts.services import organises
from stallapp.errors import NotAllowed, StallError, ValidationFailed
from stallapp.events.models import Event
from stallapp.money import is_valid_currency
from stallapp.sales.till import ensure_event_open
from stallapp.stock.models import (
    Place,
    Publication,
    PublicationKind,
    PublicationPrice,
    StockMovement,
    Store,
    SubscriptionOffer,
    SubscriptionPrice,
)

#: Upper bound for one movement, so a typo (200000 for 20) is caught rather than booked.
MAX_QUANTITY = 100_000
#: Upper bound for a price or amount in minor units (a million pounds is not a stall sale).
MAX_AMOUNT = 100_000_000


@dataclass(frozen=True)
class Shortfall:
    """A title asked for beyond what a store holds."""

    publication: Publication
    wanted: int
    held: int


class NotEnoughStock(StallError):
    """Packing would take more copies than the store holds (its level would go below 0)."""

    code = "not_enough_stock"

    def __init__(self, store: Store, shortfalls: list[Shortfall]):
        super().__init__(
            _(
                "%(store)s does not hold that many copies: %(titles)s. Pack fewer, or confirm "
                "with a reason if the store's figure is wrong.",
                store=store.name,
                titles="; ".join(
                    _(
                        "%(title)s, %(held)d there",
                        title=shortfall.publication.full_title,
                        held=shortfall.held,
                    )
                    for shortfall in shortfalls
                ),
            )
        )
        self.store = store
        self.shortfalls = shortfalls


@dataclass
class PublicationData:
    """What an organiser types about a title."""

    title: str
    kind: PublicationKind
    language: str
    issue_number: str = ""
    issue_date: date | None = None
    isbn: str = ""
    is_free: bool = False
    reorder_level: int = 0
    active: bool = True
    #: Currency code → list price in minor units.
    prices: Mapping[str, int] = field(default_factory=dict)


def _check_prices(prices: Mapping[str, int]) -> None:
    for currency, amount in prices.items():
        if not is_valid_currency(currency):
            raise ValidationFailed(_("Unknown currency code %(code)s.", code=currency), "currency")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_AMOUNT:
            raise ValidationFailed(_("A price must be between 0 and a million."), "amount")


def _apply(publication: Publication, data: PublicationData) -> None:
    _check_prices(data.prices)
    publication.title = data.title.strip()
    publication.kind = data.kind
    publication.language = data.language.strip()
    publication.issue_number = data.issue_number.strip()
    publication.issue_date = data.issue_date
    publication.isbn = data.isbn.strip()
    publication.is_free = data.is_free
    publication.reorder_level = data.reorder_level
    publication.active = data.active
    prices = {} if data.is_free else dict(data.prices)
    kept = []
    for price in publication.prices:
        if price.currency in prices:
            price.amount = prices.pop(price.currency)
            kept.append(price)
    publication.prices = kept + [
        PublicationPrice(currency=currency, amount=amount) for currency, amount in prices.items()
    ]


def create_publication(session: Session, group: Group, data: PublicationData) -> Publication:
    """Add a title to the group's catalogue.

    :raises ValidationFailed: on an unknown currency or an out-of-range price.
    """
    publication = Publication(group_id=group.id, prices=[])
    _apply(publication, data)
    session.add(publication)
    session.flush()
    return publication


def update_publication(session: Session, publication: Publication, data: PublicationData) -> None:
    """Change a title's details and prices (the ledger is untouched)."""
    _apply(publication, data)
    session.flush()


def publications_of(session: Session, group: Group, *, active_only: bool = False):
    """Return the group's titles with their prices, alphabetically."""
    query = (
        sa.select(Publication)
        .where(Publication.group_id == group.id)
        .options(selectinload(Publication.prices))
        .order_by(Publication.active.desc(), Publication.title, Publication.id)
    )
    if active_only:
        query = query.where(Publication.active.is_(True))
    return list(session.scalars(query))


def create_store(session: Session, group: Group, name: str, note: str = "") -> Store:
    """Add a store to the group.

    :raises ValidationFailed: code ``duplicate_store`` when the group has a store of that name.
    """
    name = name.strip()
    exists = session.scalar(
        sa.select(Store.id).where(Store.group_id == group.id, Store.name == name)
    )
    if exists is not None:
        raise ValidationFailed(_("The group already has a store of that name."), "duplicate_store")
    store = Store(group_id=group.id, name=name, note=note.strip())
    session.add(store)
    session.flush()
    return store


def stores_of(session: Session, group: Group) -> list[Store]:
    """Return the group's stores by name."""
    return list(
        session.scalars(sa.select(Store).where(Store.group_id == group.id).order_by(Store.name))
    )


def subscription_offers_of(session: Session, group: Group, *, active_only: bool = False):
    """Return the group's subscription offers with their prices."""
    return list(session.scalars(_offers_statement(active_only), {"group_id": group.id}))


@cache
def _offers_statement(active_only: bool) -> sa.Select:
    query = (
        sa.select(SubscriptionOffer)
        .where(SubscriptionOffer.group_id == sa.bindparam("group_id", type_=sa.Integer))
        .options(selectinload(SubscriptionOffer.prices))
        .order_by(SubscriptionOffer.active.desc(), SubscriptionOffer.name)
    )
    if active_only:
        query = query.where(SubscriptionOffer.active.is_(True))
    return query


def save_subscription_offer(
    session: Session,
    group: Group,
    *,
    name: str,
    description: str,
    prices: Mapping[str, int],
    active: bool = True,
    offer: SubscriptionOffer | None = None,
) -> SubscriptionOffer:
    """Create a subscription offer, or change ``offer``; prices are per currency.

    :raises ValidationFailed: on an unknown currency, a bad amount, or no price at all.
    """
    _check_prices(prices)
    if not prices:
        raise ValidationFailed(_("Give a price in at least one currency."), "no_price")
    if offer is None:
        offer = SubscriptionOffer(group_id=group.id, prices=[])
        session.add(offer)
    offer.name = name.strip()
    offer.description = description.strip()
    offer.active = active
    remaining = dict(prices)
    kept = []
    for price in offer.prices:
        if price.currency in remaining:
            price.amount = remaining.pop(price.currency)
            kept.append(price)
    offer.prices = kept + [SubscriptionPrice(currency=c, amount=a) for c, a in remaining.items()]
    session.flush()
    return offer


# The ledger ---------------------------------------------------------------------------------


def _check_quantity(quantity) -> None:
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise ValidationFailed(
            _("The number of copies must be a whole number above 0."), "quantity"
        )


def record_movement(
    session: Session,
    *,
    publication: Publication,
    quantity: int,
    from_place: Place,
    to_place: Place,
    user: User | None,
    from_store: Store | None = None,
    from_event: Event | None = None,
    to_store: Store | None = None,
    to_event: Event | None = None,
    note: str = "",
    sale_line_id: int | None = None,
    reverses: StockMovement | None = None,
) -> StockMovement:
    """Append one movement to the ledger, after checking that everything is of one group.

    :raises ValidationFailed: on a quantity that is not a positive whole number, a place without
        its store or event, or a move from a place to itself.
    """
    _check_quantity(quantity)
    group_id = publication.group_id
    for place, store, event in (
        (from_place, from_store, from_event),
        (to_place, to_store, to_event),
    ):
        if (place == Place.STORE) != (store is not None) or (place == Place.EVENT) != (
            event is not None
        ):
            raise ValidationFailed("place and its store or event disagree", "bad_place")
        for owned in (store, event):
            if owned is not None and owned.group_id != group_id:
                raise ValidationFailed("store or event of another group", "other_group")
    if from_place == to_place and from_store is to_store and from_event is to_event:
        raise ValidationFailed(_("Choose a different place to move the copies to."), "same_place")
    movement = StockMovement(
        group_id=group_id,
        publication_id=publication.id,
        quantity=quantity,
        from_place=from_place,
        from_store_id=from_store.id if from_store else None,
        from_event_id=from_event.id if from_event else None,
        to_place=to_place,
        to_store_id=to_store.id if to_store else None,
        to_event_id=to_event.id if to_event else None,
        created_by_id=user.id if user else None,
        note=note.strip()[:300],
        sale_line_id=sale_line_id,
        reverses_id=reverses.id if reverses else None,
    )
    session.add(movement)
    session.flush()
    return movement


def lock_store(session: Session, store: Store) -> None:
    """Serialise ledger writes that read a store's level first (PostgreSQL row lock)."""
    session.execute(sa.select(Store.id).where(Store.id == store.id).with_for_update())


def receive(
    session: Session, store: Store, publication: Publication, quantity: int, user: User, note: str
) -> StockMovement:
    """Book copies arriving into a store from outside (a print run, a delivery)."""
    return record_movement(
        session,
        publication=publication,
        quantity=quantity,
        from_place=Place.OUTSIDE,
        to_place=Place.STORE,
        to_store=store,
        user=user,
        note=note,
    )


def move_between_stores(
    session: Session,
    source: Store,
    target: Store,
    publication: Publication,
    quantity: int,
    user: User,
    note: str = "",
) -> StockMovement:
    """Move copies from one store to another."""
    return record_movement(
        session,
        publication=publication,
        quantity=quantity,
        from_place=Place.STORE,
        from_store=source,
        to_place=Place.STORE,
        to_store=target,
        user=user,
        note=note,
    )


def write_off(
    session: Session, store: Store, publication: Publication, quantity: int, user: User, reason: str
) -> StockMovement:
    """Book damaged or lost copies out of a store, with the reason."""
    return record_movement(
        session,
        publication=publication,
        quantity=quantity,
        from_place=Place.STORE,
        from_store=store,
        to_place=Place.WRITTEN_OFF,
        user=user,
        note=reason,
    )


def pack_for_event(
    session: Session,
    store: Store,
    event: Event,
    quantities: Mapping[Publication, int],
    user: User,
    *,
    beyond_stock_reason: str = "",
) -> list[StockMovement]:
    """Move the chosen titles and quantities from a store to an event; zero quantities are skipped.

    A title is packed beyond what the store holds only when an organiser of the group gives
    ``beyond_stock_reason`` (the store's figure is wrong: a delivery never booked in); the
    reason and the level it overrode go into the movement's note, so the ledger keeps them.

    :raises EventClosed: when the event is closed out (its till is locked first).
    :raises ValidationFailed: code ``nothing_packed`` when every quantity is zero.
    :raises NotEnoughStock: when a title asks for more than the store holds and no reason is
        given.
    :raises NotAllowed: code ``organisers_only`` when someone else gives the reason.
    """
    ensure_event_open(session, event)
    wanted = {publication: quantity for publication, quantity in quantities.items() if quantity}
    if not wanted:
        raise ValidationFailed(_("Enter how many copies of at least one title."), "nothing_packed")
    lock_store(session, store)
    levels = _levels(session, _holding_flows(Place.STORE, where=lambda holder: holder == store.id))
    shortfalls = [
        Shortfall(publication, quantity, levels.get((store.id, publication.id), 0))
        for publication, quantity in wanted.items()
        if quantity > levels.get((store.id, publication.id), 0)
    ]
    reason = beyond_stock_reason.strip()
    if shortfalls and not reason:
        raise NotEnoughStock(store, shortfalls)
    if shortfalls and not organises(session, user, store.group):
        raise NotAllowed(
            _("Only an organiser may pack more than a store holds."), "organisers_only"
        )
    beyond = {shortfall.publication: shortfall.held for shortfall in shortfalls}
    return [
        record_movement(
            session,
            publication=publication,
            quantity=quantity,
            from_place=Place.STORE,
            from_store=store,
            to_place=Place.EVENT,
            to_event=event,
            user=user,
            note=(
                _(
                    "Packed for the event beyond the %(held)d the store held: %(reason)s",
                    held=beyond[publication],
                    reason=reason,
                )
                if publication in beyond
                else _("Packed for the event")
            ),
        )
        for publication, quantity in wanted.items()
    ]


def return_copies(
    session: Session,
    event: Event,
    store: Store,
    publication: Publication,
    quantity: int,
    user: User,
    note: str,
) -> StockMovement:
    """Book ``quantity`` copies of one title coming back from an event into a store."""
    return record_movement(
        session,
        publication=publication,
        quantity=quantity,
        from_place=Place.EVENT,
        from_event=event,
        to_place=Place.STORE,
        to_store=store,
        user=user,
        note=note,
    )


def return_from_event(
    session: Session, event: Event, store: Store, user: User
) -> list[StockMovement]:
    """Move every copy the ledger still has at the event back to a store.

    The close-out books its own returns through :func:`return_copies`, on a closed event.

    :raises EventClosed: when the event is closed out (its till is locked first).
    """
    ensure_event_open(session, event)
    levels = event_levels(session, event)
    publications = session.scalars(
        sa.select(Publication).where(
            Publication.id.in_([pid for pid, n in levels.items() if n > 0])
        )
    )
    return [
        return_copies(
            session,
            event,
            store,
            publication,
            levels[publication.id],
            user,
            _("Back from the event"),
        )
        for publication in publications
    ]


def _holding_flows(place: Place, group_id: int | None = None, where=None):
    """Rows (holder id, publication id, signed quantity) of every flow into and out of ``place``."""
    holder_in = StockMovement.to_store_id if place == Place.STORE else StockMovement.to_event_id
    holder_out = (
        StockMovement.from_store_id if place == Place.STORE else StockMovement.from_event_id
    )
    inflow = sa.select(
        holder_in.label("holder_id"),
        StockMovement.publication_id.label("publication_id"),
        StockMovement.quantity.label("quantity"),
    ).where(StockMovement.to_place == place)
    outflow = sa.select(
        holder_out.label("holder_id"),
        StockMovement.publication_id.label("publication_id"),
        (-StockMovement.quantity).label("quantity"),
    ).where(StockMovement.from_place == place)
    if place == Place.STORE and group_id is not None:
        # The group's stores rather than its whole ledger, found through the store indexes:
        # most of a group's ledger is sales, which no store sees. (IS NOT NULL is implied by
        # the place; PostgreSQL needs it to search the index rather than walk it whole.)
        stores = sa.select(Store.id).where(Store.group_id == group_id)
        inflow = inflow.where(holder_in.is_not(None), holder_in.in_(stores))
        outflow = outflow.where(holder_out.is_not(None), holder_out.in_(stores))
    elif group_id is not None:
        inflow = inflow.where(StockMovement.group_id == group_id)
        outflow = outflow.where(StockMovement.group_id == group_id)
    if where is not None:
        inflow = inflow.where(where(holder_in))
        outflow = outflow.where(where(holder_out))
    return sa.union_all(inflow, outflow).subquery()


def _levels(session: Session, flows) -> dict[tuple[int, int], int]:
    rows = session.execute(
        sa.select(
            flows.c.holder_id, flows.c.publication_id, sa.func.sum(flows.c.quantity)
        ).group_by(flows.c.holder_id, flows.c.publication_id)
    )
    return {(holder, publication): int(total) for holder, publication, total in rows}


def store_levels(session: Session, group: Group) -> dict[tuple[int, int], int]:
    """Return ``{(store id, publication id): copies}`` for the group's stores, in one query."""
    return _levels(session, _holding_flows(Place.STORE, group.id))


def store_level(session: Session, store: Store, publication: Publication) -> int:
    """Return how many copies of ``publication`` the ledger has in ``store``."""
    flows = _holding_flows(Place.STORE, where=lambda holder: holder == store.id)
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(flows.c.quantity), 0)).where(
            flows.c.publication_id == publication.id
        )
    )
    return int(total)


def event_levels(session: Session, event: Event) -> dict[int, int]:
    """Return ``{publication id: copies left}`` at the event: packed minus sold, given, returned.

    Titles ever moved to or from the event appear, even at zero or below (over-sold).
    """
    rows = session.execute(_event_levels_statement(), {"event_id": event.id})
    return {publication: int(total) for publication, total in rows}


@cache
def _event_levels_statement() -> sa.Select:
    # Built once: the sale screen asks on every tap, and building the union costs more than
    # running it.
    flows = event_flows(sa.bindparam("event_id", type_=sa.Integer))
    return sa.select(flows.c.publication_id, sa.func.sum(flows.c.quantity)).group_by(
        flows.c.publication_id
    )


def event_flows(event_id: sa.ColumnElement[int]) -> sa.Subquery:
    """Rows (publication id, the place at the other end, copies) of every movement into the
    event (copies positive) and out of it (negative): an event's level of a title is their sum.
    """
    inflow = sa.select(
        StockMovement.publication_id.label("publication_id"),
        StockMovement.from_place.label("other_place"),
        StockMovement.quantity.label("quantity"),
    ).where(StockMovement.to_event_id == event_id)
    outflow = sa.select(
        StockMovement.publication_id,
        StockMovement.to_place,
        -StockMovement.quantity,
    ).where(StockMovement.from_event_id == event_id)
    return sa.union_all(inflow, outflow).subquery()


def event_level(session: Session, event: Event, publication: Publication) -> int:
    """Return the copies of one title left at the event (below 0 when over-sold), reading only
    that title's movements there: a sale asks it while it holds the event's till."""
    return session.scalar(
        _event_level_statement(), {"event_id": event.id, "publication_id": publication.id}
    )


@cache
def _event_level_statement() -> sa.Select:
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    publication_id = sa.bindparam("publication_id", type_=sa.Integer)

    def copies(holder, place_column):
        return (
            sa.select(sa.func.coalesce(sa.func.sum(StockMovement.quantity), 0))
            .where(
                holder == event_id,
                place_column == Place.EVENT,
                StockMovement.publication_id == publication_id,
            )
            .scalar_subquery()
        )

    return sa.select(
        copies(StockMovement.to_event_id, StockMovement.to_place)
        - copies(StockMovement.from_event_id, StockMovement.from_place)
    )


def needs_reprint(copies: int, reorder_level: int) -> bool:
    """Tell whether a title is to reprint: fewer copies in all stores than its reorder level
    ("Reprint when fewer than 75"); a level of 0 never warns. The one rule of the catalogue,
    the group's home and the group report."""
    return reorder_level > 0 and copies < reorder_level


def needs_reprint_clause(copies: sa.ColumnElement, reorder_level: sa.ColumnElement):
    """Return :func:`needs_reprint` as SQL, for queries that sort or filter by it."""
    return sa.and_(reorder_level > 0, copies < reorder_level)


def totals_by_publication(levels: Mapping[tuple[int, int], int]) -> dict[int, int]:
    """Sum store levels per title (a dict comprehension over the already-summed rows)."""
    totals: dict[int, int] = defaultdict(int)
    for (_store, publication), copies in levels.items():
        totals[publication] += copies
    return dict(totals)
