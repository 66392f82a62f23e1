"""Organisers' catalogue, stores and packing pages, and the public catalogue page."""

import re

import pytest
import sqlalchemy as sa

from stallapp.stock import public_settings
from stallapp.stock import services as stock
from stallapp.stock.forms import parse_prices
from stallapp.stock.models import Publication, PublicationKind, StockMovement

NEW = "/groups/uk/stock/publications/new"


def count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_prices_are_parsed_in_either_order():
    assert parse_prices("GBP 12, EUR 20.50; 42 aud\nUSD27") == {
        "GBP": 1200,
        "EUR": 2050,
        "AUD": 4200,
        "USD": 2700,
    }
    assert parse_prices("") == {}
    for bad in ("twelve pounds", "XYZ 5", "GBP 1.234", "GBP 1, GBP 2", "GBP 99999999"):
        with pytest.raises(ValueError):
            parse_prices(bad)


def test_an_organiser_adds_a_title_with_prices(db, client, login_as, organiser):
    login_as(organiser)
    response = client.post(
        NEW,
        data={
            "title": "1917",
            "kind": "book",
            "language": "en",
            "prices": "GBP 12, EUR 20, AUD 42, USD 27",
            "isbn": "978-0-9935579-7-4",
            "reorder_level": "5",
            "active": "y",
        },
    )
    assert response.status_code == 302
    book = db.session.scalar(sa.select(Publication))
    assert (book.title, book.kind, book.is_free, book.reorder_level) == (
        "1917",
        PublicationKind.BOOK,
        False,
        5,
    )
    assert {p.currency: p.amount for p in book.prices} == {
        "GBP": 1200,
        "EUR": 2000,
        "AUD": 4200,
        "USD": 2700,
    }
    page = client.get("/groups/uk/stock/").get_data(as_text=True)
    assert "1917" in page and "£12.00" in page and "reprint" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prices": "GBP twelve"}, "Write each price as a currency code"),
        ({"prices": ""}, "Give a price, or tick"),
        ({"prices": "ZZZ 4"}, "Unknown currency code ZZZ"),
        ({"title": ""}, "This field is required."),
        ({"reorder_level": "-1"}, "Enter a whole number, 0 or more."),
    ],
)
def test_a_bad_title_form_re_renders_with_a_message(db, client, login_as, organiser, data, message):
    login_as(organiser)
    form = {
        "title": "Aurora",
        "kind": "broadsheet",
        "language": "en",
        "prices": "GBP 1",
        "reorder_level": "0",
        **data,
    }
    response = client.post(NEW, data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert count(db, Publication) == 0


def test_editing_changes_prices_and_retires(db, client, login_as, organiser, make_publication, uk):
    journal = make_publication(uk, "Revolutionary Perspectives", {"GBP": 400, "EUR": 500})
    login_as(organiser)
    url = f"/groups/uk/stock/publications/{journal.id}"
    page = client.get(url).get_data(as_text=True)
    # One row per currency, then an empty row offering the next currency.
    assert re.findall(r'<option value="(\w+)" selected>', page) == ["EUR", "GBP", "USD"]
    assert re.findall(r'name="price_amount" value="([^"]*)"', page) == ["5.00", "4.00", ""]
    client.post(
        url,
        data={
            "title": "Revolutionary Perspectives",
            "kind": "journal_issue",
            "language": "en",
            "prices": "GBP 5",
            "reorder_level": "0",
        },
    )
    db.session.refresh(journal)
    assert {p.currency: p.amount for p in journal.prices} == {"GBP": 500}
    assert journal.active is False


def test_copying_a_title_from_another_group_the_organiser_organises(
    db, client, login_as, make_user, make_group, make_publication, uk
):
    nyc = make_group(slug="nyc", currency="USD")
    montreal = make_group(slug="montreal", currency="CAD")
    organiser = make_user(groups={uk: "organiser", nyc: "organiser", montreal: "member"})
    theirs = make_publication(nyc, "Internationalist Notes", {"USD": 300})
    not_mine = make_publication(montreal, "Mutiny", {"CAD": 200})
    login_as(organiser)
    page = client.get("/groups/uk/stock/publications/copy").get_data(as_text=True)
    assert "Internationalist Notes" in page and "Mutiny" not in page
    response = client.post("/groups/uk/stock/publications/copy", data={"source_id": str(theirs.id)})
    assert response.status_code == 302
    copy = db.session.scalar(sa.select(Publication).where(Publication.group_id == uk.id))
    assert (copy.title, copy.copied_from_id, copy.price_in("USD")) == (
        "Internationalist Notes",
        theirs.id,
        300,
    )
    client.post("/groups/uk/stock/publications/copy", data={"source_id": str(not_mine.id)})
    assert count(db, Publication) == 3


def test_stores_receive_move_write_off_and_count(
    db, client, login_as, organiser, uk, make_publication
):
    journal = make_publication(uk)
    login_as(organiser)
    client.post("/groups/uk/stock/stores", data={"name": "Spare room"})
    client.post("/groups/uk/stock/stores", data={"name": "Lock-up"})
    duplicate = client.post("/groups/uk/stock/stores", data={"name": "Lock-up"})
    assert "already has a store of that name" in duplicate.get_data(as_text=True)
    room, lockup = db.session.scalars(sa.select(stock.Store).order_by(stock.Store.id)).all()
    base = f"/groups/uk/stock/stores/{room.id}"
    pid = str(journal.id)
    client.post(
        f"{base}/receive",
        data={
            "receive-publication_id": pid,
            "receive-quantity": "100",
            "receive-note": "print run",
        },
    )
    client.post(
        f"{base}/move",
        data={"move-publication_id": pid, "move-quantity": "30", "move-target_id": str(lockup.id)},
    )
    client.post(
        f"{base}/write-off",
        data={
            "write_off-publication_id": pid,
            "write_off-quantity": "2",
            "write_off-reason": "wet",
        },
    )
    client.post(
        f"{base}/count",
        data={"count-publication_id": pid, "count-counted": "60", "count-reason": "yearly count"},
    )
    assert stock.store_level(db.session, room, journal) == 60
    assert stock.store_level(db.session, lockup, journal) == 30
    assert count(db, StockMovement) == 4
    page = client.get(base).get_data(as_text=True)
    assert "60" in page


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("receive", {"receive-quantity": "0"}, "Enter a whole number above 0."),
        ("receive", {"receive-quantity": "lots"}, "Not a valid integer value."),
        ("receive", {"receive-quantity": "-4"}, "Enter a whole number above 0."),
        (
            "write-off",
            {"write_off-quantity": "1", "write_off-reason": ""},
            "This field is required.",
        ),
        ("count", {"count-counted": "-1", "count-reason": "x"}, "Enter a whole number, 0 or more."),
    ],
)
def test_bad_store_forms_re_render_and_book_nothing(
    db, client, login_as, organiser, uk, store, make_publication, action, data, message
):
    journal = make_publication(uk)
    login_as(organiser)
    prefix = {"receive": "receive", "write-off": "write_off", "count": "count"}[action]
    response = client.post(
        f"/groups/uk/stock/stores/{store.id}/{action}",
        data={f"{prefix}-publication_id": str(journal.id), **data},
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, StockMovement) == 0


def test_packing_for_a_stall(db, client, login_as, organiser, uk, store, event, make_publication):
    journal = make_publication(uk)
    aurora = make_publication(uk, "Aurora", is_free=True)
    stock.receive(db.session, store, journal, 50, organiser, "")
    stock.receive(db.session, store, aurora, 50, organiser, "")
    db.session.commit()
    login_as(organiser)
    url = f"/groups/uk/stock/events/{event.id}/pack"
    bad = client.post(url, data={"store_id": str(store.id), f"quantity-{journal.id}": "two"})
    assert bad.status_code == 400 and "Enter a whole number, 0 or more." in bad.get_data(
        as_text=True
    )
    nothing = client.post(url, data={"store_id": str(store.id)})
    assert "at least one title" in nothing.get_data(as_text=True)
    assert count(db, StockMovement) == 2
    client.post(
        url,
        data={
            "store_id": str(store.id),
            f"quantity-{journal.id}": "20",
            f"quantity-{aurora.id}": "30",
        },
    )
    assert stock.event_levels(db.session, event) == {journal.id: 20, aurora.id: 30}
    client.post(
        f"/groups/uk/stock/events/{event.id}/return", data={"return-store_id": str(store.id)}
    )
    assert stock.store_level(db.session, store, journal) == 50


def test_a_movement_is_corrected_from_the_ledger_page(
    db, client, login_as, organiser, uk, store, make_publication
):
    journal = make_publication(uk)
    movement = stock.receive(db.session, store, journal, 500, organiser, "typo")
    db.session.commit()
    login_as(organiser)
    assert "Reverse this entry…" in client.get("/groups/uk/stock/ledger").get_data(as_text=True)
    client.post(f"/groups/uk/stock/ledger/{movement.id}/reverse")
    client.post(f"/groups/uk/stock/ledger/{movement.id}/reverse")
    assert count(db, StockMovement) == 2
    assert stock.store_level(db.session, store, journal) == 0


def test_members_cannot_manage_stock(client, login_as, member):
    login_as(member)
    assert client.get("/groups/uk/stock/").status_code == 403


def test_the_public_catalogue_page(db, client, make_group, make_publication, uk):
    make_publication(uk, "1917", {"GBP": 1200, "EUR": 2000}, kind=PublicationKind.BOOK)
    make_publication(uk, "Aurora", is_free=True)
    make_publication(uk, "Old issue", {"GBP": 300}, active=False)
    stock.save_subscription_offer(
        db.session, uk, name="Joint subscription", description="", prices={"GBP": 1500, "EUR": 2400}
    )
    public_settings.save_how_to_order(db.session, uk, "Email us for our bank details.")
    db.session.commit()
    response = client.get("/g/uk/publications")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    page = response.get_data(as_text=True)
    assert "1917" in page and "£12.00" in page and "€20.00" not in page
    assert "Free" in page and "Old issue" not in page
    assert "Joint subscription" in page and "£15.00" in page
    assert "Email us for our bank details." in page
    assert client.get("/g/nowhere/publications").status_code == 404


def test_the_public_catalogue_speaks_the_groups_language(db, client, make_group, make_publication):
    montreal = make_group(slug="montreal", currency="CAD", language="fr")
    make_publication(montreal, "Mutinerie", is_free=True, language="fr")
    page = client.get("/g/montreal/publications").get_data(as_text=True)
    assert '<html lang="fr-CA">' in page
    assert "Mutinerie" in page


def test_prices_are_typed_one_row_per_currency(db, client, login_as, organiser, uk):
    login_as(organiser)
    form = {
        "title": "1917",
        "kind": "book",
        "language": "en",
        "reorder_level": "0",
        "active": "y",
        "price_currency": ["GBP", "EUR", "USD"],
        "price_amount": ["12", "14.50", ""],
    }
    assert client.post("/groups/uk/stock/publications/new", data=form).status_code == 302
    book = db.session.scalar(sa.select(Publication).where(Publication.title == "1917"))
    assert {p.currency: p.amount for p in book.prices} == {"GBP": 1200, "EUR": 1450}

    # A wrong amount comes back in its row, with the message, and nothing changes.
    form["price_amount"] = ["12", "lots", ""]
    page = client.post(f"/groups/uk/stock/publications/{book.id}", data=form)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="prices-error"' in text
    assert re.findall(r'name="price_amount" value="([^"]*)"', text)[:2] == ["12", "lots"]
    db.session.refresh(book)
    assert {p.currency: p.amount for p in book.prices} == {"GBP": 1200, "EUR": 1450}
