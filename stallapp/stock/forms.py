"""Catalogue, store and ledger forms."""

import re
from collections.abc import Sequence
from datetime import date

from flask import g
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import NumberInput

from stallapp.forms import DayInRange, StallForm
from stallapp.i18n import money_locales
from stallapp.inputs import whole_number
from stallapp.money import AmountOutOfRange, is_valid_currency, parse_money
from stallapp.stock.models import Publication, PublicationKind, Store
from stallapp.stock.services import MAX_AMOUNT, MAX_QUANTITY

KIND_CHOICES = [
    SelectChoice(PublicationKind.JOURNAL_ISSUE.value, _l("Journal issue")),
    SelectChoice(PublicationKind.PAMPHLET.value, _l("Pamphlet")),
    SelectChoice(PublicationKind.BOOK.value, _l("Book")),
    SelectChoice(PublicationKind.BROADSHEET.value, _l("Broadsheet")),
    SelectChoice(PublicationKind.LEAFLET.value, _l("Leaflet")),
    SelectChoice(PublicationKind.OTHER.value, _l("Other (badges, posters…)")),
]
KIND_LABELS = {choice.value: choice.label for choice in KIND_CHOICES}

#: The amount may hold group marks, spaces among them ("EUR 1 234,50" in French Canada).
_AMOUNT = r"([0-9](?:[0-9., \u00a0\u202f]*[0-9])?)"
_PRICE = re.compile(rf"^(?:([A-Za-z]{{3}})\s*{_AMOUNT}|{_AMOUNT}\s*([A-Za-z]{{3}}))$")


#: Between two prices: a semicolon, a line break, or a comma next to a currency code or a space
#: ("GBP 12, EUR 20", "12 GBP,20 EUR"); a comma between digits is a decimal mark ("EUR 12,50").
_PRICE_SEPARATOR = re.compile(r"[;\n]+|,(?=\s|[A-Za-z])|(?<=[A-Za-z]),")


def parse_prices(text: str, locales: Sequence[str] = ()) -> dict[str, int]:
    """Parse "GBP 12, EUR 20.50" (or "12 GBP; 20.50 EUR") into ``{currency: minor units}``;
    amounts as written in ``locales`` too ("EUR 1.234,50" in Italy).

    :raises ValueError: with a message for people.
    """
    prices: dict[str, int] = {}
    for part in _PRICE_SEPARATOR.split(text or ""):
        part = part.strip()
        if not part:
            continue
        match = _PRICE.match(part)
        if not match:
            raise ValueError(
                _l("Write each price as a currency code and an amount, e.g. GBP 12.50.")
            )
        currency = (match.group(1) or match.group(4)).upper()
        amount = match.group(2) or match.group(3)
        if not is_valid_currency(currency):
            raise ValueError(_l("Unknown currency code %(code)s.", code=currency))
        if currency in prices:
            raise ValueError(_l("%(code)s is given twice.", code=currency))
        try:
            minor = parse_money(amount, currency, locales)
        except AmountOutOfRange:
            minor = MAX_AMOUNT + 1
        except ValueError as error:
            raise ValueError(
                _l("%(amount)s is not an amount in %(code)s.", amount=amount, code=currency)
            ) from error
        if not 0 <= minor <= MAX_AMOUNT:
            raise ValueError(_l("A price must be between 0 and a million."))
        prices[currency] = minor
    return prices


def _optional_id(value) -> int | None:
    """Read an id from a filter list whose first choice, "All", is empty."""
    if value in ("", None):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


#: Currencies the price rows offer, after the group's own; a title priced in another keeps it.
COMMON_CURRENCIES = ("GBP", "EUR", "USD", "CAD", "AUD", "CHF", "SEK", "NZD")


def currency_choices(group_currency: str) -> list[str]:
    """Return the currencies to offer for prices: the group's first, then the common ones."""
    return [group_currency, *(code for code in COMMON_CURRENCIES if code != group_currency)]


#: Names of the price rows' fields on the page (one currency list and one amount per row).
PRICE_CURRENCY = "price_currency"
PRICE_AMOUNT = "price_amount"


class PricesMixin:
    prices = StringField(
        _l("Prices"),
        validators=[Length(max=300)],
        description=_l(
            "A currency code and an amount each, separated by commas: GBP 12, EUR 20, USD 27."
        ),
    )
    parsed_prices: dict[str, int] = {}
    #: Whether at least one price must be given.
    prices_required = False

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Read the page's price rows (a currency list and an amount per row) into ``prices``,
        as "GBP 12.00; EUR 20.00": the rows are only how the page asks, the prices are parsed,
        checked and stored as before."""
        formdata = self.meta.wrap_formdata(self, formdata)
        if formdata is not None and PRICE_CURRENCY in formdata:
            rows = zip(
                formdata.getlist(PRICE_CURRENCY), formdata.getlist(PRICE_AMOUNT), strict=False
            )
            joined = "; ".join(
                f"{currency} {amount.strip()}" for currency, amount in rows if amount.strip()
            )
            formdata = MultiDict(formdata)
            formdata.setlist("prices", [joined])
        super().process(formdata, obj, data, extra_filters=extra_filters, **kwargs)

    def price_rows(self, currencies: Sequence[str], spare: int = 1) -> list[tuple[str, str]]:
        """Return ``(currency, amount)`` rows to show: the prices typed or stored, then
        ``spare`` empty rows (at least one), each empty row offering the next unused currency."""
        rows: list[tuple[str, str]] = []
        for part in _PRICE_SEPARATOR.split(self.prices.data or ""):
            part = part.strip()
            match = _PRICE.match(part)
            if match:
                currency = (match.group(1) or match.group(4)).upper()
                rows.append((currency, match.group(2) or match.group(3)))
            elif part:
                # An amount that did not parse stays in its currency's row, as typed.
                loose = re.match(r"^([A-Za-z]{3})\s+(.*)$", part)
                rows.append((loose.group(1).upper(), loose.group(2)) if loose else ("", part))
        unused = [currency for currency in currencies if currency not in {c for c, _ in rows}]
        for index in range(max(spare, 1)):
            rows.append((unused[index] if index < len(unused) else "", ""))
        return rows

    def validate_prices(self, field):
        try:
            self.parsed_prices = parse_prices(field.data, money_locales(g.get("group")))
        except ValueError as error:
            raise ValidationError(str(error)) from error
        if self.prices_required and not self.parsed_prices:
            raise ValidationError(_l("Give a price in at least one currency."))


class PublicationForm(PricesMixin, StallForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    language = StringField(
        _l("Language"),
        validators=[DataRequired(), Length(max=10)],
        default="en",
        description=_l("Code of the language it is written in: en, fr, it…"),
    )
    issue_number = StringField(_l("Issue number (optional)"), validators=[Length(max=40)])
    #: Old pamphlets are reprinted: issue dates reach further back than events.
    issue_date = DateField(
        _l("Issue date (optional)"),
        validators=[Optional(), DayInRange(first=date(1800, 1, 1))],
    )
    isbn = StringField(_l("ISBN (optional)"), validators=[Length(max=20)])
    is_free = BooleanField(_l("Free: given away, never sold"))
    reorder_level = IntegerField(
        _l("Reprint when fewer than"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a whole number, 0 or more.")),
            NumberRange(min=0, max=MAX_QUANTITY, message=_l("Enter a whole number, 0 or more.")),
        ],
        description=_l("Copies in all stores together; 0 to never warn."),
    )
    active = BooleanField(_l("Active (on the sale screen and the public page)"), default=True)

    def validate_is_free(self, field):
        if not field.data and not self.parsed_prices and not self.prices.errors:
            raise ValidationError(_l("Give a price, or tick “Free”."))


class CopyForm(StallForm):
    source_id = IntegerField(validators=[InputRequired()])


class StoreForm(StallForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("e.g. Spare room, Lock-up"),
    )
    note = StringField(_l("Note (optional)"), validators=[Length(max=300)])


def _quantity(label):
    return IntegerField(
        label,
        validators=[
            InputRequired(message=_l("Enter a number of copies.")),
            NumberRange(min=1, max=MAX_QUANTITY, message=_l("Enter a whole number above 0.")),
        ],
    )


class ReceiveForm(StallForm):
    publication_id = SelectField(_l("Title"), coerce=int)
    quantity = _quantity(_l("Copies received"))
    note = StringField(
        _l("Note"), validators=[Length(max=300)], description=_l("e.g. print run from the printer")
    )


class MoveForm(StallForm):
    publication_id = SelectField(_l("Title"), coerce=int)
    quantity = _quantity(_l("Copies to move"))
    target_id = SelectField(_l("To store"), coerce=int)
    note = StringField(_l("Note"), validators=[Length(max=300)])


class WriteOffForm(StallForm):
    publication_id = SelectField(_l("Title"), coerce=int)
    quantity = _quantity(_l("Copies written off"))
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=250)],
        description=_l("e.g. water damage"),
    )


class CountForm(StallForm):
    publication_id = SelectField(_l("Title"), coerce=int)
    counted = IntegerField(
        _l("Copies counted"),
        validators=[
            InputRequired(message=_l("Enter the number counted.")),
            NumberRange(min=0, max=MAX_QUANTITY, message=_l("Enter a whole number, 0 or more.")),
        ],
    )
    reason = StringField(
        _l("Reason for a difference"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("e.g. yearly count; sold at a meeting without the app"),
    )


#: Longest reason for packing beyond a store's level (kept in the movement's note).
BEYOND_REASON_LENGTH = 200


class CopiesField(Field):
    """Copies of one title to pack: left empty, none.

    Not an ``IntegerField``: ``int()`` takes "１２" and "1_000", and one message ("Enter a whole
    number, 0 or more.") answers every input that is not 0-9 digits up to ``MAX_QUANTITY``.
    """

    widget = NumberInput(min=0)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist and isinstance(valuelist[0], str) else ""
        self.data = whole_number(text, MAX_QUANTITY) if text.strip() else 0
        if self.data is None:
            raise ValueError(_l("Enter a whole number, 0 or more."))


class PackForm(StallForm):
    """Copies of each active title to pack from one store; build it with :meth:`for_titles`."""

    store_id = SelectField(_l("From store"), coerce=_optional_id, validate_choice=False)
    beyond_reason = StringField(
        _l("Pack anyway: why is the store’s figure wrong?"),
        validators=[
            Length(
                max=BEYOND_REASON_LENGTH,
                message=_l(
                    "Keep the reason to one line of at most %(max)d characters.",
                    max=BEYOND_REASON_LENGTH,
                ),
            )
        ],
    )

    @classmethod
    def for_titles(cls, publications: Sequence[Publication], stores: Sequence[Store], **kwargs):
        """Return the form with one copies field per title, named ``quantity-<id>``."""
        fields = {cls.quantity_name(p): CopiesField(p.full_title) for p in publications}
        form = type("TitlesPackForm", (cls,), fields)(**kwargs)
        form.store_id.choices = [(store.id, store.name) for store in stores]
        return form

    @staticmethod
    def quantity_name(publication: Publication) -> str:
        return f"quantity-{publication.id}"

    def quantity(self, publication: Publication) -> CopiesField:
        return self[self.quantity_name(publication)]

    def quantities(self, publications: Sequence[Publication]) -> dict[Publication, int]:
        return {p: self.quantity(p).data or 0 for p in publications}

    def validate_store_id(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose the store the copies come from."))


class ReturnForm(StallForm):
    store_id = SelectField(_l("Back to store"), coerce=int)


class HowToOrderForm(StallForm):
    how_to_order = TextAreaField(
        _l("How to order"),
        validators=[Length(max=5000)],
        description=_l("Shown on the public catalogue page: how to pay, postage."),
    )


class SubscriptionOfferForm(PricesMixin, StallForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("e.g. Joint subscription: 3 issues + 4 broadsheets"),
    )
    description = StringField(_l("Description (optional)"), validators=[Length(max=500)])
    active = BooleanField(_l("Offered"), default=True)
    prices_required = True


class LedgerFilterForm(StallForm):
    """The ledger's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    store = SelectField(_l("Store"), coerce=_optional_id, validate_choice=False)
    title = SelectField(_l("Title"), coerce=_optional_id, validate_choice=False)
    since = DateField(_l("From"), validators=[Optional(), DayInRange()])
    until = DateField(_l("Until"), validators=[Optional(), DayInRange()])
