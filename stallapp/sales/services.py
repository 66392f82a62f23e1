"""Recording what happens at the till, online or synced later, exactly once.

Every sale, give-away, donation, subscription and undo arrives as an :class:`Operation` with a
client-generated UUID (the sale screen's forms carry one too, so a double tap counts once).
:func:`record_operations` stores each UUID for good in ``client_operation`` with a hash of its
payload: a replay answers the stored result, the same UUID with another payload is refused.
Writers at one event are serialised by locking the event's till row (PostgreSQL); on SQLite the
view begins the transaction IMMEDIATE.
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from stallapp.accounts.models import Role, User
from stallapp.contacts.services import record_contact
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed, StallError, ValidationFailed
from stallapp.events.models import Event
from stallapp.inputs import LARGEST_ID, has_control_characters
from stallapp.money import AmountOutOfRange, format_money, is_valid_currency, parse_money
from stallapp.sales.models import (
    ClientOperation,
    EventTill,
    LateSale,
    LateSaleStatus,
    PaymentMethod,
    Sale,
    SaleKind,
    SaleLine,
)
from stallapp.sales.till import lock_till
from stallapp.stock import services as stock
from stallapp.stock.models import Place, Publication, StockMovement, SubscriptionOffer
from stallapp.times import EARLIEST_DAY, LATEST_DAY, day_in_range, utc_to_local

#: How long the member who recorded a sale may undo it (organisers always may).
UNDO_WINDOW = timedelta(minutes=15)
#: Most copies one tap or one stepper can record.
MAX_SALE_QUANTITY = 1_000
#: Most operations one sync request may carry.
MAX_BATCH = 200
#: A phone's clock is believed within these bounds; outside them the server's time is used.
CLOCK_PAST = timedelta(days=60)
CLOCK_FUTURE = timedelta(minutes=10)
OPERATION_TYPES = ("sale", "giveaway", "donation", "subscription", "undo")
OPERATION_FIELDS = {
    "id",
    "type",
    "publication_id",
    "quantity",
    "currency",
    "amount",
    "payment_method",
    "offer_id",
    "target",
    "taken_at",
    "subscriber",
}


class BadOperation(StallError):
    """An operation that is not well formed: the whole request is refused (400)."""

    code = "bad_operation"

    def __init__(self, message: str, operation_id: str | None = None):
        super().__init__(message)
        self.operation_id = operation_id


class OperationConflict(StallError):
    """An operation id already used with another payload (409)."""

    code = "conflict"

    def __init__(self, operation_ids: list[str]):
        super().__init__(_("These operations were already recorded with other contents."))
        self.operation_ids = operation_ids


@dataclass(frozen=True)
class Subscriber:
    """Details a subscriber gave; never part of the payload hash and never queued on the phone."""

    name: str
    email: str
    consent: bool


@dataclass(frozen=True)
class Operation:
    """One thing done at the till. ``amount`` is in minor units; None means "the list price"."""

    id: str
    type: str
    publication_id: int | None = None
    quantity: int | None = None
    currency: str | None = None
    amount: int | None = None
    payment_method: str | None = None
    offer_id: int | None = None
    #: For an undo: the operation id of what is undone.
    target: str | None = None
    taken_at: datetime | None = None
    subscriber: Subscriber | None = None

    def to_json(self) -> str:
        """The operation as JSON to keep (never the subscriber's details)."""
        payload = asdict(self)
        payload.pop("subscriber")
        payload["taken_at"] = self.taken_at.isoformat() if self.taken_at else None
        return json.dumps(payload, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Operation":
        """Rebuild an operation kept by :meth:`to_json`."""
        payload = json.loads(text)
        if payload["taken_at"] is not None:
            payload["taken_at"] = datetime.fromisoformat(payload["taken_at"])
        return cls(**payload)

    def payload_hash(self, user: User, event: Event) -> str:
        """Hash what the operation does (not the subscriber's details) with who and where."""
        payload = asdict(self)
        payload.pop("subscriber")
        payload["taken_at"] = self.taken_at.isoformat() if self.taken_at else None
        payload["user"] = user.id
        payload["event"] = event.id
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# Parsing ------------------------------------------------------------------------------------


def _int(value, name: str, op_id, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadOperation(
            _(
                "%(field)s must be a whole number from %(low)d to %(high)d.",
                field=name,
                low=low,
                high=high,
            ),
            op_id,
        )
    return value


def _text(value, name: str, op_id, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise BadOperation(
            _("%(field)s must be text of at most %(max)d characters.", field=name, max=max_length),
            op_id,
        )
    if has_control_characters(value):
        raise BadOperation(
            _("%(field)s may not contain control characters or line breaks.", field=name), op_id
        )
    return value.strip()


def _checked_email(value, op_id) -> str:
    address = _text(value, "email", op_id, 254)
    if address:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            raise BadOperation(_("That email address does not look right."), op_id) from error
    return address


def parse_amount(text: str, currency: str, money_locale: str | None = None) -> int:
    """Parse an amount a member typed into minor units, within bounds; read first as written in
    ``money_locale`` (the group's, so a queued sale always parses the same), then as before.

    :raises ValueError: with a message for people.
    """
    try:
        minor = parse_money(text, currency, [money_locale] if money_locale else [])
    except AmountOutOfRange:
        minor = stock.MAX_AMOUNT + 1
    except ValueError as error:
        raise ValueError(_("Enter an amount such as 5 or 2.50.")) from error
    if not 0 <= minor <= stock.MAX_AMOUNT:
        raise ValueError(_("The amount must be between 0 and a million."))
    return minor


def parse_operation(raw, default_currency: str, money_locale: str | None = None) -> Operation:
    """Turn one JSON operation into an :class:`Operation`.

    Amounts arrive as the text the member typed in major units ("2.50"), or null for the list
    price; the parsed minor units are what the payload hash covers.

    :raises BadOperation: naming the field that is wrong.
    """
    if not isinstance(raw, dict):
        raise BadOperation(_("Each operation must be a JSON object."))
    op_id = raw.get("id")
    try:
        op_id = str(uuid.UUID(op_id)) if isinstance(op_id, str) and len(op_id) <= 36 else None
    except ValueError:
        op_id = None
    if op_id is None:
        raise BadOperation(_("Each operation needs an id that is a UUID."))
    unknown = set(raw) - OPERATION_FIELDS
    if unknown:
        raise BadOperation(_("Unknown field %(field)s.", field=sorted(unknown)[0]), op_id)
    kind = raw.get("type")
    if kind not in OPERATION_TYPES:
        raise BadOperation(
            _("type must be one of %(types)s.", types=", ".join(OPERATION_TYPES)), op_id
        )
    values: dict = {"id": op_id, "type": kind}
    taken_at = raw.get("taken_at")
    if taken_at is not None:
        try:
            moment = datetime.fromisoformat(_text(taken_at, "taken_at", op_id, 40))
        except ValueError as error:
            raise BadOperation(_("taken_at must be an ISO 8601 time."), op_id) from error
        if moment.tzinfo is None:
            raise BadOperation(_("taken_at must include its time zone."), op_id)
        # Checked before the zone shift: near year 1 or 9999 it would overflow.
        if not day_in_range(moment):
            raise BadOperation(
                _(
                    "taken_at must be between %(first)s and %(last)s.",
                    first=EARLIEST_DAY.isoformat(),
                    last=LATEST_DAY.isoformat(),
                ),
                op_id,
            )
        values["taken_at"] = moment.astimezone(utcnow().tzinfo)
    if kind == "undo":
        target = raw.get("target")
        try:
            values["target"] = str(uuid.UUID(_text(target, "target", op_id, 36)))
        except ValueError as error:
            raise BadOperation(
                _("target must be the id of the operation to undo."), op_id
            ) from error
        return Operation(**values)
    currency = raw.get("currency") or default_currency
    currency = _text(currency, "currency", op_id, 3).upper()
    if not is_valid_currency(currency):
        raise BadOperation(_("Unknown currency code %(code)s.", code=currency), op_id)
    values["currency"] = currency
    if kind != "giveaway":
        method = raw.get("payment_method")
        if method is not None and method not in {m.value for m in PaymentMethod}:
            raise BadOperation(_("payment_method must be cash, card or other."), op_id)
        values["payment_method"] = method
        amount = raw.get("amount")
        if amount is not None and amount != "":
            try:
                values["amount"] = parse_amount(
                    _text(amount, "amount", op_id, 20), currency, money_locale
                )
            except ValueError as error:
                raise BadOperation(str(error), op_id) from error
    if kind in ("sale", "giveaway"):
        values["publication_id"] = _int(
            raw.get("publication_id"), "publication_id", op_id, 1, LARGEST_ID
        )
        values["quantity"] = _int(raw.get("quantity", 1), "quantity", op_id, 1, MAX_SALE_QUANTITY)
    if kind == "donation" and not values.get("amount"):
        raise BadOperation(_("A donation needs an amount above 0."), op_id)
    if kind == "subscription":
        values["offer_id"] = _int(raw.get("offer_id"), "offer_id", op_id, 1, LARGEST_ID)
        subscriber = raw.get("subscriber")
        if subscriber is not None:
            if not isinstance(subscriber, dict):
                raise BadOperation(_("subscriber must be a JSON object."), op_id)
            values["subscriber"] = Subscriber(
                name=_text(subscriber.get("name", ""), "name", op_id, 120),
                email=_checked_email(subscriber.get("email", ""), op_id),
                consent=subscriber.get("consent") is True,
            )
    return Operation(**values)


def parse_batch(body, default_currency: str, money_locale: str | None = None) -> list[Operation]:
    """Parse a sync request's body: ``{"operations": [...]}``.

    :raises BadOperation: on anything malformed; nothing is recorded then.
    """
    if not isinstance(body, dict) or not isinstance(body.get("operations"), list):
        raise BadOperation(_('Send a JSON object with a list "operations".'))
    operations = body["operations"]
    if not 1 <= len(operations) <= MAX_BATCH:
        raise BadOperation(_("Send from 1 to %(max)d operations at a time.", max=MAX_BATCH))
    return [parse_operation(raw, default_currency, money_locale) for raw in operations]


# Recording ----------------------------------------------------------------------------------


@dataclass
class Seller:
    """Who is recording, with their role in the event's group."""

    user: User
    role: Role


def _believed_time(claimed: datetime | None, now: datetime) -> datetime:
    if claimed is None or not now - CLOCK_PAST <= claimed <= now + CLOCK_FUTURE:
        return now
    return claimed


def _refused(op: Operation, error: StallError) -> dict:
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
    catalogue = _titles_of(session, event, operations)
    till = lock_till(session, event)
    ids = list({op.id for op in operations})
    stored = {
        row.operation_id: row
        for row in session.scalars(
            sa.select(ClientOperation).where(ClientOperation.operation_id.in_(ids))
        )
    }
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
                with session.begin_nested():
                    sale, result = _apply(session, event, till, seller, op, now, catalogue)
            except StallError as error:
                sale, result = None, _refused(op, error)
        row = ClientOperation(
            operation_id=op.id,
            group_id=event.group_id,
            event_id=event.id,
            user_id=seller.user.id,
            payload_hash=payload_hash,
            sale_id=sale.id if sale else None,
            result=json.dumps(result),
        )
        session.add(row)
        session.flush()
        if held_since is not None:
            session.add(
                LateSale(
                    group_id=event.group_id,
                    event_id=event.id,
                    client_operation_id=row.id,
                    user_id=seller.user.id,
                    payload=op.to_json(),
                    taken_at=held_since,
                )
            )
            session.flush()
        stored[op.id] = row
        results.append(result)
    return results


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
    return _refused(op, error), None


def _titles_of(
    session: Session, event: Event, operations: list[Operation]
) -> dict[int, Publication]:
    """Return the group's titles the operations sell or give away, with their prices, in one
    query (the catalogue is not what the till's lock protects)."""
    ids = {op.publication_id for op in operations if op.type in ("sale", "giveaway")}
    if not ids:
        return {}
    return {
        publication.id: publication
        for publication in session.scalars(
            sa.select(Publication)
            .where(Publication.id.in_(ids), Publication.group_id == event.group_id)
            .options(joinedload(Publication.prices))
        ).unique()
    }


def _apply(
    session: Session,
    event: Event,
    till: EventTill,
    seller: Seller,
    op: Operation,
    now: datetime,
    catalogue: dict[int, Publication] | None = None,
) -> tuple[Sale, dict]:
    taken_at = _believed_time(op.taken_at, now)
    if op.type == "undo":
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
        if catalogue is None:
            catalogue = _titles_of(session, event, [op])
        return _sell(session, event, sale, seller, op, catalogue)
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
    catalogue: dict[int, Publication],
):
    publication = catalogue.get(op.publication_id)
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


def may_undo(sale: "Sale | RecentSale", seller: Seller, when: datetime) -> bool:
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
    reversal = undo_sale(session, sale, seller, taken_at)
    return reversal, _done(
        op, reversal, _("Undone: %(what)s", what=describe(sale)), undone_sale_id=sale.id
    )


def undo_sale(session: Session, sale: Sale, seller: Seller, when: datetime) -> Sale:
    """Record the sale that reverses ``sale``, with reversing stock movements.

    :raises NotAllowed: code ``undo_too_late`` outside the member's 15 minutes, ``is_reversal``
        for an undo.
    :raises stallapp.stock.services.AlreadyReversed: when it was undone before.
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
        raise stock.AlreadyReversed(_("This was already undone.")) from error
    movements = session.scalars(
        sa.select(StockMovement)
        .join(SaleLine, SaleLine.id == StockMovement.sale_line_id)
        .where(SaleLine.sale_id == sale.id, StockMovement.reverses_id.is_(None))
        .options(selectinload(StockMovement.publication))
    ).all()
    for movement in movements:
        stock.reverse_movement(session, movement, seller.user, _("Undo"), for_sale=True)
    return reversal


def describe(sale: Sale) -> str:
    """Say what a sale was in a few words: "1 × Aurora", "Donation £5.00"."""
    if sale.kind in (SaleKind.SALE, SaleKind.GIVEAWAY):
        return ", ".join(f"{line.quantity} × {line.publication.full_title}" for line in sale.lines)
    if sale.kind == SaleKind.DONATION:
        return _("Donation")
    return sale.subscription_offer.name if sale.subscription_offer else _("Subscription")


# Late sales ---------------------------------------------------------------------------------


def book_late_sale(session: Session, event: Event, late: LateSale, organiser: User) -> Sale:
    """Book a held late sale through the usual sale services, as taken by its member.

    Only the sale is booked; the close-out's count is squared with it by
    :func:`stallapp.reports.services.accept_late_sale`, which calls this.

    :raises NotAllowed: code ``already_decided`` when it was accepted or rejected already.
    :raises StallError: whatever the sale services refuse (a title no longer in the
        catalogue, no price in its currency); it then stays held.
    """
    till = lock_till(session, event)
    _check_still_held(session, late)
    operation = Operation.from_json(late.payload)
    # Accepted by an organiser: their authority covers an undo beyond the member's 15 minutes.
    seller = Seller(user=late.user or organiser, role=Role.ORGANISER)
    with session.begin_nested():
        sale, result = _apply(session, event, till, seller, operation, late.taken_at)
    _decide(late, LateSaleStatus.ACCEPTED, organiser, "")
    late.sale_id = sale.id
    late.client_operation.sale_id = sale.id
    late.client_operation.result = json.dumps({**result, "late": True})
    session.flush()
    return sale


def reject_late_sale(
    session: Session, event: Event, late: LateSale, organiser: User, note: str
) -> LateSale:
    """Leave a held late sale out of the books for good, saying why.

    :raises NotAllowed: code ``already_decided`` when it was accepted or rejected already.
    :raises ValidationFailed: code ``note_missing`` without a note.
    """
    lock_till(session, event)
    _check_still_held(session, late)
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why the late sale is rejected."), "note_missing")
    _decide(late, LateSaleStatus.REJECTED, organiser, note)
    refusal = EventClosed(_("Rejected by an organiser: %(note)s", note=note), "late_rejected")
    late.client_operation.result = json.dumps(_refused(Operation.from_json(late.payload), refusal))
    session.flush()
    return late


def _check_still_held(session: Session, late: LateSale) -> None:
    """Read the late sale again now that the till is locked, and refuse it unless still held.

    The caller loaded it before taking the lock: two organisers accepting (or one accepting, one
    rejecting) at the same moment would each see it held and book it twice. Under the lock,
    whoever came second reads the first one's decision.
    """
    session.refresh(late)
    if late.status != LateSaleStatus.HELD:
        raise NotAllowed(_("This late sale was already accepted or rejected."), "already_decided")


def _decide(late: LateSale, status: LateSaleStatus, organiser: User, note: str) -> None:
    late.status = status
    late.decided_by_id = organiser.id
    late.decided_at = utcnow()
    late.note = note[:2000]


def held_count(session: Session, event: Event) -> int:
    """Return how many late sales of the event wait for an organiser."""
    return session.scalar(
        sa.select(sa.func.count(LateSale.id)).where(
            LateSale.event_id == event.id, LateSale.status == LateSaleStatus.HELD
        )
    )


@dataclass
class LateSaleLine:
    """A late sale as the close-out page and the report list it."""

    late: LateSale
    #: What it was: "1 × Aurora 61", "Donation", the subscription's name, "Undo".
    what: str
    #: The amount typed on the phone, if any (None: the list price).
    amount: int | None
    currency: str | None
    operation: Operation


def late_sales(session: Session, event: Event) -> list[LateSaleLine]:
    """Return the event's late sales, held ones first, each oldest first (at most five
    queries, one when there are none)."""
    lates = session.scalars(
        sa.select(LateSale)
        .where(LateSale.event_id == event.id)
        .options(selectinload(LateSale.user), selectinload(LateSale.decided_by))
        .order_by(LateSale.status != LateSaleStatus.HELD, LateSale.taken_at, LateSale.id)
    ).all()
    if not lates:
        return []
    operations = [Operation.from_json(late.payload) for late in lates]
    titles = dict(
        session.execute(
            sa.select(Publication.id, stock.title_label()).where(
                Publication.id.in_({op.publication_id for op in operations if op.publication_id})
            )
        ).all()
    )
    offers = dict(
        session.execute(
            sa.select(SubscriptionOffer.id, SubscriptionOffer.name).where(
                SubscriptionOffer.id.in_({op.offer_id for op in operations if op.offer_id})
            )
        ).all()
    )
    lines = []
    for late, op in zip(lates, operations, strict=True):
        if op.type in ("sale", "giveaway"):
            what = f"{op.quantity} × {titles.get(op.publication_id, '?')}"
            if op.type == "giveaway":
                what = _("Given away: %(what)s", what=what)
        elif op.type == "donation":
            what = _("Donation")
        elif op.type == "subscription":
            what = offers.get(op.offer_id) or _("Subscription")
        else:
            what = _("Undo of an earlier sale")
        lines.append(LateSaleLine(late, what, op.amount, op.currency, op))
    return lines


# Reading ------------------------------------------------------------------------------------


@dataclass
class RecentSale:
    """A line of the sale screen's "last sales" (never an undo row), read as a plain row."""

    id: int
    kind: SaleKind
    amount: int
    currency: str
    payment_method: PaymentMethod | None
    created_by_id: int | None
    taken_at: datetime
    undone: bool
    #: The id the phone or form sent, so the screen can undo it offline.
    operation_id: str | None
    #: What it was, in a few words: "1 × Aurora 61", "Donation", the subscription's name.
    what: str = ""
    #: The title and copies when the sale has one line (the screen gives them back on undo).
    publication_id: int | None = None
    quantity: int | None = None


@cache
def _recent_statement() -> sa.Select:
    # Built once: the sale screen runs it on every load.
    # "Not an undo" is written so that no index can serve it: SQLite would otherwise walk the
    # unique index on reverses_id (every sale of the group) instead of the event's sales.
    latest = (
        sa.select(Sale.id)
        .where(
            Sale.event_id == sa.bindparam("event_id", type_=sa.Integer),
            sa.func.coalesce(Sale.reverses_id, 0) == 0,
        )
        .order_by(Sale.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery()
    )
    undo = aliased(Sale)
    return (
        sa.select(
            Sale.id,
            Sale.kind,
            Sale.amount,
            Sale.currency,
            Sale.payment_method,
            Sale.created_by_id,
            Sale.taken_at,
            undo.id.is_not(None),
            ClientOperation.operation_id,
            SubscriptionOffer.name,
            SaleLine.publication_id,
            SaleLine.quantity,
            stock.title_label(),
        )
        .join(latest, latest.c.id == Sale.id)
        .outerjoin(undo, undo.reverses_id == Sale.id)
        .outerjoin(ClientOperation, ClientOperation.sale_id == Sale.id)
        .outerjoin(SubscriptionOffer, SubscriptionOffer.id == Sale.subscription_offer_id)
        .outerjoin(SaleLine, SaleLine.sale_id == Sale.id)
        .outerjoin(Publication, Publication.id == SaleLine.publication_id)
        .order_by(Sale.id.desc(), SaleLine.id)
    )


def recent_sales(session: Session, event: Event, limit: int = 8) -> list[RecentSale]:
    """Return the event's latest sales, newest first, with what the list shows, in one query."""
    rows = session.execute(_recent_statement(), {"event_id": event.id, "limit": limit})
    sales: dict[int, RecentSale] = {}
    lines: dict[int, list[tuple[int, int, str]]] = {}
    for sid, kind, amount, currency, method, by, taken, undone, op_id, offer, pid, q, title in rows:
        if sid not in sales:
            sales[sid] = RecentSale(sid, kind, amount, currency, method, by, taken, undone, op_id)
            if kind == SaleKind.DONATION:
                sales[sid].what = _("Donation")
            elif kind == SaleKind.SUBSCRIPTION:
                sales[sid].what = offer or _("Subscription")
        if pid is not None:
            lines.setdefault(sid, []).append((pid, q, title))
    for sid, sale_lines in lines.items():
        sales[sid].what = ", ".join(f"{q} × {title}" for _pid, q, title in sale_lines)
        if len(sale_lines) == 1:
            sales[sid].publication_id, sales[sid].quantity = sale_lines[0][:2]
    return list(sales.values())


@dataclass
class MoneyTotal:
    kind: SaleKind
    currency: str
    payment_method: PaymentMethod | None
    amount: int
    count: int


@cache
def _money_totals_statement() -> sa.Select:
    sign = sa.case((Sale.reverses_id.is_(None), 1), else_=-1)
    return (
        sa.select(
            Sale.kind,
            Sale.currency,
            Sale.payment_method,
            sa.func.sum(Sale.amount * sign),
            sa.func.sum(sign),
        )
        .where(
            Sale.event_id == sa.bindparam("event_id", type_=sa.Integer),
            Sale.kind != SaleKind.GIVEAWAY,
        )
        .group_by(Sale.kind, Sale.currency, Sale.payment_method)
        .order_by(Sale.currency, Sale.kind, Sale.payment_method)
    )


def money_totals(session: Session, event: Event) -> list[MoneyTotal]:
    """Return the event's takings per kind, currency and payment method (undos subtracted)."""
    rows = session.execute(_money_totals_statement(), {"event_id": event.id})
    return [
        MoneyTotal(kind, currency, method, int(amount), int(count))
        for kind, currency, method, amount, count in rows
        if count
    ]


@cache
def _items_out_statement() -> sa.Select:
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    outgoing = sa.select(
        StockMovement.to_place.label("place"), StockMovement.quantity.label("q")
    ).where(
        StockMovement.from_event_id == event_id,
        StockMovement.to_place.in_([Place.SOLD, Place.GIVEN_AWAY]),
    )
    returned = sa.select(StockMovement.from_place, -StockMovement.quantity).where(
        StockMovement.to_event_id == event_id,
        StockMovement.from_place.in_([Place.SOLD, Place.GIVEN_AWAY]),
    )
    flows = sa.union_all(outgoing, returned).subquery()
    return sa.select(flows.c.place, sa.func.sum(flows.c.q)).group_by(flows.c.place)


def items_out(session: Session, event: Event) -> dict[Place, int]:
    """Return copies sold and given away at the event (undos subtracted), in one query."""
    rows = session.execute(_items_out_statement(), {"event_id": event.id})
    totals = {Place.SOLD: 0, Place.GIVEN_AWAY: 0}
    for place, total in rows:
        totals[Place(place)] = int(total)
    return totals
