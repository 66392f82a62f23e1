"""Journey 6 in Chromium at phone width: close out the demo's Sheffield stall, then read its
report; and the group's year at a glance."""

import pytest
import sqlalchemy as sa

from stallapp.demo import DEMO_PASSWORD, load_demo_data
from stallapp.events.models import Event
from stallapp.reports import closeout, figures
from stallapp.sales import till

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(db):
    load_demo_data(db.session)
    db.session.commit()
    return db.session.scalars(
        sa.select(Event).where(Event.title == "Sheffield Radical Bookfair")
    ).first()


def log_in(phone):
    phone.goto("/login")
    phone.get_by_label("Email").fill("organiser@example.org")
    phone.get_by_label("Password").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="Log in").click()


def fits_the_phone(phone) -> bool:
    return phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_close_out_the_demo_stall_and_read_its_report(phone, demo, db):
    expected = {f.title: f.left for f in figures.title_figures(db.session, demo)}
    taken = closeout.cash_taken(db.session, demo)["GBP"]
    log_in(phone)
    phone.get_by_role("link", name="CWO (UK)").first.click()
    phone.get_by_role("link", name="Reports and close-out").click()
    assert phone.get_by_role("heading", name="Reports", exact=True).is_visible()
    # The summary comes first; each section opens under its heading.
    assert phone.get_by_role("heading", name="In short").is_visible()
    assert not phone.locator("svg.chart-svg").first.is_visible()
    phone.get_by_role("heading", name="Money per month").click()
    assert phone.locator("svg.chart-svg").first.is_visible()
    assert fits_the_phone(phone)

    phone.get_by_role("heading", name="Events held", exact=True).click()
    card = phone.locator("li.card", has_text="Sheffield Radical Bookfair")
    card.get_by_role("link", name="Close out").click()
    assert phone.get_by_role("heading", name="Close out").is_visible()
    assert fits_the_phone(phone)
    # The page says what the ledger expects back; the counts go in the title's field.
    assert phone.get_by_text(f"{expected['Aurora']} expected back", exact=False).is_visible()
    phone.get_by_label("Aurora", exact=True).fill(str(expected["Aurora"] - 2))
    phone.get_by_label("1917", exact=True).fill(str(expected["1917"]))
    phone.get_by_label("Revolutionary Perspectives No. 23", exact=True).fill(
        str(expected["Revolutionary Perspectives No. 23"])
    )
    phone.get_by_label("Float taken (GBP)").fill("20")
    counted = (2000 + taken - 100) / 100
    phone.get_by_label("Cash counted at the end (GBP)").fill(f"{counted:.2f}")
    phone.get_by_role("button", name="Close out the event").click()
    # £1 short and no note: the form says so and nothing is booked.
    assert phone.get_by_text("say what happened").is_visible()
    assert not till.is_closed(db.session, demo)
    phone.get_by_label("Note on the GBP cash").fill("£1 for the raffle tickets")
    phone.get_by_role("button", name="Close out the event").click()

    assert phone.get_by_text("Sheffield Radical Bookfair is closed out.").is_visible()
    assert phone.locator(".report-status", has_text="Closed out").is_visible()
    assert fits_the_phone(phone)
    assert phone.locator(".report-summary dd.warning", has_text="-£1.00").is_visible()
    for section in ("Stock per title", "Cash: expected and counted"):
        phone.get_by_role("heading", name=section).click()
    aurora = phone.locator("tbody tr", has_text="Aurora")
    assert aurora.locator('td[data-label="Unacc."]').inner_text() == "2"
    assert aurora.locator('td[data-label="Back"]').inner_text() == str(expected["Aurora"] - 2)
    assert phone.get_by_text("£1 for the raffle tickets").is_visible()
    assert phone.locator(".cash-facts").get_by_text("-£1.00").is_visible()
    assert phone.locator("svg.chart-svg").is_visible()
    assert phone.get_by_role("link", name="Stock per title (CSV)").is_visible()

    # Reopening asks why, then logs it.
    phone.get_by_text("Reopen for sales").click()
    phone.get_by_label("Why reopen it?").fill("A sale was written on paper")
    phone.get_by_role("button", name="Reopen").click()
    assert phone.get_by_text("open for sales again").is_visible()
    assert phone.get_by_text("A sale was written on paper").is_visible()
    assert not till.is_closed(db.session, demo)
