"""Journeys 3 and 4 in Chromium at phone width: an organiser receives stock and packs it for the
stall; a member sells, gives away, takes a donation, sells a subscription and undoes a tap."""

import pytest
from playwright.sync_api import expect

from stallapp.sales import screen as sale_screen
from stallapp.sales.models import PaymentMethod, SaleKind
from stallapp.stock import services as stock
from stallapp.stock.models import PublicationKind
from tests.browser import log_in as browser_log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def catalogue(db, uk, make_publication):
    titles = {
        "journal": make_publication(uk, "Revolutionary Perspectives", {"GBP": 400}),
        "aurora": make_publication(uk, "Aurora", is_free=True, kind=PublicationKind.BROADSHEET),
        "book": make_publication(uk, "1917", {"GBP": 1200, "EUR": 2000}, kind=PublicationKind.BOOK),
    }
    stock.save_subscription_offer(
        db.session, uk, name="Joint subscription", description="", prices={"GBP": 1500, "EUR": 2400}
    )
    db.session.commit()
    return titles


def log_in(page, user):
    browser_log_in(page, user.email, PASSWORD)


def tile(phone, title):
    return phone.locator("form[data-publication-id]", has_text=title)


def test_pack_a_stall_then_sell_at_it(db, phone, organiser, member, event, catalogue):
    log_in(phone, organiser)
    phone.goto("/groups/uk/")
    phone.get_by_role("link", name="Catalogue and stock").click()
    phone.get_by_role("link", name="Stores", exact=True).click()
    phone.get_by_label("Name").fill("Spare room")
    phone.get_by_role("button", name="Add the store").click()
    phone.get_by_text("Store “Spare room” added.").wait_for()
    for title, copies in (("Revolutionary Perspectives", "100"), ("Aurora", "200"), ("1917", "20")):
        phone.get_by_text("Receive stock").click()
        phone.get_by_label("Title").first.select_option(label=title)
        phone.get_by_label("Copies received").fill(copies)
        phone.get_by_label("Note").first.fill("print run")
        phone.get_by_role("button", name="Book it in").click()
        phone.get_by_text(f"{copies} × {title} received.").wait_for()

    phone.goto(f"/groups/uk/stock/events/{event.id}/pack")
    phone.get_by_label("Revolutionary Perspectives").fill("20")
    phone.get_by_label("Aurora").fill("30")
    phone.get_by_label("1917").fill("5")
    phone.get_by_role("button", name="Pack", exact=True).click()
    phone.get_by_text("55 copies packed from Spare room.").wait_for()
    phone.get_by_text("Menu").click()
    phone.get_by_role("button", name="Log out").click()
    phone.get_by_text("You are logged out.").wait_for()

    log_in(phone, member)
    phone.goto("/groups/uk/")
    phone.get_by_role("link", name="Sell at a stall").click()
    phone.get_by_role("link", name="Peterborough Radical Bookfair").click()
    status = phone.locator("#sync-status")
    status.filter(has_text="All synced").wait_for()
    assert tile(phone, "1917").locator(".tile-left").text_content() == "5 left"

    tile(phone, "Revolutionary Perspectives").locator(".tile-button").click()
    tile(phone, "Aurora").locator(".tile-button").click()
    phone.get_by_text("Donation", exact=True).first.click()
    phone.get_by_label("Amount", exact=True).fill("5")
    phone.get_by_role("button", name="Record the donation").click()
    phone.locator("summary", has_text="Subscription").click()
    phone.locator('input[name="payment_method"][value="card"]').last.check()
    phone.get_by_role("button", name="Record the subscription").click()
    tile(phone, "1917").locator(".tile-button").click()
    expect(phone.locator(".recent-line.is-pending")).to_have_count(0)
    expect(status).to_have_text("All synced")
    expect(tile(phone, "1917").locator(".tile-left")).to_have_text("4 left")
    phone.locator(".recent-line", has_text="1917").get_by_role("button", name="Undo").click()
    expect(phone.locator(".recent-line.is-undone", has_text="1917")).to_have_count(1)
    expect(tile(phone, "1917").locator(".tile-left")).to_have_text("5 left")
    expect(status).to_have_text("All synced")
    expect(phone.locator("#totals")).to_contain_text("£15.00")

    phone.reload()
    assert (
        tile(phone, "Revolutionary Perspectives").locator(".tile-left").text_content() == "19 left"
    )
    assert tile(phone, "Aurora").locator(".tile-left").text_content() == "29 left"
    assert tile(phone, "1917").locator(".tile-left").text_content() == "5 left"
    totals = phone.locator("#totals").text_content()
    assert (
        "Copies sold" in totals and "£4.00" in totals and "£5.00" in totals and "£15.00" in totals
    )

    db.session.commit()
    money = {
        (t.kind, t.payment_method): t.amount for t in sale_screen.money_totals(db.session, event)
    }
    assert money == {
        (SaleKind.SALE, PaymentMethod.CASH): 400,
        (SaleKind.DONATION, PaymentMethod.CASH): 500,
        (SaleKind.SUBSCRIPTION, PaymentMethod.CARD): 1500,
    }
