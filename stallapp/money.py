"""Money as integer minor units plus an ISO 4217 code; formatting for the current locale."""

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    SPACE_CHARS,
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_group_symbol,
    list_currencies,
    parse_decimal,
)
from flask_babel import get_locale

#: Currencies babel knows that are no longer legal tender or are funds codes, kept out of menus.
#: ISO 4217 codes that are no money anyone pays with: precious metals, bond-market units,
#: special drawing rights, the testing code and "no currency".
_NOT_MONEY = frozenset(
    {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
)
_KNOWN_CURRENCIES = frozenset(list_currencies()) - _NOT_MONEY


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
    return _formatted(minor_units, currency, get_locale())


@lru_cache(maxsize=4096)
def _formatted(minor_units: int, currency: str, locale: Locale | None) -> str:
    # Babel's formatting is the dearest call on a page of prices (the sale screen has twenty),
    # and one amount in one currency and locale always reads the same.
    return format_currency(to_decimal(minor_units, currency), currency, locale=locale)


#: Longer text is no amount a person typed, and would make Decimal and int() work hard.
MAX_AMOUNT_TEXT = 32
#: Amounts from 10**15 major units up are refused before any arithmetic (no Decimal overflow).
_TOO_LARGE_EXPONENT = 15
#: More decimals than this are refused before scaling (no Decimal underflow).
_MOST_DECIMALS = 12


class AmountOutOfRange(ValueError):
    """The text is an amount, but far larger than any the app could store."""


#: Spaces of any kind (no-break, narrow no-break, thin...), as phones and copied text hold them.
_SPACES = re.compile(r"\s", re.UNICODE)


def _as_typed(cleaned: str) -> Decimal:
    """Read an amount the simple way: one comma or one point as the decimal mark."""
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError("not an amount") from error


#: What a number written for people may hold: digits, group and decimal marks, spaces.
_WRITTEN_NUMBER = re.compile(r"^[0-9][0-9., ]*$")


def _as_written_in(text: str, locale: str) -> Decimal | None:
    """Read ``text`` as a number written in ``locale`` (Babel's strict parsing), or None.

    Only plain digits and marks reach Babel: it formats the number back to check the grouping,
    and an exponent (``1e999999``) would have it write a million digits.
    """
    if not _WRITTEN_NUMBER.match(text):
        return None
    try:
        group = get_group_symbol(locale)
        if group in SPACE_CHARS:
            # Phones type an ordinary space where French writes a narrow no-break one.
            text = text.replace(" ", group)
        return parse_decimal(text, locale, strict=True)
    except (NumberFormatError, ValueError, UnknownLocaleError):
        return None


def parse_money(text: str, currency: str, locales: Sequence[str] = ()) -> int:
    """Parse a major-unit amount typed by a person (``12``, ``12.5``, ``12,50``) into minor units.

    ``locales`` (the group's first, e.g. ``it`` or ``fr_CA``) are tried in order with Babel's
    number parsing, so ``1.234,50`` is understood in Italy and ``1 234,50`` in French Canada;
    text none of them reads is taken as before (one comma or one point as the decimal mark,
    spaces ignored), so ``12.50`` still works everywhere. Only ASCII digits count (``Decimal``
    would take Arabic or full-width ones too); any kind of space is a space.

    :raises AmountOutOfRange: for an amount of 10**15 or more (``1e999999``).
    :raises ValueError: when the text is not an amount (``NaN``, ``Infinity``, 10,000 digits)
        or has more decimals than the currency.
    """
    written = " ".join(_SPACES.sub(" ", text).split())
    if not written.isascii() or len(written) > MAX_AMOUNT_TEXT:
        raise ValueError("not an amount")
    amount = None
    for locale in locales:
        amount = _as_written_in(written, locale)
        if amount is not None:
            break
    if amount is None:
        amount = _as_typed(written.replace(" ", ""))
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
