"""The organiser's way through, in Chromium at phone width: from the group's home to every
section and, through an event's page, to its QR code, rota, packing, sale screen and close-out,
without typing an address; a member's calendar link; the ledger filtered on a phone."""

import re

import pytest
from playwright.sync_api import expect

from stallapp.demo import load_demo_data
from tests.crawl import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(db):
    load_demo_data(db.session)
    db.session.commit()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


#: The home page's way to each section, and the heading that section opens with.
SECTIONS = {
    "Events": "Events of CWO (UK)",
    "My shifts and open shifts": "My shifts",
    "Sell at a stall": None,
    "Rota": None,
    "Catalogue and stock": "Catalogue",
    "Stores": None,
    "Stock ledger": "Stock ledger",
    "Contacts and messages": "Contacts",
    "Announcements": None,
    "QR codes": "QR codes",
    "Reports and close-out": "Reports",
    "Members and invitations": "Members of CWO (UK)",
    "The public events page": "CWO (UK)",
}


def test_an_organiser_reaches_every_section_from_the_home(phone, demo):
    log_in(phone, "organiser@example.org")
    phone.get_by_role("link", name="CWO (UK)").first.click()
    expect(phone.get_by_role("heading", name="Coming up")).to_be_visible()
    expect(phone.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(phone.get_by_role("link", name="Close out Sheffield Radical Bookfair")).to_be_visible()
    assert _fits(phone)
    home = phone.url
    sections = phone.get_by_role("navigation", name=re.compile("Everything in"))
    for link, heading in SECTIONS.items():
        sections.get_by_role("link", name=link, exact=True).click()
        assert phone.url != home, link
        if heading:
            expect(phone.get_by_role("heading", level=1).first).to_contain_text(heading)
        assert _fits(phone), link
        phone.goto(home)


def test_an_event_page_leads_to_all_that_belongs_to_it(phone, demo):
    log_in(phone, "organiser@example.org")
    phone.get_by_role("link", name="CWO (UK)").first.click()
    phone.get_by_role("link", name="Peterborough Radical Bookfair").click()
    expect(phone.get_by_text(re.compile(r"\d+ of \d+ places filled"))).to_be_visible()
    expect(phone.get_by_text(re.compile(r"\d+ copies packed"))).to_be_visible()
    expect(phone.get_by_text("Close-out opens when the event starts")).to_be_visible()
    expect(phone.get_by_role("link", name="Close out this event")).to_have_count(0)
    assert _fits(phone)
    event = phone.url

    phone.get_by_role("button", name="Make a QR code for this event").click()
    expect(
        phone.get_by_role("heading", name="Table card · Peterborough Radical Bookfair")
    ).to_be_visible()
    phone.get_by_role("link", name="A6 table card").click()
    expect(phone.get_by_role("heading", name="Peterborough Radical Bookfair")).to_be_visible()
    phone.go_back()
    phone.get_by_role("link", name="Back to Peterborough Radical Bookfair").click()
    expect(phone.get_by_text("Table card · Peterborough Radical Bookfair")).to_be_visible()

    for link, heading in (
        ("Open the rota", "Rota: Peterborough Radical Bookfair"),
        ("Pack stock for this event", "Pack for the event"),
        ("Open the sale screen", "Peterborough Radical Bookfair"),
    ):
        phone.goto(event)
        phone.get_by_role("link", name=link).click()
        expect(phone.get_by_role("heading", level=1).first).to_contain_text(heading)
        assert _fits(phone), link

    phone.goto(event.rsplit("/", 1)[0] + "/")
    # Past events are folded away under their own heading.
    expect(phone.get_by_role("link", name="Sheffield Radical Bookfair")).to_be_hidden()
    phone.get_by_role("heading", name=re.compile(r"^Past: \d+ events$")).click()
    phone.get_by_role("link", name="Sheffield Radical Bookfair").click()
    phone.get_by_role("link", name="Close out this event").click()
    expect(phone.get_by_role("heading", name="Close out")).to_be_visible()
    expect(phone.get_by_label("Put what came back in")).to_be_visible()


def test_a_member_keeps_one_calendar_link_and_replaces_it_knowingly(phone, demo):
    log_in(phone, "member@example.org")
    phone.goto("/my-shifts")
    phone.get_by_role("button", name="Get my calendar link").click()
    field = phone.get_by_label("Your calendar link")
    expect(field).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/calendar/[\w-]+\.ics$"))
    link = field.input_value()
    expect(phone.get_by_role("button", name="Copy the link")).to_be_visible()
    webcal = phone.get_by_role("link", name="Open in my calendar app")
    assert webcal.get_attribute("href") == "webcal://" + link.split("://", 1)[1]
    expect(phone.get_by_role("button", name="Get my calendar link")).to_have_count(0)
    assert _fits(phone)

    phone.reload()
    expect(phone.get_by_label("Your calendar link")).to_have_value(link)
    phone.get_by_text("Replace the link…").click()
    expect(phone.get_by_text("the old link stops working at once")).to_be_visible()
    phone.get_by_role("button", name="Make a new link and stop the old one").click()
    expect(phone.get_by_text("Your calendar link is replaced.")).to_be_visible()
    assert phone.get_by_label("Your calendar link").input_value() != link


def test_the_ledger_filters_by_title_on_a_phone(phone, demo):
    log_in(phone, "organiser@example.org")
    phone.goto("/groups/uk/stock/ledger")
    assert phone.locator(".cards > li.card").count() == 20
    expect(phone.get_by_role("link", name="Older")).to_be_visible()
    phone.get_by_text("Filter by store, title or dates").click()
    phone.get_by_label("Title").select_option(label="1917")
    phone.get_by_role("button", name="Show", exact=True).click()
    cards = phone.locator(".cards > li.card")
    assert cards.count() > 0
    assert all("1917" in text for text in cards.all_inner_texts())
    assert _fits(phone)
