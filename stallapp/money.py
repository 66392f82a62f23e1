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


def parse_money(text: str, currency: str) -> int:
    """Parse a major-unit amount typed by a person (``12``, ``12.5``, ``12,50``) into minor units.

    :raises ValueError: when the text is not an amount or has more decimals than the currency.
    """
    cleaned = text.strip().replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError("not an amount") from error
    if not amount.is_finite():
        raise ValueError("not an amount")
    minor = amount.scaleb(minor_digits(currency))
    if minor != minor.to_integral_value():
        raise ValueError("too many decimals")
    return int(minor)
