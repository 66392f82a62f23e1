"""Catalogue, stores and the stock ledger.

Stock only ever moves by inserting :class:`StockMovement` rows; levels are SQL sums over them,
and a correction is a reversing row. Services flush and never commit.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload, selectinload

from stallapp.accounts.models import Group, Membership, Role, User
from stallapp.errors import NotAllowed, StallError, ValidationFailed
from stallapp.events.models import Event
from stallapp.money import is_valid_currency
from stallapp.stock.models import (
    CatalogueSettings,
    Place,
    Publication,
    PublicationKind,
    PublicationPrice,
    StockMovement,
    Store,
    SubscriptionOffer,
    SubscriptionPrice,
)
from stallapp.times import NonexistentLocalTime, local_to_utc

#: Upper bound for one movement, so a typo (200000 for 20) is caught rather than booked.
MAX_QUANTITY = 100_000
#: Upper bound for a price or amount in minor units (a million pounds is not a stall sale).
MAX_AMOUNT = 100_000_000


class AlreadyReversed(StallError):
    code = "already_reversed"


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


def publications_by_id(session: Session, group: Group, ids: Iterable[int]) -> list[Publication]:
    """Return the group's titles among ``ids``, with their prices, alphabetically."""
    parameters = {"group_id": group.id, "ids": list(ids)}
    return list(session.scalars(_publications_by_id_statement(), parameters).unique())


@cache
def _publications_by_id_statement() -> sa.Select:
    # Built once, like the other statements the sale screen runs on every load.
    return (
        sa.select(Publication)
        .where(
            Publication.group_id == sa.bindparam("group_id", type_=sa.Integer),
            Publication.id.in_(sa.bindparam("ids", expanding=True)),
        )
        .options(joinedload(Publication.prices))
        .order_by(Publication.title, Publication.issue_number, Publication.id)
    )


def title_label() -> sa.ColumnElement[str]:
    """:attr:`Publication.full_title` in SQL, for queries that read plain rows."""
    return sa.case(
        (Publication.issue_number == "", Publication.title),
        else_=Publication.title + " " + Publication.issue_number,
    )


def title_choices(session: Session, group: Group) -> list[tuple[int, str]]:
    """Return ``(id, title with its issue)`` of the group's active titles, alphabetically.

    Plain rows rather than loaded titles: a picker of the whole catalogue stays cheap.
    """
    rows = session.execute(_title_choices_statement(), {"group_id": group.id})
    return [(pid, title) for pid, title in rows]


@cache
def _title_choices_statement() -> sa.Select:
    return (
        sa.select(Publication.id, title_label())
        .where(
            Publication.group_id == sa.bindparam("group_id", type_=sa.Integer),
            Publication.active.is_(True),
        )
        .order_by(Publication.title, Publication.issue_number, Publication.id)
    )


def price_currencies(session: Session, group: Group) -> set[str]:
    """Return every currency the group's titles and subscription offers have a price in."""
    return set(session.scalars(_price_currencies_statement(), {"group_id": group.id}))


@cache
def _price_currencies_statement() -> sa.CompoundSelect:
    group_id = sa.bindparam("group_id", type_=sa.Integer)
    titles = (
        sa.select(PublicationPrice.currency)
        .join(Publication, Publication.id == PublicationPrice.publication_id)
        .where(Publication.group_id == group_id)
    )
    offers = (
        sa.select(SubscriptionPrice.currency)
        .join(SubscriptionOffer, SubscriptionOffer.id == SubscriptionPrice.offer_id)
        .where(SubscriptionOffer.group_id == group_id)
    )
    return sa.union(titles, offers)


def copyable_publications(session: Session, user: User, group: Group) -> list[Publication]:
    """Return the active titles of the other groups ``user`` organises, to copy into ``group``."""
    organised = (
        sa.select(Membership.group_id)
        .where(Membership.user_id == user.id, Membership.role == Role.ORGANISER)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            sa.select(Publication)
            .where(
                Publication.group_id.in_(organised),
                Publication.group_id != group.id,
                Publication.active.is_(True),
            )
            .options(selectinload(Publication.prices), selectinload(Publication.group))
            .order_by(Publication.group_id, Publication.title)
        )
    )


def copy_publication(
    session: Session, user: User, source: Publication, group: Group
) -> Publication:
    """Copy a title of another group ``user`` organises into ``group``, prices included.

    The copy is independent: each group then sets its own prices and keeps its own stock.

    :raises NotAllowed: when ``user`` does not organise the source's group.
    """
    allowed = session.scalar(
        sa.select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.group_id == source.group_id,
            Membership.role == Role.ORGANISER,
        )
    )
    if allowed is None or source.group_id == group.id:
        raise NotAllowed(_("You can copy only from other groups you organise."))
    copy = create_publication(
        session,
        group,
        PublicationData(
            title=source.title,
            kind=source.kind,
            language=source.language,
            issue_number=source.issue_number,
            issue_date=source.issue_date,
            isbn=source.isbn,
            is_free=source.is_free,
            reorder_level=source.reorder_level,
            prices={price.currency: price.amount for price in source.prices},
        ),
    )
    copy.copied_from_id = source.id
    session.flush()
    return copy


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


def _lock_store(session: Session, store: Store) -> None:
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


def record_count(
    session: Session, store: Store, publication: Publication, counted: int, user: User, reason: str
) -> StockMovement | None:
    """Book the difference between a count and the ledger's level as an adjustment.

    Returns None when the count agrees with the ledger.

    :raises ValidationFailed: on a negative or non-whole count.
    """
    if (
        not isinstance(counted, int)
        or isinstance(counted, bool)
        or not 0 <= counted <= MAX_QUANTITY
    ):
        raise ValidationFailed(_("The count must be a whole number, 0 or more."), "quantity")
    _lock_store(session, store)
    level = store_level(session, store, publication)
    difference = counted - level
    if difference == 0:
        return None
    note = _(
        "Count: %(counted)d, ledger said %(level)d. %(reason)s",
        counted=counted,
        level=level,
        reason=reason,
    )
    if difference > 0:
        return record_movement(
            session,
            publication=publication,
            quantity=difference,
            from_place=Place.ADJUSTMENT,
            to_place=Place.STORE,
            to_store=store,
            user=user,
            note=note,
        )
    return record_movement(
        session,
        publication=publication,
        quantity=-difference,
        from_place=Place.STORE,
        from_store=store,
        to_place=Place.ADJUSTMENT,
        user=user,
        note=note,
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

    :raises ValidationFailed: code ``nothing_packed`` when every quantity is zero.
    :raises NotEnoughStock: when a title asks for more than the store holds and no reason is
        given.
    :raises NotAllowed: code ``organisers_only`` when someone else gives the reason.
    """
    wanted = {publication: quantity for publication, quantity in quantities.items() if quantity}
    if not wanted:
        raise ValidationFailed(_("Enter how many copies of at least one title."), "nothing_packed")
    _lock_store(session, store)
    levels = _levels(session, _holding_flows(Place.STORE, where=lambda holder: holder == store.id))
    shortfalls = [
        Shortfall(publication, quantity, levels.get((store.id, publication.id), 0))
        for publication, quantity in wanted.items()
        if quantity > levels.get((store.id, publication.id), 0)
    ]
    reason = beyond_stock_reason.strip()
    if shortfalls and not reason:
        raise NotEnoughStock(store, shortfalls)
    if shortfalls and not _organises(session, user, store.group_id):
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


def _organises(session: Session, user: User, group_id: int) -> bool:
    return (
        session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.group_id == group_id,
                Membership.role == Role.ORGANISER,
            )
        )
        is not None
    )


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
    """Move every copy the ledger still has at the event back to a store."""
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


def reverse_movement(
    session: Session, movement: StockMovement, user: User, note: str = "", *, for_sale: bool = False
) -> StockMovement:
    """Append the movement that undoes ``movement``: same copies, the other way.

    :raises AlreadyReversed: when it was reversed before (the unique constraint decides races).
    :raises NotAllowed: code ``is_reversal`` for a reversal, ``sale_movement`` for a movement of a
        sale (undo the sale instead).
    """
    if movement.reverses_id is not None:
        raise NotAllowed(_("This entry is itself a correction."), "is_reversal")
    if movement.sale_line_id is not None and not for_sale:
        raise NotAllowed(_("Undo the sale on the sale screen instead."), "sale_movement")
    try:
        with session.begin_nested():
            reversal = record_movement(
                session,
                publication=movement.publication,
                quantity=movement.quantity,
                from_place=movement.to_place,
                from_store=movement.to_store,
                from_event=movement.to_event,
                to_place=movement.from_place,
                to_store=movement.from_store,
                to_event=movement.from_event,
                user=user,
                note=note or _("Correction"),
                sale_line_id=movement.sale_line_id,
                reverses=movement,
            )
    except sa.exc.IntegrityError as error:
        raise AlreadyReversed(_("This entry was already corrected.")) from error
    return reversal


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
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    flows = _holding_flows(Place.EVENT, where=lambda holder: holder == event_id)
    return sa.select(flows.c.publication_id, sa.func.sum(flows.c.quantity)).group_by(
        flows.c.publication_id
    )


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


def recent_movements(session: Session, group: Group, limit: int = 100) -> list[StockMovement]:
    """Return the group's latest movements with what a ledger page shows."""
    return list(
        session.scalars(
            sa.select(StockMovement)
            .where(StockMovement.group_id == group.id)
            .options(
                selectinload(StockMovement.publication),
                selectinload(StockMovement.from_store),
                selectinload(StockMovement.to_store),
                selectinload(StockMovement.from_event),
                selectinload(StockMovement.to_event),
                selectinload(StockMovement.created_by),
            )
            .order_by(StockMovement.id.desc())
            .limit(limit)
        )
    )


#: Ledger rows per page: a phone screenful or three, not the whole history.
LEDGER_PER_PAGE = 20


@dataclass(frozen=True)
class LedgerFilter:
    """Which movements the ledger shows: of one store (in or out), of one title, and from one
    local day to another (both included, in the group's zone); None leaves that out."""

    store_id: int | None = None
    publication_id: int | None = None
    first_day: date | None = None
    last_day: date | None = None


def _local_day_start(day: date, zone_name: str) -> datetime:
    """Return the UTC instant ``day`` begins in ``zone_name`` (an hour on where midnight is
    skipped by a clock change)."""
    midnight = datetime.combine(day, time())
    try:
        return local_to_utc(midnight, zone_name)
    except NonexistentLocalTime:
        return local_to_utc(midnight + timedelta(hours=1), zone_name)


def ledger_page(
    session: Session, group: Group, chosen: LedgerFilter, page: int = 1
) -> tuple[list[StockMovement], bool]:
    """Return a page of the group's movements, latest first, that ``chosen`` lets through, and
    whether more follow."""
    query = sa.select(StockMovement).where(StockMovement.group_id == group.id)
    if chosen.store_id is not None:
        query = query.where(
            sa.or_(
                StockMovement.from_store_id == chosen.store_id,
                StockMovement.to_store_id == chosen.store_id,
            )
        )
    if chosen.publication_id is not None:
        query = query.where(StockMovement.publication_id == chosen.publication_id)
    if chosen.first_day is not None:
        since = _local_day_start(chosen.first_day, group.timezone)
        query = query.where(StockMovement.created_at >= since)
    if chosen.last_day is not None:
        until = _local_day_start(chosen.last_day + timedelta(days=1), group.timezone)
        query = query.where(StockMovement.created_at < until)
    page = min(max(page, 1), 100_000)
    rows = list(
        session.scalars(
            query.options(
                selectinload(StockMovement.publication),
                selectinload(StockMovement.from_store),
                selectinload(StockMovement.to_store),
                selectinload(StockMovement.from_event),
                selectinload(StockMovement.to_event),
                selectinload(StockMovement.created_by),
            )
            .order_by(StockMovement.id.desc())
            .offset((page - 1) * LEDGER_PER_PAGE)
            .limit(LEDGER_PER_PAGE + 1)
        )
    )
    return rows[:LEDGER_PER_PAGE], len(rows) > LEDGER_PER_PAGE


def reversed_ids(session: Session, movement_ids: Iterable[int]) -> set[int]:
    """Return which of ``movement_ids`` have been reversed."""
    ids = list(movement_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            sa.select(StockMovement.reverses_id).where(StockMovement.reverses_id.in_(ids))
        )
    )


# Public catalogue settings and subscription offers ------------------------------------------


def catalogue_settings(session: Session, group: Group) -> CatalogueSettings | None:
    """Return the group's catalogue settings, or None before an organiser saved any."""
    return session.scalar(
        sa.select(CatalogueSettings).where(CatalogueSettings.group_id == group.id)
    )


def save_how_to_order(session: Session, group: Group, text: str) -> CatalogueSettings:
    """Set the group's "how to order" text shown on its public catalogue page."""
    settings = catalogue_settings(session, group)
    if settings is None:
        settings = CatalogueSettings(group_id=group.id)
        session.add(settings)
    settings.how_to_order = text.strip()
    session.flush()
    return settings


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
