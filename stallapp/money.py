"""Money as integer minor units plus an ISO 4217 code; formatting for the current locale."""

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies
from flask_babel import format_currency

#: Currencies babel knows that are no longer legal tender or are funds codes, kept out of menus.
_KNOWN_CURRENCIES = frozenset(list_currencies())


def is_valid_currency(code: str) -> bool:
    """Tell whether ``code`` is an ISO 4217 currency code."""
    return (
        isinstance(code, str)
        and len(code) == 3
        and code.upper() == code
        and (code in _KNOWN_CURRENCIES)
    )


def minor_digits(currency: str) -> int:
    """Return how many minor-unit digits ``currency`` has (2 for GBP, 0 for JPY)."""
    return get_currency_precision(currency)


def to_decimal(minor_units: int, currency: str) -> Decimal:
    """Return the amount as a Decimal in major units, exactly."""
    return Decimal(minor_units).scaleb(-minor_digits(currency))


def format_money(minor_units: int, currency: str) -> str:
    """Format an amount for the current locale, e.g. ``£12.00`` or ``12,00 $``."""
    return format_currency(to_decimal(minor_units, currency), currency)


#: Longer text is no amount a person typed, and would make Decimal and int() work hard.
MAX_AMOUNT_TEXT = 32
#: Amounts from 10**15 major units up are refused before any arithmetic (no Decimal overflow).
_TOO_LARGE_EXPONENT = 15
#: More decimals than this are refused before scaling (no Decimal underflow).
_MOST_DECIMALS = 12


class AmountOutOfRange(ValueError):
    """The text is an amount, but far larger than any the app could store."""


def parse_money(text: str, currency: str) -> int:
    """Parse a major-unit amount typed by a person (``12``, ``12.5``, ``12,50``) into minor units.

    Only ASCII digits count (``Decimal`` would take Arabic or full-width ones too).

    :raises AmountOutOfRange: for an amount of 10**15 or more (``1e999999``).
    :raises ValueError: when the text is not an amount (``NaN``, ``Infinity``, 10,000 digits)
        or has more decimals than the currency.
    """
    cleaned = text.strip().replace(" ", "")
    if not cleaned.isascii() or len(cleaned) > MAX_AMOUNT_TEXT:
        raise ValueError("not an amount")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError("not an amount") from error
    if not amount.is_finite():
        raise ValueError("not an amount")
    if amount.is_zero():
        return 0
    if amount.adjusted() >= _TOO_LARGE_EXPONENT:
        raise AmountOutOfRange("amount too large")
    if amount.as_tuple().exponent < -_MOST_DECIMALS:
        raise ValueError("too many decimals")
    minor = amount.scaleb(minor_digits(currency))
    if minor != minor.to_integral_value():
        raise ValueError("too many decimals")
    return int(minor)
