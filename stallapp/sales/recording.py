"""Recording what happens at the till, online or synced later, exactly once.

:func:`record_operations` stores each operation's UUID for good in ``client_operation`` with a
hash of its payload: a replay answers the stored result, the same UUID with another payload is
refused. Writers at one event are serialised by locking the event's till row (PostgreSQL); on
SQLite the view begins the transaction IMMEDIATE.

Twenty phones can sell at one stall at once and every one of them waits for the till's lock, so
a sale is written in as few round trips as the rules allow: the titles are read before the lock,
a sale's rows are checked before any is written (so it needs no savepoint), and the batch's
operation ids are inserted together at its end.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload, selectinload

from stallapp.accounts.models import Role, User
from stallapp.contacts.services import record_contact
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed, StallError, ValidationFailed
from stallapp.events.models import Event
from stallapp.money import format_money
from stallapp.sales.models import (
    ClientOperation,
    EventTill,
    LateSale,
    PaymentMethod,
    Sale,
    SaleKind,
    SaleLine,
)
from stallapp.sales.operations import Operation, OperationConflict
from stallapp.sales.screen import RecentSale
from stallapp.sales.till import ensure_event_open, lock_till
from stallapp.stock import corrections
from stallapp.stock import services as stock
from stallapp.stock.models import Place, Publication, StockMovement, SubscriptionOffer
from stallapp.times import utc_to_local

#: How long the member who recorded a sale may undo it (organisers always may).
UNDO_WINDOW = timedelta(minutes=15)
#: A phone's clock is believed within these bounds; outside them the server's time is used.
CLOCK_PAST = timedelta(days=60)
CLOCK_FUTURE = timedelta(minutes=10)
#: Operations whose every refusal comes before their first write: applied without a savepoint.
CHECKED_BEFORE_WRITING = frozenset({"sale", "giveaway", "donation"})


@dataclass
class Seller:
    """Who is recording, with their role in the event's group."""

    user: User
    role: Role


@dataclass
class Shelf:
    """The titles a batch sells or gives away, read once for the whole batch."""

    #: The titles, with their prices, by id (read before the till's lock: the catalogue is not
    #: what the lock protects).
    titles: dict[int, Publication]
    #: Copies left at the event per title, read under the till's lock and counted down as the
    #: batch sells; a title missing here is read from the ledger when sold.
    left: dict[int, int]


def _believed_time(claimed: datetime | None, now: datetime) -> datetime:
    if claimed is None or not now - CLOCK_PAST <= claimed <= now + CLOCK_FUTURE:
        return now
    return claimed


def refusal(op: Operation, error: StallError) -> dict:
    """The stored answer to an operation refused by a business rule."""
    return {"id": op.id, "status": "refused", "code": error.code, "message": error.message}


def record_operations(
    session: Session, event: Event, seller: Seller, operations: list[Operation]
) -> list[dict]:
    """Apply a batch of operations at ``event`` once each, in order, and return their results.

    A result is ``{"id", "status": "done" | "held" | "refused", ...}``; a replayed operation
    answers its stored result with ``"replayed": true``. Refusals by a business rule (an undo too
    late, an unknown title) are stored too, so they are answered the same way on every replay.

    Once the event is closed out, an operation taken before the close-out moment is held as a
    :class:`LateSale` for an organiser (``"held"``); one taken after it is refused
    (code ``closed_before_taken``). Neither touches the books.

    :raises OperationConflict: when an id was used with another payload; nothing is recorded.
    """
    # Everything that does not depend on the books is done before the till's lock: the lock
    # serialises every phone at the event, so what runs under it is only the booking itself.
    hashes = [op.payload_hash(seller.user, event) for op in operations]
    titles = _titles_of(session, event, operations)
    till = lock_till(session, event)
    stored, left = _replays_and_levels(session, event, {op.id for op in operations}, titles)
    shelf = Shelf(titles, left)
    first_hashes = {op_id: row.payload_hash for op_id, row in stored.items()}
    conflicts = []
    for op, payload_hash in zip(operations, hashes, strict=True):
        if first_hashes.setdefault(op.id, payload_hash) != payload_hash:
            conflicts.append(op.id)
    if conflicts:
        raise OperationConflict(conflicts)

    results = []
    now = utcnow()
    for op, payload_hash in zip(operations, hashes, strict=True):
        if op.id in stored:
            results.append({**json.loads(stored[op.id].result), "replayed": True})
            continue
        held_since = None
        if till.closed_at is not None:
            sale = None
            result, held_since = _after_close_out(event, till, op, now)
        else:
            try:
                sale, result = _apply_refusable(session, event, till, seller, op, now, shelf)
            except StallError as error:
                sale, result = None, refusal(op, error)
        row = ClientOperation(
            operation_id=op.id,
            group_id=event.group_id,
            event_id=event.id,
            user_id=seller.user.id,
            payload_hash=payload_hash,
            sale_id=sale.id if sale else None,
            result=json.dumps(result),
        )
        # Not flushed one by one: the batch's operations are inserted together below.
        session.add(row)
        if held_since is not None:
            session.add(
                LateSale(
                    group_id=event.group_id,
                    event_id=event.id,
                    client_operation=row,
                    user_id=seller.user.id,
                    payload=op.to_json(),
                    taken_at=held_since,
                )
            )
        stored[op.id] = row
        results.append(result)
    session.flush()
    return results


def _replays_and_levels(
    session: Session, event: Event, operation_ids: set[str], titles: dict[int, Publication]
) -> tuple[dict, dict[int, int]]:
    """Return what the till's lock protects and the batch needs first, in one statement: the
    operations of the batch already stored (``{operation id: row with payload_hash and
    result}``) and the copies left at the event of the titles it sells.

    Read after the lock is taken, so both include what the phone before this one wrote. (Read
    in the statement that takes the lock, they would not on PostgreSQL: its snapshot is older
    than the lock.)
    """
    stored, left = {}, dict.fromkeys(titles, 0)
    parameters = {
        "event_id": event.id,
        "operation_ids": list(operation_ids),
        "publication_ids": list(titles),
    }
    for row in session.execute(_replays_and_levels_statement(), parameters):
        if row.operation_id is not None:
            stored[row.operation_id] = row
        else:
            left[row.publication_id] = int(row.copies)
    return stored, left


@cache
def _replays_and_levels_statement() -> sa.CompoundSelect:
    # Built once, with bound parameters: building it cost more than running it.
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    publication_ids = sa.bindparam("publication_ids", expanding=True, type_=sa.Integer)
    no_text = sa.cast(sa.null(), sa.String)
    no_number = sa.cast(sa.null(), sa.Integer)
    replays = sa.select(
        ClientOperation.operation_id,
        ClientOperation.payload_hash,
        ClientOperation.result,
        no_number.label("publication_id"),
        no_number.label("copies"),
    ).where(
        ClientOperation.operation_id.in_(
            sa.bindparam("operation_ids", expanding=True, type_=sa.String)
        )
    )
    arrivals = sa.select(
        StockMovement.publication_id.label("publication_id"),
        StockMovement.quantity.label("copies"),
    ).where(
        StockMovement.to_event_id == event_id,
        StockMovement.to_place == Place.EVENT,
        StockMovement.publication_id.in_(publication_ids),
    )
    departures = sa.select(StockMovement.publication_id, -StockMovement.quantity).where(
        StockMovement.from_event_id == event_id,
        StockMovement.from_place == Place.EVENT,
        StockMovement.publication_id.in_(publication_ids),
    )
    flows = sa.union_all(arrivals, departures).subquery()
    levels = sa.select(
        no_text, no_text, no_text, flows.c.publication_id, sa.func.sum(flows.c.copies)
    ).group_by(flows.c.publication_id)
    return sa.union_all(replays, levels)


def _apply_refusable(
    session: Session,
    event: Event,
    till: EventTill,
    seller: Seller,
    op: Operation,
    now: datetime,
    shelf: Shelf,
) -> tuple[Sale, dict]:
    """Apply one operation of a batch so that a refusal leaves nothing of it written."""
    if op.type in CHECKED_BEFORE_WRITING:
        return apply_operation(session, event, till, seller, op, now, shelf)
    with session.begin_nested():
        return apply_operation(session, event, till, seller, op, now, shelf)


def _after_close_out(
    event: Event, till: EventTill, op: Operation, now: datetime
) -> tuple[dict, datetime | None]:
    """Answer an operation that reaches a closed-out event: held when it was taken before the
    close-out (with the time it was taken), refused when after."""
    taken_at = _believed_time(op.taken_at, now)
    if taken_at < till.closed_at:
        message = _(
            "Held for an organiser: the event was closed out after this was taken, so an "
            "organiser accepts it into the books."
        )
        return {"id": op.id, "status": "held", "code": "held_late", "message": message}, taken_at
    closed_at = utc_to_local(till.closed_at, event.timezone)
    error = EventClosed(
        _(
            "Not recorded: the event was closed out at %(time)s, before this was taken. "
            "Write it on paper for an organiser.",
            time=closed_at.strftime("%Y-%m-%d %H:%M"),
        ),
        "closed_before_taken",
    )
    return refusal(op, error), None


def _titles_of(
    session: Session, event: Event, operations: list[Operation]
) -> dict[int, Publication]:
    """Return the group's titles the operations sell or give away, with their prices, in one
    query (the catalogue is not what the till's lock protects)."""
    ids = {op.publication_id for op in operations if op.type in ("sale", "giveaway")}
    if not ids:
        return {}
    parameters = {"ids": list(ids), "group_id": event.group_id}
    return {
        publication.id: publication
        for publication in session.scalars(_titles_statement(), parameters).unique()
    }


@cache
def _titles_statement() -> sa.Select:
    return (
        sa.select(Publication)
        .where(
            Publication.id.in_(sa.bindparam("ids", expanding=True, type_=sa.Integer)),
            Publication.group_id == sa.bindparam("group_id", type_=sa.Integer),
        )
        .options(joinedload(Publication.prices))
    )


def apply_operation(
    session: Session,
    event: Event,
    till: EventTill,
    seller: Seller,
    op: Operation,
    now: datetime,
    shelf: Shelf | None = None,
) -> tuple[Sale, dict]:
    """Write what ``op`` does at the event's till, which the caller has locked; ``shelf`` is
    what the batch read once (read here when None).

    Refusals of sales, give-aways and donations are raised before anything is written; a
    subscription or an undo may have written some rows when it is refused, so callers apply
    those inside a savepoint.

    :raises StallError: when a business rule refuses the operation.
    """
    taken_at = _believed_time(op.taken_at, now)
    if op.type == "undo":
        if shelf is not None:
            # The undo puts copies back: later sales of the batch read what is left again.
            shelf.left.clear()
        return _undo(session, event, seller, op, taken_at)
    method = (
        None
        if op.type == "giveaway"
        else PaymentMethod(op.payment_method or till.default_payment_method)
    )
    sale = Sale(
        group_id=event.group_id,
        event_id=event.id,
        currency=op.currency,
        payment_method=method,
        created_by_id=seller.user.id,
        taken_at=taken_at,
    )
    if op.type in ("sale", "giveaway"):
        if shelf is None:
            shelf = Shelf(_titles_of(session, event, [op]), {})
        return _sell(session, event, sale, seller, op, shelf)
    if op.type == "donation":
        sale.kind = SaleKind.DONATION
        sale.amount = op.amount
        session.add(sale)
        session.flush()
        message = _("Donation %(amount)s", amount=format_money(sale.amount, sale.currency))
        return sale, _done(op, sale, message)
    return _subscribe(session, event, sale, op)


def _done(op: Operation, sale: Sale, message: str, **extra) -> dict:
    return {"id": op.id, "status": "done", "sale_id": sale.id, "message": message, **extra}


def _sell(
    session: Session,
    event: Event,
    sale: Sale,
    seller: Seller,
    op: Operation,
    shelf: Shelf,
):
    publication = shelf.titles.get(op.publication_id)
    if publication is None:
        raise ValidationFailed(_("That title is not in the group's catalogue."), "unknown_title")
    unit_price = publication.price_in(op.currency)
    if publication.is_free or op.type == "giveaway":
        sale.kind, sale.amount, sale.payment_method = SaleKind.GIVEAWAY, 0, None
        destination = Place.GIVEN_AWAY
        line_amount = 0
    else:
        sale.kind = SaleKind.SALE
        destination = Place.SOLD
        if op.amount is not None:
            line_amount = op.amount
        elif unit_price is not None:
            line_amount = unit_price * op.quantity
        else:
            raise ValidationFailed(
                _(
                    "%(title)s has no price in %(currency)s: enter the amount taken.",
                    title=publication.full_title,
                    currency=op.currency,
                ),
                "no_price",
            )
        sale.amount = line_amount
    line = SaleLine(
        publication_id=publication.id,
        quantity=op.quantity,
        unit_price=None if sale.kind == SaleKind.GIVEAWAY else unit_price,
        amount=line_amount,
    )
    sale.lines = [line]
    session.add(sale)
    # The sale and its line in one flush; the movement needs the line's id.
    session.flush()
    stock.record_movement(
        session,
        publication=publication,
        quantity=op.quantity,
        from_place=Place.EVENT,
        from_event=event,
        to_place=destination,
        user=seller.user,
        sale_line_id=line.id,
    )
    if publication.id in shelf.left:
        left = shelf.left[publication.id] - op.quantity
        shelf.left[publication.id] = left
    else:
        left = stock.event_level(session, event, publication)
    if sale.kind == SaleKind.GIVEAWAY:
        message = _(
            "Gave away %(quantity)d × %(title)s",
            quantity=op.quantity,
            title=publication.full_title,
        )
    else:
        message = _(
            "Sold %(quantity)d × %(title)s for %(amount)s",
            quantity=op.quantity,
            title=publication.full_title,
            amount=format_money(sale.amount, sale.currency),
        )
    extra = {"publication_id": publication.id, "left": left, "over_sold": left < 0}
    if left < 0:
        extra["warning"] = _(
            "The ledger has no more copies of %(title)s here: recorded anyway; "
            "the count at close-out will show the difference.",
            title=publication.full_title,
        )
    return sale, _done(op, sale, message, **extra)


def _subscribe(session: Session, event: Event, sale: Sale, op: Operation):
    offer = session.scalar(
        sa.select(SubscriptionOffer)
        .where(SubscriptionOffer.id == op.offer_id, SubscriptionOffer.group_id == event.group_id)
        .options(selectinload(SubscriptionOffer.prices))
    )
    if offer is None:
        raise ValidationFailed(_("That subscription is not offered by the group."), "unknown_offer")
    amount = op.amount if op.amount is not None else offer.price_in(op.currency)
    if amount is None:
        raise ValidationFailed(
            _(
                "This subscription has no price in %(currency)s: enter the amount taken.",
                currency=op.currency,
            ),
            "no_price",
        )
    sale.kind = SaleKind.SUBSCRIPTION
    sale.amount = amount
    sale.subscription_offer_id = offer.id
    subscriber = op.subscriber
    if subscriber and subscriber.email and subscriber.consent:
        contact = record_contact(
            session,
            event.group,
            email=subscriber.email,
            name=subscriber.name,
            source_event_id=event.id,
        )
        if contact.mailing_consent_at is None:
            contact.mailing_consent_at = sale.taken_at
            contact.mailing_consent_text = subscriber_consent_text()
        sale.contact_id = contact.id
    session.add(sale)
    session.flush()
    message = _(
        "Subscription %(name)s for %(amount)s",
        name=offer.name,
        amount=format_money(sale.amount, sale.currency),
    )
    return sale, _done(op, sale, message)


def subscriber_consent_text() -> str:
    """The consent wording shown next to the subscriber's details on the sale screen."""
    return _(
        "The subscriber agrees that the group keeps their name and email to send the "
        "subscription and news of the group."
    )


def may_undo(sale: Sale | RecentSale, seller: Seller, when: datetime) -> bool:
    """Tell whether ``seller`` may undo ``sale`` at ``when``: its own within 15 minutes, or as
    an organiser at any time."""
    if seller.role.allows(Role.ORGANISER):
        return True
    return sale.created_by_id == seller.user.id and when - sale.taken_at <= UNDO_WINDOW


def _undo(session: Session, event: Event, seller: Seller, op: Operation, taken_at: datetime):
    target = session.scalar(
        sa.select(ClientOperation).where(ClientOperation.operation_id == op.target)
    )
    sale = target.sale if target is not None else None
    if sale is None or sale.event_id != event.id:
        raise ValidationFailed(_("There is no such sale at this event to undo."), "unknown_sale")
    # The till is locked and the event open: record_operations checked it.
    reversal = _reverse(session, sale, seller, taken_at)
    return reversal, _done(
        op, reversal, _("Undone: %(what)s", what=describe(sale)), undone_sale_id=sale.id
    )


def undo_sale(session: Session, sale: Sale, seller: Seller, when: datetime) -> Sale:
    """Record the sale that reverses ``sale``, with reversing stock movements, at its event's
    till (locked until the commit).

    :raises EventClosed: when the event is closed out and not reopened.
    :raises NotAllowed: code ``undo_too_late`` outside the member's 15 minutes, ``is_reversal``
        for an undo.
    :raises stallapp.stock.corrections.AlreadyReversed: when it was undone before.
    """
    ensure_event_open(session, sale.event)
    return _reverse(session, sale, seller, when)


def _reverse(session: Session, sale: Sale, seller: Seller, when: datetime) -> Sale:
    """Record the reversal of ``sale``; the caller holds the till and knows the event open.

    A held undo accepted at a closed event comes here through :func:`apply_operation`.
    """
    if sale.reverses_id is not None:
        raise NotAllowed(_("An undo cannot be undone; record the sale again."), "is_reversal")
    if not may_undo(sale, seller, when):
        raise NotAllowed(
            _("Only the member who recorded it may undo it, within 15 minutes. Ask an organiser."),
            "undo_too_late",
        )
    reversal = Sale(
        group_id=sale.group_id,
        event_id=sale.event_id,
        kind=sale.kind,
        currency=sale.currency,
        amount=sale.amount,
        payment_method=sale.payment_method,
        subscription_offer_id=sale.subscription_offer_id,
        created_by_id=seller.user.id,
        taken_at=when,
        reverses_id=sale.id,
    )
    try:
        with session.begin_nested():
            session.add(reversal)
            session.flush()
    except sa.exc.IntegrityError as error:
        raise corrections.AlreadyReversed(_("This was already undone.")) from error
    movements = session.scalars(
        sa.select(StockMovement)
        .join(SaleLine, SaleLine.id == StockMovement.sale_line_id)
        .where(SaleLine.sale_id == sale.id, StockMovement.reverses_id.is_(None))
        .options(selectinload(StockMovement.publication))
    ).all()
    for movement in movements:
        corrections.reverse_movement(session, movement, seller.user, _("Undo"), for_sale=True)
    return reversal


def describe(sale: Sale) -> str:
    """Say what a sale was in a few words: "1 × Aurora", "Donation £5.00"."""
    if sale.kind in (SaleKind.SALE, SaleKind.GIVEAWAY):
        return ", ".join(f"{line.quantity} × {line.publication.full_title}" for line in sale.lines)
    if sale.kind == SaleKind.DONATION:
        return _("Donation")
    return sale.subscription_offer.name if sale.subscription_offer else _("Subscription")
