"""Account journeys in Chromium at phone width: log in and out, accept an invitation, reset."""

import re

import pytest
from playwright.sync_api import expect

from stallapp.accounts import services
from stallapp.accounts.models import Role
from tests.conftest import PASSWORD, link_in, path_of

pytestmark = pytest.mark.browser


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


def test_log_in_and_out(phone, make_user, uk):
    make_user(email="max@example.org", name="Max Member", groups={uk: "member"})
    phone.goto("/")
    assert "/login" in phone.url
    phone.get_by_label("Email").fill("max@example.org")
    phone.get_by_label("Password").fill("wrong password")
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_text("Wrong email or password.")).to_be_visible()

    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("heading", name="Hello, Max Member")).to_be_visible()
    expect(phone.get_by_role("link", name="CWO (UK)").first).to_be_visible()

    phone.get_by_text("Menu").click()
    phone.get_by_role("button", name="Log out").click()
    expect(phone.get_by_text("You are logged out.")).to_be_visible()
    phone.goto("/")
    assert "/login" in phone.url


def test_accept_an_invitation(phone, make_user, uk, mail, db):
    organiser = make_user(groups={uk: "organiser"})
    _, token = services.invite(db.session, uk, "new@example.org", Role.MEMBER, organiser)
    db.session.commit()
    phone.goto(f"/invitation/{token}")
    expect(phone.get_by_role("heading", name="Join CWO (UK)")).to_be_visible()
    phone.get_by_label("Your name").fill("Nadia")
    phone.get_by_label("New password", exact=True).fill("short")
    phone.get_by_label("New password again").fill("short")
    phone.get_by_role("button", name="Create my account").click()
    expect(phone.get_by_text("Use at least 8 characters.")).to_be_visible()

    phone.get_by_label("New password", exact=True).fill("the red flag flies")
    phone.get_by_label("New password again").fill("the red flag flies")
    phone.get_by_role("button", name="Create my account").click()
    expect(phone.get_by_text("Welcome to CWO (UK).")).to_be_visible()
    assert re.search(r"/groups/uk/$", phone.url)


def test_reset_a_forgotten_password(phone, make_user, uk, mail):
    make_user(email="olive@example.org", name="Olive")
    phone.goto("/login")
    phone.get_by_role("link", name="Forgotten your password?").click()
    phone.get_by_label("Email").fill("olive@example.org")
    phone.get_by_role("button", name="Send the link").click()
    expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()

    phone.goto(path_of(link_in(mail[-1])))
    phone.get_by_label("New password", exact=True).fill("solidarity forever")
    phone.get_by_label("New password again").fill("solidarity forever")
    phone.get_by_role("button", name="Save the new password").click()
    expect(phone.get_by_text("Your password is changed.")).to_be_visible()

    phone.get_by_label("Email").fill("olive@example.org")
    phone.get_by_label("Password").fill("solidarity forever")
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("heading", name="Hello, Olive")).to_be_visible()
