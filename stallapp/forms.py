"""Forms shared by every domain, and the base class every form inherits."""

from datetime import date

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from stallapp.inputs import LARGEST_ID, has_control_characters
from stallapp.money import is_valid_currency
from stallapp.times import EARLIEST_DAY, LATEST_DAY

#: Longest text a field without its own ``Length`` takes: one line, and several lines.
DEFAULT_MAX_LINE = 500
DEFAULT_MAX_TEXT = 10_000


class PlainText:
    """Refuse what no stored text may hold: control characters (NUL above all) and, on one line,
    line breaks and tabs. Runs first among the field's validators, so its message is the one
    shown.
    """

    def __init__(self, multiline: bool):
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        for value in field.raw_data or ():
            if not isinstance(value, str):
                raise StopValidation(_l("Enter text here."))
            if has_control_characters(value, multiline=self.multiline):
                g.control_characters_refused = True
                if not has_control_characters(value, multiline=True):
                    raise StopValidation(_l("Write this on one line."))
                raise StopValidation(
                    _l(
                        "This contains invisible control characters that cannot be stored; "
                        "type it again or remove them."
                    )
                )
            if isinstance(field, IntegerField) or getattr(field, "coerce", None) is int:
                _check_whole_number(value)


def _check_whole_number(value: str) -> None:
    """Refuse non-ASCII digits and whole numbers beyond the database's 32-bit integers (which
    PostgreSQL refuses with an error when they are compared with an id)."""
    text = value.strip()
    if not text.isascii():
        raise StopValidation(_l("Write the number with the digits 0 to 9."))
    digits = text.removeprefix("-").removeprefix("+")
    if digits.isdigit() and (len(digits) > 10 or not -LARGEST_ID <= int(text) <= LARGEST_ID):
        raise StopValidation(_l("That number is far too large."))


def _strip_spaces(value):
    return value.strip() if isinstance(value, str) else value


class StallForm(FlaskForm):
    """The base of every form: each field refuses control characters, and text is bounded."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            multiline = isinstance(field, TextAreaField)
            checks = [PlainText(multiline)]
            if isinstance(field, StringField) and not any(
                isinstance(validator, Length) for validator in field.validators
            ):
                checks.append(Length(max=DEFAULT_MAX_TEXT if multiline else DEFAULT_MAX_LINE))
            field.validators = [*checks, *field.validators]
            if isinstance(field, EmailField):
                # Phone keyboards add a space after a suggested address.
                field.filters = [*field.filters, _strip_spaces]
            if field.short_name == "csrf_token":
                # Two forms on one page would both carry id="csrf_token": a duplicate id. The
                # hidden token needs no id (no label points at it).
                field.id = False
            return field


class DayInRange:
    """Refuse a day outside the years the app plans for (2000 to 2100 unless told otherwise)."""

    def __init__(self, first: date = EARLIEST_DAY, last: date = LATEST_DAY):
        self.first = first
        self.last = last

    def __call__(self, form, field) -> None:
        if field.data is not None and not self.first <= field.data <= self.last:
            raise ValidationError(
                _l(
                    "Choose a date between %(first)s and %(last)s.",
                    first=self.first.isoformat(),
                    last=self.last.isoformat(),
                )
            )


class CurrencyCode:
    """Read an ISO 4217 code as typed ("gbp ", "GBP") and refuse one that is not a currency."""

    def __call__(self, form, field) -> None:
        field.data = (field.data or "").strip().upper()
        if not is_valid_currency(field.data):
            raise ValidationError(_l("Unknown currency code."))


class EmptyForm(StallForm):
    """A form with nothing but the CSRF token, for POST-only buttons."""
