"""Event journeys in Chromium at phone width: an organiser publishes a stall; a visitor
registers for a full meeting, waits, gets a place and cancels by the emailed links."""

import re
from datetime import date

import pytest

from stallapp.database import utcnow
from tests.builders import add_meeting, register
from tests.conftest import PASSWORD, path_of

pytestmark = pytest.mark.browser


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)", timezone="Europe/London")


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _cancel_path(message) -> str:
    return path_of(re.search(r"https?://\S+/cancel/\S+", message.body).group(0))


def test_organiser_creates_and_publishes_a_stall(phone, make_user, uk):
    make_user(email="olive@example.org", name="Olive", groups={uk: "organiser"})
    phone.goto("/login")
    phone.get_by_label("Email").fill("olive@example.org")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()

    phone.goto("/groups/uk/events/")
    phone.get_by_role("link", name="New event").click()
    day = date(utcnow().year + 1, 10, 16)
    phone.get_by_label("Kind").select_option("stall")
    phone.get_by_label("Title").fill("Peterborough Radical Bookfair")
    phone.get_by_label("Date", exact=True).fill(day.isoformat())
    phone.get_by_label("Starts at").fill("17:00")
    phone.get_by_label("Ends at").fill("10:00")
    phone.get_by_label("Venue").fill("The George Alcock Centre")
    phone.get_by_label("Address").fill("Whittlesey Rd, Stanground, Peterborough")
    phone.get_by_label("Postcode").fill("PE2 8QS")
    phone.get_by_role("button", name="Save").click()
    assert phone.get_by_text("The end must be after the start.").is_visible()
    assert _fits_the_screen(phone)

    phone.get_by_label("Starts at").fill("10:00")
    phone.get_by_label("Ends at").fill("17:00")
    phone.get_by_role("button", name="Save").click()
    assert phone.get_by_text("Event saved as a draft.").is_visible()
    assert phone.get_by_role("heading", name="Peterborough Radical Bookfair").is_visible()
    assert _fits_the_screen(phone)

    phone.get_by_role("button", name="Publish").click()
    assert phone.get_by_text("Event published.").is_visible()

    phone.get_by_text("Menu").click()
    phone.get_by_role("button", name="Log out").click()
    phone.goto("/g/uk")
    assert phone.get_by_role("heading", name="CWO (UK)").is_visible()
    stall = phone.get_by_role("link", name=re.compile("Peterborough Radical Bookfair"))
    assert stall.is_visible()
    assert "10:00" in stall.inner_text() and "17:00" in stall.inner_text()
    assert _fits_the_screen(phone)
    stall.click()
    assert phone.get_by_role("heading", name="Peterborough Radical Bookfair").is_visible()
    assert phone.get_by_role("link", name="Find it on OpenStreetMap").is_visible()
    assert phone.get_by_role("link", name="Add to my calendar").is_visible()
    assert _fits_the_screen(phone)


def test_visitor_waits_for_a_place_and_cancels(phone, make_group, db, mail):
    nyc = make_group(slug="nyc", name="IWG New York", timezone="America/New_York")
    meeting = add_meeting(
        db, nyc, title="IWG monthly meeting", capacity=1, venue_name="Peculier Pub"
    )
    first = register(db, meeting, "first@example.org", name="First Comer")
    mail.clear()

    phone.goto(f"/e/{meeting.public_code}")
    assert phone.get_by_role("heading", name="IWG monthly meeting").is_visible()
    phone.get_by_label("Your name").fill("Rosa")
    phone.get_by_label("Email", exact=True).fill("rosa@example.org")
    phone.get_by_role("button", name="Register").click()
    assert phone.get_by_text("Please tick the box to register.").is_visible()
    assert phone.get_by_label("Your name").input_value() == "Rosa"

    phone.get_by_label(re.compile("I agree that IWG New York")).check()
    phone.get_by_role("button", name="Register").click()
    assert phone.get_by_role("heading", name="You are on the waiting list").is_visible()
    assert phone.get_by_text("number 1 on the waiting list").is_visible()
    assert _fits_the_screen(phone)
    (waiting_email,) = mail
    assert waiting_email.to == "rosa@example.org"

    # The person with the place cancels: Rosa is moved up and told.
    phone.goto(f"/e/{meeting.public_code}/cancel/{first.cancel_token}")
    phone.get_by_role("button", name="Yes, cancel my registration").click()
    assert phone.get_by_role("heading", name="Your registration is cancelled").is_visible()
    offer = mail[-1]
    assert (offer.to, offer.subject) == (
        "rosa@example.org",
        "A place is free for you: IWG monthly meeting",
    )

    # Rosa cannot come after all, and cancels by the link in that email.
    phone.goto(_cancel_path(offer))
    assert phone.get_by_text("Your place goes to the next person on the waiting list.").is_visible()
    assert _fits_the_screen(phone)
    phone.get_by_role("button", name="Yes, cancel my registration").click()
    assert phone.get_by_role("heading", name="Your registration is cancelled").is_visible()

    phone.goto(_cancel_path(offer))
    assert phone.get_by_role("heading", name="Link not valid").is_visible()
