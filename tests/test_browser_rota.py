"""Rota journeys in Chromium at phone width: sign up and withdraw; build a stall day and assign."""

import re

import pytest

from stallapp.rota import shifts
from stallapp.rota.models import ShiftRole
from tests.builders import event_row
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


def _log_in(phone, email):
    phone.goto("/login")
    phone.get_by_label("Email").fill(email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()


def test_member_signs_up_for_a_shift_and_withdraws(phone, db, uk, make_user, mail):
    make_user(email="olive@example.org", name="Olive Organiser", groups={uk: "organiser"})
    make_user(email="max@example.org", name="Max Member", groups={uk: "member"})
    event = event_row(db.session, uk)
    shifts.add_shift(
        db.session, event, ShiftRole.STAFFING, event.starts_at, event.ends_at, people_needed=2
    )
    db.session.commit()

    _log_in(phone, "max@example.org")
    phone.get_by_text("Menu").click()
    phone.get_by_role("link", name="My shifts").click()
    assert phone.get_by_role("heading", name="My shifts").is_visible()
    assert phone.get_by_text("You are not on any shift yet.").is_visible()
    sign_up = phone.get_by_role("button", name=re.compile("^Sign up for Staffing"))
    box = sign_up.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a thumb-sized, full-width button
    sign_up.click()

    assert phone.get_by_text("You are on “Staffing · Peterborough Radical Bookfair”.").is_visible()
    next_shift = phone.locator(".next-shift")
    assert next_shift.get_by_role(
        "heading", name="Staffing · Peterborough Radical Bookfair"
    ).is_visible()
    assert next_shift.get_by_text("The George Alcock Centre").is_visible()
    assert next_shift.get_by_text("olive@example.org").is_visible()
    assert phone.get_by_text("No open shifts right now.").is_visible()

    next_shift.get_by_text("I cannot make it").click()
    phone.get_by_role("button", name="Take me off this shift").click()
    assert phone.get_by_text("Please give a short reason.").is_visible()
    phone.get_by_label("Why can you not make it?").fill("My shift at work moved")
    phone.get_by_role("button", name="Take me off this shift").click()
    assert phone.get_by_text("You are off “Staffing · Peterborough Radical Bookfair”.").is_visible()
    assert phone.get_by_text("You are not on any shift yet.").is_visible()
    assert phone.get_by_role("button", name=re.compile("^Sign up for Staffing")).is_visible()
    assert mail == []  # ten days ahead: not a late withdrawal


def test_organiser_builds_a_stall_day_and_assigns_a_member(phone, db, uk, make_user, mail):
    make_user(email="olive@example.org", name="Olive Organiser", groups={uk: "organiser"})
    make_user(email="max@example.org", name="Max Member", groups={uk: "member"})
    event_row(db.session, uk, hours=7)
    db.session.commit()

    _log_in(phone, "olive@example.org")
    phone.get_by_role("link", name="CWO (UK)").first.click()
    phone.get_by_role("link", name="Rota", exact=True).click()
    assert phone.get_by_role("heading", name="Rota of CWO (UK)").is_visible()
    phone.get_by_role("link", name=re.compile("Peterborough Radical Bookfair")).click()
    assert phone.get_by_text("No shifts yet.").is_visible()

    phone.get_by_role("link", name="Fill a stall day").click()
    phone.get_by_label("Staffing blocks of").select_option(label="2 hours")
    phone.get_by_label("People for pack-down").fill("1")
    phone.get_by_role("button", name="Add these shifts").click()
    assert phone.get_by_text("6 shifts added. Now put people on them.").is_visible()
    assert phone.get_by_text("0 of 2 · short").count() == 5
    assert phone.get_by_text("0 of 1 · short").count() == 1

    phone.get_by_role("link", name=re.compile("^Assign someone to Set-up")).click()
    phone.get_by_label("Member").select_option(label="Max Member")
    phone.get_by_role("button", name="Assign").click()
    assert phone.get_by_text("Max Member is on the shift and was emailed.").is_visible()
    assert phone.get_by_text("1 of 2 · short").is_visible()
    assert phone.get_by_role("button", name="Take off Max Member").is_visible()
    assert [m.to for m in mail] == ["max@example.org"]
