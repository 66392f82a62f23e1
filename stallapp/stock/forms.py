"""Catalogue, store and ledger forms."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
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

from stallapp.forms import DayInRange, StallForm
from stallapp.money import AmountOutOfRange, is_valid_currency, parse_money
from stallapp.stock.models import PublicationKind
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

_PRICE = re.compile(r"^(?:([A-Za-z]{3})\s*([0-9][0-9.,]*)|([0-9][0-9.,]*)\s*([A-Za-z]{3}))$")


def parse_prices(text: str) -> dict[str, int]:
    """Parse "GBP 12, EUR 20.50" (or "12 GBP; 20.50 EUR") into ``{currency: minor units}``.

    :raises ValueError: with a message for people.
    """
    prices: dict[str, int] = {}
    for part in re.split(r"[,;\n]+", text or ""):
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
            minor = parse_money(amount.replace(",", "."), currency)
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

    def validate_prices(self, field):
        try:
            self.parsed_prices = parse_prices(field.data)
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
