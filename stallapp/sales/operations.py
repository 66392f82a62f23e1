"""What the sale screen and the phones send: operations, their parsing and their bounds.

Every sale, give-away, donation, subscription and undo arrives as an :class:`Operation` with a
client-generated UUID (the sale screen's forms carry one too, so a double tap counts once); it is
parsed and checked here, before anything touches the books (:mod:`stallapp.sales.recording`).
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from stallapp.accounts.models import User
from stallapp.database import utcnow
from stallapp.errors import StallError
from stallapp.events.models import Event
from stallapp.inputs import LARGEST_ID, has_control_characters
from stallapp.money import AmountOutOfRange, is_valid_currency, parse_money
from stallapp.sales.models import PaymentMethod
from stallapp.stock import services as stock
from stallapp.times import EARLIEST_DAY, LATEST_DAY, day_in_range

#: Most copies one tap or one stepper can record.
MAX_SALE_QUANTITY = 1_000
#: Most operations one sync request may carry.
MAX_BATCH = 200
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


#: How a field is named in a message, as the sale screen labels it (the phone shows the message
#: in its "not recorded" list, the form next to the field); others keep their JSON name.
FIELD_LABELS = {
    "publication_id": _l("Title"),
    "quantity": _l("Copies"),
    "offer_id": _l("Subscription"),
    "amount": _l("Amount"),
    "currency": _l("Currency"),
    "name": _l("Name"),
    "email": _l("Email"),
}


def field_label(name: str):
    """Return how the field ``name`` is named in a message (see :data:`FIELD_LABELS`)."""
    return FIELD_LABELS.get(name, name)


def _int(value, name: str, op_id, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadOperation(
            _(
                "%(field)s must be a whole number from %(low)d to %(high)d.",
                field=field_label(name),
                low=low,
                high=high,
            ),
            op_id,
        )
    return value


def _text(value, name: str, op_id, max_length: int) -> str:
    if not isinstance(value, str) or len(value) > max_length:
        raise BadOperation(
            _(
                "%(field)s must be text of at most %(max)d characters.",
                field=field_label(name),
                max=max_length,
            ),
            op_id,
        )
    if has_control_characters(value):
        raise BadOperation(
            _(
                "%(field)s may not contain control characters or line breaks.",
                field=field_label(name),
            ),
            op_id,
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
