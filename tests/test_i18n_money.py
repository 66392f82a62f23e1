"""Amounts typed the way the group's country writes them: Babel's number parsing per locale,
with the bounds that keep huge or malformed text out."""

import pytest
import sqlalchemy as sa

from stallapp.money import AmountOutOfRange, parse_money
from stallapp.sales import operations as sale_operations
from stallapp.stock.forms import parse_prices
from stallapp.stock.models import Publication

NARROW_NO_BREAK_SPACE, NO_BREAK_SPACE = "\u202f", "\xa0"


@pytest.mark.parametrize(
    ("text", "currency", "locales", "minor"),
    [
        ("1.234,50", "EUR", ["it"], 123450),
        ("1.234", "EUR", ["it"], 123400),
        ("12,5", "EUR", ["it"], 1250),
        ("12.50", "EUR", ["it"], 1250),
        ("1 234,50", "CAD", ["fr_CA"], 123450),
        (f"1{NO_BREAK_SPACE}234,50", "CAD", ["fr_CA"], 123450),
        (f"1{NARROW_NO_BREAK_SPACE}234,50", "CAD", ["fr_CA"], 123450),
        ("12.50", "CAD", ["fr_CA"], 1250),
        ("1,234.50", "GBP", ["en_GB"], 123450),
        ("12,50", "GBP", ["en_GB"], 1250),
        ("1,234.50", "USD", ["it", "en_US"], 123450),
        ("  3 ", "USD", ["en_US"], 300),
        ("1.234,50", "EUR", [], None),
    ],
)
def test_amounts_are_read_as_written_in_the_groups_locale(text, currency, locales, minor):
    if minor is None:
        with pytest.raises(ValueError):
            parse_money(text, currency, locales)
    else:
        assert parse_money(text, currency, locales) == minor


@pytest.mark.parametrize("locales", [[], ["it"], ["fr_CA"], ["en_GB"], ["xx_YY"]])
def test_the_bounds_hold_in_every_locale(locales):
    for text in ("1e999999", "1000000000000000", "1 000 000 000 000 000"):
        with pytest.raises(AmountOutOfRange):
            parse_money(text, "EUR", locales)
    for text in ("NaN", "Infinity", "9" * 10_000, "１２", "١٢", "1,234,5", "1.234,567", "ten", ""):
        with pytest.raises(ValueError):
            parse_money(text, "EUR", locales)
    assert parse_money("0e999999", "EUR", locales) == 0


def test_a_huge_amount_written_the_italian_way_is_out_of_range():
    with pytest.raises(AmountOutOfRange):
        parse_money("1.000.000.000.000.000,00", "EUR", ["it"])


def test_a_queued_sale_is_read_in_the_groups_locale():
    operation = sale_operations.parse_operation(
        {
            "id": "5b0e4d0c-1111-4c4c-9a9a-000000000009",
            "type": "donation",
            "amount": "1.234,50",
        },
        "EUR",
        "it",
    )
    assert operation.amount == 123450
    english = sale_operations.parse_operation(
        {"id": "5b0e4d0c-1111-4c4c-9a9a-00000000000a", "type": "donation", "amount": "2.50"},
        "GBP",
        "en_GB",
    )
    assert english.amount == 250


def test_prices_are_read_in_the_groups_locale():
    assert parse_prices("EUR 1.234,50, GBP 10", ["it"]) == {"EUR": 123450, "GBP": 1000}
    assert parse_prices("CAD 1 234,50; USD 27", ["fr_CA"]) == {"CAD": 123450, "USD": 2700}
    assert parse_prices("GBP 12, EUR 20.50") == {"GBP": 1200, "EUR": 2050}


def test_an_italian_organiser_types_prices_the_italian_way(
    client, db, make_group, make_user, login_as
):
    italia = make_group(
        slug="italia", timezone="Europe/Rome", currency="EUR", language="it", name="PCInt"
    )
    login_as(make_user(groups={italia: "organiser"}))
    response = client.post(
        "/groups/italia/stock/publications/new",
        data={
            "title": "Prometeo",
            "kind": "journal_issue",
            "language": "it",
            "prices": "EUR 1.234,50",
            "reorder_level": "0",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    publication = db.session.scalar(sa.select(Publication).where(Publication.title == "Prometeo"))
    assert {price.currency: price.amount for price in publication.prices} == {"EUR": 123450}


def test_cash_counted_at_close_out_is_read_in_the_groups_locale(app, make_group):
    from flask import g

    from stallapp.forms import StallForm
    from stallapp.reports.forms import MoneyField

    class CashForm(StallForm):
        cash = MoneyField("Cash", currency="EUR")

    italia = make_group(slug="italia", timezone="Europe/Rome", currency="EUR", language="it")
    with app.test_request_context(method="POST", data={"cash": "1.234,50"}):
        g.group = italia
        form = CashForm()
        assert form.validate(), form.errors
        assert form.cash.minor == 123450
