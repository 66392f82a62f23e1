"""Contact journeys in Chromium at phone width: a visitor joins the mailing list and confirms;
the organiser sees them."""

import pytest

from tests.conftest import link_in, path_of

pytestmark = pytest.mark.browser


def test_visitor_joins_confirms_and_organiser_sees_them(phone, make_group, make_user, mail):
    uk = make_group(slug="uk", name="CWO (UK)")
    organiser = make_user(email="olive@example.org", name="Olive", groups={uk: "organiser"})

    phone.goto("/g/uk/join")
    assert phone.get_by_role("heading", name="Join the mailing list").is_visible()
    trap = phone.get_by_label("Leave this empty").bounding_box()
    assert trap is None or trap["x"] + trap["width"] <= 0, "the honeypot is off screen"
    phone.get_by_label("Your name").fill("Pat Visitor")
    phone.get_by_label("Email", exact=True).fill("pat@example.org")
    phone.get_by_label("City or town (optional)").fill("Peterborough")
    phone.get_by_role("button", name="Join").click()
    assert phone.get_by_text("Tick this box to join the mailing list.").is_visible()
    assert mail == []

    consent = phone.get_by_label("I agree that CWO (UK) may email me")
    assert not consent.is_checked()
    consent.check()
    phone.get_by_role("button", name="Join").click()
    assert phone.get_by_role("heading", name="Check your email").is_visible()

    [message] = mail
    assert message.to == "pat@example.org"
    phone.goto(path_of(link_in(message)))
    phone.get_by_role("button", name="Yes, email me").click()
    assert phone.get_by_role("heading", name="You are on the list").is_visible()

    phone.goto("/login")
    phone.get_by_label("Email").fill(organiser.email)
    phone.get_by_label("Password").fill("correct horse battery")
    phone.get_by_role("button", name="Log in").click()
    phone.goto("/groups/uk/")
    phone.get_by_role("link", name="Contacts and messages").click()
    card = phone.locator(".contact-card", has_text="Pat Visitor")
    assert card.is_visible()
    assert card.get_by_text("pat@example.org").is_visible()
    assert card.get_by_text("Mailing list", exact=True).is_visible()
    assert card.get_by_text("confirmed").is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing wider than the phone"
